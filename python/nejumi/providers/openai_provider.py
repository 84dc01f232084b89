"""Direct OpenAI-compatible HTTP provider (API models, an external `vllm serve`).

It runs the inference service's own OpenAI backend in-process, so message and
tool-call conversion and error mapping are the same code whether a model is reached
through the gRPC service or directly.
"""

from __future__ import annotations

from nejumi.model_spec import ModelSpec
from nejumi.providers.grpc_provider import status_error, to_generate_request
from nejumi_inference.backends import create_backend
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import types_pb2

# The request queue owns retries and concurrency; the backend must not add its own.
_BACKEND_OPTIONS = {"max_retries": 0, "max_concurrency": 1 << 16}


class OpenAIProvider:
    def __init__(self, spec: ModelSpec) -> None:
        self.model_id = spec.model_id
        options: dict[str, object] = dict(_BACKEND_OPTIONS)
        if spec.base_url:
            options["base_url"] = spec.base_url
        if spec.api_key_env:
            options["api_key_env"] = spec.api_key_env
        self._backend = create_backend("openai", spec.name, options)
        self._started = False

    async def generate(self, request_id: str, sample: types_pb2.Sample) -> types_pb2.Response:
        if not self._started:
            await self._backend.start()
            self._started = True
        try:
            return await self._backend.generate(to_generate_request(request_id, sample), None)
        except BackendError as err:
            raise status_error(err.code, err.message) from None

    async def close(self) -> None:
        await self._backend.close()
