"""MT-bench's judge: its prompts, its request parameters and how its verdicts are read.

Upstream (spec upstream-benchmarks.md §1.4, §2.5) asks the judge through the OpenAI
Responses API with structured output, `text_format=JudgeSingle` (`explanation: str`,
`rating: Literal["[[0]]", ..., "[[10]]"]`), and scores `int` of the rating string, so 0
counts although the prompt asks for 1-10. A verdict that fails the schema is retried.
The Responses client drops `temperature` and `top_p`, so the configured judge
temperature never reaches the API; `nejumi.compatibility: corrected` sends it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nejumi.benchmarks.mtbench_data import NEED_REF_CATS, JudgePrompt, Question
from nejumi.compat import Compatibility
from nejumi.generation import generation_params
from nejumi_proto.v1 import types_pb2

RATINGS = tuple(f"[[{n}]]" for n in range(11))
# JudgeSingle as the OpenAI SDK sends it (pydantic's schema made strict).
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "JudgeSingle",
    "properties": {
        "explanation": {"title": "Explanation", "type": "string"},
        "rating": {"title": "Rating", "type": "string", "enum": list(RATINGS)},
    },
    "required": ["explanation", "rating"],
    "additionalProperties": False,
}
# The keys the Responses client drops (its allow-list lacks them).
DROPPED = ("temperature", "top_p")
# The Responses client sends max_output_tokens = max(max_tokens, 16).
MIN_OUTPUT_TOKENS = 16


def judge_params(params: Mapping[str, Any], compatibility: Compatibility) -> types_pb2.GenerationParams:
    """`mtbench.judge.params` as upstream's judge client sends them, with the verdict schema."""
    sent = dict(params) if not compatibility.official else {k: v for k, v in params.items() if k not in DROPPED}
    request = generation_params(sent)
    if request.HasField("max_tokens"):
        request.max_tokens = max(request.max_tokens, MIN_OUTPUT_TOKENS)
    request.json_schema.name = "JudgeSingle"
    request.json_schema.strict = True
    request.json_schema.schema.update(VERDICT_SCHEMA)
    return request


def template_name(category: str, turn: int) -> str:
    """single-v1 or single-math-v1 (reference categories), `-multi-turn` for the second turn."""
    name = "single-math-v1" if category in NEED_REF_CATS else "single-v1"
    return f"{name}-multi-turn" if turn == 1 else name


@dataclass(frozen=True)
class JudgeRequest:
    template: str
    messages: list[types_pb2.ChatMessage]


def judge_request(
    prompts: Mapping[str, JudgePrompt],
    question: Question,
    answers: tuple[str, str],
    reference: tuple[str, str] | None,
    turn: int,
) -> JudgeRequest:
    """The system and user messages of one judgement (`prompt_template.format(...)` as upstream)."""
    prompt = prompts[template_name(question.category, turn)]
    fields: dict[str, str]
    if turn == 0:
        fields = {"question": question.turns[0], "answer": answers[0]}
        if reference is not None:
            fields["ref_answer_1"] = reference[0]
    else:
        fields = {
            "question_1": question.turns[0],
            "question_2": question.turns[1],
            "answer_1": answers[0],
            "answer_2": answers[1],
        }
        if reference is not None:
            fields |= {"ref_answer_1": reference[0], "ref_answer_2": reference[1]}
    messages = [
        types_pb2.ChatMessage(role="system", content=prompt.system_prompt),
        types_pb2.ChatMessage(role="user", content=prompt.prompt_template.format(**fields)),
    ]
    return JudgeRequest(prompt.name, messages)


@dataclass(frozen=True)
class Verdict:
    rating: int
    explanation: str


def parse_verdict(text: str) -> Verdict | None:
    """JudgeSingle validated as pydantic does (extra keys ignored); None when it fails."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    explanation, rating = document.get("explanation"), document.get("rating")
    if not isinstance(explanation, str) or not isinstance(rating, str) or rating not in RATINGS:
        return None
    return Verdict(int(rating.replace("[[", "").replace("]]", "")), explanation)
