"""COMET (wmt22-comet-da's RegressionMetric) for jaster's translation tasks.

Parity: tiny COMETs in unbabel-comet's layout are built at test time from seeded numpy weights
(tests/support/tiny_comet.py); unbabel-comet 2.2.6 itself scored the same files once
(tests/support/comet_reference.json, written by tests/support/comet_reference.py), and nejumi's
scores must equal those. End to end: a jaster run on the two translation tasks against a real
gRPC service, scored by the tiny COMET through the production loader; without the model the
answers are kept and left unscored with the reason, and a later run scores them.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.services import RunningService, scripted_service
from support.tiny_comet import VARIANTS, Variant, build_tiny_comet
from support.tiny_roberta import require_torch

from nejumi.config import load_config
from nejumi.rescore import rescore_run
from nejumi.runner import evaluate
from nejumi.scoring_models.comet import Comet, Triple, sparsemax
from nejumi.scoring_models.local_model import ScoringModelUnavailable

REFERENCE = json.loads((Path(__file__).parent / "support" / "comet_reference.json").read_text(encoding="utf-8"))
ROWS = [Triple(*row) for row in REFERENCE["rows"]]
# Kernels on a GPU may differ from the CPU's in the last bits; on a CPU the scores are equal.
TOLERANCE = 1e-5


def reference_scores(variant: Variant) -> list[float]:
    return REFERENCE["variants"][variant.name]["scores"]


@pytest.fixture(scope="module")
def wmt22_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with wmt22-comet-da's choices (sparsemax, no layer norm, avg pooling)."""
    require_torch()
    return build_tiny_comet(tmp_path_factory.mktemp("comet"), VARIANTS[0])


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_scores_equal_unbabel_comets_own(tmp_path: Path, variant: Variant) -> None:
    require_torch()
    model = Comet.load(str(build_tiny_comet(tmp_path, variant)))
    scores = model.scores(ROWS)
    assert scores == pytest.approx(reference_scores(variant), rel=0, abs=TOLERANCE)
    assert len(set(scores)) == len(scores), "the tiny model should tell the rows apart"
    # Scores do not depend on which rows share a batch: one row alone gets its own score back.
    assert model.scores([ROWS[3]]) == pytest.approx([scores[3]], rel=0, abs=TOLERANCE)


def test_sparsemax_is_entmaxs() -> None:
    require_torch()
    import torch

    # sorted 1, 0.5, -1: two in the support, threshold 0.25 below the top after the shift.
    assert sparsemax(torch.tensor([0.5, -1.0, 1.0])).tolist() == [0.25, 0.0, 0.75]
    assert sparsemax(torch.tensor([3.0, 0.0])).tolist() == [1.0, 0.0]


def test_a_model_that_is_not_here_says_which_key_to_set(tmp_path: Path) -> None:
    require_torch()
    with pytest.raises(ScoringModelUnavailable, match=r"point jaster\.comet_model at a folder"):
        Comet.load(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScoringModelUnavailable, match=r"has no checkpoints/model\.ckpt"):
        Comet.load(str(tmp_path / "empty"))


def test_hparams_it_cannot_read_are_named(tmp_path: Path, wmt22_like: Path) -> None:
    folder = tmp_path / "model"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "model.ckpt").write_bytes((wmt22_like / "checkpoints" / "model.ckpt").read_bytes())
    hparams = yaml.safe_load((wmt22_like / "hparams.yaml").read_text(encoding="utf-8"))
    for change, message in (
        ({"class_identifier": "unified_metric"}, "class_identifier is 'unified_metric'"),
        ({"pool": "mean"}, "pool is 'mean'"),
        ({"layer": "top"}, "layer must be 'mix' or a layer number"),
        ({"pretrained_model": str(tmp_path / "no-encoder")}, "hparams.yaml's pretrained_model at a folder"),
    ):
        (folder / "hparams.yaml").write_text(yaml.safe_dump({**hparams, **change}), encoding="utf-8")
        with pytest.raises(ScoringModelUnavailable, match=re.escape(message)):
            Comet.load(str(folder))


def test_a_checkpoint_missing_weights_is_refused(tmp_path: Path, wmt22_like: Path) -> None:
    import torch

    folder = tmp_path / "model"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "hparams.yaml").write_text((wmt22_like / "hparams.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    saved = torch.load(wmt22_like / "checkpoints" / "model.ckpt", weights_only=True)
    del saved["state_dict"]["estimator.ff.0.weight"]
    torch.save(saved, folder / "checkpoints" / "model.ckpt")
    with pytest.raises(ScoringModelUnavailable, match=re.escape("lacks 1 weights, e.g. estimator.ff.0.weight")):
        Comet.load(str(folder))


# The run's rows are reference rows: (input, reply, expected output) = (src, mt, ref), each English or Japanese
# source going to the task of its direction. The replies are NFKC-stable, so the processed prediction is the reply.
E_TO_J = [0, 2, 8]
J_TO_E = [3, 5, 6, 7, 9]
JNLI = {"input": "前提：猫が座った。\n仮説：猫がいる。", "output": "entailment"}


def task_file(instruction: str, samples: list[dict[str, str]], metrics: list[str]) -> str:
    data = {"instruction": instruction, "output_length": 64, "metrics": metrics, "few_shots": [], "samples": samples}
    return json.dumps(data, ensure_ascii=False)


def write_jaster(folder: Path) -> Path:
    for subset in ("test", "dev"):
        (folder / subset).mkdir(parents=True)
        for task, rows in (("alt-e-to-j", E_TO_J), ("alt-j-to-e", J_TO_E)):
            chosen = rows if subset == "test" else rows[:1]
            samples = [{"input": ROWS[i].src, "output": ROWS[i].ref} for i in chosen]
            text = task_file(f"Translate ({task}).", samples, ["bleu_ja", "comet_wmt22"])
            (folder / subset / f"{task}.json").write_text(text, encoding="utf-8")
        (folder / subset / "jnli.json").write_text(task_file("Judge.", [JNLI], ["exact_match"]), encoding="utf-8")
    return folder


# The first matching rule answers: jnli's premise holds 猫, a source of its own.
MODEL_SCRIPT = {
    "rules": [{"match": "仮説", "reply": "entailment"}]
    + [{"match": ROWS[i].src, "reply": ROWS[i].mt} for i in [*E_TO_J, *J_TO_E]],
    "default": "echo",
}


def write_config(path: Path, data: Path, model: RunningService, comet: Path) -> Path:
    config: dict[str, Any] = {
        "api": "grpc",
        "inference": {"endpoint": model.target},
        "model": {"pretrained_model_name_or_path": "org/scripted-model"},
        "num_few_shots": 0,
        "run": {"jaster": True, "jmmlu_robustness": False},
        "jaster": {"data_dir": str(data), "tasks": ["alt-e-to-j", "alt-j-to-e", "jnli"], "comet_model": str(comet)},
        "nejumi": {"wandb": "off"},
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def run(config: Path, run_dir: Path, said: list[str] | None = None) -> Any:
    say = said.append if said is not None else print
    return asyncio.run(evaluate(load_config(config), run_dir, say=say, show_progress=False))


def test_translation_rows_are_scored_by_comet_after_generation(tmp_path: Path, wmt22_like: Path) -> None:
    data = write_jaster(tmp_path / "jaster")
    expected = reference_scores(VARIANTS[0])
    with scripted_service(tmp_path / "model", MODEL_SCRIPT) as model:
        result = run(write_config(tmp_path / "jaster.yaml", data, model, wmt22_like), tmp_path / "run")
        # Upstream replaces the files' metric lists of the translation tasks by COMET alone: one request a sample.
        assert len(model.logged_requests()) == len(E_TO_J) + len(J_TO_E) + 2 + 2
        test_rows = [row for row in result.rows["jaster"] if row.sample.subset == "test"]
        for task, chosen in (("alt-e-to-j", E_TO_J), ("alt-j-to-e", J_TO_E)):
            rows = sorted((r for r in test_rows if r.sample.task == task), key=lambda r: int(r.sample.id))
            assert [r.sample.metadata["metric"] for r in rows] == ["comet_wmt22"] * len(chosen)
            values = [r.value("comet_wmt22") for r in rows]
            assert values == pytest.approx([expected[i] for i in chosen], rel=0, abs=TOLERANCE)
            mean = sum(expected[i] for i in chosen) / len(chosen)
            assert result.scores[f"jaster/{task}/0shot/comet_wmt22"] == pytest.approx(mean, abs=TOLERANCE)
        assert all(r.value("comet_wmt22") is not None for r in result.rows["jaster"] if r.sample.task.startswith("alt"))
        assert "jaster/_all/0shot/unscored_translations" not in result.scores
        # Upstream's AVG drops the first two task columns: here the two translation tasks, leaving jnli.
        assert result.scores["jaster/_all/0shot/AVG"] == result.scores["jaster/jnli/0shot/exact_match"] == 1.0
        tables = {table.name: table for table in result.tables}
        board = tables["jaster_0shot_leaderboard_table"]
        assert board.columns == ["model_name", "AVG", "alt-e-to-j", "alt-j-to-e", "jnli"]
        assert board.rows[0][2] == result.scores["jaster/alt-e-to-j/0shot/comet_wmt22"]
        output = tables["jaster_0shot_output_table"]
        first = next(r for r in output.rows if r[1] == "alt-e-to-j")
        assert (first[3], first[5], first[6]) == (ROWS[0].src, ROWS[0].mt, ROWS[0].ref)
        assert first[8] == pytest.approx(expected[0], abs=TOLERANCE) and first[10] == "comet_wmt22"
    # The service is gone: the store re-scores alone, COMET included.
    assert rescore_run(tmp_path / "run", print) == result.scores


def test_without_comet_the_answers_are_kept_unscored_and_scored_later(tmp_path: Path, wmt22_like: Path) -> None:
    data = write_jaster(tmp_path / "jaster")
    missing = tmp_path / "not-downloaded"
    said: list[str] = []
    with scripted_service(tmp_path / "model", MODEL_SCRIPT) as model:
        result = run(write_config(tmp_path / "missing.yaml", data, model, missing), tmp_path / "run", said)
        sent = len(model.logged_requests())
        notices = [line for line in said if "COMET" in line or "translation rows" in line]
        assert notices and all(str(missing) in line for line in notices)
        assert "will not be scored" in notices[0]
        translations = [r for r in result.rows["jaster"] if r.sample.task.startswith("alt")]
        assert translations and all(r.value("comet_wmt22") is None for r in translations)
        reasons = [str(s.details["not_scored"]) for r in translations for s in r.scores if "not_scored" in s.details]
        assert len(reasons) == len(translations) and all("jaster.comet_model" in reason for reason in reasons)
        # Not scored is not 0: the cells are empty and counted.
        assert result.scores.get("jaster/alt-e-to-j/0shot/comet_wmt22") is None
        assert result.scores["jaster/_all/0shot/unscored_translations"] == len(E_TO_J) + len(J_TO_E)

        later = run(write_config(tmp_path / "found.yaml", data, model, wmt22_like), tmp_path / "run")
        assert later.stats.sent == 0 and len(model.logged_requests()) == sent
        mean = sum(reference_scores(VARIANTS[0])[i] for i in E_TO_J) / len(E_TO_J)
        assert later.scores["jaster/alt-e-to-j/0shot/comet_wmt22"] == pytest.approx(mean, abs=TOLERANCE)
        assert "jaster/_all/0shot/unscored_translations" not in later.scores
