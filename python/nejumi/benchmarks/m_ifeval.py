"""M-IFEval (Japanese): instruction following as Nejumi Leaderboard 4 runs it.

Upstream `scripts/evaluator/m_ifeval.py`: each line of `ja_input_data.jsonl` is one
user message (its `prompt`), sent once with the `generator` defaults and
`m_ifeval.generator_config.max_tokens` (2048); the answer is checked against each of
the line's instructions (`m_ifeval_checks`). The leaderboard's `m_ifeval_score` is the
instruction-level strict accuracy, Σ followed / Σ instructions; the prompt-level and
the loose accuracies upstream does not report are kept beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks.m_ifeval_checks import (
    Instruction,
    InstructionError,
    build_instructions,
    follows,
    follows_loose,
)
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.datasets import DatasetSpec, read_jsonl
from nejumi.generation import generation_params
from nejumi.predictions import Prediction
from nejumi.request_queue import FailurePolicy
from nejumi.settings import benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

NAME = "m_ifeval"
TASK = "m_ifeval"
DATA_FILE = "ja_input_data.jsonl"
# Upstream base_config's m_ifeval.generator_config.max_tokens.
DEFAULT_MAX_TOKENS = 2048
TESTMODE_SAMPLES = 5


def resolve_data_dir(path: Path) -> Path:
    """Accepts the folder holding ja_input_data.jsonl, or one holding m_ifeval/ in turn."""
    if (path / NAME / DATA_FILE).is_file():
        return path / NAME
    return path


@dataclass(frozen=True)
class MIfevalSettings:
    # Known up front when re-scoring predictions; otherwise the runner resolves `dataset`.
    data_dir: Path | None
    data_file: str = DATA_FILE
    max_samples: int | None = None
    generator: dict[str, Any] = field(default_factory=dict)
    max_tokens: int = DEFAULT_MAX_TOKENS
    compatibility: Compatibility = field(default_factory=Compatibility)
    policy: FailurePolicy = field(default_factory=FailurePolicy)
    dataset: DatasetSpec | None = None

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, warn: Callable[[str], None]) -> MIfevalSettings:
        # Upstream's `dataset_dir` names the file inside the artifact.
        data_file = cfg.get_str(f"{NAME}.dataset_dir", DATA_FILE) or DATA_FILE
        ignored = sorted(set(cfg.get_mapping(f"{NAME}.generator_config")) - {"max_tokens"})
        if ignored:
            warn(f"m_ifeval: generator_config {', '.join(ignored)} ignored: upstream sends only max_tokens from it")
        return cls(
            data_dir=None,
            dataset=DatasetSpec.from_config(cfg, NAME, required=(data_file,)),
            data_file=data_file,
            max_samples=TESTMODE_SAMPLES if cfg.get_bool("testmode") else None,
            generator=cfg.get_mapping("generator"),
            max_tokens=cfg.get_int(f"{NAME}.generator_config.max_tokens", minimum=1) or DEFAULT_MAX_TOKENS,
            compatibility=compatibility,
            policy=benchmark_policy(cfg, NAME),
        )


@dataclass(frozen=True)
class Prompt:
    """One line of ja_input_data.jsonl."""

    key: int | str
    prompt: str
    instruction_ids: list[str]
    kwargs: list[dict[str, Any]]


def read_prompts(path: Path) -> list[Prompt]:
    """The dataset's lines, each checked the way its checkers will be built."""
    prompts = []
    for line in read_jsonl(path):
        where = f"line {line.number}"
        data = line.value
        if not isinstance(data, dict):
            raise ConfigError(str(path), where, "must be a JSON object")
        key, prompt, ids, kwargs = (data.get(k) for k in ("key", "prompt", "instruction_id_list", "kwargs"))
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            raise ConfigError(str(path), f"{where}: key", "must be an integer or a string")
        if not isinstance(prompt, str):
            raise ConfigError(str(path), f"{where}: prompt", "must be a string")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise ConfigError(str(path), f"{where}: instruction_id_list", "must be a non-empty list of strings")
        if not isinstance(kwargs, list) or not all(isinstance(k, dict) for k in kwargs):
            raise ConfigError(str(path), f"{where}: kwargs", "must be a list of objects")
        try:
            build_instructions(ids, kwargs)
        except InstructionError as err:
            raise ConfigError(str(path), where, str(err)) from None
        prompts.append(Prompt(key, prompt, ids, kwargs))
    return prompts


def instructions_of(sample: types_pb2.Sample) -> list[Instruction]:
    return build_instructions(json.loads(sample.metadata["instruction_id_list"]), json.loads(sample.metadata["kwargs"]))


def score_response(sample: types_pb2.Sample, response: str, compatibility: Compatibility) -> list[types_pb2.Score]:
    """Per-prompt fractions of followed instructions, strict and loose, with the verdicts."""
    corrected = not compatibility.official
    instructions = instructions_of(sample)
    strict = [follows(i, response, corrected=corrected) for i in instructions]
    loose = [follows_loose(i, response, corrected=corrected) for i in instructions]
    scores = []
    for kind, verdicts in (("strict", strict), ("loose", loose)):
        instruction_score = types_pb2.Score(metric=f"instruction_{kind}", value=sum(verdicts) / len(verdicts))
        instruction_score.details.update({"follow_instruction_list": verdicts})
        scores.append(instruction_score)
        scores.append(types_pb2.Score(metric=f"prompt_{kind}", value=float(all(verdicts))))
    return scores


# Bump when a change to the checkers changes any verdict: stored scores are re-computed.
SCORER_VERSION = "1"


@dataclass(frozen=True)
class MIfevalScorer:
    name = "m_ifeval"
    compatibility: Compatibility = field(default_factory=Compatibility)

    @property
    def version(self) -> str:
        # Verdicts differ between the modes, so a re-score in the other mode must not read cached ones.
        return SCORER_VERSION if self.compatibility.official else f"{SCORER_VERSION}-corrected"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        return score_response(transcript.sample, transcript.output, self.compatibility)


def verdicts(row: ScoredRow, kind: str) -> list[bool]:
    score = row.score(f"instruction_{kind}")
    if score is None:
        return []
    return [bool(v) for v in score.details["follow_instruction_list"]]


def model_name_safe(model_name: str) -> str:
    """Upstream's model_name in both M-IFEval tables."""
    return model_name.replace("/", "__")


class MIfeval:
    name = NAME
    judges = ()

    def __init__(self, settings: MIfevalSettings, warn: Callable[[str], None] = lambda _: None) -> None:
        self.settings = settings
        self.datasets = {NAME: settings.dataset} if settings.dataset else {}
        self.data_dir = settings.data_dir
        self.generation = generation_params(settings.generator, max_tokens=settings.max_tokens)
        self.policy = settings.policy
        self.scorers = (MIfevalScorer(settings.compatibility),)
        self._warn = warn

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, warn: Callable[[str], None]) -> MIfeval:
        return cls(MIfevalSettings.from_config(cfg, compatibility, warn), warn)

    @classmethod
    def for_predictions(
        cls,
        data_dir: Path,
        compatibility: Compatibility,
        predictions: Sequence[Prediction],
        warn: Callable[[str], None],
    ) -> MIfeval:
        return cls(MIfevalSettings(data_dir=resolve_data_dir(data_dir), compatibility=compatibility), warn)

    def check(self, folders: Mapping[str, Path]) -> None:
        """Takes the resolved dataset folder; `plan` then reads and checks every line."""
        if NAME in folders:
            self.data_dir = resolve_data_dir(folders[NAME])
        if self.data_dir is None or not (self.data_dir / self.settings.data_file).is_file():
            raise ConfigError(
                str(self.data_dir),
                f"{NAME}.data_dir",
                f"has no {self.settings.data_file} (point it at the folder holding the M-IFEval data)",
            )

    def data_path(self) -> Path:
        if self.data_dir is None:
            raise RuntimeError("m_ifeval: the dataset folder is not resolved yet (the runner calls check first)")
        return self.data_dir / self.settings.data_file

    def plan(self) -> list[types_pb2.Sample]:
        path = self.data_path()
        prompts = read_prompts(path)[: self.settings.max_samples]
        seen_keys: set[str] = set()
        seen_prompts: set[str] = set()
        samples = []
        for prompt in prompts:
            if str(prompt.key) in seen_keys:
                raise ConfigError(str(path), f"key {prompt.key}", "appears twice: each prompt needs its own key")
            seen_keys.add(str(prompt.key))
            if prompt.prompt in seen_prompts:
                # Upstream matches answers to prompts by text: both get the last answer.
                self._warn(f"m_ifeval: key {prompt.key} repeats an earlier prompt; nejumi scores each answer")
            seen_prompts.add(prompt.prompt)
            samples.append(
                types_pb2.Sample(
                    benchmark=NAME,
                    task=TASK,
                    id=str(prompt.key),
                    subset="test",
                    messages=[types_pb2.ChatMessage(role="user", content=prompt.prompt)],
                    generation=self.generation,
                    metadata={
                        "key": json.dumps(prompt.key),
                        "instruction_id_list": json.dumps(prompt.instruction_ids, ensure_ascii=False),
                        "kwargs": json.dumps(prompt.kwargs, ensure_ascii=False),
                    },
                )
            )
        return samples

    async def solve(self, ctx: Context) -> str:
        response = await ctx.generate(ctx.sample.messages, params=ctx.sample.generation)
        return response.text

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        flat: FlatScores = {}
        for kind in ("strict", "loose"):
            per_prompt = [verdicts(row, kind) for row in rows]
            followed = sum(sum(v) for v in per_prompt)
            total = sum(len(v) for v in per_prompt)
            flat[score_key(NAME, TASK, 0, f"instruction_{kind}")] = followed / total if total else None
            flat[score_key(NAME, TASK, 0, f"prompt_{kind}")] = (
                sum(all(v) for v in per_prompt) / len(per_prompt) if per_prompt else None
            )
        flat[score_key(NAME, TASK, 0, "m_ifeval_score")] = flat[score_key(NAME, TASK, 0, "instruction_strict")]
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        """`m_ifeval_output_table` and `m_ifeval_leaderboard_table`, upstream's names and columns."""
        name = model_name_safe(model_name)
        output = []
        for row in rows:
            metadata = row.sample.metadata
            output.append(
                [
                    name,
                    json.loads(metadata["key"]),
                    row.sample.messages[0].content,
                    row.output,
                    # Python's str() of the loaded JSON, as upstream logs them.
                    str(json.loads(metadata["instruction_id_list"])),
                    str(json.loads(metadata["kwargs"])),
                    row.value("instruction_strict"),
                ]
            )
        score = self.summarize(rows)[score_key(NAME, TASK, 0, "m_ifeval_score")]
        return [
            Table(
                "m_ifeval_output_table",
                ["model_name", "key", "prompt", "response", "instruction_id_list", "kwargs", "score"],
                output,
            ),
            Table("m_ifeval_leaderboard_table", ["model_name", "m_ifeval_score"], [[name, score]]),
        ]
