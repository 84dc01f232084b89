"""JBBQ: social-bias QA in Japanese, as Nejumi Leaderboard 4 runs it.

`data` reads the official layout and picks the items and few-shot examples upstream
uses; `scoring` parses answers and computes the leaderboard metrics; `tables` lays out
the official W&B tables; `benchmark` plans, asks and summarizes.
"""

from nejumi.benchmarks.jbbq.benchmark import ARTIFACT_PATH, NAME, Jbbq, JbbqSettings

__all__ = ["ARTIFACT_PATH", "NAME", "Jbbq", "JbbqSettings"]
