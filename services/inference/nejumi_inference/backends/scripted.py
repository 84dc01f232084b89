"""A backend that answers from a script, for tests of the whole system over the real protocol.

Script (JSON or YAML; a file path or the object itself as ``{"script": ...}`` in ``--backend-config``)::

    {"rules": [{"match": "<substring of the last user or tool message>", "reply": "...",
                "reasoning": "...", "tool_calls": [{"name": "f", "arguments": {...}}],
                "delay_s": 0.1, "error_code": "INVALID_ARGUMENT", "error_message": "..."}],
     "default": "echo" | "<fixed text>", "delay_s": 0.0, "fail_first": 0, "request_log": "<path>",
     "start_delay_s": 0.0, "fail_start": "<message>", "down": "<reason>", "max_model_len": 0}

The first rule whose ``match`` occurs in the last user or tool message (or in the raw ``prompt``) answers; otherwise
``default`` does ("echo" repeats that text). A rule's reply is returned as is, whatever ``params.json_schema`` or
``params.tool_choice`` ask for. ``fail_first`` answers the first N requests with UNAVAILABLE (to test client
retries). ``request_log`` gets one JSON line per request when it ends: request_id, sha256 (of the request's
messages, prompt, tools and params, serialized deterministically), received_at, ended_at, status (completed,
cancelled or failed), and the request's tool_choice and json_schema when set. Tokens are whitespace-separated
words: a prompt costs the words of ``prompt`` or of all message contents (CountTokens and usage agree);
``params.max_tokens`` truncates the reply.
"""

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import json_format

from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2


@dataclasses.dataclass(frozen=True)
class ScriptedOptions:
    script: str | dict | None = None


@dataclasses.dataclass(frozen=True)
class Rule:
    match: str
    reply: str = ""
    reasoning: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments as JSON)
    delay_s: float | None = None
    error_code: grpc.StatusCode | None = None
    error_message: str = ""


@dataclasses.dataclass(frozen=True)
class Script:
    rules: tuple[Rule, ...] = ()
    default: str = "echo"
    delay_s: float = 0.0
    fail_first: int = 0
    request_log: str = ""
    start_delay_s: float = 0.0
    fail_start: str = ""
    down: str = ""
    max_model_len: int = 0


class ScriptedBackend:
    def __init__(self, model: str, script: Script) -> None:
        self._model = model or "scripted"
        self._script = script
        self._received = 0
        self._log: IO[str] | None = None

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "ScriptedBackend":
        options = parse_options(ScriptedOptions, config, "scripted")
        if options.script is None:
            raise OptionsError('the scripted backend needs --backend-config \'{"script": "<path or object>"}\'')
        raw = options.script if isinstance(options.script, dict) else load_script_file(Path(options.script))
        return cls(model, parse_script(raw))

    async def start(self) -> None:
        if self._script.start_delay_s:
            await asyncio.sleep(self._script.start_delay_s)
        if self._script.fail_start:
            raise RuntimeError(self._script.fail_start)
        if self._script.request_log:
            path = Path(self._script.request_log)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._log = await asyncio.to_thread(path.open, "a", encoding="utf-8")

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        self._received += 1
        number = self._received
        received_at = time.time()
        status = "failed"
        try:
            response = await self._answer(request, number)
            status = "completed"
            return response
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        finally:
            self._write_log(request, received_at, status)

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        return inference_pb2.CountTokensResponse(
            prompt_tokens=_prompt_words(request.prompt, request.messages), max_model_len=self._script.max_model_len
        )

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="scripted",
            max_model_len=self._script.max_model_len,
            details={"rules": str(len(self._script.rules)), "default": self._script.default},
        )

    def down_reason(self) -> str | None:
        return self._script.down or None

    async def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    async def _answer(self, request: inference_pb2.GenerateRequest, number: int) -> types_pb2.Response:
        if number <= self._script.fail_first:
            raise BackendError(
                grpc.StatusCode.UNAVAILABLE,
                f"scripted failure: request {number} of the first {self._script.fail_first}",
            )
        prompt = request.prompt or _last_user_text(request)
        rule = next((r for r in self._script.rules if r.match in prompt), None)
        delay = rule.delay_s if rule is not None and rule.delay_s is not None else self._script.delay_s
        if delay:
            await asyncio.sleep(delay)
        if rule is not None and rule.error_code is not None:
            raise BackendError(rule.error_code, rule.error_message or f"scripted {rule.error_code.name}")
        fallback = prompt if self._script.default == "echo" else self._script.default
        reply = rule.reply if rule is not None else fallback
        return _response(self._model, request, reply, rule)

    def _write_log(self, request: inference_pb2.GenerateRequest, received_at: float, status: str) -> None:
        if self._log is None:
            return
        record: dict[str, Any] = {
            "request_id": request.request_id,
            "sha256": request_sha256(request),
            "received_at": received_at,
            "ended_at": time.time(),
            "status": status,
        }
        params = request.params
        if params.HasField("tool_choice"):
            choice = params.tool_choice
            record["tool_choice"] = {"mode": types_pb2.ToolChoice.Mode.Name(choice.mode), "name": choice.name}
        if params.HasField("json_schema"):
            record["json_schema"] = json_format.MessageToDict(params.json_schema)
        self._log.write(json.dumps(record) + "\n")
        self._log.flush()


def request_sha256(request: inference_pb2.GenerateRequest) -> str:
    """Hash of what determines the answer (messages, prompt, tools, params), independent of the request_id."""
    content = inference_pb2.GenerateRequest(
        messages=request.messages, prompt=request.prompt, tools=request.tools, params=request.params
    )
    return hashlib.sha256(content.SerializeToString(deterministic=True)).hexdigest()


def load_script_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise OptionsError(f"cannot read the script {path}: {error.strerror}") from None
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise OptionsError(f"the script {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise OptionsError(f"the script {path} must hold an object with 'rules' and 'default'")
    return data


def parse_script(raw: Mapping[str, Any]) -> Script:
    known = {f.name for f in dataclasses.fields(Script)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise OptionsError(f"script: unknown keys {unknown} (known: {', '.join(sorted(known))})")
    rules = tuple(_parse_rule(i, rule) for i, rule in enumerate(raw.get("rules") or []))
    values = {k: v for k, v in raw.items() if k != "rules" and v is not None}
    try:
        return Script(rules=rules, **values)
    except TypeError as error:
        raise OptionsError(f"script: {error}") from None


def _parse_rule(index: int, raw: Any) -> Rule:
    where = f"script rules[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("match"), str):
        raise OptionsError(f'{where}: must be an object with a string "match"')
    code = raw.get("error_code")
    status = None
    if code is not None:
        status = getattr(grpc.StatusCode, str(code), None)
        if not isinstance(status, grpc.StatusCode):
            raise OptionsError(f"{where}.error_code: {code!r} is not a gRPC status name such as UNAVAILABLE")
    calls = tuple(
        (
            str(call["name"]),
            call["arguments"] if isinstance(call.get("arguments"), str) else json.dumps(call.get("arguments") or {}),
        )
        for call in raw.get("tool_calls") or []
    )
    return Rule(
        match=raw["match"],
        reply=str(raw.get("reply", "")),
        reasoning=str(raw.get("reasoning", "")),
        tool_calls=calls,
        delay_s=raw.get("delay_s"),
        error_code=status,
        error_message=str(raw.get("error_message", "")),
    )


def _last_user_text(request: inference_pb2.GenerateRequest) -> str:
    # A tool result is what the model answers next in a tool-calling loop.
    for message in reversed(request.messages):
        if message.role in ("user", "tool"):
            return message.content
    return ""


def _prompt_words(prompt: str, messages: Iterable[types_pb2.ChatMessage]) -> int:
    if prompt:
        return len(prompt.split())
    return sum(len(m.content.split()) for m in messages)


def _response(model: str, request: inference_pb2.GenerateRequest, reply: str, rule: Rule | None) -> types_pb2.Response:
    words = reply.split()
    finish_reason = "tool_calls" if rule is not None and rule.tool_calls else "stop"
    if request.params.HasField("max_tokens") and len(words) > request.params.max_tokens:
        words = words[: request.params.max_tokens]
        reply = " ".join(words)
        finish_reason = "length"
    prompt_tokens = _prompt_words(request.prompt, request.messages)
    response = types_pb2.Response(
        text=reply,
        reasoning_text=rule.reasoning if rule is not None else "",
        finish_reason=finish_reason,
        model=model,
        usage=types_pb2.Usage(
            prompt_tokens=prompt_tokens, completion_tokens=len(words), total_tokens=prompt_tokens + len(words)
        ),
    )
    for i, (name, arguments) in enumerate(rule.tool_calls if rule is not None else ()):
        response.tool_calls.add(id=f"call_{i}", name=name, arguments_json=arguments)
    return response
