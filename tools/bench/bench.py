"""Times nejumi's Rust scorers against the Python references, in one run.

    tools/bazel run //tools/bench -- [--n 100000] [--only char_f1,bfcl,arc]

Every comparison runs both sides on the same inputs in the same process and prints
the ratio (reference time / nejumi time); nothing is compared across runs.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys

SUITES = {"char_f1": "bench_char_f1", "bfcl": "bench_bfcl", "arc": "bench_arc"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="inputs per comparison (default 100000)")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites: " + ", ".join(SUITES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, n={args.n}, seed={args.seed}")
    for suite in args.only.split(","):
        module = importlib.import_module(SUITES[suite.strip()])
        for comparison in module.run(args.n, args.seed):
            print(comparison.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
