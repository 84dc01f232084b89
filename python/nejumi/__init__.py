"""nejumi: the Nejumi Leaderboard 4 suite, reproduced with official-identical scores."""

__version__ = "0.1.0"
