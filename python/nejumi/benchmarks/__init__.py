"""The benchmark registry: which modules exist, how the config enables them, how to re-score them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nejumi.benchmark import Benchmark
from nejumi.benchmarks import arc_agi, hallulens, hle, jaster, jbbq, jtruthfulqa, m_ifeval, mtbench, toxicity
from nejumi.compat import Compatibility
from nejumi.config import Config
from nejumi.predictions import Prediction, first_line_transcript
from nejumi_proto.v1 import transcript_pb2, types_pb2

Say = Callable[[str], None]


@dataclass(frozen=True)
class BenchmarkEntry:
    name: str
    # Parses and validates `<name>` and the keys it shares (run.<name>, generator, ...).
    from_config: Callable[[Config, Compatibility, Say], Benchmark]
    # A benchmark that plans what `predictions` answered, from a dataset folder alone;
    # None when the benchmark re-scores from run directories only.
    for_predictions: Callable[[Path, Compatibility, Sequence[Prediction], Say], Benchmark] | None = None
    # A sample's transcript from the prediction lines that answer it (upstream's own
    # files record judge verdicts, or one line per turn, in benchmark-specific fields).
    predicted_transcript: Callable[[types_pb2.Sample, Sequence[Prediction]], transcript_pb2.Transcript] = (
        first_line_transcript
    )


def from_first_line(
    build: Callable[[types_pb2.Sample, Prediction], transcript_pb2.Transcript],
) -> Callable[[types_pb2.Sample, Sequence[Prediction]], transcript_pb2.Transcript]:
    """For benchmarks whose sample is answered by one line."""
    return lambda sample, lines: build(sample, lines[0])


# Upstream's run order (scripts/run_eval.py); only the implemented benchmarks are listed.
REGISTRY: Mapping[str, BenchmarkEntry] = {
    mtbench.NAME: BenchmarkEntry(
        mtbench.NAME, mtbench.Mtbench.from_config, mtbench.Mtbench.for_predictions, mtbench.predicted_transcript
    ),
    jbbq.NAME: BenchmarkEntry(jbbq.NAME, jbbq.Jbbq.from_config, jbbq.Jbbq.for_predictions),
    toxicity.NAME: BenchmarkEntry(
        toxicity.NAME,
        toxicity.Toxicity.from_config,
        toxicity.Toxicity.for_predictions,
        from_first_line(toxicity.predicted_transcript),
    ),
    jtruthfulqa.NAME: BenchmarkEntry(
        jtruthfulqa.NAME,
        jtruthfulqa.Jtruthfulqa.from_config,
        jtruthfulqa.Jtruthfulqa.for_predictions,
        from_first_line(jtruthfulqa.predicted_transcript),
    ),
    hle.NAME: BenchmarkEntry(
        hle.NAME, hle.Hle.from_config, hle.Hle.for_predictions, from_first_line(hle.predicted_transcript)
    ),
    hallulens.NAME: BenchmarkEntry(
        hallulens.NAME,
        hallulens.Hallulens.from_config,
        hallulens.Hallulens.for_predictions,
        from_first_line(hallulens.predicted_transcript),
    ),
    arc_agi.NAME: BenchmarkEntry(arc_agi.NAME, arc_agi.ArcAgi.from_config, arc_agi.ArcAgi.for_predictions),
    m_ifeval.NAME: BenchmarkEntry(m_ifeval.NAME, m_ifeval.MIfeval.from_config, m_ifeval.MIfeval.for_predictions),
    jaster.NAME: BenchmarkEntry(jaster.NAME, jaster.Jaster.from_config, jaster.Jaster.for_predictions),
}


def build_benchmarks(
    cfg: Config, compat: Compatibility, say: Say, registry: Mapping[str, BenchmarkEntry] = REGISTRY
) -> list[Benchmark]:
    """The enabled benchmarks (`run.<name>: true`), in registry order, validated against the config."""
    return [entry.from_config(cfg, compat, say) for name, entry in registry.items() if cfg.get_bool(f"run.{name}")]
