"""Writes comet_reference.json: unbabel-comet's own scores of the tiny COMETs (tests/support/tiny_comet.py).

Run in a venv with unbabel-comet 2.2.6 (upstream's version; it pins what it needs) and pytest:

    python -m venv /tmp/cometvenv && /tmp/cometvenv/bin/pip install unbabel-comet==2.2.6 pytest
    PYTHONPATH=tests /tmp/cometvenv/bin/python tests/support/comet_reference.py

It builds each variant, loads it with `comet.load_from_checkpoint` and scores the rows with
`predict(batch_size=8, gpus=0)` as upstream's jaster_translation.py does (upstream: gpus=1). The
parity test (tests/test_comet.py) builds the same files and compares nejumi's scores with these.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from support.tiny_comet import VARIANTS, build_tiny_comet

OUT = Path(__file__).with_name("comet_reference.json")
# Written for these tests (src, mt, ref), in the vocabulary of tiny_comet.VOCABULARY_TEXTS: short and long,
# identical and unrelated, an empty translation, and one longer than the encoder's 510 tokens (truncated).
ROWS = [
    ("The cat sat on the mat.", "猫がマットの上に座った。", "猫がマットの上に座った。"),
    ("The cat sat on the mat.", "犬が座った。", "猫がマットの上に座った。"),
    (
        "A quick brown fox jumps over the lazy dog.",
        "素早い茶色の狐が怠け者の犬を飛び越える。",
        "茶色の狐が犬を飛び越える。",
    ),
    ("今日は良い天気です。", "Today is a good day.", "The weather is nice today."),
    ("今日は良い天気です。", "", "The weather is nice today."),
    ("私は毎朝コーヒーを飲みます。", "I drink coffee every morning.", "I drink coffee every morning."),
    ("東京駅で友達に会いました。", "I met a friend at Tokyo station.", "I met my friend at Tokyo Station."),
    ("会議は午後三時に始まる予定です。", "THE MEETING STARTS AT 3.", "The meeting is to start at three."),
    ("0123456789", "0123456789", "0123456789"),
    ("猫", "cat", "The cat"),
    ("素早い茶色の狐が怠け者の犬を飛び越える。" * 30, "A quick brown fox. " * 40, "The quick brown fox jumps." * 25),
]


def main() -> int:
    import comet

    variants = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in VARIANTS:
            folder = build_tiny_comet(Path(tmp) / variant.name, variant)
            model = comet.load_from_checkpoint(str(folder / "checkpoints" / "model.ckpt"))
            data = [{"src": src, "mt": mt, "ref": ref} for src, mt, ref in ROWS]
            scores = model.predict(data, batch_size=8, gpus=0, progress_bar=False).scores
            variants[variant.name] = {"variant": asdict(variant), "scores": scores}
    made_with = {name: metadata.version(name) for name in ("unbabel-comet", "torch", "transformers", "numpy")}
    reference = {"made_with": made_with, "rows": [list(row) for row in ROWS], "variants": variants}
    OUT.write_text(json.dumps(reference, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(ROWS)} rows x {len(variants)} variants)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
