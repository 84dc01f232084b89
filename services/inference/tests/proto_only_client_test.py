"""Another tool can use the service from the .proto files alone: compile them now, call the running server
from a process that sees nothing of this repository but the freshly generated modules."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from harness import running_server, scripted_args

PROTO_FILES = ("nejumi_proto/v1/types.proto", "nejumi_proto/v1/inference.proto")


def _proto_root() -> Path:
    """The folder holding nejumi_proto/v1/*.proto: runfiles under Bazel, the source tree otherwise."""
    here = Path(__file__).parent
    for folder in (here, *here.parents):
        if (folder / "proto" / PROTO_FILES[1]).is_file():
            return folder / "proto"
    raise FileNotFoundError("proto/nejumi_proto/v1/inference.proto not found above " + str(here))


CLIENT = """
import json, sys
import grpc
from nejumi_proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2

assert inference_pb2.__file__.startswith(sys.argv[2]), inference_pb2.__file__
stub = inference_pb2_grpc.InferenceStub(grpc.insecure_channel(sys.argv[1]))
ask = lambda rid, text: inference_pb2.GenerateRequest(
    request_id=rid, messages=[types_pb2.ChatMessage(role="user", content=text)],
    params=types_pb2.GenerationParams(max_tokens=8, temperature=0.0),
)
info = stub.ModelInfo(inference_pb2.ModelInfoRequest())
one = stub.GenerateOne(ask("one", "hello from protoc"))
streamed = {r.request_id: r.response.text for r in stub.Generate(iter([ask("a", "alpha"), ask("b", "beta")]))}
health = stub.Health(inference_pb2.HealthRequest())
print(json.dumps({"backend": info.backend, "one": one.text, "streamed": streamed,
                  "serving": health.state == inference_pb2.HealthResponse.SERVING}))
"""


def test_client_generated_from_the_protos_alone(tmp_path: Path) -> None:
    generated = tmp_path / "generated"
    generated.mkdir()
    compiled = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--proto_path={_proto_root()}",
            f"--python_out={generated}",
            f"--grpc_python_out={generated}",
            *PROTO_FILES,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr
    client = tmp_path / "client.py"
    client.write_text(textwrap.dedent(CLIENT))
    # Only the generated code and the interpreter's own site-packages (grpcio, protobuf): no PYTHONPATH.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(generated)
    with running_server(scripted_args(tmp_path, {"default": "echo"})) as server:
        answered = subprocess.run(
            [sys.executable, str(client), server.address, str(generated)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout) == {
        "backend": "scripted",
        "one": "hello from protoc",
        "streamed": {"a": "alpha", "b": "beta"},
        "serving": True,
    }


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
