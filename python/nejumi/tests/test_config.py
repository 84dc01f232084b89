from pathlib import Path

import pytest

from nejumi.config import ConfigError, load_config
from nejumi.model_spec import ModelSpec
from nejumi.settings import RunSettings, benchmark_generator, benchmark_policy, failure_policy


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write(
        tmp_path / "base.yaml",
        "batch_size: 32\ngenerator:\n  temperature: 0.1\n  top_p: 1.0\n  stop: [a, b]\nrun:\n  jaster: true\n",
    )


def test_model_config_deep_merges_over_base(tmp_path: Path, base: Path) -> None:
    model = write(tmp_path / "m.yaml", "generator:\n  temperature: 0.6\n  stop: [c]\nrun:\n  mtbench: false\n")
    cfg = load_config(model, base_config=base)
    assert cfg.get("generator") == {"temperature": 0.6, "top_p": 1.0, "stop": ["c"]}
    assert cfg.get("run") == {"jaster": True, "mtbench": False}
    assert cfg.get("batch_size") == 32
    assert cfg.source_of("generator.temperature") == str(model)
    assert cfg.source_of("generator.top_p") == str(base)


def test_bad_value_names_file_and_key_path(tmp_path: Path, base: Path) -> None:
    model = write(tmp_path / "m.yaml", "batch_size: many\n")
    cfg = load_config(model, base_config=base)
    with pytest.raises(ConfigError) as err:
        cfg.get_int("batch_size", minimum=1)
    assert str(err.value) == f"{model}: batch_size: must be an integer (got 'many')"


def test_yaml_syntax_error_names_line(tmp_path: Path, base: Path) -> None:
    model = write(tmp_path / "m.yaml", "api: llamacpp\nmodel:\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(model, base_config=base)
    assert str(model) in str(err.value)
    assert "line 4" in str(err.value) or "line 3" in str(err.value)


def test_missing_file_is_named(tmp_path: Path, base: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        load_config(tmp_path / "nope.yaml", base_config=base)


def test_top_level_must_be_mapping(tmp_path: Path, base: Path) -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write(tmp_path / "m.yaml", "- a\n- b\n"), base_config=base)


def test_unknown_api_lists_choices(tmp_path: Path, base: Path) -> None:
    cfg = load_config(write(tmp_path / "m.yaml", "api: carrier-pigeon\n"), base_config=base)
    with pytest.raises(ConfigError) as err:
        ModelSpec.from_config(cfg)
    assert "api: must be one of llamacpp, vllm" in str(err.value)


def test_model_name_is_required(tmp_path: Path, base: Path) -> None:
    cfg = load_config(write(tmp_path / "m.yaml", "api: llamacpp\n"), base_config=base)
    with pytest.raises(ConfigError, match=r"model\.pretrained_model_name_or_path: is required"):
        ModelSpec.from_config(cfg)


def test_vllm_section_and_num_gpus_reach_the_backend(tmp_path: Path, base: Path) -> None:
    model = write(
        tmp_path / "m.yaml",
        "api: vllm\nnum_gpus: 2\nmodel:\n  pretrained_model_name_or_path: Qwen/Qwen3-8B\n"
        "vllm:\n  dtype: bfloat16\n  max_model_len: 8192\n",
    )
    spec = ModelSpec.from_config(load_config(model, base_config=base))
    assert spec.backend == "vllm"
    assert spec.backend_config == {"dtype": "bfloat16", "max_model_len": 8192, "tensor_parallel_size": 2}
    identity = spec.identity()
    assert (identity.api, identity.model, identity.endpoint) == ("vllm", "Qwen/Qwen3-8B", "")
    assert identity.serving == {"dtype": "bfloat16", "max_model_len": 8192, "tensor_parallel_size": 2}


def test_vllm_chat_template_file_resolves_against_the_config(tmp_path: Path, base: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "qwen.jinja").write_text("{{ messages }}", encoding="utf-8")
    model = write(
        tmp_path / "m.yaml",
        "api: vllm\nmodel:\n  pretrained_model_name_or_path: m\nvllm:\n  chat_template: templates/qwen.jinja\n",
    )
    spec = ModelSpec.from_config(load_config(model, base_config=base))
    assert spec.backend_config["chat_template"] == str((tmp_path / "templates" / "qwen.jinja").resolve())
    missing = write(
        tmp_path / "n.yaml", "api: vllm\nmodel:\n  pretrained_model_name_or_path: m\nvllm:\n  chat_template: no.jinja\n"
    )
    with pytest.raises(ConfigError, match=r"vllm\.chat_template: template file not found"):
        ModelSpec.from_config(load_config(missing, base_config=base))


def test_failure_mode_is_validated(tmp_path: Path, base: Path) -> None:
    model = write(tmp_path / "m.yaml", "error_handling:\n  request_failure:\n    mode: sometimes\n")
    with pytest.raises(ConfigError, match=r"error_handling\.request_failure\.mode: must be one of hard, soft"):
        failure_policy(load_config(model, base_config=base))


def test_relative_paths_resolve_against_the_file_that_set_them(tmp_path: Path, base: Path) -> None:
    (tmp_path / "cfgs").mkdir()
    model = write(tmp_path / "cfgs" / "m.yaml", "jaster:\n  data_dir: ../data/jaster\n")
    cfg = load_config(model, base_config=base)
    assert cfg.get_path("jaster.data_dir") == (tmp_path / "data" / "jaster").resolve()


def test_real_base_config_loads_with_upstream_keys(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path / "m.yaml", "testmode: true\n"))
    assert cfg.get("error_handling.request_failure.mode") == "hard"
    assert cfg.get("generator") == {"top_p": 1.0, "temperature": 0.1, "max_tokens": 128}
    assert cfg.get_bool("testmode") is True
    assert cfg.get("num_few_shots") == 2


@pytest.mark.parametrize(
    ("written", "mode"),
    [("off", None), ("false", None), ("'off'", None), ("offline", "offline"), ("OFFLINE", "offline")],
)
def test_wandb_switch_accepts_what_users_write(tmp_path: Path, base: Path, written: str, mode: str | None) -> None:
    model = write(
        tmp_path / "m.yaml",
        f"api: openai\nmodel:\n  pretrained_model_name_or_path: m\nnejumi:\n  wandb: {written}\n",
    )
    assert RunSettings.from_config(load_config(model, base_config=base)).wandb.mode == mode


def test_bad_wandb_switch_is_refused_before_any_request(tmp_path: Path, base: Path) -> None:
    model = write(tmp_path / "m.yaml", "api: openai\nmodel:\n  pretrained_model_name_or_path: m\nnejumi:\n  wandb: 3\n")
    with pytest.raises(ConfigError, match=r"m.yaml: nejumi.wandb: must be one of auto, online, offline, off"):
        RunSettings.from_config(load_config(model, base_config=base))


def test_benchmark_generator_config_overrides_generator_key_by_key(tmp_path: Path, base: Path) -> None:
    model = write(tmp_path / "m.yaml", "mtbench:\n  generator_config:\n    temperature: 0.6\n    max_tokens: 1024\n")
    cfg = load_config(model, base_config=base)
    assert benchmark_generator(cfg, "mtbench") == {
        "temperature": 0.6,
        "top_p": 1.0,
        "stop": ["a", "b"],
        "max_tokens": 1024,
    }
    assert benchmark_generator(cfg, "jbbq") == {"temperature": 0.1, "top_p": 1.0, "stop": ["a", "b"]}


def test_benchmark_failure_policy_overrides_the_global_one(tmp_path: Path, base: Path) -> None:
    model = write(
        tmp_path / "m.yaml",
        "arc_agi:\n  soft_fail_on_error: false\n"
        "hallulens:\n  error_handling:\n    request_failure:\n      mode: soft\n",
    )
    cfg = load_config(model, base_config=base)
    assert benchmark_policy(cfg, "jaster").mode == "hard"
    assert benchmark_policy(cfg, "hallulens").mode == "soft"
    assert benchmark_policy(cfg, "arc_agi", default_mode="soft").mode == "hard"
    assert benchmark_policy(cfg, "toxicity", default_mode="soft").mode == "soft"
