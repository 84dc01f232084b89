"""Identity of a request in the store: what determines the answer, plus who asked.

A key hashes four things:
- the model's identity: how it is served (backend, the serving settings that can
  change outputs, the endpoint of a remote model, the model's own description from
  the service), so answers are reused only from the same model served the same way;
- the sample's identity (benchmark, task, shots, subset, id, attempt);
- the call's position in the sample's flow (role, turn, step, attempt), so requests
  the official harness sends several times on purpose stay distinct;
- the request itself (messages or prompt, tools, generation parameters).

Identical requests from the same position of the same sample share a key, which is
what makes dedup and resume safe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from nejumi_proto.v1 import inference_pb2, transcript_pb2, types_pb2

KEY_VERSION = b"nejumi-request-v2"

# Serving settings and service details that size the engine without changing any
# answer; everything else about how a model is served is part of its identity.
CAPACITY_KEYS = frozenset(
    {
        "gpu_memory_utilization",
        "max_num_seqs",
        "max_num_batched_tokens",
        "n_parallel",
        "n_threads",
        "verbosity",
        "lifecycle",
        "vllm_tag",
        "vllm_docker_image",
        # How long a client waits for an answer, never what the answer is.
        "timeout_s",
    }
)


@dataclass(frozen=True)
class ModelIdentity:
    """Everything about a model and how it is served that can change its answers."""

    api: str
    model: str
    # Serving settings that can change outputs (chat template, dtype, quantization,
    # tool and reasoning parsers, max_model_len, ...), as plain JSON values.
    serving: dict[str, Any] = field(default_factory=dict)
    # Where a remote model is reached (base_url, gRPC endpoint); empty when nejumi
    # serves the model itself on a loopback port of its choosing.
    endpoint: str = ""
    # The service's own description of the model (ModelInfo), capacity left out.
    info: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "model": self.model,
            "serving": self.serving,
            "endpoint": self.endpoint,
            "info": self.info,
        }

    def canonical(self) -> bytes:
        return json.dumps(self.as_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def with_info(self, info: inference_pb2.ModelInfoResponse) -> ModelIdentity:
        details = {k: v for k, v in sorted(info.details.items()) if k not in CAPACITY_KEYS}
        described = {
            "model": info.model,
            "backend": info.backend,
            "max_model_len": info.max_model_len,
            "details": details,
        }
        return ModelIdentity(self.api, self.model, self.serving, self.endpoint, described)


def identity_differences(stored: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """`path: stored -> current` for every leaf that differs between two identities."""
    differences = []
    for key in sorted(set(stored) | set(current)):
        path = f"{prefix}{key}"
        old, new = stored.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += identity_differences(old, new, f"{path}.")
        elif old != new:
            differences.append(
                f"{path}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}"
            )
    return differences


def sample_identity(sample: types_pb2.Sample) -> types_pb2.Sample:
    """The fields that name a sample (its messages and payload are the benchmark's)."""
    return types_pb2.Sample(
        benchmark=sample.benchmark,
        task=sample.task,
        id=sample.id,
        shots=sample.shots,
        subset=sample.subset,
        attempt=sample.attempt,
    )


def sample_key(sample: types_pb2.Sample) -> str:
    """The store key of a sample's transcript and scores."""
    digest = hashlib.sha256(KEY_VERSION + b"\0sample\0")
    digest.update(sample_identity(sample).SerializeToString(deterministic=True))
    return digest.hexdigest()


def request_key(
    model: ModelIdentity,
    sample: types_pb2.Sample,
    position: transcript_pb2.CallPosition,
    request: inference_pb2.GenerateRequest,
) -> str:
    # request_id is the key itself; it must not feed the hash.
    content = inference_pb2.GenerateRequest(
        messages=request.messages, tools=request.tools, params=request.params, prompt=request.prompt
    )
    digest = hashlib.sha256(KEY_VERSION)
    for part in (
        model.canonical(),
        sample_identity(sample).SerializeToString(deterministic=True),
        position.SerializeToString(deterministic=True),
        content.SerializeToString(deterministic=True),
    ):
        # Length-prefixed, so no two different tuples of parts hash alike.
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()
