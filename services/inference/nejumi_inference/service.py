"""The nejumi.v1.Inference servicer: validation, the shared queue, deadlines and cancellation around a Backend."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import grpc

from nejumi_inference.admission import Admission
from nejumi_inference.backends import Backend
from nejumi_inference.errors import RETRY_AFTER_KEY, BackendError
from nejumi_inference.validation import InvalidRequest, validate_count_request, validate_request
from nejumi_proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2

log = logging.getLogger(__name__)

Health = inference_pb2.HealthResponse
RequestT = TypeVar("RequestT", inference_pb2.GenerateRequest, inference_pb2.CountTokensRequest)
ResultT = TypeVar("ResultT")


class InferenceService(inference_pb2_grpc.InferenceServicer):
    """Serves one backend. Starts in STARTING; the server calls ``mark_serving`` once the model is loaded."""

    def __init__(self, backend: Backend, backend_name: str, admission: Admission) -> None:
        self._backend = backend
        self._backend_name = backend_name
        self._admission = admission
        self._state: Health.State.ValueType = Health.STARTING
        self._state_message = "loading the model"

    def mark_serving(self) -> None:
        self._state, self._state_message = Health.SERVING, ""

    def mark_down(self, reason: str) -> None:
        self._state, self._state_message = Health.DOWN, reason

    async def GenerateOne(
        self, request: inference_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> types_pb2.Response:
        try:
            self._precheck(request, validate_request)
        except BackendError as error:
            await _abort(context, error)
        if not self._admission.try_acquire():
            limit = self._admission.limit
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the server's queue is full ({limit} requests accepted and not yet answered; --max-queue {limit}); "
                "retry later, or use the Generate stream, which waits for room",
            )
        try:
            return await self._generate(request, context.time_remaining())
        except BackendError as error:
            failure = error
        finally:
            self._admission.release()
        await _abort(context, failure)

    async def Generate(
        self, request_iterator: AsyncIterator[inference_pb2.GenerateRequest], context: grpc.aio.ServicerContext
    ) -> None:
        # Each item is a result and whether its request_id was registered as in flight; None ends the reading.
        results: asyncio.Queue[tuple[inference_pb2.GenerateResult, bool] | None] = asyncio.Queue()
        tasks: set[asyncio.Task[None]] = set()
        in_flight_ids: set[str] = set()
        held = 0  # queue slots this stream holds: requests read and not yet answered

        async def answer(request: inference_pb2.GenerateRequest) -> None:
            result = inference_pb2.GenerateResult(request_id=request.request_id)
            try:
                self._precheck(request, validate_request)
                result.response.CopyFrom(await self._generate(request, context.time_remaining()))
            except BackendError as error:
                result.error_code, result.error_message = error.code.value[0], error.message
                if error.retry_after_s is not None:
                    result.retry_after_s = error.retry_after_s
            except Exception as error:  # a bug here must not hang the stream
                log.exception("request %s failed", request.request_id)
                result.error_code, result.error_message = grpc.StatusCode.INTERNAL.value[0], repr(error)
            results.put_nowait((result, True))

        async def read_requests() -> None:
            nonlocal held
            iterator = request_iterator.__aiter__()
            try:
                while True:
                    await self._admission.wait_for_room()  # backpressure: do not read while the queue is full
                    try:
                        request = await iterator.__anext__()
                    except StopAsyncIteration:
                        return
                    await self._admission.acquire()
                    held += 1
                    problem = _stream_id_problem(request.request_id, in_flight_ids)
                    if problem:
                        rejected = inference_pb2.GenerateResult(
                            request_id=request.request_id,
                            error_code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
                            error_message=problem,
                        )
                        results.put_nowait((rejected, False))
                        continue
                    in_flight_ids.add(request.request_id)
                    task = asyncio.create_task(answer(request))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            finally:
                results.put_nowait(None)

        reader = asyncio.create_task(read_requests())
        try:
            reading = True
            while reading or held:
                item = await results.get()
                if item is None:
                    reading = False
                    continue
                result, registered = item
                await context.write(result)
                held -= 1
                self._admission.release()
                if registered:
                    in_flight_ids.discard(result.request_id)
            await reader
        finally:
            # The client went away, the deadline passed or the server is stopping: cancel this stream's work.
            reader.cancel()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(reader, *tasks, return_exceptions=True)
            self._admission.release(held)

    async def ModelInfo(
        self, request: inference_pb2.ModelInfoRequest, context: grpc.aio.ServicerContext
    ) -> inference_pb2.ModelInfoResponse:
        return self._backend.info()

    async def CountTokens(
        self, request: inference_pb2.CountTokensRequest, context: grpc.aio.ServicerContext
    ) -> inference_pb2.CountTokensResponse:
        try:
            self._precheck(request, validate_count_request)
            return await self._bounded(
                self._backend.count_tokens(request), context.time_remaining(), "counted the tokens", "CountTokens"
            )
        except BackendError as error:
            failure = error
        await _abort(context, failure)

    async def Health(self, request: inference_pb2.HealthRequest, context: grpc.aio.ServicerContext) -> Health:
        self._refresh_backend_state()
        return Health(state=self._state, message=self._state_message, in_flight=self._admission.in_flight)

    def _refresh_backend_state(self) -> None:
        if self._state == Health.SERVING:
            reason = self._backend.down_reason()
            if reason:
                self.mark_down(reason)

    def _precheck(self, request: RequestT, validate: Callable[[RequestT], None]) -> None:
        """Raise the BackendError a request gets before any work: backend not serving, or an invalid field."""
        self._refresh_backend_state()
        if self._state == Health.STARTING:
            raise BackendError(
                grpc.StatusCode.UNAVAILABLE,
                f"the {self._backend_name} backend is still loading the model; retry when Health reports SERVING",
            )
        if self._state == Health.DOWN:
            raise BackendError(
                grpc.StatusCode.UNAVAILABLE, f"the {self._backend_name} backend is down: {self._state_message}"
            )
        try:
            validate(request)
        except InvalidRequest as error:
            raise BackendError(grpc.StatusCode.INVALID_ARGUMENT, str(error)) from None

    async def _generate(
        self, request: inference_pb2.GenerateRequest, time_remaining: float | None
    ) -> types_pb2.Response:
        started = time.monotonic()
        response = await self._bounded(
            self._backend.generate(request, time_remaining), time_remaining, "answered", repr(request.request_id)
        )
        response.latency_s = time.monotonic() - started
        return response

    async def _bounded(
        self, work: Coroutine[Any, Any, ResultT], time_remaining: float | None, done: str, what: str
    ) -> ResultT:
        """Await a backend call within the client's deadline; failures become BackendErrors."""
        try:
            if time_remaining is None:
                return await work
            if time_remaining <= 0:
                work.close()
                raise TimeoutError
            return await asyncio.wait_for(work, time_remaining)
        except TimeoutError:
            raise BackendError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"the client's deadline ({time_remaining or 0:.1f} s) passed before the model {done}",
            ) from None
        except BackendError:
            self._refresh_backend_state()
            raise
        except Exception as error:
            log.exception("the %s backend failed on %s", self._backend_name, what)
            raise BackendError(
                grpc.StatusCode.INTERNAL, f"the {self._backend_name} backend failed: {type(error).__name__}: {error}"
            ) from error


async def _abort(context: grpc.aio.ServicerContext, error: BackendError) -> NoReturn:
    """End a unary call with the error's status; an upstream's requested wait travels as trailing metadata."""
    metadata = () if error.retry_after_s is None else ((RETRY_AFTER_KEY, f"{error.retry_after_s:g}"),)
    await context.abort(error.code, error.message, trailing_metadata=metadata)


def _stream_id_problem(request_id: str, in_flight_ids: set[str]) -> str | None:
    if not request_id:
        return "request_id: must not be empty on a Generate stream (results are matched to requests by it)"
    if request_id in in_flight_ids:
        return f'request_id: "{request_id}" is already in flight on this stream'
    return None
