"""JHumanEval: the code that upstream extracts from a model's answer.

Upstream tries these patterns in order and keeps the first non-blank result:
the first fenced block (three equivalent regexes), then everything from the first
`def name(...):` to the end of the text, then the raw answer.
"""

from __future__ import annotations

import re

_FENCED = re.compile(r"```(?:\w+)?\s*\n?(.*?)\n?```", re.DOTALL)
_FENCED_ANY = re.compile(r"```(?:\w+)?\s*\n?([\s\S]*?)\n?```", re.DOTALL)
_FROM_DEF = re.compile(r"(?s)(def\s+[A-Za-z_][A-Za-z0-9_]*\s*\(.*?\):[\s\S]*?)$")


def extract_code(raw: str) -> str:
    for pattern in (_FENCED, _FENCED_ANY, _FROM_DEF):
        match = pattern.search(raw)
        if match:
            code = "".join(group or "" for group in match.groups()).strip()
            if code:
                return code
    return raw.strip()
