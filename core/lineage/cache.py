"""A small on-disk cache of per-model lineage: one SQLite file, key -> marshalled payload.

Besides the entries, it remembers the last run: a digest of the whole project and
the key each model had, so an unchanged project skips recomputing keys.

Payloads are plain tuples, dicts, frozensets, strings and ints, stored with
``marshal`` (what ``__pycache__`` uses): fast to load and, unlike pickle, unable
to run code from a tampered file.

Keys are content hashes (``project.cache_key``): a changed SQL, upstream schema,
dialect or lineage version simply misses. Entries not used by the latest run are
pruned once they outnumber the used ones, so the file stays about one project big.
"""

from __future__ import annotations

import marshal
import sqlite3
from pathlib import Path
from typing import Any

CACHE_FILE = "lineage.sqlite"


class LineageCache:
    """Load every entry once at open, write new ones in one transaction at ``close``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / CACHE_FILE
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS lineage (key TEXT PRIMARY KEY, payload BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS runs (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
        self._pending: list[tuple[str, bytes]] = []
        self._last_run: tuple[str, bytes] | None = None
        self._used: set[str] = set()
        self._stored: dict[str, bytes] = dict(self._db.execute("SELECT key, payload FROM lineage"))

    def get(self, key: str) -> Any | None:
        self._used.add(key)
        payload = self._stored.get(key)
        if payload is None:
            return None
        try:
            return marshal.loads(payload)
        except Exception:  # a truncated or foreign entry is a miss, not an error
            return None

    def put(self, key: str, value: Any) -> None:
        self._used.add(key)
        self._pending.append((key, marshal.dumps(value)))

    def last_keys(self, digest: str) -> dict[str, str] | None:
        """unique_id -> key of the last run, if that run saw a project with this digest."""
        row = self._db.execute("SELECT value FROM runs WHERE name = 'last'").fetchone()
        if row is None:
            return None
        try:
            stored_digest, keys = marshal.loads(row[0])
        except Exception:
            return None
        return dict(keys) if stored_digest == digest and isinstance(keys, tuple) else None

    def remember_run(self, digest: str, keys: dict[str, str]) -> None:
        """Store this run's digest and keys (written at ``close``)."""
        self._last_run = ("last", marshal.dumps((digest, tuple(keys.items()))))

    def close(self) -> None:
        with self._db:
            if self._pending:
                self._db.executemany(
                    "INSERT OR REPLACE INTO lineage (key, payload) VALUES (?, ?)", self._pending
                )
            (count,) = self._db.execute("SELECT COUNT(*) FROM lineage").fetchone()
            if count > 2 * len(self._used) + 100:
                self._db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
                used = ((key,) for key in self._used)
                self._db.executemany("INSERT OR IGNORE INTO used (key) VALUES (?)", used)
                self._db.execute("DELETE FROM lineage WHERE key NOT IN (SELECT key FROM used)")
            if self._last_run is not None:
                self._db.execute("INSERT OR REPLACE INTO runs (name, value) VALUES (?, ?)", self._last_run)
        self._db.close()
        self._pending = []
        self._stored = {}
