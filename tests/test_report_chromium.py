"""report.html as a browser shows it: a small jaster + ARC-AGI run, rendered in headless Chromium.

The run goes through the real gRPC service (scripted backend) with answers that make
each kind of failure happen once or more; the page is then loaded from disk with the
network unused, and the rendered DOM is read back. `nejumi report RUN_DIR` rebuilds the
same page from the store with the service gone.

Skips without Debian's `chromium`, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.services import scripted_service, write_grpc_config

from nejumi import cli
from nejumi.config import load_config
from nejumi.runner import evaluate

# Per quick-start item: a right answer, an answer cut at max tokens (jcommonsenseqa allows
# 1 token), an unclosed reasoning block, a failed request; ARC: one grid right, one wrong.
SCRIPT = {
    "rules": [
        {"match": "魚が泳いでいる場所", "reply": "2"},
        {"match": "字を消すときに使う文房具", "reply": "0 消しゴム です"},
        {"match": "電車に乗る場所", "reply": "<think>駅のことだろうか"},
        {"match": "雪の降る道", "error_code": "INVALID_ARGUMENT", "error_message": "too long"},
        {"match": "白い犬が芝生", "reply": "entailment"},
        {"match": "--テスト入力--\n[\n  [1,1,1]\n]", "reply": "[[2, 2, 2]]"},
        {"match": "--テスト入力--\n[\n  [3,3,3]\n]", "reply": "[[4, 4, 0]]"},
    ],
    "default": "わかりません",
}
# The quick start's judged benchmarks, each with the embedded model as its judge.
JUDGED = ("mtbench", "toxicity", "hle", "hallulens")
ARC_TASKS = {
    "arc-agi-1": {"solved01": ([[1, 1, 1]], [[2, 2, 2]]), "wrong002": ([[3, 3, 3]], [[4, 4, 4]])},
    "arc-agi-2": {"unparsed3": ([[5, 5, 5]], [[6, 6, 6]])},
}
# Writes what the browser loaded into the DOM: each radar image's natural size.
PROBE = """<script>
window.addEventListener("load", () => {
  for (const img of document.querySelectorAll("figure.radar img")) {
    img.setAttribute("data-natural", img.complete ? img.naturalWidth + "x" + img.naturalHeight : "0x0");
  }
});
</script>"""


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def write_arc_data(root: Path) -> Path:
    for version, tasks in ARC_TASKS.items():
        (root / version / "evaluation").mkdir(parents=True)
        for task_id, (test_input, test_output) in tasks.items():
            content = {
                "train": [{"input": [[0]], "output": [[1]]}],
                "test": [{"input": test_input, "output": test_output}],
            }
            (root / version / "evaluation" / f"{task_id}.json").write_text(json.dumps(content), encoding="utf-8")
    return root


def rendered_dom(browser: str, page: Path, workdir: Path) -> str:
    """The DOM after load, from a copy of the page with the probe script added."""
    probed = workdir / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    completed = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            f"--user-data-dir={workdir / 'profile'}",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


class Elements(HTMLParser):
    """Tags with their attributes, and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(dom: str) -> Elements:
    elements = Elements()
    elements.feed(dom)
    return elements


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp_path = tmp_path_factory.mktemp("report")
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        config = write_grpc_config(
            tmp_path / "model.yaml",
            service.target,
            run={"jaster": True, "arc_agi": True},
            arc_agi={"data_dir": str(write_arc_data(tmp_path / "arc"))},
            error_handling={"request_failure": {"mode": "soft", "max_retries": 0}},
            nejumi={"wandb": "off"},
        )
        result = asyncio.run(evaluate(load_config(config), tmp_path / "run", show_progress=False))
    return result


def test_the_rendered_report_has_charts_tables_failures_and_notes(finished: Any, tmp_path: Path) -> None:
    browser = chromium()
    page = finished.run_dir / "report.html"
    source = page.read_text(encoding="utf-8")
    # Self-contained: nothing to fetch.
    assert "<script" not in source and "<link" not in source and "http" not in source
    dom = parse(rendered_dom(browser, page, tmp_path))

    radars = dom.find("img")
    radars = [a for a in radars if a.get("src", "").startswith("data:image/png;base64,")]
    assert len(radars) == 2
    for image in radars:
        width, height = (int(n) for n in image["data-natural"].split("x"))
        assert width > 100 and height > 100, image["alt"][:40]
        png = Image.open(io.BytesIO(base64.b64decode(image["src"].split(",", 1)[1])))
        assert png.format == "PNG" and png.size == (width, height)
        # A real chart, not a blank canvas.
        assert len(png.convert("L").getcolors(maxcolors=1 << 16) or ()) > 10
    glp = next(a for a in radars if a["alt"].startswith("GLP"))
    # GLP is off (MT-bench is not in nejumi): charted from what ran, partial, none drawn as 0.
    assert "抽象的推論" not in glp["alt"] and "推論能力 0." in glp["alt"]
    assert "not run" in next(a for a in radars if a["alt"].startswith("ALT"))["alt"]
    text = " ".join(dom.text)
    assert "Partial, display only" in text

    # The leaderboard cards, per-benchmark sections with their tables, and a failure table each.
    assert "TOTAL_SCORE" in text and "not run: needs" in text
    assert {a["id"] for a in dom.find("section")} >= {"benchmark-jaster", "benchmark-arc_agi"}
    for name in (
        "jaster_0shot_leaderboard_table",
        "jaster_control_2shot_leaderboard_table",
        "arc_agi_leaderboard_table",
    ):
        assert name in text
    assert len(dom.find("table", **{"class": "failures"})) == 2


def failure_counts(source: str, benchmark: str) -> dict[str, str]:
    table = re.search(rf"<table class='failures' data-benchmark='{benchmark}'>.*?</table>", source, re.S)
    assert table is not None
    return dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num[^\"]*\">([^<]+)</td></tr>", table.group(0)))


def test_each_failure_kind_is_counted_beside_the_score(finished: Any) -> None:
    source = (finished.run_dir / "report.html").read_text(encoding="utf-8")
    jaster = failure_counts(source, "jaster")
    # Each scripted failure is asked at 0- and 2-shot.
    assert jaster["cut at max tokens"] == "2"
    assert jaster["unclosed reasoning"] == "2"
    assert jaster["request error"] == "2"
    arc = failure_counts(source, "arc_agi")
    # "わかりません" has no grid: both attempts of the third task.
    assert arc["answer not extracted"] == "2" and arc["request error"] == "0"


def test_quirk_notes_sit_beside_the_numbers_they_shape(finished: Any) -> None:
    source = (finished.run_dir / "report.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><td>jaster/_all/0shot/AVG</td>.*?</tr>", source)
    assert row is not None and 'href="#quirk-1"' in row.group(0) and "third task" in row.group(0)
    assert re.search(r"<tr><td>jaster/_all/2shot/control_AVG</td>.*?href=\"#quirk-2\"", source)
    assert re.search(r"<tr><td>arc_agi/[^<]+</td>.*?href=\"#quirk-4\"", source)
    assert "id='quirk-1'" in source


def test_every_prediction_is_browsable(finished: Any) -> None:
    source = (finished.run_dir / "report.html").read_text(encoding="utf-8")
    total = sum(len(rows) for rows in finished.rows.values())
    assert source.count("<details class='predictions'>") >= 3
    rows = re.findall(r"<details class='predictions'><summary>[^<]+\((\d+)\)</summary>", source)
    assert sum(int(n) for n in rows) == total
    assert "&lt;think&gt;駅のことだろうか" in source


def test_report_command_rebuilds_the_page_without_the_service(
    finished: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    page = finished.run_dir / "report.html"
    before = page.read_text(encoding="utf-8")
    page.unlink()
    assert cli.main(["report", str(finished.run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(page)
    after = page.read_text(encoding="utf-8")

    def steady(text: str) -> str:
        # Only the time taken differs.
        return re.sub(r"; [0-9.]+ s</p>", "", text)

    assert steady(after) == steady(before)


def test_what_was_not_scored_says_why(finished: Any) -> None:
    source = (finished.run_dir / "report.html").read_text(encoding="utf-8")
    section = source[source.index("<h2 id='not-scored'>") :]
    assert "GLP: not run: needs mtbench</li>" in section  # in nejumi, but run.mtbench is off
    assert "jbbq: did not run (run.jbbq is off" in section
    assert "request failed (" in section


def test_the_quick_start_ends_with_a_leaderboard_row_and_its_report(tmp_path: Path) -> None:
    """configs/quickstart.yaml as shipped (every benchmark, its data), model and judges now the scripted service.

    The embedded judge on CPU took most of this test's time (over Bazel's 300 s on a busy
    2-core CI machine); what is checked here is the report, and test_embedded_model runs
    the embedded model as answerer and as judge.
    """
    browser = chromium()
    quickstart = Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml"
    with scripted_service(tmp_path / "service", {"rules": [], "default": "0"}) as service:
        judge = {"judge": {"api": "grpc", "endpoint": service.target, "model": "scripted-judge", "parallel": 4}}
        cfg = load_config(
            quickstart,
            overrides={
                "api": "grpc",
                "inference": {"endpoint": service.target},
                "nejumi": {"wandb": "off"},
                **{benchmark: judge for benchmark in JUDGED},
            },
        )
        result = asyncio.run(evaluate(cfg, tmp_path / "run", show_progress=False))
    assert {"jaster", "arc_agi", "m_ifeval", "jbbq"} <= set(result.rows)
    # COMET's model is not on this machine: the translation answers are listed as not scored, with the reason.
    translations = [row for row in result.rows["jaster"] if row.sample.task == "alt-e-to-j"]
    assert translations and all(row.value("comet_wmt22") is None for row in translations)
    report = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert re.search(r"jaster alt-e-to-j: \d+ answers not scored \(.*jaster\.comet_model", report)
    (board,) = [table for table in result.tables if table.name == "leaderboard_table"]
    row = dict(zip(board.columns, board.rows[0], strict=True))
    assert row["model_name"] == "embedded" and row["model_size_category"] == "Small (<10B)"
    dom = parse(rendered_dom(browser, result.run_dir / "report.html", tmp_path))
    radars = [a for a in dom.find("img") if a.get("src", "").startswith("data:image/png;base64,")]
    assert len(radars) == 2 and all(int(a["data-natural"].split("x")[0]) > 100 for a in radars)
    assert {a["id"] for a in dom.find("section")} >= {
        f"benchmark-{b}" for b in ("jaster", "arc_agi", "m_ifeval", "jbbq")
    }
