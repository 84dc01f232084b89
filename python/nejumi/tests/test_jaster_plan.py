from pathlib import Path

import pytest
from jaster_fixture import write_dataset

from nejumi.benchmarks.jaster import MESSAGE_INTRO, Jaster, JasterSettings
from nejumi.compat import Compatibility
from nejumi.config import ConfigError


def settings(data_dir: Path, **changes: object) -> JasterSettings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "tasks": ("jnli", "jsquad", "mgsm", "jmmlu"),
        "num_few_shots": 2,
        "robustness": True,
        "samples": {"test": 100, "dev": 10},
        "override_max_tokens": None,
        "generator": {"temperature": 0.1, "top_p": 1.0, "max_tokens": 128, "extra_body": {"x": 1}},
        "compatibility": Compatibility(),
    }
    values.update(changes)
    return JasterSettings(**values)  # type: ignore[arg-type]


def test_zero_shot_prompt_is_one_user_turn(tmp_path: Path) -> None:
    plan = Jaster(settings(write_dataset(tmp_path))).plan()
    first = next(s for s in plan if s.task == "jnli" and s.shots == 0 and s.subset == "test")
    assert [m.role for m in first.messages] == ["user"]
    assert first.messages[0].content == f"{MESSAGE_INTRO}\n前提と仮説の関係を答えてください。\n\njnli test 問題0"
    assert first.generation.max_tokens == 3
    assert first.generation.temperature == pytest.approx(0.1)
    assert first.generation.extra_json == '{"extra_body": {"x": 1}}'
    assert list(first.references) == ["答0"]


def test_two_shot_prompt_uses_the_first_two_train_items(tmp_path: Path) -> None:
    plan = Jaster(settings(write_dataset(tmp_path))).plan()
    sample = next(s for s in plan if s.task == "jsquad" and s.shots == 2 and s.subset == "test" and s.id == "1")
    assert [(m.role, m.content) for m in sample.messages] == [
        ("user", f"{MESSAGE_INTRO}\n文章から抽出してください。\n\njsquad train 問題0"),
        ("assistant", "答0"),
        ("user", "jsquad train 問題1"),
        ("assistant", "答1"),
        ("user", "jsquad test 問題1"),
    ]


def test_passes_subsets_and_robustness_variants(tmp_path: Path) -> None:
    plan = Jaster(settings(write_dataset(tmp_path))).plan()
    zero = {s.task for s in plan if s.shots == 0}
    few = {s.task for s in plan if s.shots == 2}
    assert zero == {"jnli", "jsquad", "mgsm", "jmmlu"}
    assert few == zero | {"jmmlu_SymbolChoice", "jmmlu_IncorrectChoice"}
    assert sum(1 for s in plan if s.task == "jnli" and s.shots == 0 and s.subset == "dev") == 2


def test_mgsm_uses_exact_match_figure_and_reads_dev_from_train(tmp_path: Path) -> None:
    plan = Jaster(settings(write_dataset(tmp_path))).plan()
    mgsm = [s for s in plan if s.task == "mgsm"]
    assert {s.metadata["metric"] for s in mgsm} == {"exact_match_figure"}
    dev = [s for s in mgsm if s.subset == "dev" and s.shots == 0]
    assert [s.messages[-1].content.split("\n")[-1] for s in dev] == [f"mgsm train 問題{i}" for i in range(4)]


def test_sample_limits_and_max_token_override(tmp_path: Path) -> None:
    plan = Jaster(settings(write_dataset(tmp_path), samples={"test": 1, "dev": 1}, override_max_tokens=512)).plan()
    assert {s.generation.max_tokens for s in plan} == {512}
    assert sum(1 for s in plan if s.task == "jnli" and s.shots == 0) == 2


def test_missing_task_file_is_skipped_with_a_notice(tmp_path: Path) -> None:
    notices: list[str] = []
    plan = Jaster(settings(write_dataset(tmp_path), tasks=("jnli", "jemhopqa")), notices.append).plan()
    assert {s.task for s in plan} == {"jnli"}
    assert any("jemhopqa" in n and "skipped" in n for n in notices)


def test_malformed_task_file_names_file_and_key(tmp_path: Path) -> None:
    data = write_dataset(tmp_path)
    (data / "test" / "jnli.json").write_text('{"instruction": "x", "output_length": "3"}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jnli.json: output_length: missing or not a int"):
        Jaster(settings(data, tasks=("jnli",))).plan()
