"""The simulator's own SQLite file: everything it must remember across a restart.

Plain ``sqlite3`` (not the app's tables): roster, received interchanges (raw
bytes, ISA13, PayloadID, time), claim versions by REF*D9 with the interchange
they came in, adjudication results, files waiting for pickup, the simulated
clock, counters, fault settings and appeals.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roster (member_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS interchanges (
    id INTEGER PRIMARY KEY, sender_id TEXT, isa13 TEXT, payload_id TEXT, payload_type TEXT,
    received_at TEXT, sim_date TEXT, size INTEGER, outcome TEXT, raw BLOB);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY, claim_ref TEXT, pcn TEXT, member_id TEXT, payer_id TEXT,
    interchange_id INTEGER, recipient TEXT, payer_claim_number TEXT, status TEXT,
    received_on TEXT, due_on TEXT, adjudicated_on TEXT, frequency TEXT, original_ref TEXT,
    dup_key TEXT, check_number TEXT, check_date TEXT, claim TEXT, result TEXT, reason TEXT);
CREATE INDEX IF NOT EXISTS claims_ref ON claims (claim_ref);
CREATE INDEX IF NOT EXISTS claims_pcn ON claims (payer_claim_number);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, kind TEXT, recipient TEXT, payload_id TEXT, created_at TEXT,
    data BLOB, picked_up INTEGER DEFAULT 0, offered INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS appeals (
    id INTEGER PRIMARY KEY, claim_row INTEGER, payer_claim_number TEXT, level INTEGER,
    argument TEXT, enclosures TEXT, received_on TEXT, due_on TEXT, status TEXT, decision TEXT);
"""


class Store:
    """One SQLite connection guarded by a lock (the server runs one process)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self.lock = threading.RLock()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return list(self._conn.execute(sql, params))

    def reset(self) -> None:
        with self.transaction() as conn:
            for table in ("meta", "roster", "interchanges", "claims", "files", "appeals"):
                conn.execute(f"DELETE FROM {table}")

    # --- meta -----------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def next_number(self, name: str) -> int:
        """The next value of counter ``name`` (1, 2, 3 …), kept in the file."""
        with self.lock:
            value = int(self.get_meta(f"seq:{name}", "0") or 0) + 1
            self.set_meta(f"seq:{name}", str(value))
            return value

    def get_clock(self) -> date | None:
        text = self.get_meta("clock")
        return date.fromisoformat(text) if text else None

    def set_clock(self, value: date) -> None:
        self.set_meta("clock", value.isoformat())

    def get_json(self, key: str) -> Any:
        text = self.get_meta(key)
        return json.loads(text) if text else None

    def set_json(self, key: str, value: Any) -> None:
        self.set_meta(key, json.dumps(value))
