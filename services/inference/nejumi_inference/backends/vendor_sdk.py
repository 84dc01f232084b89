"""What the vendor-SDK backends (bedrock, google, mistral, cohere) share: the time a request may take and the
generation keyword arguments upstream's client would send (spec §12.2). The registry (``backends/__init__.py``)
checks that their SDK, an optional extra, is installed."""

from collections.abc import Collection, Mapping
from typing import Any

from nejumi_inference.backends.upstream_params import allowed, request_extras
from nejumi_inference.chat_format import body_fields, sampling_fields
from nejumi_proto.v1 import types_pb2


def request_timeout(configured_s: float, deadline_s: float | None) -> float:
    """The configured per-request timeout, shortened to what is left of the client's deadline."""
    return configured_s if deadline_s is None else max(min(configured_s, deadline_s), 0.001)


def upstream_kwargs(
    params: types_pb2.GenerationParams,
    *,
    renames: Mapping[str, str],
    allow_list: Collection[str],
    official: bool,
    client: str,
) -> dict[str, Any]:
    """The request's generation parameters as the keyword arguments upstream's ``client`` passes to its SDK.

    The typed fields keep OpenAI's names (temperature, top_p, max_tokens, stop, seed), the extras are the rest of
    the config's ``generator:``; then upstream's renames apply, and under official compatibility its allow-list.
    """
    kwargs = body_fields(request_extras(params))
    kwargs.update(sampling_fields(params))
    renamed = {renames.get(key, key): value for key, value in kwargs.items()}
    return allowed(renamed, allow_list, client) if official else renamed
