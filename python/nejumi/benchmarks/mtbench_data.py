"""MT-bench's three data sets as upstream reads them (spec upstream-benchmarks.md §2.1-2.2).

`question.jsonl` (FastChat questions), the reference answers (every `*.jsonl` of its
folder, FastChat answer format; upstream takes the alphabetically first file) and
`judge_prompts.jsonl` (FastChat judge prompts, of which four are used).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nejumi.config import ConfigError
from nejumi.datasets import read_jsonl

# The question file's categories in the swallow-evaluation source (10 questions each).
CATEGORIES = ("writing", "roleplay", "extraction", "math", "coding", "reasoning", "stem", "humanities")
# Upstream's NEED_REF_CATS: judged against a reference answer, with the math prompts.
NEED_REF_CATS = ("math", "reasoning", "coding", "arena-hard-200")
PROMPT_NAMES = ("single-v1", "single-math-v1", "single-v1-multi-turn", "single-math-v1-multi-turn")
QUESTION_FILE = "question.jsonl"
PROMPT_FILE = "judge_prompts.jsonl"


@dataclass(frozen=True)
class Question:
    question_id: int
    category: str
    turns: tuple[str, str]


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    system_prompt: str
    prompt_template: str


def _text(value: object, path: Path, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(str(path), where, "must be a string")
    return value


def _two_turns(value: object, path: Path, where: str) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) < 2:
        raise ConfigError(str(path), where, "must list the two turns")
    return _text(value[0], path, where), _text(value[1], path, where)


def read_questions(path: Path) -> list[Question]:
    questions = []
    for number, record in read_jsonl(path):
        where = f"line {number}"
        if not isinstance(record, dict):
            raise ConfigError(str(path), where, "must be a JSON object with question_id, category and turns")
        try:
            question_id = int(record["question_id"])  # upstream casts it
        except (KeyError, TypeError, ValueError):
            raise ConfigError(str(path), where, "question_id must be an integer") from None
        category = _text(record.get("category"), path, f"{where}: category")
        questions.append(Question(question_id, category, _two_turns(record.get("turns"), path, f"{where}: turns")))
    return questions


def reference_file(folder: Path) -> Path:
    """Upstream's `list(ref_answers.keys())[0]`: the alphabetically first `*.jsonl` of the folder."""
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise ConfigError(str(folder), "", "holds no reference answer file (*.jsonl)")
    return files[0]


def read_references(path: Path) -> dict[int, tuple[str, str]]:
    references = {}
    for number, record in read_jsonl(path):
        where = f"line {number}"
        try:
            question_id = int(record["question_id"])
            turns = record["choices"][0]["turns"]
        except (KeyError, IndexError, TypeError, ValueError):
            raise ConfigError(str(path), where, "must be a FastChat answer: question_id and choices[0].turns") from None
        references[question_id] = _two_turns(turns, path, f"{where}: choices[0].turns")
    return references


def read_judge_prompts(path: Path) -> dict[str, JudgePrompt]:
    prompts = {}
    for number, record in read_jsonl(path):
        where = f"line {number}"
        if not isinstance(record, dict):
            raise ConfigError(str(path), where, "must be a JSON object")
        name = _text(record.get("name"), path, f"{where}: name")
        prompts[name] = JudgePrompt(
            name,
            _text(record.get("system_prompt"), path, f"{where}: system_prompt"),
            _text(record.get("prompt_template"), path, f"{where}: prompt_template"),
        )
    missing = [name for name in PROMPT_NAMES if name not in prompts]
    if missing:
        raise ConfigError(str(path), "", f"lacks the judge prompt(s) {', '.join(missing)}")
    return prompts


@dataclass(frozen=True)
class MtbenchData:
    questions: list[Question]
    references: dict[int, tuple[str, str]]
    prompts: dict[str, JudgePrompt]

    @classmethod
    def read(cls, question_dir: Path, reference_dir: Path, prompt_dir: Path) -> MtbenchData:
        questions = read_questions(question_dir / QUESTION_FILE)
        references_path = reference_file(reference_dir)
        references = read_references(references_path)
        # Upstream's check_data asserts this; here it is an error before the first request.
        unanswered = [
            q.question_id for q in questions if q.category in NEED_REF_CATS and q.question_id not in references
        ]
        if unanswered:
            raise ConfigError(
                str(references_path),
                "",
                f"has no reference answer for question(s) {unanswered} (math/reasoning/coding)",
            )
        return cls(questions, references, read_judge_prompts(prompt_dir / PROMPT_FILE))
