"""Client of the nejumi code-execution sandbox (nejumi.v1.Sandbox, services/sandbox).

Executions are not stored: running model-written code again gives the same verdict
and costs seconds, while a stale stored verdict could outlive a fixed sandbox.
"""

from __future__ import annotations

import hashlib

import grpc

from nejumi.providers.base import ProviderError
from nejumi.providers.grpc_provider import status_error
from nejumi_proto.v1 import sandbox_pb2, sandbox_pb2_grpc, transcript_pb2


class SandboxClient:
    def __init__(self, target: str) -> None:
        self.target = target
        self._channel = grpc.aio.insecure_channel(target)
        self._stub = sandbox_pb2_grpc.SandboxStub(self._channel)

    async def execute(self, request: sandbox_pb2.ExecuteRequest) -> transcript_pb2.Execution:
        try:
            response = await self._stub.Execute(request)
        except grpc.aio.AioRpcError as err:
            error: ProviderError = status_error(err.code(), f"sandbox {self.target}: {err.details()}")
            raise error from None
        key = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()
        return transcript_pb2.Execution(key=key, request=request, response=response)

    async def close(self) -> None:
        await self._channel.close()
