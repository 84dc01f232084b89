"""Which `api` values a model config and a judge section accept, and what each hands its backend (spec §12.1,
§1.4); a judge with `api: openai` asks the Responses API with structured output, as upstream's judges do."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fake_vendors import fake_vendors

from nejumi.config import ConfigError, load_config
from nejumi.generation import generation_params
from nejumi.model_spec import HTTP_APIS, JudgeSpec, ModelSpec
from nejumi.runner import open_provider
from nejumi_inference.backends import BACKEND_NAMES
from nejumi_proto.v1 import inference_pb2, types_pb2


def _config(tmp_path: Path, **values: Any) -> Any:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump({"model": {"pretrained_model_name_or_path": "m"}, **values}), encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize("api", HTTP_APIS)
def test_every_upstream_http_api_is_accepted_and_has_a_backend(tmp_path: Path, api: str) -> None:
    spec = ModelSpec.from_config(_config(tmp_path, api=api))
    assert spec.backend in BACKEND_NAMES


def test_vllm_local_is_refused_with_what_to_use(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"deprecated upstream and broken.*use api: vllm"):
        ModelSpec.from_config(_config(tmp_path, api="vllm-local"))


def test_each_backend_gets_what_upstream_reads_from_the_config(tmp_path: Path) -> None:
    model = {"pretrained_model_name_or_path": "m", "api_version": "2024-10-21", "thinking": {"budget_tokens": 4096}}
    model["thinking_budget"] = -1
    specs = {
        api: ModelSpec.from_config(_config(tmp_path, api=api, model=model, nejumi={"compatibility": "corrected"}))
        for api in ("azure-openai", "anthropic", "google", "amazon_bedrock", "openai_responses")
    }
    assert specs["azure-openai"].backend_config == {"compatibility": "corrected", "api_version": "2024-10-21"}
    assert specs["anthropic"].backend_config == {"thinking": {"budget_tokens": 4096}}
    assert specs["google"].backend_config == {"compatibility": "corrected", "thinking_budget": -1}
    assert specs["amazon_bedrock"].backend_config["generator"]["max_tokens"] == 128
    assert specs["openai_responses"].backend_config == {"compatibility": "corrected"}


def test_judge_apis_as_upstream_configures_them(tmp_path: Path) -> None:
    cfg = _config(tmp_path, api="openai", mtbench={"judge": {"model": "azure-gpt-4.1"}})
    openai = JudgeSpec.from_config(cfg, "mtbench.judge", "gpt-4.1", environ={})
    azure = JudgeSpec.from_config(cfg, "mtbench.judge", "gpt-4.1", environ={"OPENAI_API_TYPE": "azure"})
    assert (openai.model.api, openai.model.name, openai.model.api_key_env) == (
        "openai_responses",
        "azure-gpt-4.1",
        "OPENAI_API_KEY",
    )
    assert (azure.model.api, azure.model.name, azure.model.api_key_env) == (
        "openai_responses",
        "gpt-4.1",
        "AZURE_OPENAI_API_KEY",
    )
    assert azure.model.backend_config["azure_endpoint_env"] == "AZURE_OPENAI_ENDPOINT"
    local = _config(tmp_path, api="openai", hle={"judge": {"api": "openai-compatible"}})
    with pytest.raises(ConfigError, match=r"hle\.judge\.base_url: is required"):
        JudgeSpec.from_config(local, "hle.judge", "gpt-4.1", environ={})


def test_an_openai_judge_asks_the_responses_api_with_structured_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = inference_pb2.GenerateRequest(
        messages=[types_pb2.ChatMessage(role="user", content="rate this answer")],
        params=generation_params({"max_tokens": 2048}),
    )
    request.params.json_schema.name = "JudgeSingle"
    request.params.json_schema.schema.update({"type": "object", "properties": {"rating": {"type": "string"}}})

    async def judge(spec: JudgeSpec) -> types_pb2.Response:
        async with open_provider(spec.model, tmp_path, lambda _: None, "judge") as provider:
            return await provider.generate("j", request)

    with fake_vendors(lambda _: "unused", verdict=lambda _: '{"rating": "[[7]]"}') as server:
        cfg = _config(tmp_path, api="openai", mtbench={"judge": {"base_url": f"{server.url}/v1"}})
        monkeypatch.setenv("OPENAI_API_KEY", "sk-judge")
        answer = asyncio.run(judge(JudgeSpec.from_config(cfg, "mtbench.judge", "gpt-4.1-2025-04-14", environ={})))
    assert answer.text == '{"rating": "[[7]]"}'
    [body] = server.bodies("/v1/responses")
    assert body["text"]["format"]["name"] == "JudgeSingle"
    assert (body["model"], body["max_output_tokens"]) == ("gpt-4.1-2025-04-14", 2048)
