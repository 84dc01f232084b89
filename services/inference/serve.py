"""Entry point of ``bazel run //services/inference:server -- --backend ... --model ...``."""

from nejumi_inference.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
