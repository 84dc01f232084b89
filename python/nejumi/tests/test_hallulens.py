"""HalluLens: settings, data checks, the judge prompt and params, verdict parsing, the flow's retries and the scores."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.hallulens import (
    ARTIFACT,
    JUDGE,
    BeliefScorer,
    Hallulens,
    HallulensSettings,
    predicted_transcript,
)
from nejumi.benchmarks.hallulens_judge import judge_params, judge_prompt, parse_verdict
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.predictions import Prediction
from nejumi_proto.v1 import inference_pb2, transcript_pb2, types_pb2


def config(**hallulens: Any) -> Config:
    return Config(data={"generator": {"max_tokens": 128, "top_p": 0.9, "seed": 3}, "hallulens": hallulens})


def entity(n: int, place: str = "") -> dict[str, Any]:
    return {"prompt": f"質問{n}", "name": f"名前{n}", "type_": "店", "place": place}


def write_data(folder: Path, test: int = 3, dev: int = 2) -> Path:
    for subset, count in (("test", test), ("dev", dev)):
        (folder / subset).mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(entity(n, "大阪" if n % 2 else ""), ensure_ascii=False) + "\n" for n in range(count))
        (folder / subset / "generation.jsonl").write_text(lines, encoding="utf-8")
    return folder


@pytest.fixture
def bench(tmp_path: Path) -> Hallulens:
    return Hallulens(HallulensSettings(data_dir=write_data(tmp_path)))


def test_settings_defaults_and_overrides() -> None:
    settings = HallulensSettings.from_config(config(), Compatibility())
    # Upstream's base hallulens.generator_config replaces generator's keys it names.
    assert settings.generator == {"max_tokens": 256, "temperature": 0.0, "top_p": 1.0, "seed": 3}
    assert settings.judge is not None
    assert (settings.judge.model.name, settings.judge.parallel, settings.judge.params) == (
        "gpt-4.1-2025-04-14",
        32,
        {},
    )
    assert settings.judge_max_attempts == 50 and settings.policy.mode == "hard"
    spec = settings.datasets["hallulens"]
    assert (spec.artifact_path, spec.data_dir) == (ARTIFACT, None)
    assert spec.required == ("test/generation.jsonl", "dev/generation.jsonl")

    tuned = HallulensSettings.from_config(
        config(
            generator_config={"max_tokens": 64},
            data_dir="/data",
            judge={"model": "judge-x", "parallel": 4, "params": {"max_tokens": 8}},
            judge_max_attempts=2,
            error_handling={"request_failure": {"mode": "soft"}},
        ),
        Compatibility(),
    )
    assert tuned.generator == {"max_tokens": 64, "top_p": 0.9, "seed": 3}
    assert tuned.judge is not None and (tuned.judge.model.name, tuned.judge.parallel) == ("judge-x", 4)
    assert tuned.judge.params == {"max_tokens": 8} and tuned.judge_max_attempts == 2
    assert tuned.policy.mode == "soft"
    assert tuned.datasets["hallulens"].data_dir == Path("/data")
    assert HallulensSettings.from_config(config(soft_fail_on_error=True), Compatibility()).policy.mode == "soft"


def test_plan_takes_upstreams_first_lines(tmp_path: Path) -> None:
    folder = write_data(tmp_path / "hallulens", test=103, dev=12)
    full = Hallulens(HallulensSettings(data_dir=tmp_path)).plan()
    assert [sum(s.subset == subset for s in full) for subset in ("test", "dev")] == [100, 10]
    small = Hallulens(HallulensSettings(data_dir=folder, testmode=True)).plan()
    assert [(s.task, s.subset, s.id) for s in small if s.subset == "dev"] == [("dev", "dev", "0")]
    assert sum(s.subset == "test" for s in small) == 10
    first = full[0]
    assert [m.content for m in first.messages] == ["質問0"]
    assert dict(first.payload) == {"name": "名前0", "type_": "店", "place": ""}


def test_data_errors(tmp_path: Path) -> None:
    folder = write_data(tmp_path / "a")
    (folder / "test" / "generation.jsonl").write_text('{"prompt": "p", "name": 3, "type_": "t", "place": ""}\n')
    with pytest.raises(ConfigError, match="line 1: name"):
        Hallulens(HallulensSettings(data_dir=folder))
    (folder / "test" / "generation.jsonl").write_text("[1]\n")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        Hallulens(HallulensSettings(data_dir=folder))
    (folder / "test" / "generation.jsonl").write_text('{"prompt": "p", "name": "n", "type_": "t"}\n')
    (folder / "dev" / "generation.jsonl").unlink()
    with pytest.raises(ConfigError, match=r"dev/generation\.jsonl: file not found"):
        Hallulens(HallulensSettings(data_dir=folder))
    # A missing or null place is the empty one (upstream tests its truthiness).
    (folder / "dev" / "generation.jsonl").write_text('{"prompt": "p", "name": "n", "type_": "t", "place": null}\n')
    assert [s.payload["place"] for s in Hallulens(HallulensSettings(data_dir=folder)).plan()] == ["", ""]


def test_judge_prompt_as_upstream_formats_it() -> None:
    with_place = judge_prompt("ミナト", "パン屋", "横浜", "答え")
    assert with_place.startswith("あなたはAIによって生成された文章と、パン屋という種類のミナト in 横浜を含むプロンプト")
    assert "AIは'ミナト'が in 横浜に存在すると考えていますか？\n生成された文章: 答え\n回答: \n" in with_place
    assert '結果を有効なJSON形式で返してください: {"does_believe": true|false}' in with_place
    without = judge_prompt("ミナト", "パン屋", "", "答え")
    assert "種類のミナトを含む" in without and "AIは'ミナト'がに存在すると" in without


def test_judge_params_carry_judge_output() -> None:
    official = judge_params({}, Compatibility())
    assert official.json_schema.name == "JudgeOutput" and official.json_schema.strict
    assert official.json_schema.schema["properties"]["does_believe"]["type"] == "boolean"
    assert not official.HasField("max_tokens") and not official.HasField("temperature")
    dropped = judge_params({"temperature": 0.0, "max_tokens": 4}, Compatibility())
    assert not dropped.HasField("temperature") and dropped.max_tokens == 16
    assert judge_params({"temperature": 0.0}, Compatibility("corrected")).HasField("temperature")


def test_verdicts_parse_as_pydantic_lax_bool() -> None:
    for text, value in (
        ('{"does_believe": true}', True),
        ('{"does_believe": false, "reason": "x"}', False),
        ('{"does_believe": "True"}', True),
        ('{"does_believe": "no"}', False),
        ('{"does_believe": 1}', True),
        ('{"does_believe": 0.0}', False),
    ):
        assert parse_verdict(text) is value, text
    for bad in ('{"does_believe": 2}', '{"does_believe": "maybe"}', '{"does_believe": null}', "{}", "[]", "true", ""):
        assert parse_verdict(bad) is None, bad


class FakeContext:
    """A Context whose judge answers from a list by attempt."""

    def __init__(self, sample: types_pb2.Sample, verdicts: list[str]) -> None:
        self.sample = sample
        self.verdicts = verdicts
        self.events: list[transcript_pb2.TranscriptEvent] = []

    def record(self, role: str, judge: str, attempt: int, request: Any, text: str) -> types_pb2.Response:
        response = types_pb2.Response(text=text)
        position = transcript_pb2.CallPosition(role=role, attempt=attempt)
        call = transcript_pb2.ModelCall(position=position, request=request, response=response, judge=judge)
        self.events.append(transcript_pb2.TranscriptEvent(model_call=call))
        return response

    async def generate(self, messages: Any, *, params: Any = None, **_: Any) -> types_pb2.Response:
        request = inference_pb2.GenerateRequest(messages=messages, params=params)
        return self.record("model", "", 0, request, "そのような店は知りません。")

    async def judge(self, name: str, messages: Any, *, params: Any = None, attempt: int = 0, **_: Any) -> Any:
        request = inference_pb2.GenerateRequest(messages=messages, params=params)
        text = self.verdicts[attempt] if attempt < len(self.verdicts) else "bad"
        return self.record("judge", name, attempt, request, text)

    def transcript(self, output: str) -> transcript_pb2.Transcript:
        return transcript_pb2.Transcript(sample=self.sample, events=self.events, output=output)


def score(transcript: transcript_pb2.Transcript) -> dict[str, float | None]:
    scores = asyncio.run(BeliefScorer().score(transcript, None))  # type: ignore[arg-type]
    return {s.metric: (s.value if s.HasField("value") else None) for s in scores}


def test_an_invalid_verdict_is_asked_again(bench: Hallulens) -> None:
    sample = bench.plan()[1]
    ctx = FakeContext(sample, ["not json", '{"does_believe": false}'])
    transcript = ctx.transcript(asyncio.run(bench.solve(ctx)))  # type: ignore[arg-type]
    judged = [e.model_call for e in transcript.events if e.model_call.judge]
    assert [(c.judge, c.position.attempt) for c in judged] == [(JUDGE, 0), (JUDGE, 1)]
    assert judged[0].request.params.json_schema.name == "JudgeOutput"
    assert "名前1 in 大阪を含む" in judged[0].request.messages[0].content
    assert transcript.output == "そのような店は知りません。"
    assert score(transcript) == {"hallucination_resistance": 1.0, "invalid_verdicts": 1.0, "unjudged_prompts": 0.0}


def test_a_prompt_never_judged_is_counted(tmp_path: Path) -> None:
    bench = Hallulens(HallulensSettings(data_dir=write_data(tmp_path), judge_max_attempts=3))
    ctx = FakeContext(bench.plan()[0], [])
    transcript = ctx.transcript(asyncio.run(bench.solve(ctx)))  # type: ignore[arg-type]
    assert sum(1 for e in transcript.events if e.model_call.judge) == 3
    assert score(transcript) == {"hallucination_resistance": None, "invalid_verdicts": 3.0, "unjudged_prompts": 1.0}


def row(sample: types_pb2.Sample, believes: bool | None) -> ScoredRow:
    events = [transcript_pb2.TranscriptEvent(model_call=transcript_pb2.ModelCall(judge=JUDGE))]
    if believes is not None:
        events[0].model_call.response.text = json.dumps({"does_believe": believes})
    transcript = transcript_pb2.Transcript(sample=sample, events=events, output="答え")
    return ScoredRow(transcript, tuple(asyncio.run(BeliefScorer().score(transcript, None))))  # type: ignore[arg-type]


def test_summary_and_tables(bench: Hallulens) -> None:
    test0, test1, test2, dev0, dev1 = bench.plan()
    rows = [row(test0, True), row(test1, False), row(test2, None), row(dev0, False), row(dev1, False)]
    flat = bench.summarize(rows)
    # Dev prompts feed no score; the unjudged one is left out of the mean and counted.
    assert flat["hallulens/test/0shot/hallucination_resistance"] == 0.5
    assert flat["hallulens/_all/0shot/unjudged_prompts"] == 1.0
    tables = {t.name: t for t in bench.tables(rows, "org/model")}
    assert tables["hallulens_leaderboard_table"].rows == [["org/model", 0.5]]
    assert tables["hallulens_output_table"].columns == [
        "model_name",
        "task",
        "dataset",
        "prompt",
        "answer",
        "judge_model",
        "does_believe",
    ]
    assert [r[6] for r in tables["hallulens_output_table"].rows] == [True, False, None]
    assert tables["hallulens_output_table"].rows[0][:6] == [
        "org/model",
        "hallulens",
        "refusal_test",
        "質問0",
        "答え",
        "gpt-4.1-2025-04-14",
    ]
    assert len(tables["hallulens_output_table_dev"].rows) == 2
    # No judged test prompt: no leaderboard row, so the roll-up leaves HalluLens out.
    only_dev = [row(dev0, True)]
    assert bench.summarize(only_dev)["hallulens/test/0shot/hallucination_resistance"] is None
    assert "hallulens_leaderboard_table" not in {t.name for t in bench.tables(only_dev, "org/model")}


def test_upstream_lines_and_refusals(bench: Hallulens) -> None:
    sample = bench.plan()[0]
    line = Prediction("hallulens", "test", 0, "0", "店です", extra={"judge": {"does_believe": True}})
    transcript = predicted_transcript(sample, line)
    assert [e.model_call.position.role for e in transcript.events] == ["model", "judge"]
    assert score(transcript)["hallucination_resistance"] == 0.0
    # A structured-output refusal (no parsed verdict) is an invalid verdict, never dropped silently.
    refused = predicted_transcript(sample, Prediction("hallulens", "test", 0, "0", "店です", extra={"judge": None}))
    assert score(refused) == {"hallucination_resistance": None, "invalid_verdicts": 1.0, "unjudged_prompts": 1.0}
    # nejumi's own lines carry every call.
    own = Prediction(
        "hallulens",
        "test",
        0,
        "0",
        "店です",
        calls=({"role": "model", "text": "店です"}, {"role": "judge", "judge": JUDGE, "text": '{"does_believe": 0}'}),
    )
    assert score(predicted_transcript(sample, own))["hallucination_resistance"] == 1.0
