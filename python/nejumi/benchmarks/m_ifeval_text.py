"""The Japanese text tools the official M-IFEval checkers lean on, with the same libraries.

Janome tokens (keywords, nominal endings), ja_sentence_segmenter's pipeline (sentence
counts) and langdetect (response language). Each tool is built once, on first use:
the Janome dictionary and the langdetect profiles take a second to load, and all of
them ship with their wheels, so nothing is downloaded at run time.

langdetect samples n-grams at random. Upstream calls `langdetect.detect`, unseeded, so
a short or mixed-language answer can get a different verdict in two runs; nejumi's
detector has its own factory seeded with 0, so a verdict never changes between runs
and no other user of langdetect in the process is affected (docs/compatibility.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from janome.tokenizer import Token, Tokenizer
    from langdetect.detector_factory import DetectorFactory

LANGDETECT_SEED = 0


@functools.cache
def _tokenizer() -> Tokenizer:
    from janome.tokenizer import Tokenizer

    return Tokenizer()


def tokens(text: str) -> list[Token]:
    """Janome's tokens of `text` (upstream builds a new Tokenizer per call; the tokens are the same)."""
    return list(_tokenizer().tokenize(text))


def surfaces(text: str) -> list[str]:
    return [str(token.surface) for token in tokens(text)]


@functools.cache
def _segmenter() -> Callable[[str], Iterator[str]]:
    from ja_sentence_segmenter.common.pipeline import make_pipeline
    from ja_sentence_segmenter.concatenate.simple_concatenator import concatenate_matching
    from ja_sentence_segmenter.normalize.neologd_normalizer import normalize
    from ja_sentence_segmenter.split.simple_splitter import split_newline, split_punctuation

    split_sentences = functools.partial(split_punctuation, punctuations=r"。!?")
    # A line ending in の runs on into the next one.
    join_trailing_no = functools.partial(
        concatenate_matching, former_matching_rule=r"^(?P<result>.+)(の)$", remove_former_matched=False
    )
    return make_pipeline(normalize, split_newline, join_trailing_no, split_sentences)


def count_sentences(text: str) -> int:
    """Upstream's `count_sentences`: every segment counts, blank lines included."""
    return sum(1 for _ in _segmenter()(text))


@functools.cache
def _detector_factory() -> DetectorFactory:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(LANGDETECT_SEED)
    return factory


def detect_language(text: str) -> str | None:
    """langdetect's language code of `text`, or None where langdetect cannot tell."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _detector_factory().create()
    try:
        detector.append(text)
        return str(detector.detect())
    except LangDetectException:
        return None
