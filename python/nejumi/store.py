"""The run store: one SQLite file in the run directory, the record of truth.

Every response is committed the moment it arrives (WAL journal), so a `kill -9`
loses only the requests in flight; re-running with the same run directory resumes
from what is stored. Scores are stored too, keyed like the responses, and are
recomputed on every run (scoring is cheap and deterministic).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from nejumi_proto.v1 import types_pb2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    sample BLOB NOT NULL,
    response BLOB NOT NULL,
    -- 1 when the request failed for good and was answered with empty text (soft
    -- failure mode); such rows are retried by the next run.
    failed INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    key TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    details TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (key, metric)
);
"""


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a crashed process (the WAL is written before
        # commit returns); only an OS crash could drop the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def set_meta(self, key: str, value: object) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, ensure_ascii=False)),
        )

    def completed_response(self, key: str) -> types_pb2.Response | None:
        """The stored answer of a request that succeeded, if any."""
        row = self._db.execute("SELECT response FROM responses WHERE key = ? AND failed = 0", (key,)).fetchone()
        return types_pb2.Response.FromString(row[0]) if row else None

    def put_response(
        self,
        key: str,
        sample: types_pb2.Sample,
        response: types_pb2.Response,
        failed: bool,
    ) -> None:
        self._db.execute(
            "INSERT INTO responses (key, sample, response, failed, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET sample = excluded.sample, response = excluded.response, "
            "failed = excluded.failed, created_at = excluded.created_at",
            (
                key,
                sample.SerializeToString(),
                response.SerializeToString(),
                int(failed),
                time.time(),
            ),
        )

    def put_scores(self, scored: Iterable[tuple[str, list[types_pb2.Score]]]) -> None:
        """Replaces the scores of the given requests, in one transaction."""
        self._db.execute("BEGIN")
        try:
            for key, scores in scored:
                self._db.execute("DELETE FROM scores WHERE key = ?", (key,))
                self._db.executemany(
                    "INSERT INTO scores (key, metric, value, details) VALUES (?, ?, ?, ?)",
                    [
                        (
                            key,
                            s.metric,
                            s.value if s.HasField("value") else None,
                            s.details_json or "{}",
                        )
                        for s in scores
                    ],
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def responses(
        self,
    ) -> Iterator[tuple[str, types_pb2.Sample, types_pb2.Response, bool]]:
        for key, sample, response, failed in self._db.execute(
            "SELECT key, sample, response, failed FROM responses ORDER BY created_at"
        ):
            yield (
                key,
                types_pb2.Sample.FromString(sample),
                types_pb2.Response.FromString(response),
                bool(failed),
            )

    def count_responses(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses WHERE failed = 0").fetchone()[0])
