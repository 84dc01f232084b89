"""Why samples failed, per benchmark: the breakdown the report shows next to each score.

Read from the transcripts (every model call's response) and from the Score details
the benchmarks already write; nothing is re-scored. A sample counts once per kind,
however many of its calls show it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from nejumi.benchmark import ScoredRow
from nejumi_proto.v1 import types_pb2

EMPTY = "empty output"
EXTRACTION = "answer not extracted"
CUT = "cut at max tokens"
UNCLOSED = "unclosed reasoning"
REQUEST_ERROR = "request error"
KINDS = (EMPTY, EXTRACTION, CUT, UNCLOSED, REQUEST_ERROR)

# ARC verdicts that mean no grid was read from the answer (the others compared a grid).
ARC_UNPARSED = frozenset(
    {"no_candidate", "json_decode_error", "not_list_of_lists", "empty_row", "ragged", "cast_error", "not_2d"}
)


def responses(row: ScoredRow) -> list[types_pb2.Response]:
    return [e.model_call.response for e in row.transcript.events if e.HasField("model_call")]


def scored_output(row: ScoredRow) -> str | None:
    """The answer the scorer read after normalisation or extraction (jaster's and JBBQ's `output` detail)."""
    for score in row.scores:
        if "output" in score.details.fields:
            return str(score.details["output"])
    return None


def jaster_unextracted(row: ScoredRow) -> bool:
    # The normaliser (or JHumanEval's code extraction) kept nothing of a non-empty answer.
    return scored_output(row) == ""


def arc_unparsed(row: ScoredRow) -> bool:
    verdicts = [str(s.details["verdict"]) for s in row.scores if "verdict" in s.details.fields]
    return any(v in ARC_UNPARSED or v.startswith("upstream_error:") for v in verdicts)


def jbbq_format_error(row: ScoredRow) -> bool:
    return row.value("format_error") == 1.0


# A benchmark without an entry has no notion of an unextracted answer (M-IFEval scores the text as it is).
EXTRACTORS: Mapping[str, Callable[[ScoredRow], bool]] = {
    "jaster": jaster_unextracted,
    "arc_agi": arc_unparsed,
    "jbbq": jbbq_format_error,
}


def row_failures(benchmark: str, row: ScoredRow) -> list[str]:
    """The failure kinds of one sample, in KINDS order."""
    calls = responses(row)
    errored = bool(row.transcript.error) or any(r.error for r in calls)
    empty = not row.output.strip()
    extractor = EXTRACTORS.get(benchmark)
    found = {
        # A failed request is answered empty; it counts as a request error only.
        EMPTY: empty and not errored,
        # Only answers there was something to extract from.
        EXTRACTION: extractor is not None and not empty and extractor(row),
        CUT: any(r.finish_reason == "length" for r in calls),
        UNCLOSED: any("<think>" in r.text and "</think>" not in r.text for r in calls),
        REQUEST_ERROR: errored,
    }
    return [kind for kind in KINDS if found[kind]]


@dataclass(frozen=True)
class Breakdown:
    samples: int
    # Samples per failure kind; EXTRACTION is absent when the benchmark has no such notion.
    counts: dict[str, int]


def breakdown(benchmark: str, rows: Sequence[ScoredRow]) -> Breakdown:
    kinds = [k for k in KINDS if k != EXTRACTION or benchmark in EXTRACTORS]
    counts = dict.fromkeys(kinds, 0)
    for row in rows:
        for kind in row_failures(benchmark, row):
            counts[kind] += 1
    return Breakdown(len(rows), counts)
