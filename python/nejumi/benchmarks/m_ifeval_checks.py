"""The Japanese M-IFEval instruction checkers, as the official harness runs them.

A port of upstream's `evaluate_utils/m_ifeval_utils.py` (Google IFEval, adapted to
Japanese by M-IFEval): the same instruction ids, the same argument handling as each
checker's `build_description`, and the same checks, regexes and libraries. Where
upstream would pick an argument at random (a missing or out-of-range value), nejumi
refuses the dataset line instead, so a score never depends on chance; where upstream
crashes (an unknown instruction or argument), the error names what is wrong.

`follows` is upstream's strict test, the leaderboard's; `follows_loose` is Google's
loose test (the answer also passes when its first and/or last line, or its `*`
marks, are dropped), kept in the details.
"""

from __future__ import annotations

import collections
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nejumi.benchmarks.m_ifeval_text import count_sentences, detect_language, surfaces, tokens

Args = dict[str, Any]
RELATIONS = ("未満", "以上")  # less than, at least
LESS_THAN = RELATIONS[0]
CONSTRAINED_RESPONSES = ("はい、そうです。", "いいえ、違います。", "どちらとも言えません。")
KANJI = r"[\u4e00-\u9faf]"


class InstructionError(ValueError):
    """A dataset line whose instruction upstream cannot check deterministically."""


@dataclass(frozen=True)
class Instruction:
    id: str
    # The arguments as upstream's build_description leaves them (stripped, sorted, ...).
    args: Args = field(default_factory=dict)


def _missing(name: str) -> InstructionError:
    return InstructionError(f"{name} is missing or out of range: upstream would pick one at random")


def _count(kwargs: Mapping[str, Any], name: str) -> int:
    value = kwargs.get(name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value < 0):
        raise _missing(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InstructionError(f"{name} must be an integer (got {value!r})")
    return value


def _relation(kwargs: Mapping[str, Any], name: str = "relation") -> str:
    value = kwargs.get(name)
    if value is None:
        raise _missing(name)
    if value not in RELATIONS:
        raise InstructionError(f"{name} must be one of {', '.join(RELATIONS)} (got {value!r})")
    return str(value)


def _text(kwargs: Mapping[str, Any], name: str, *, strip: bool = True) -> str:
    value = kwargs.get(name)
    if value is None:
        raise _missing(name)
    if not isinstance(value, str):
        raise InstructionError(f"{name} must be a string (got {value!r})")
    return value.strip() if strip else value


def _words(kwargs: Mapping[str, Any], name: str) -> list[str]:
    value = kwargs.get(name)
    if not value:
        raise _missing(name)
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        raise InstructionError(f"{name} must be a list of strings (got {value!r})")
    return list(value)


def _compare(actual: int, relation: str, threshold: int) -> bool:
    return actual < threshold if relation == LESS_THAN else actual >= threshold


def _without_quotes(text: str) -> str:
    return re.sub(r"『.*?』", "", re.sub(r"「.*?」", "", text))


# Keywords: Janome surface tokens, so a keyword must be a whole token.
def _build_existence(kwargs: Mapping[str, Any]) -> Args:
    return {"keywords": sorted(_words(kwargs, "keywords"))}


def _check_existence(text: str, args: Args) -> bool:
    words = surfaces(text)
    return all(keyword in words for keyword in args["keywords"])


def _build_frequency(kwargs: Mapping[str, Any]) -> Args:
    keyword = kwargs.get("keyword")
    if not keyword:
        raise _missing("keyword")
    return {
        "keyword": _text(kwargs, "keyword"),
        "frequency": _count(kwargs, "frequency"),
        "relation": _relation(kwargs),
    }


def _check_frequency(text: str, args: Args) -> bool:
    occurrences = collections.Counter(surfaces(text))[args["keyword"]]
    return _compare(occurrences, args["relation"], args["frequency"])


def _build_forbidden(kwargs: Mapping[str, Any]) -> Args:
    return {"forbidden_words": sorted(set(_words(kwargs, "forbidden_words")))}


def _check_forbidden(text: str, args: Args) -> bool:
    words = surfaces(text)
    return not any(word in words for word in args["forbidden_words"])


def _build_letter_frequency(kwargs: Mapping[str, Any]) -> Args:
    letter = kwargs.get("letter")
    # Upstream replaces anything but one hiragana letter with a random one.
    if not isinstance(letter, str) or len(letter) != 1 or not ("ぁ" <= letter <= "ん"):
        raise _missing("letter (one hiragana letter)")
    return {
        "letter": letter,
        "let_frequency": _count(kwargs, "let_frequency"),
        "let_relation": _relation(kwargs, "let_relation"),
    }


def _check_letter_frequency(text: str, args: Args) -> bool:
    letters = collections.Counter(text)
    letter = args["letter"]
    # The letter's katakana counts too (ぁ..ん + 96 = ァ..ン).
    total = letters[letter] + letters[chr(ord(letter) + 96)]
    return _compare(total, args["let_relation"], args["let_frequency"])


def _build_language(kwargs: Mapping[str, Any]) -> Args:
    # Upstream also crashes on a code outside its 30-language table (only to word the
    # instruction); the check itself works for any langdetect code.
    return {"language": _text(kwargs, "language", strip=False)}


def _check_language(text: str, args: Args) -> bool:
    detected = detect_language(text)
    # Upstream counts an undetectable language as followed.
    return detected is None or detected == args["language"]


def _build_sentences(kwargs: Mapping[str, Any]) -> Args:
    return {"num_sentences": _count(kwargs, "num_sentences"), "relation": _relation(kwargs)}


def _check_sentences(text: str, args: Args) -> bool:
    return _compare(count_sentences(text), args["relation"], args["num_sentences"])


def _build_paragraphs(kwargs: Mapping[str, Any]) -> Args:
    return {"num_paragraphs": _count(kwargs, "num_paragraphs")}


def _check_paragraphs(text: str, args: Args) -> bool:
    paragraphs = re.split(r"\s?\*\*\*\s?", text)
    count = len(paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if not paragraph.strip():
            if index in (0, len(paragraphs) - 1):
                count -= 1
            else:
                return False
    return count == args["num_paragraphs"]


def _build_letters(kwargs: Mapping[str, Any]) -> Args:
    return {"num_letters": _count(kwargs, "num_letters"), "relation": _relation(kwargs)}


def _check_letters(text: str, args: Args) -> bool:
    return _compare(len(text), args["relation"], args["num_letters"])


def _build_first_word(kwargs: Mapping[str, Any]) -> Args:
    num_paragraphs = _count(kwargs, "num_paragraphs")
    nth = kwargs.get("nth_paragraph")
    if not isinstance(nth, int) or isinstance(nth, bool) or not 0 < nth <= num_paragraphs:
        raise _missing("nth_paragraph (1 to num_paragraphs)")
    return {
        "num_paragraphs": num_paragraphs,
        "nth_paragraph": nth,
        "first_word": _text(kwargs, "first_word", strip=False).lower(),
    }


def _check_first_word(text: str, args: Args) -> bool:
    paragraphs = re.split(r"\n\n", text)
    count = sum(1 for paragraph in paragraphs if paragraph.strip())
    nth = args["nth_paragraph"]
    # Upstream counts the non-blank paragraphs but indexes the raw split.
    if nth > count:
        return False
    paragraph = paragraphs[nth - 1].strip()
    if not paragraph:
        return False
    paragraph = paragraph.lstrip("「").lstrip("『")
    first_word = args["first_word"]
    return count == args["num_paragraphs"] and paragraph[: len(first_word)] == first_word


def _build_placeholders(kwargs: Mapping[str, Any]) -> Args:
    return {"num_placeholders": _count(kwargs, "num_placeholders")}


def _check_placeholders(text: str, args: Args) -> bool:
    return len(re.findall(r"\[.*?\]", text)) >= args["num_placeholders"]


def _build_postscript(kwargs: Mapping[str, Any]) -> Args:
    return {"postscript_marker": _text(kwargs, "postscript_marker")}


def _check_postscript(text: str, args: Args) -> bool:
    marker = args["postscript_marker"]
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + re.escape(marker) + r".*$"
    return bool(re.findall(pattern, text, flags=re.IGNORECASE | re.MULTILINE))


def _build_bullets(kwargs: Mapping[str, Any]) -> Args:
    return {"num_bullets": _count(kwargs, "num_bullets")}


def _check_bullets(text: str, args: Args) -> bool:
    return len(re.findall(r"^\s*・[^\・].*$", text, flags=re.MULTILINE)) == args["num_bullets"]


def _build_numbered(kwargs: Mapping[str, Any]) -> Args:
    return {"num_items": _count(kwargs, "num_items")}


def _check_numbered(text: str, args: Args) -> bool:
    return len(re.findall(r"^\s*\d+\.\s.*$", text, flags=re.MULTILINE)) == args["num_items"]


def _check_constrained(text: str, args: Args) -> bool:
    stripped = text.strip()
    return any(option in stripped for option in CONSTRAINED_RESPONSES)


def _build_highlights(kwargs: Mapping[str, Any]) -> Args:
    return {"num_highlights": _count(kwargs, "num_highlights")}


def _check_highlights(text: str, args: Args) -> bool:
    highlights = re.findall(r"《[^\n《》]*》", text)
    return sum(1 for h in highlights if h.strip("《》").strip()) >= args["num_highlights"]


def _build_sections(kwargs: Mapping[str, Any]) -> Args:
    return {"section_spliter": _text(kwargs, "section_spliter"), "num_sections": _count(kwargs, "num_sections")}


def _check_sections(text: str, args: Args) -> bool:
    # Upstream puts the splitter into the pattern unescaped.
    pattern = r"\s?" + r"第[\d\uFF10-\uFF19]+" + args["section_spliter"] + r"\s?"
    return len(re.split(pattern, text)) - 1 >= args["num_sections"]


def _check_json(text: str, args: Args) -> bool:
    value = (
        text.strip()
        .removeprefix("```json")
        .removeprefix("```Json")
        .removeprefix("```JSON")
        .removeprefix("```")
        .removesuffix("```")
        .strip()
    )
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _check_title(text: str, args: Args) -> bool:
    return any(title.lstrip("『").rstrip("』").strip() for title in re.findall(r"『[^\n]+』", text))


def _build_nominal(kwargs: Mapping[str, Any]) -> Args:
    return {"count": _count(kwargs, "count")}


def _check_nominal(text: str, args: Args) -> bool:
    found = tokens(_without_quotes(text))
    endings = sum(
        1
        for before, token in itertools.pairwise(found)
        if token.surface in "。！？" and str(before.part_of_speech).startswith("名詞")
    )
    return endings >= args["count"]


def _check_two_responses(text: str, args: Args) -> bool:
    parts = text.split("******")
    valid = []
    for index, part in enumerate(parts):
        if part.strip():
            valid.append(part)
        elif index not in (0, len(parts) - 1):
            return False
    return len(valid) == 2 and valid[0].strip() != valid[1].strip()


def _build_repeat(kwargs: Mapping[str, Any]) -> Args:
    prompt = kwargs.get("prompt_to_repeat")
    if not prompt or not isinstance(prompt, str):
        raise InstructionError("prompt_to_repeat must be set")
    return {"prompt_to_repeat": prompt}


def _check_repeat(text: str, args: Args) -> bool:
    return text.strip().startswith(args["prompt_to_repeat"].strip())


def _build_end(kwargs: Mapping[str, Any]) -> Args:
    return {"end_phrase": _text(kwargs, "end_phrase")}


def _check_end(text: str, args: Args) -> bool:
    return text.strip().strip("」』").endswith(args["end_phrase"].strip().strip("」』"))


def _build_unified_end(kwargs: Mapping[str, Any]) -> Args:
    return {"ending": _text(kwargs, "ending", strip=False)}


def _check_unified_end(text: str, args: Args) -> bool:
    """Upstream: a whitespace piece (a line break after the last 。) is a sentence without the ending."""
    pieces = re.split(r"[。！？]", _without_quotes(text))
    return all(piece.endswith(args["ending"]) for piece in pieces if piece)


def _check_unified_end_corrected(text: str, args: Args) -> bool:
    pieces = re.split(r"[。！？]", _without_quotes(text))
    return all(piece.strip().endswith(args["ending"]) for piece in pieces if piece.strip())


def _check_quotation(text: str, args: Args) -> bool:
    stripped = text.strip()
    return len(stripped) > 1 and stripped[0] == "「" and stripped[-1] == "」"


def _check_furigana(text: str, args: Args) -> bool:
    return len(re.findall(KANJI + "+", text)) == len(re.findall(KANJI + r"+（[ぁ-ん]+）", text))


def _check_kansuuji(text: str, args: Args) -> bool:
    return not re.search(r"\d", text)


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _check_no_katakana(text: str, args: Args) -> bool:
    return not any("ァ" <= char <= "ヺ" or "ｦ" <= char <= "ﾟ" for char in text)


def _check_katakana_only(text: str, args: Args) -> bool:
    return all("ァ" <= char <= "ン" or char in "ー・" or "ｦ" <= char <= "ﾟ" or not _is_letter(char) for char in text)


def _check_no_hiragana(text: str, args: Args) -> bool:
    return not any("ぁ" <= char <= "ゖ" for char in text)


def _check_hiragana_only(text: str, args: Args) -> bool:
    return all("ぁ" <= char <= "ん" or char == "ー" or not _is_letter(char) for char in text)


def _build_kanji(kwargs: Mapping[str, Any]) -> Args:
    return {"kanji_limit": _count(kwargs, "kanji_limit"), "relation": _relation(kwargs)}


def _check_kanji(text: str, args: Args) -> bool:
    return _compare(len(re.findall(KANJI, text)), args["relation"], args["kanji_limit"])


def _check_no_comma(text: str, args: Args) -> bool:
    return "、" not in text


def _check_no_period(text: str, args: Args) -> bool:
    return "。" not in text


def _no_args(kwargs: Mapping[str, Any]) -> Args:
    return {}


@dataclass(frozen=True)
class Checker:
    params: tuple[str, ...]
    build: Callable[[Mapping[str, Any]], Args]
    check: Callable[[str, Args], bool]


def _plain(check: Callable[[str, Args], bool]) -> Checker:
    return Checker((), _no_args, check)


# Upstream's INSTRUCTION_DICT, in its order ("ja:" + the Google IFEval group and name).
CHECKERS: Mapping[str, Checker] = {
    "ja:keywords:existence": Checker(("keywords",), _build_existence, _check_existence),
    "ja:keywords:frequency": Checker(("keyword", "frequency", "relation"), _build_frequency, _check_frequency),
    "ja:keywords:forbidden_words": Checker(("forbidden_words",), _build_forbidden, _check_forbidden),
    "ja:keywords:letter_frequency": Checker(
        ("letter", "let_frequency", "let_relation"), _build_letter_frequency, _check_letter_frequency
    ),
    "ja:language:response_language": Checker(("language",), _build_language, _check_language),
    "ja:length_constraints:number_sentences": Checker(
        ("num_sentences", "relation"), _build_sentences, _check_sentences
    ),
    "ja:length_constraints:number_paragraphs": Checker(("num_paragraphs",), _build_paragraphs, _check_paragraphs),
    "ja:length_constraints:number_letters": Checker(("num_letters", "relation"), _build_letters, _check_letters),
    "ja:length_constraints:nth_paragraph_first_word": Checker(
        ("num_paragraphs", "nth_paragraph", "first_word"), _build_first_word, _check_first_word
    ),
    "ja:detectable_content:number_placeholders": Checker(
        ("num_placeholders",), _build_placeholders, _check_placeholders
    ),
    "ja:detectable_content:postscript": Checker(("postscript_marker",), _build_postscript, _check_postscript),
    "ja:detectable_format:number_bullet_lists": Checker(("num_bullets",), _build_bullets, _check_bullets),
    "ja:detectable_format:number_numbered_lists": Checker(("num_items",), _build_numbered, _check_numbered),
    "ja:detectable_format:constrained_response": _plain(_check_constrained),
    "ja:detectable_format:number_highlighted_sections": Checker(
        ("num_highlights",), _build_highlights, _check_highlights
    ),
    "ja:detectable_format:multiple_sections": Checker(
        ("section_spliter", "num_sections"), _build_sections, _check_sections
    ),
    "ja:detectable_format:json_format": _plain(_check_json),
    "ja:detectable_format:title": _plain(_check_title),
    "ja:combination:two_responses": _plain(_check_two_responses),
    "ja:combination:repeat_prompt": Checker(("prompt_to_repeat",), _build_repeat, _check_repeat),
    "ja:startend:end_checker": Checker(("end_phrase",), _build_end, _check_end),
    "ja:startend:sentence_unified_end": Checker(("ending",), _build_unified_end, _check_unified_end),
    "ja:detectable_format:nominal_ending": Checker(("count",), _build_nominal, _check_nominal),
    "ja:letters:furigana": _plain(_check_furigana),
    "ja:letters:kansuuji": _plain(_check_kansuuji),
    "ja:letters:no_katakana": _plain(_check_no_katakana),
    "ja:letters:katakana_only": _plain(_check_katakana_only),
    "ja:letters:no_hiragana": _plain(_check_no_hiragana),
    "ja:letters:hiragana_only": _plain(_check_hiragana_only),
    "ja:letters:kanji": Checker(("kanji_limit", "relation"), _build_kanji, _check_kanji),
    "ja:punctuation:no_comma": _plain(_check_no_comma),
    "ja:punctuation:no_period": _plain(_check_no_period),
    "ja:startend:quotation": _plain(_check_quotation),
}
# Under `nejumi.compatibility: corrected` (docs/compatibility.md).
CORRECTED_CHECKS: Mapping[str, Callable[[str, Args], bool]] = {
    "ja:startend:sentence_unified_end": _check_unified_end_corrected,
}


def build_instruction(instruction_id: str, kwargs: Mapping[str, Any]) -> Instruction:
    """What upstream's `instruction_cls(id).build_description(**kwargs)` sets up, or why it cannot."""
    checker = CHECKERS.get(instruction_id)
    if checker is None:
        raise InstructionError(f"unknown instruction {instruction_id!r}")
    unknown = sorted(set(kwargs) - set(checker.params))
    if unknown:
        accepted = ", ".join(checker.params) or "none"
        raise InstructionError(f"{instruction_id} takes no argument {', '.join(unknown)} (accepted: {accepted})")
    return Instruction(instruction_id, checker.build(kwargs))


def _check(instruction: Instruction, corrected: bool) -> Callable[[str, Args], bool]:
    if corrected and instruction.id in CORRECTED_CHECKS:
        return CORRECTED_CHECKS[instruction.id]
    return CHECKERS[instruction.id].check


def follows(instruction: Instruction, response: str, *, corrected: bool = False) -> bool:
    """Upstream's strict test: a blank answer follows nothing."""
    return bool(response.strip()) and _check(instruction, corrected)(response, instruction.args)


def loose_variants(response: str) -> list[str]:
    """Google IFEval's loose test: the answer without its first/last line and without `*`."""
    lines = response.split("\n")
    without_first = "\n".join(lines[1:]).strip()
    without_last = "\n".join(lines[:-1]).strip()
    without_both = "\n".join(lines[1:-1]).strip()
    cut = [without_first, without_last, without_both]
    return [response, response.replace("*", ""), *cut, *(text.replace("*", "") for text in cut)]


def follows_loose(instruction: Instruction, response: str, *, corrected: bool = False) -> bool:
    check = _check(instruction, corrected)
    return any(text.strip() and check(text, instruction.args) for text in loose_variants(response))


def build_instructions(ids: Sequence[str], kwargs: Sequence[Mapping[str, Any]]) -> list[Instruction]:
    if len(ids) != len(kwargs):
        raise InstructionError(f"{len(ids)} instructions but {len(kwargs)} kwargs")
    return [build_instruction(i, k) for i, k in zip(ids, kwargs, strict=True)]
