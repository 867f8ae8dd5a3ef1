"""The witness's own storage: one SQLite file, never the platform's database.

Tables:
- `latest(origin PRIMARY KEY, size, root, note, cosigned_at)`: the latest checkpoint this
  witness cosigned for each log: the only state the protocol needs;
- `cosigned(origin, size, root, timestamp, note, cosignature)`: every cosignature given
  (append-only history, so a bureau can show what it signed and when);
- `refused(origin, old, size, status, reason, note, at)`: requests refused after the
  signature checked out (possible evidence of log misbehaviour, C2SP tlog-witness allows it).

Check-and-persist is atomic: `transaction()` opens `BEGIN IMMEDIATE`, which takes SQLite's
write lock before the latest size is read, so a concurrent request (thread or process) waits
until the first one has committed and then sees its new size (C2SP tlog-witness, the race
of requests A and B).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS latest (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cosigned (
    id INTEGER PRIMARY KEY, origin TEXT NOT NULL, size INTEGER NOT NULL, root BLOB NOT NULL,
    timestamp INTEGER NOT NULL, note TEXT NOT NULL, cosignature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY, origin TEXT NOT NULL, old INTEGER NOT NULL, size INTEGER NOT NULL,
    status INTEGER NOT NULL, reason TEXT NOT NULL, note TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS cosigned_append_only BEFORE UPDATE ON cosigned
    BEGIN SELECT RAISE(ABORT, 'cosigned is append-only'); END;
CREATE TRIGGER IF NOT EXISTS cosigned_no_delete BEFORE DELETE ON cosigned
    BEGIN SELECT RAISE(ABORT, 'cosigned is append-only'); END;
CREATE TRIGGER IF NOT EXISTS latest_no_rollback BEFORE UPDATE ON latest
    WHEN NEW.size < OLD.size OR (NEW.size = OLD.size AND NEW.root != OLD.root)
    BEGIN SELECT RAISE(ABORT, 'the latest cosigned checkpoint never goes back'); END;
CREATE TRIGGER IF NOT EXISTS latest_no_delete BEFORE DELETE ON latest
    BEGIN SELECT RAISE(ABORT, 'the latest cosigned checkpoint is kept'); END;
"""


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @staticmethod
    def latest(db: sqlite3.Connection, origin: str) -> tuple[int, bytes] | None:
        row = db.execute("SELECT size, root FROM latest WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    @staticmethod
    def record_cosigned(db: sqlite3.Connection, *, origin: str, size: int, root: bytes, timestamp: int,
                        note: str, cosignature: str) -> None:
        db.execute("INSERT INTO latest (origin, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT(origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                   "note = excluded.note, cosigned_at = excluded.cosigned_at",
                   (origin, size, root, note, timestamp))
        db.execute("INSERT INTO cosigned (origin, size, root, timestamp, note, cosignature) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (origin, size, root, timestamp, note, cosignature))

    def record_refused(self, *, origin: str, old: int, size: int, status: int, reason: str, note: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO refused (origin, old, size, status, reason, note, at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (origin, old, size, status, reason, note, int(time.time())))

    def latest_all(self) -> list[tuple[str, int, str, int]]:
        """(origin, size, note, cosigned_at) of every log, for the monitoring endpoint."""
        rows = self._connect().execute("SELECT origin, size, note, cosigned_at FROM latest ORDER BY origin")
        return [(r[0], int(r[1]), r[2], int(r[3])) for r in rows]
