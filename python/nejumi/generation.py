"""Turns a config's `generator:` section into the GenerationParams of a request."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nejumi_proto.v1 import types_pb2

# Keys with a field of their own; everything else travels as provider extras
# (e.g. extra_body, reasoning), as upstream passes the whole section to the API.
_TYPED = ("temperature", "top_p", "max_tokens", "stop", "seed")


def generation_params(generator: Mapping[str, Any], max_tokens: int | None = None) -> types_pb2.GenerationParams:
    params = types_pb2.GenerationParams()
    if generator.get("temperature") is not None:
        params.temperature = float(generator["temperature"])
    if generator.get("top_p") is not None:
        params.top_p = float(generator["top_p"])
    tokens = max_tokens if max_tokens is not None else generator.get("max_tokens")
    if tokens is not None:
        params.max_tokens = int(tokens)
    stop = generator.get("stop")
    if stop:
        params.stop.extend([stop] if isinstance(stop, str) else [str(s) for s in stop])
    if generator.get("seed") is not None:
        params.seed = int(generator["seed"])
    extras = {key: value for key, value in generator.items() if key not in _TYPED}
    if extras:
        params.extra_json = json.dumps(extras, ensure_ascii=False, sort_keys=True)
    return params
