"""Why a run's numbers cannot sit beside the published leaderboard, if they cannot.

The report states these reasons at the top, so that a quick-start or local-judge run
is never mistaken for a leaderboard result: testmode (upstream's small subsets), the
corrected compatibility mode, and judges other than the official ones.
"""

from __future__ import annotations

from collections.abc import Mapping

from nejumi.benchmarks import hallulens, hle, mtbench, toxicity
from nejumi.compat import Compatibility

# The judge each judged benchmark is scored with on the leaderboard (upstream's defaults).
OFFICIAL_JUDGES = {
    mtbench.JUDGE: mtbench.JUDGE_MODEL,
    hle.JUDGE: hle.JUDGE_MODEL,
    hallulens.JUDGE: hallulens.JUDGE_MODEL,
    toxicity.JUDGE: toxicity.JUDGE_MODEL,
}


def not_comparable_reasons(testmode: bool, compatibility: Compatibility, judges: Mapping[str, str]) -> list[str]:
    """`judges` maps each judge section that ran to its model name; empty list: comparable."""
    reasons = []
    if testmode:
        reasons.append("testmode is on: every benchmark ran on upstream's small test subsets")
    if not compatibility.official:
        reasons.append("nejumi.compatibility is corrected: official quirks that change numbers are fixed")
    for section, model in sorted(judges.items()):
        official = OFFICIAL_JUDGES.get(section)
        if official is not None and model != official:
            reasons.append(f"{section} is {model}, not the leaderboard's judge {official}")
    return reasons
