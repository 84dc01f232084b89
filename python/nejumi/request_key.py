"""Identity of a request in the store: what determines the answer, plus who asked.

Two samples that send the same messages with the same parameters to the same model
still get distinct keys (their sample identity differs), and so do the attempts the
official harness sends on purpose several times (ARC's two tries, one generation per
jaster metric row). Identical requests from the same sample and attempt share a key,
which is what makes dedup and resume safe.
"""

from __future__ import annotations

import hashlib

from nejumi_proto.v1 import types_pb2

KEY_VERSION = b"nejumi-request-v1"


def request_key(model_id: str, sample: types_pb2.Sample) -> str:
    identity = types_pb2.Sample(
        benchmark=sample.benchmark,
        task=sample.task,
        id=sample.id,
        shots=sample.shots,
        subset=sample.subset,
        messages=sample.messages,
        tools=sample.tools,
        generation=sample.generation,
        attempt=sample.attempt,
    )
    digest = hashlib.sha256()
    digest.update(KEY_VERSION)
    digest.update(b"\0" + model_id.encode("utf-8") + b"\0")
    # Deterministic serialisation: map fields (metadata) are excluded above, and
    # proto3 encodes the remaining fields in field-number order.
    digest.update(identity.SerializeToString(deterministic=True))
    return digest.hexdigest()
