"""COMET for jaster's translation rows (alt-e-to-j, alt-j-to-e): a batch scorer over every answer.

Upstream's jaster_translation.py runs after all inference: each row whose metric is `comet_wmt22`
becomes `{"src": the raw input, "mt": the processed prediction, "ref": the NFKC reference}`, and
wmt22-comet-da's segment score is the row's score. Without the model (or torch), the answers are
kept and the rows are left unscored with the reason, never scored 0; a later run that has the
model scores the stored answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from nejumi.scoring_models.comet import Comet, Triple, check_available
from nejumi.scoring_models.local_model import ScoringModelUnavailable
from nejumi_proto.v1 import transcript_pb2, types_pb2

COMET_METRIC = "comet_wmt22"
TRANSLATION_TASKS = ("alt-e-to-j", "alt-j-to-e")
# Bump when a change alters any COMET score: stored scores are re-computed.
SCORER_VERSION = "1"
Say = Callable[[str], None]


def unavailable_reason(model_name: str) -> str | None:
    """Why COMET cannot run here, checked without loading it (None: it should load)."""
    try:
        check_available(model_name)
    except ScoringModelUnavailable as err:
        return str(err)
    return None


def is_translation_row(sample: types_pb2.Sample) -> bool:
    return sample.metadata.get("metric") == COMET_METRIC


def unscored(why: str, reason: str) -> list[types_pb2.Score]:
    score = types_pb2.Score(metric=COMET_METRIC)
    score.details.update({why: reason})
    return [score]


class CometScorer:
    """wmt22-comet-da over the translation rows, once generation is over; other rows get no score from it."""

    name = "jaster_comet"

    def __init__(self, model_name: str, say: Say, triple: Callable[[transcript_pb2.Transcript], Triple]) -> None:
        self.model_name = model_name
        self.say = say
        self.triple = triple
        self.unavailable: str | None = None

    @property
    def version(self) -> str:
        # Rows left unscored for want of the model go under a version no lookup asks for once it is here.
        return f"{SCORER_VERSION}:{self.model_name}" if self.unavailable is None else f"{SCORER_VERSION}:not-scored"

    def score_batch(self, transcripts: Sequence[transcript_pb2.Transcript]) -> list[list[types_pb2.Score]]:
        results: list[list[types_pb2.Score]] = [[] for _ in transcripts]
        rows = [i for i, transcript in enumerate(transcripts) if is_translation_row(transcript.sample)]
        if not rows:
            return results
        try:
            model = Comet.load(self.model_name)
        except ScoringModelUnavailable as err:
            self.unavailable = str(err)
            self.say(f"jaster: the translation rows are not scored: {err}")
            for i in rows:
                results[i] = unscored("not_scored", self.unavailable)
            return results
        try:
            scores = model.scores([self.triple(transcripts[i]) for i in rows])
        except Exception as err:  # e.g. out of GPU memory: the answers stay stored for a later run
            self.unavailable = f"{type(err).__name__}: {err}"
            self.say(f"jaster: COMET failed, so the translation rows are not scored: {self.unavailable}")
            for i in rows:
                results[i] = unscored("error", self.unavailable)
            return results
        finally:
            # The model under evaluation may share the GPU: hold COMET only while scoring.
            model.close()
        for i, value in zip(rows, scores, strict=True):
            results[i] = [types_pb2.Score(metric=COMET_METRIC, value=value)]
        return results
