"""``python -m nejumi_inference``: run the inference server."""

from nejumi_inference.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
