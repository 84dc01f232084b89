"""HLE's prompts, its judge request and how the judge's verdicts are read (spec upstream-benchmarks.md §5.2-5.3).

Upstream sends one user message, the answer format then the question, and asks the
judge (`hle.judge`, o3-mini) through the OpenAI Responses API with structured output,
`text_format=ExtractedAnswer`. A verdict that does not parse is an exception upstream
catches: the question stays unjudged (and counts as wrong). As for MT-bench, the
Responses client drops `temperature` and `top_p`; `nejumi.compatibility: corrected`
sends them.
"""

# The official prompts are kept verbatim, one line per line of the original.
# ruff: noqa: E501

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nejumi.benchmarks.mtbench_judge import DROPPED, MIN_OUTPUT_TOKENS
from nejumi.compat import Compatibility
from nejumi.generation import generation_params
from nejumi_proto.v1 import types_pb2

SYSTEM_PROMPT = "回答は以下の形式で行ってください：\n説明: {選択した答えに対する説明}\n答え: {選択した答え}\n信頼度: {答えに対する0%から100%の信頼度スコア}"

JUDGE_PROMPT = """以下の[質問]に対する[回答]が、明確で曖昧さのない[正解]に基づいて正しいかどうかを判定してください。

[質問]: {question}

[回答]: {response}

判定は以下の形式と基準に従って行ってください：

extracted_final_answer: [回答]から抽出した最終的な正確な答え。回答から正確で最終的な答えを抽出できない場合は'None'と記載してください。

[正解]: {correct_answer}

reasoning: [正解]に基づいて、extracted_final_answerが正しいか間違っているかを説明してください。[正解]とextracted_final_answerの間に意味のある違いがあるかどうかのみに焦点を当ててください。問題の背景についてコメントしたり、問題を解こうとしたり、[正解]と異なる答えを主張したりせず、答えが一致するかどうかのみに焦点を当ててください。

correct: extracted_final_answerが上記の[正解]と一致する場合、または数値問題で小さな誤差の範囲内にある場合は'yes'と答えてください。そうでない場合、つまり不一致、曖昧さ、非等価性がある場合、または抽出された答えが間違っている場合は'no'と答えてください。

confidence: [回答]から抽出した0%から100%の間の信頼度スコア。信頼度スコアが利用できない場合は100を記載してください。"""

# ExtractedAnswer as the OpenAI SDK sends it (pydantic's schema made strict).
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ExtractedAnswer",
    "properties": {
        "extracted_final_answer": {"title": "Extracted Final Answer", "type": "string"},
        "reasoning": {"title": "Reasoning", "type": "string"},
        "correct": {"title": "Correct", "type": "string", "enum": ["yes", "no"]},
        "confidence": {"title": "Confidence", "type": "integer"},
        "strict": {"title": "Strict", "type": "boolean", "const": True, "default": True},
    },
    "required": ["extracted_final_answer", "reasoning", "correct", "confidence", "strict"],
    "additionalProperties": False,
}


def answer_prompt(question: str) -> str:
    """The one user message: the answer format, a blank line, the question (images are never sent)."""
    return SYSTEM_PROMPT + "\n\n" + question


def judge_prompt(question: str, correct_answer: str, response: str) -> str:
    return JUDGE_PROMPT.format(question=question, correct_answer=correct_answer, response=response)


def judge_params(params: Mapping[str, Any], compatibility: Compatibility) -> types_pb2.GenerationParams:
    """`hle.judge.params` as upstream's Responses client sends them, with the ExtractedAnswer schema."""
    sent = dict(params) if not compatibility.official else {k: v for k, v in params.items() if k not in DROPPED}
    request = generation_params(sent)
    if request.HasField("max_tokens"):
        request.max_tokens = max(request.max_tokens, MIN_OUTPUT_TOKENS)
    request.json_schema.name = "ExtractedAnswer"
    request.json_schema.strict = True
    request.json_schema.schema.update(VERDICT_SCHEMA)
    return request


@dataclass(frozen=True)
class Verdict:
    extracted_final_answer: str
    reasoning: str
    correct: str
    confidence: int

    @property
    def is_correct(self) -> bool:
        # Upstream's `"yes" in correct`.
        return "yes" in self.correct


def _integer(value: object) -> int | None:
    """pydantic's lax int: an int, or a float without a fraction (never a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def parse_verdict(text: str) -> Verdict | None:
    """ExtractedAnswer validated as pydantic does (extra keys ignored); None when it fails."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    answer, reasoning, correct = (document.get(k) for k in ("extracted_final_answer", "reasoning", "correct"))
    confidence = _integer(document.get("confidence"))
    if not isinstance(answer, str) or not isinstance(reasoning, str) or correct not in ("yes", "no"):
        return None
    if confidence is None or document.get("strict", True) is not True:
        return None
    return Verdict(answer, reasoning, str(correct), confidence)
