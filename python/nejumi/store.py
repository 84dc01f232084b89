"""The run store: one SQLite file in the run directory, the record of truth.

It holds every model and judge call (request and answer), one transcript per sample
and the scores each scorer gave it. Every answer is committed the moment it arrives
(WAL journal), so a `kill -9` loses only the requests in flight; re-running with
the same run directory resumes from what is stored. Scores are cached under the
scorer's name, its version and a digest of the transcript: a changed scorer or a
changed transcript re-scores, an unchanged one is read back.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nejumi_proto.v1 import inference_pb2, transcript_pb2, types_pb2

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    -- "model" or "judge:<config section>": whose queue sent it.
    role TEXT NOT NULL,
    request BLOB NOT NULL,
    response BLOB NOT NULL,
    -- 1 when the request failed for good and was answered with empty text (soft
    -- failure policy); such calls are sent again by the next run.
    failed INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS transcripts (
    sample_key TEXT PRIMARY KEY,
    benchmark TEXT NOT NULL,
    position INTEGER NOT NULL,
    transcript BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    sample_key TEXT NOT NULL,
    scorer TEXT NOT NULL,
    version TEXT NOT NULL,
    transcript_digest TEXT NOT NULL,
    scores BLOB NOT NULL,
    PRIMARY KEY (sample_key, scorer)
);
"""


class StoreError(RuntimeError):
    """The store file cannot be used as it is; the message says what to do."""


class ResumeRefused(StoreError):
    """The run directory holds answers of a differently served model."""


def transcript_digest(transcript: transcript_pb2.Transcript) -> str:
    return hashlib.sha256(transcript.SerializeToString(deterministic=True)).hexdigest()


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a crashed process (the WAL is written before
        # commit returns); only an OS crash could drop the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._check_schema()
        self._db.executescript(SCHEMA)
        self.set_meta("schema", SCHEMA_VERSION)

    def _check_schema(self) -> None:
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "responses" in tables and "calls" not in tables:
            self._db.close()
            raise StoreError(
                f"{self.path} was written by an earlier nejumi (store schema 1); "
                "use a new run directory, or --force-new to set it aside and start again"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def set_meta(self, key: str, value: object) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, ensure_ascii=False, sort_keys=True)),
        )

    def get_meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def completed_response(self, key: str) -> types_pb2.Response | None:
        """The stored answer of a call that succeeded, if any."""
        row = self._db.execute("SELECT response FROM calls WHERE key = ? AND failed = 0", (key,)).fetchone()
        return types_pb2.Response.FromString(row[0]) if row else None

    def put_call(
        self,
        key: str,
        role: str,
        request: inference_pb2.GenerateRequest,
        response: types_pb2.Response,
        failed: bool,
    ) -> None:
        self._db.execute(
            "INSERT INTO calls (key, role, request, response, failed, created_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET request = excluded.request, response = excluded.response, "
            "failed = excluded.failed, created_at = excluded.created_at",
            (key, role, request.SerializeToString(), response.SerializeToString(), int(failed), time.time()),
        )

    def count_calls(self, role_prefix: str = "") -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM calls WHERE failed = 0 AND role LIKE ?", (role_prefix + "%",)
        ).fetchone()
        return int(row[0])

    def put_transcript(self, key: str, position: int, transcript: transcript_pb2.Transcript) -> None:
        self._db.execute(
            "INSERT INTO transcripts (sample_key, benchmark, position, transcript) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(sample_key) DO UPDATE SET benchmark = excluded.benchmark, position = excluded.position, "
            "transcript = excluded.transcript",
            (key, transcript.sample.benchmark, position, transcript.SerializeToString()),
        )

    def transcripts(self) -> Iterator[tuple[str, transcript_pb2.Transcript]]:
        """Every stored transcript in plan order."""
        for key, blob in self._db.execute("SELECT sample_key, transcript FROM transcripts ORDER BY position"):
            yield key, transcript_pb2.Transcript.FromString(blob)

    def cached_scores(self, key: str, scorer: str, version: str, digest: str) -> list[types_pb2.Score] | None:
        row = self._db.execute(
            "SELECT scores FROM scores WHERE sample_key = ? AND scorer = ? AND version = ? AND transcript_digest = ?",
            (key, scorer, version, digest),
        ).fetchone()
        return list(transcript_pb2.ScoreSet.FromString(row[0]).scores) if row else None

    def put_scores(self, key: str, scorer: str, version: str, digest: str, scores: list[types_pb2.Score]) -> None:
        self._db.execute(
            "INSERT INTO scores (sample_key, scorer, version, transcript_digest, scores) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(sample_key, scorer) DO UPDATE SET version = excluded.version, "
            "transcript_digest = excluded.transcript_digest, scores = excluded.scores",
            (key, scorer, version, digest, transcript_pb2.ScoreSet(scores=scores).SerializeToString()),
        )
