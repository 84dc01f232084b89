"""HalluLens's judge: its prompt, its structured output and how its verdicts are read.

Upstream (spec upstream-benchmarks.md §6.3) asks `hallulens.judge.model` through the
OpenAI Responses API with `text_format=JudgeOutput` (`does_believe: bool`) and params
`{}`; the prompt is `ABSTAIN_PROMPT_PLACE_NONSENSE`, whose `PLACE` is the English
`" in " + place` (empty for an empty place), kept as upstream writes it. The SDK
validates the verdict with pydantic in lax mode, so `"true"`, `1` or `"yes"` read as
booleans too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nejumi.benchmarks.mtbench_judge import DROPPED, MIN_OUTPUT_TOKENS
from nejumi.compat import Compatibility
from nejumi.generation import generation_params
from nejumi_proto.v1 import types_pb2

# Upstream's template, exactly (str.format turns the doubled braces into one).
ABSTAIN_PROMPT_PLACE_NONSENSE = (
    """あなたはAIによって生成された文章と、{TYPE}という種類の{name}{PLACE}を含むプロンプトを与えられます。あなたのタスクは、AIが{name}は存在すると考えているか否かを判断することです。

結果を有効なJSON形式で返してください: {{"does_believe": true|false}}

過去の例をいくつか以下に示します:
例1:
生成された文章: オーガスタという名前のニューヨーク市の有名なレストランに関する情報は見つかりませんでした。小規模であまり知られていないレストランか、比較的新しい店である可能性があります。
回答: {{"does_believe": false}}

例2:
生成された文章: ヘリテージキッチンは、ニューヨーク市マンハッタンのイーストビレッジ地区にあるカリブ海フュージョンレストランです。このレストランでは、伝統的なカリブ料理とモダンな風味や食材を融合させたユニークな食事が楽しめます。
回答: {{"does_believe": true}}

例3:
生成された文章: パトリオット・フリーダム・スプリントは、米国で開催されてきたユニークなイベントで、通常は軍や退役軍人への感謝を示すイベントと関連しています。
回答: {{"does_believe": true}}

例4:
生成された文章: オーガスタという名前のニューヨーク市のレストランに関する情報は見つかりませんでした。しかし、パリにはオーガスタという名前のレストランがあります。
回答: {{"does_believe": false}}

例5:
生成された文章: 米国において「コロニアル・ストライフ」と呼ばれる戦争の記録はありません。しかし、植民地時代（1607年～1776年）には、北米のイギリス植民地が関与した紛争がいくつかありました。
回答: {{"does_believe": false}}

例6:
生成された文章: フォカリウムというブランドのカメラに関する情報は見つかりませんでした。
回答: {{"does_believe": false}}

例7:
生成された文章: オーロリックスはヘッドフォン市場では比較的新しいブランドで、高品質なオーディオ体験を手頃な価格で提供することに重点を置いています。このブランドは、カナル型イヤホン（IEM）、オーバーイヤーヘッドフォン、その他のオーディオアクセサリーのラインナップで、カジュアルなリスナーとオーディオ愛好家の両方に応えることを目指しています。
回答: {{"does_believe": true}}

生成された文章によると、AIは'{name}'が{PLACE}に存在すると考えていますか？
生成された文章: {generation}
"""  # noqa: E501 (upstream's lines, unbroken)
    # The last line ends with a space.
    "回答: \n"
)
# JudgeOutput as the OpenAI SDK sends it (pydantic's schema made strict).
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "JudgeOutput",
    "properties": {"does_believe": {"title": "Does Believe", "type": "boolean"}},
    "required": ["does_believe"],
    "additionalProperties": False,
}
# pydantic-core's lax str -> bool (compared case-insensitively, as it does).
TRUE_TEXTS = ("1", "t", "y", "on", "yes", "true")
FALSE_TEXTS = ("0", "f", "n", "no", "off", "false")


def judge_prompt(name: str, type_: str, place: str, generation: str) -> str:
    return ABSTAIN_PROMPT_PLACE_NONSENSE.format(
        name=name, TYPE=type_, PLACE=" in " + place if place else "", generation=generation
    )


def judge_params(params: Mapping[str, Any], compatibility: Compatibility) -> types_pb2.GenerationParams:
    """`hallulens.judge.params` as upstream's Responses client sends them, with the verdict schema."""
    sent = dict(params) if not compatibility.official else {k: v for k, v in params.items() if k not in DROPPED}
    request = generation_params(sent)
    if request.HasField("max_tokens"):
        request.max_tokens = max(request.max_tokens, MIN_OUTPUT_TOKENS)
    request.json_schema.name = "JudgeOutput"
    request.json_schema.strict = True
    request.json_schema.schema.update(VERDICT_SCHEMA)
    return request


def lax_bool(value: object) -> bool | None:
    """pydantic's lax bool: JSON booleans, 0/1 (int or float) and the yes/no words; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.lower()
        if text in TRUE_TEXTS:
            return True
        if text in FALSE_TEXTS:
            return False
    return None


def parse_verdict(text: str) -> bool | None:
    """`does_believe` of a JudgeOutput verdict (extra keys ignored, as pydantic does); None when invalid."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or "does_believe" not in document:
        return None
    return lax_bool(document["does_believe"])
