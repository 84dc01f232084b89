"""predictions.jsonl: the interchange format every run writes and `nejumi score` reads.

One line per sample. The required fields name the sample and its answer; the optional
ones carry what a multi-call flow did (docs/architecture.md, "Predictions"):

    {"benchmark": "jaster", "task": "jnli", "shots": 0, "id": "3", "output": "entailment",
     "subset": "test", "attempt": 0,
     "calls": [{"role": "model", "turn": 0, "step": 0, "attempt": 0, "text": "...",
                "reasoning": "...", "finish_reason": "stop",
                "tool_calls": [{"id": "c1", "name": "f", "arguments": "{\\"x\\": 1}"}]}],
     "tool_results": [{"call_id": "c1", "name": "f", "content": "..."}],
     "error": ""}

A line without `calls` stands for one model call whose text is `output`; a line whose
`output` is null records a sample without an answer (a failed generation) and answers nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nejumi.config import ConfigError
from nejumi_proto.v1 import transcript_pb2, types_pb2

REQUIRED = ("benchmark", "task", "shots", "id", "output")


@dataclass(frozen=True)
class Prediction:
    benchmark: str
    task: str
    shots: int
    id: str
    output: str
    subset: str = "test"
    attempt: int | None = None
    calls: tuple[Mapping[str, Any], ...] = ()
    tool_results: tuple[Mapping[str, Any], ...] = ()
    error: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def answers(self, sample: types_pb2.Sample) -> bool:
        return (self.task, self.shots, self.subset, self.id) == (
            sample.task,
            sample.shots,
            sample.subset,
            sample.id,
        ) and self.attempt in (None, sample.attempt)

    def transcript(self, sample: types_pb2.Sample) -> transcript_pb2.Transcript:
        """The transcript this line records, for `sample` as the benchmark plans it."""
        transcript = transcript_pb2.Transcript(sample=sample, output=self.output, error=self.error)
        calls = self.calls or ({"role": "model", "text": self.output},)
        results = list(self.tool_results)
        for call in calls:
            model_call = _model_call(call)
            transcript.events.add(model_call=model_call)
            ids = {tool_call.id for tool_call in model_call.response.tool_calls}
            for result in [r for r in results if r.get("call_id") in ids]:
                results.remove(result)
                transcript.events.add(tool_result=_tool_result(result))
        for result in results:
            transcript.events.add(tool_result=_tool_result(result))
        return transcript


def first_line_transcript(sample: types_pb2.Sample, lines: Sequence[Prediction]) -> transcript_pb2.Transcript:
    """A sample's transcript from the lines that answer it: the first one records everything."""
    return lines[0].transcript(sample)


def _model_call(call: Mapping[str, Any]) -> transcript_pb2.ModelCall:
    position = transcript_pb2.CallPosition(
        role=str(call.get("role", "model")),
        turn=int(call.get("turn", 0)),
        step=int(call.get("step", 0)),
        attempt=int(call.get("attempt", 0)),
    )
    response = types_pb2.Response(
        text=str(call.get("text", "")),
        reasoning_text=str(call.get("reasoning", "")),
        finish_reason=str(call.get("finish_reason", "")),
    )
    for tool_call in call.get("tool_calls") or []:
        response.tool_calls.add(
            id=str(tool_call.get("id", "")),
            name=str(tool_call.get("name", "")),
            arguments_json=str(tool_call.get("arguments", "")),
        )
    return transcript_pb2.ModelCall(position=position, response=response, judge=str(call.get("judge", "")))


def _tool_result(result: Mapping[str, Any]) -> transcript_pb2.ToolResult:
    return transcript_pb2.ToolResult(
        call_id=str(result.get("call_id", "")), name=str(result.get("name", "")), content=str(result.get("content", ""))
    )


def prediction_record(transcript: transcript_pb2.Transcript) -> dict[str, Any]:
    """The predictions.jsonl line of a transcript."""
    sample = transcript.sample
    record: dict[str, Any] = {
        "benchmark": sample.benchmark,
        "task": sample.task,
        "shots": sample.shots,
        "id": sample.id,
        "output": transcript.output,
        "subset": sample.subset,
        "attempt": sample.attempt,
    }
    if "metric" in sample.metadata:
        record["metric"] = sample.metadata["metric"]
    calls, results = [], []
    for event in transcript.events:
        if event.HasField("model_call"):
            call = event.model_call
            entry: dict[str, Any] = {
                "role": call.position.role,
                "turn": call.position.turn,
                "step": call.position.step,
                "attempt": call.position.attempt,
                "text": call.response.text,
            }
            if call.judge:
                entry["judge"] = call.judge
            if call.response.reasoning_text:
                entry["reasoning"] = call.response.reasoning_text
            if call.response.finish_reason:
                entry["finish_reason"] = call.response.finish_reason
            if call.response.tool_calls:
                entry["tool_calls"] = [
                    {"id": c.id, "name": c.name, "arguments": c.arguments_json} for c in call.response.tool_calls
                ]
            calls.append(entry)
        elif event.HasField("tool_result"):
            result = event.tool_result
            results.append({"call_id": result.call_id, "name": result.name, "content": result.content})
    record["calls"] = calls
    if results:
        record["tool_results"] = results
    if transcript.error:
        record["error"] = transcript.error
    return record


def read_predictions(path: Path) -> list[Prediction]:
    """Every line of a predictions.jsonl; a bad line is an error naming the file and line."""
    predictions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ConfigError(str(path), where, f"invalid JSON: {err.msg}") from None
        if not isinstance(record, dict):
            raise ConfigError(str(path), where, "must be a JSON object")
        missing = [key for key in REQUIRED if key not in record]
        if missing:
            raise ConfigError(str(path), where, f"missing field(s) {', '.join(missing)}")
        if record["output"] is None:
            # A sample whose generation failed (upstream writes null): it has no answer.
            continue
        if not isinstance(record["output"], str):
            raise ConfigError(str(path), where, "output must be a string (or null: no answer)")
        for key in ("calls", "tool_results"):
            if not isinstance(record.get(key, []), list) or not all(isinstance(c, dict) for c in record.get(key, [])):
                raise ConfigError(str(path), where, f"{key} must be a list of objects")
        try:
            shots = int(record["shots"])
            attempt = int(record["attempt"]) if record.get("attempt") is not None else None
        except (TypeError, ValueError):
            raise ConfigError(str(path), where, "shots and attempt must be integers") from None
        known = {*REQUIRED, "subset", "attempt", "calls", "tool_results", "error"}
        predictions.append(
            Prediction(
                benchmark=str(record["benchmark"]),
                task=str(record["task"]),
                shots=shots,
                id=str(record["id"]),
                output=record["output"],
                subset=str(record.get("subset", "test")),
                attempt=attempt,
                calls=tuple(record.get("calls", [])),
                tool_results=tuple(record.get("tool_results", [])),
                error=str(record.get("error", "")),
                extra={k: v for k, v in record.items() if k not in known},
            )
        )
    return predictions
