"""The one compatibility switch: official quirks (default) or corrected behaviour.

`nejumi.compatibility: official` reproduces every number-changing quirk of the
official harness so results sit beside the published leaderboard;
`corrected` computes what upstream intended. docs/compatibility.md lists each case.
"""

from __future__ import annotations

from dataclasses import dataclass

from nejumi.config import Config

MODES = ("official", "corrected")


@dataclass(frozen=True)
class Compatibility:
    mode: str = "official"

    @property
    def official(self) -> bool:
        return self.mode == "official"

    @classmethod
    def from_config(cls, cfg: Config) -> Compatibility:
        return cls(cfg.get_str("nejumi.compatibility", "official", choices=MODES) or "official")
