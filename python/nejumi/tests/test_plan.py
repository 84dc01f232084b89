"""`nejumi plan`: every model config in the official shapes passes, problems are all named,
and the counts are what the benchmarks really send, on the shared datasets (../shared/data)
and the quick-start data (JBBQ's real data is private)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from _shared import require_shared_dir
from support.fake_openai import fake_openai

from nejumi.benchmarks import REGISTRY
from nejumi.config import BASE_CONFIG, load_config
from nejumi.model_spec import APIS, REFUSED, SERVED
from nejumi.plan import Plan, as_json, main, make_plan, render
from nejumi.pricing import PRICES, normalise, price_of
from nejumi.provider_needs import KEYS, OPTIONAL_KEYS
from nejumi.token_estimate import estimate_tokens

CONFIGS = Path(__file__).parent / "model_configs"
QUICKSTART = BASE_CONFIG.parent / "quickstart_data"
BLANK = sorted(CONFIGS.glob("config-blank-*.yaml"))
FILLED = sorted(set(CONFIGS.glob("config-*.yaml")) - set(BLANK))
# The variables every API provider reads; the values are never sent anywhere.
KEYS_SET = {
    name: "test-key"
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GOOGLE_API_KEY",
        "MISTRAL_API_KEY",
        "COHERE_API_KEY",
        "XAI_API_KEY",
        "UPSTAGE_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_COMPATIBLE_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    )
}
JUDGED = ("mtbench", "toxicity", "hle", "hallulens")
# What the base config enables (jaster) on the quick-start data.
QUICK_JASTER = {"jaster": {"data_dir": str(QUICKSTART / "jaster")}}
# The upstream template name has no file in nejumi (see the lead's notes on vllm.chat_template).
TEMPLATE_BY_NAME = CONFIGS / "config-vllm-docker-qwq-template.yaml"


@pytest.fixture(scope="module")
def data() -> Path:
    return require_shared_dir("data/jaster/test", "data/mtbench/question", "data/arc_agi") / "data"


def every_benchmark(data: Path) -> dict[str, Any]:
    """Overrides that switch every registered benchmark on, each with its shared data set, or the
    quick-start sample where the real data is private (JBBQ)."""
    folders = {name: data / name if (data / name).is_dir() else QUICKSTART / name for name in REGISTRY}
    return {
        "run": {name: True for name in folders},
        **{name: {"data_dir": str(folder)} for name, folder in folders.items()},
    }


@pytest.fixture
def vllm_importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """vLLM cannot be installed on a CPU machine; plan only asks whether it could be imported."""
    if importlib.util.find_spec("vllm") is None:
        stub = tmp_path / "site" / "vllm"
        stub.mkdir(parents=True)
        (stub / "__init__.py").write_text('"""stands in for an installed vLLM"""\n')
        monkeypatch.syspath_prepend(str(stub.parent))


def plan_of(path: Path, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] = KEYS_SET) -> Plan:
    return make_plan(load_config(path, overrides=overrides), environ=environ, home=Path("/nonexistent"))


@pytest.mark.parametrize("path", FILLED, ids=lambda p: p.stem)
@pytest.mark.usefixtures("vllm_importable")
def test_every_model_config_plans_every_benchmark(path: Path, data: Path) -> None:
    plan = plan_of(path, every_benchmark(data))
    if path == TEMPLATE_BY_NAME:
        [problem] = plan.findings.problems
        assert "vllm.chat_template: 'Qwen/QwQ-32B' is neither a readable file" in problem
        return
    assert plan.findings.problems == []
    planned = {b.name: b for b in plan.benchmarks}
    assert set(planned) == set(every_benchmark(data)["run"])
    assert all(b.count.model.calls > 0 for b in planned.values())
    assert set(JUDGED) <= {name for name, b in planned.items() if b.judges}


def test_the_configs_cover_every_api_and_key_path() -> None:
    """Every api upstream routes (§12.1) and every key path the official configs set appears here."""
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(CONFIGS.glob("*.yaml"))]
    # nejumi's own llamacpp and grpc have configs of their own (configs/quickstart.yaml, below).
    assert set(APIS) - set(REFUSED) - {"llamacpp", "grpc"} <= {document["api"] for document in documents}

    def paths(node: object, prefix: str = "") -> Iterator[str]:
        if isinstance(node, dict) and node:
            for key, child in node.items():
                yield from paths(child, f"{prefix}{key}.")
        else:
            yield prefix.rstrip(".")

    spec = require_shared_dir("spec/official-model-configs.md") / "spec" / "official-model-configs.md"
    # The key-path table's rows: | `key` | configs | example |
    rows = [line for line in spec.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    official = {row.split("`")[1] for row in rows if row.count("|") == 4}
    assert len(official) > 80
    assert official - {p for document in documents for p in paths(document)} == set()


@pytest.mark.parametrize("path", BLANK, ids=lambda p: p.stem)
def test_blank_model_names_fail_naming_the_key(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path.resolve()}: model.pretrained_model_name_or_path: is required (the model to evaluate)" in out
    assert "problem(s); a run would fail" in out


def seed_cache(cache: Path, artifact: str, inner: str, folder: Path) -> None:
    """A verified W&B artifact cache (datasets.py's layout) holding `folder` as `<inner>/`: what a
    first run with WANDB_API_KEY leaves behind."""
    entity, project, rest = artifact.split("/")
    name, alias = rest.split(":")
    root = cache / entity / project / name / alias
    (root / "artifact").mkdir(parents=True)
    (root / "artifact" / inner).symlink_to(folder)
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        md5 = base64.b64encode(hashlib.md5(path.read_bytes(), usedforsecurity=False).digest()).decode()
        files[f"{inner}/{path.relative_to(folder).as_posix()}"] = {"size": path.stat().st_size, "md5": md5}
    manifest = {"artifact": artifact, "version": "v0", "digest": "seeded", "files": files}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture
def jaster_cached(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = load_config(BASE_CONFIG, base_config=BASE_CONFIG)
    artifact, inner = base.get_str("jaster.artifacts_path"), base.get_str("jaster.dataset_dir")
    assert artifact and inner
    seed_cache(tmp_path / "cache", artifact, inner, data / "jaster")
    monkeypatch.setenv("NEJUMI_CACHE_DIR", str(tmp_path / "cache"))
    for name, value in KEYS_SET.items():
        monkeypatch.setenv(name, value)
    return tmp_path / "cache"


@pytest.mark.parametrize("path", [p for p in FILLED if p != TEMPLATE_BY_NAME], ids=lambda p: p.stem)
@pytest.mark.usefixtures("jaster_cached", "vllm_importable")
def test_the_command_accepts_each_config_as_it_is(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Untouched configs run what the base config enables (jaster), from the artifact cache."""
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("no problems found")
    assert any(line.startswith("jaster ") for line in out.splitlines())


@pytest.mark.usefixtures("jaster_cached")
def test_python_m_nejumi_plan_prints_json() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    path = CONFIGS / "config-openai-responses-gpt-5.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "nejumi.plan", str(path), "--json"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["problems"] == []
    assert document["model"]["model"] == "gpt-5-2025-08-07"
    assert document["reasoning"] == "generator.reasoning"
    jaster = document["benchmarks"]["jaster"]
    # jaster.override_max_tokens: 180000 bounds every request.
    assert jaster["model"]["max_output"] == 180000 * jaster["model"]["calls"]


def test_counts_are_what_the_benchmarks_send(data: Path) -> None:
    overrides = every_benchmark(data)
    plan = plan_of(CONFIGS / "config-openai-gpt-4o.yaml", overrides)
    cfg = load_config(CONFIGS / "config-openai-gpt-4o.yaml", overrides=overrides)
    counts = {b.name: b for b in plan.benchmarks}

    def lines(path: Path) -> int:
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())

    # MT-bench: two turns per question; one verdict per turn and repeat, up to 50 attempts each.
    questions = lines(data / "mtbench/question/question.jsonl")
    mtbench = counts["mtbench"]
    [judge] = mtbench.judges
    assert mtbench.count.model.calls == 2 * questions
    assert judge.tally.typical.calls == 2 * questions * cfg.get("mtbench.judge_count")
    assert judge.tally.most.calls == judge.tally.typical.calls * cfg.get("mtbench.judge_max_attempts")
    assert judge.priced.model == "gpt-4.1-2025-04-14"
    # ARC-AGI: num_attempts identical requests per task, each bounded by max_output_tokens.
    tasks = len(list((data / "arc_agi").glob("arc-agi-*/evaluation/*.json")))
    arc = counts["arc_agi"].count.model
    assert arc.calls == tasks * cfg.get("arc_agi.num_attempts")
    assert arc.max_output == arc.calls * cfg.get("arc_agi.max_output_tokens")
    # HLE: every test question and max_samples dev questions, each judged once (o3-mini).
    hle_questions = lines(data / "hle/hle-ja/test.jsonl") + min(lines(data / "hle/hle-ja/dev.jsonl"), 10)
    assert counts["hle"].count.model.calls == hle_questions
    assert [(j.priced.model, j.tally.typical.calls) for j in counts["hle"].judges] == [
        ("o3-mini-2025-01-31", hle_questions)
    ]
    for name, path in (("toxicity", "toxicity/toxicity_full.jsonl"), ("m_ifeval", "m_ifeval/ja_input_data.jsonl")):
        assert counts[name].count.model.calls == lines(data / path)


def test_jaster_sends_one_request_per_metric_row_and_pass(tmp_path: Path) -> None:
    """Quick-start jaster by hand: (test + dev samples) x metrics, at 0 and 2 shots."""
    config = tmp_path / "model.yaml"
    tasks = ["jcommonsenseqa", "jnli", "jsquad"]
    config.write_text(
        yaml.safe_dump(
            {
                "api": "openai",
                "model": {"pretrained_model_name_or_path": "gpt-4o-2024-11-20"},
                "jaster": {"data_dir": str(QUICKSTART / "jaster"), "tasks": tasks},
            }
        )
    )
    expected = 0
    for task in tasks:
        for subset in ("test", "dev"):
            document = json.loads((QUICKSTART / "jaster" / subset / f"{task}.json").read_text(encoding="utf-8"))
            limit = 100 if subset == "test" else 10
            expected += 2 * min(len(document["samples"]), limit) * len(document["metrics"])
    plan = plan_of(config)
    [jaster] = plan.benchmarks
    assert plan.findings.problems == []
    assert jaster.count.model.calls == expected


def test_every_problem_is_listed(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEJUMI_CACHE_DIR", str(tmp_path / "empty-cache"))
    config = tmp_path / "broken.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "api": "anthropic",
                "batch_size": "many",
                "model": {"pretrained_model_name_or_path": "claude-sonnet-4-20250514", "release_date": "2025-13-45"},
                "run": {"jaster": False, "mtbench": True, "jbbq": True},
                "mtbench": {"data_dir": str(data / "mtbench")},
            }
        )
    )
    plan = plan_of(config, environ={})
    problems = "\n".join(plan.findings.problems)
    assert f"{config}: batch_size: must be an integer (got 'many')" in problems
    assert f"{config}: model.release_date: must be a date MM/DD/YYYY (got '2025-13-45')" in problems
    assert f"{config}: api: $ANTHROPIC_API_KEY is not set" in problems
    assert f"{BASE_CONFIG}: mtbench.judge.api: $OPENAI_API_KEY is not set" in problems
    # JBBQ's private artifact is not here: the key, where to get the data, how to skip it.
    [jbbq] = [p for p in plan.findings.problems if "jbbq" in p]
    assert "jbbq.artifacts_path" in jbbq and "set jbbq.data_dir to a local copy" in jbbq
    assert "docs/datasets.md" in jbbq and "ynklab/JBBQ_data" in jbbq and "run.jbbq: false" in jbbq
    assert [b.name for b in plan.benchmarks] == ["mtbench"]
    assert len(plan.findings.problems) == 5


def test_a_missing_vendor_sdk_is_named_with_its_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK is installed here; a None entry makes the import system report it missing.
    monkeypatch.setitem(sys.modules, "anthropic", None)
    plan = plan_of(CONFIGS / "config-anthropic-claude-opus-4.1-thinking.yaml", QUICK_JASTER)
    [problem] = plan.findings.problems
    assert "api: " in problem and "pip install anthropic==" in problem


def test_a_served_model_needs_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("vllm") is not None:
        monkeypatch.setitem(sys.modules, "vllm", None)
    plan = plan_of(CONFIGS / "config-vllm-gemma-3.yaml", QUICK_JASTER)
    [problem] = plan.findings.problems
    assert "api: vllm needs the Python package 'vllm'" in problem and "pip install vllm==" in problem


@pytest.mark.usefixtures("vllm_importable")
def test_a_bad_vllm_option_names_its_key(tmp_path: Path) -> None:
    config = tmp_path / "model.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "api": "vllm",
                "model": {"pretrained_model_name_or_path": "Qwen/Qwen3-8B"},
                "vllm": {"max_model_len": "long", "served_model_nmae": "x"},
                "jaster": {"data_dir": str(QUICKSTART / "jaster")},
            }
        )
    )
    plan = plan_of(config)
    [problem] = plan.findings.problems
    assert f"{config}: vllm.max_model_len" in problem
    assert f"{config}: vllm.served_model_nmae: not read by nejumi's vLLM backend (ignored)" in plan.findings.warnings


def test_plan_sends_no_request(data: Path) -> None:
    with fake_openai(lambda _: "never asked") as server:
        overrides = {**every_benchmark(data), "base_url": server["base_url"]}
        plan = plan_of(CONFIGS / "config-openai-compatible-qwen3-local.yaml", overrides)
        assert plan.ok
        assert server["requests"] == []


def test_costs_are_priced_local_or_unknown(data: Path) -> None:
    overrides = every_benchmark(data)
    priced = as_json(plan_of(CONFIGS / "config-openai-gpt-4o.yaml", overrides))
    price = PRICES["gpt-4o-2024-11-20"]
    model = priced["benchmarks"]["jaster"]["model"]
    assert priced["benchmarks"]["jaster"]["cost_usd"]["model"] == pytest.approx(
        price.cost(model["prompt_tokens"], model["typical_output"])
    )
    # A model of your own behind an OpenAI-compatible server has no list price: unknown, not 0.
    unknown = plan_of(CONFIGS / "config-openai-compatible-qwen3-local.yaml", overrides)
    assert as_json(unknown)["benchmarks"]["jaster"]["cost_usd"]["model"] is None
    assert "price unknown" in render(unknown)
    # The judges still cost money when the model is free.
    judged = as_json(unknown)["benchmarks"]["mtbench"]["cost_usd"]
    assert judged["judges"] is not None and judged["judges"] > 0


@pytest.mark.usefixtures("vllm_importable")
def test_a_served_model_costs_nothing_and_a_reasoning_one_thinks(data: Path) -> None:
    overrides = every_benchmark(data)
    thinking = plan_of(CONFIGS / "config-vllm-docker-qwen3-thinking.yaml", overrides)
    plain = plan_of(CONFIGS / "config-vllm-gemma-3.yaml", overrides)
    assert thinking.reasoning == "generator.extra_body.chat_template_kwargs.enable_thinking"
    assert plain.reasoning is None
    table = render(plain)
    assert "served locally (no API cost)" in table and " local " in table

    def output(plan: Plan, name: str) -> int:
        return next(b.count.model.typical_output for b in plan.benchmarks if b.name == name)

    assert output(thinking, "m_ifeval") > output(plain, "m_ifeval")


def test_warnings_do_not_fail(data: Path, tmp_path: Path) -> None:
    config = tmp_path / "model.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "api": "openai-compatible",
                "base_url": "https://openrouter.ai/api/v1",
                "model": {"pretrained_model_name_or_path": "qwen/qwen3-32b"},
                "run": {"bfcl": True},
                "jaster": {"data_dir": str(QUICKSTART / "jaster")},
            }
        )
    )
    plan = plan_of(config, environ={})
    assert plan.ok
    warnings = "\n".join(plan.findings.warnings)
    assert f"{config}: run.bfcl: nejumi has no bfcl benchmark yet" in warnings
    assert "https://openrouter.ai/api/v1 looks like a hosted API" in warnings


def test_every_api_is_known_to_plan(tmp_path: Path) -> None:
    local = {*SERVED, "grpc", "amazon_bedrock"}  # no key variable: served, or AWS's credential chain
    assert set(APIS) - set(REFUSED) <= set(KEYS) | set(OPTIONAL_KEYS) | local
    config = tmp_path / "model.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "api": "grpc",
                "inference": {"endpoint": "127.0.0.1:1"},
                "model": {"pretrained_model_name_or_path": "served-elsewhere"},
                "jaster": {"data_dir": str(QUICKSTART / "jaster")},
            }
        )
    )
    assert plan_of(config, environ={}).ok


def test_the_quickstart_config_plans(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(BASE_CONFIG.parent / "quickstart.yaml")]) == 0
    out = capsys.readouterr().out
    assert "served locally (no API cost)" in out and "no problems found" in out


def test_prices_cover_the_default_judges_and_bedrock_ids() -> None:
    assert price_of("gpt-4.1-2025-04-14") == PRICES["gpt-4.1-2025-04-14"]
    assert price_of("o3-mini-2025-01-31") == PRICES["o3-mini-2025-01-31"]
    assert normalise("us.anthropic.claude-sonnet-4-20250514-v1:0") == "claude-sonnet-4-20250514"
    assert normalise("us.amazon.nova-lite-v1:0") == "nova-lite"
    assert normalise("anthropic/claude-3.7-sonnet") == "claude-3.7-sonnet"
    assert price_of("Qwen/Qwen3-32B") is None


def test_token_estimate_rule() -> None:
    assert estimate_tokens("the") == 1
    assert estimate_tokens("tokenization") == 2
    assert estimate_tokens("12345") == 2
    assert estimate_tokens("Hello, world!") == 4
    assert estimate_tokens("日本語の文") == 5
    assert estimate_tokens("  \n ") == 0
