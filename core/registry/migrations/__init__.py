"""Versioned schema migrations for the SQLite registry.

Each migration is one file in this package named ``NNNN_short_name.sql``
(``0001_initial.sql``, ``0002_outbox.sql`` ...). Numbers start at 1 and have
no gaps; ``apply`` runs the missing ones in order, all inside one
``BEGIN IMMEDIATE`` transaction, and records each in ``schema_migrations``.
A database that records a migration this version does not know was written
by a newer version: ``apply`` refuses it and changes nothing.

To extend the schema, add the next numbered file. Migrations add (tables,
columns with defaults, indexes); they never drop data.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from tessera_core.errors import RegistryError

FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file; ``source`` names it in error messages."""

    number: int
    name: str
    sql: str
    source: str


def packaged() -> tuple[Migration, ...]:
    """The migrations shipped with this version of the package."""
    return load(resources.files(__name__))


def load(folder: Path | Traversable) -> tuple[Migration, ...]:
    """Every ``NNNN_name.sql`` file in ``folder``, checked to be numbered 1, 2, 3 ... without gaps."""
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = FILE_NAME.match(entry.name)
        if match is None:
            raise RegistryError(
                f"migration file {entry.name} in {folder} is not named NNNN_short_name.sql "
                "(four digits, an underscore, lowercase letters, digits or underscores); rename it"
            )
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8"), str(entry)))
    found.sort(key=lambda m: m.number)
    for expected, migration in enumerate(found, start=1):
        if migration.number != expected:
            raise RegistryError(
                f"migration {migration.source} has number {migration.number} but {expected} was expected: "
                "migrations are numbered 1, 2, 3 ... with no gaps or duplicates; renumber the newest file"
            )
    return tuple(found)


def statements(migration: Migration) -> list[str]:
    """Split a migration into single statements (trigger bodies and quoted ``;`` stay whole)."""
    out: list[str] = []
    pending = ""
    parts = migration.sql.split(";")
    for index, part in enumerate(parts):
        pending += part
        if index == len(parts) - 1:
            break
        pending += ";"
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if _has_code(pending):
        raise RegistryError(
            f"migration {migration.source} ends with an unterminated statement: {pending.strip()[:80]!r}; "
            "end every statement with ';'"
        )
    return out


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


def _first_code_line(statement: str) -> str:
    lines = [line.strip() for line in statement.splitlines()]
    return next((line for line in lines if line and not line.startswith("--")), "")


def applied(conn: sqlite3.Connection) -> dict[int, str]:
    """Number -> name of the migrations recorded in the database ({} for a new file)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if exists is None:
        return {}
    return {number: name for number, name in conn.execute("SELECT version, name FROM schema_migrations")}


def apply(conn: sqlite3.Connection, migrations: tuple[Migration, ...], *, label: str) -> tuple[int, ...]:
    """Apply the missing ``migrations`` in one transaction; return the numbers applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``); ``label``
    names the database in messages. Safe to call from several processes at
    once: the write lock is taken before the applied set is read.
    """
    if _up_to_date(applied(conn), migrations, label=label):
        return ()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = applied(conn)
        _up_to_date(done, migrations, label=label)
        ran: list[int] = []
        for migration in migrations:
            if migration.number in done:
                continue
            _run(conn, migration, label=label)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.number, migration.name, datetime.now(UTC).isoformat(timespec="microseconds")),
            )
            ran.append(migration.number)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return tuple(ran)


def _up_to_date(done: dict[int, str], migrations: tuple[Migration, ...], *, label: str) -> bool:
    """True when nothing is missing; raises when the database is newer or disagrees on a name."""
    known = {m.number: m.name for m in migrations}
    unknown = sorted(set(done) - set(known))
    if unknown:
        newest = max(known, default=0)
        raise RegistryError(
            f"the registry {label} was written by a newer version of tessera-integrations: it has "
            f"migration(s) {', '.join(map(str, unknown))} and this version knows only 1..{newest}. "
            "Upgrade tessera-integrations (pip install -U tessera-integrations) to open it; "
            "nothing was changed"
        )
    for number, name in done.items():
        if known[number] != name:
            raise RegistryError(
                f"the registry {label} recorded migration {number} as {name!r} but this version ships "
                f"{known[number]!r} under that number; it was written by a different build. "
                "Open it with the version that created it"
            )
    return set(done) == set(known)


def _run(conn: sqlite3.Connection, migration: Migration, *, label: str) -> None:
    for position, statement in enumerate(statements(migration), start=1):
        try:
            conn.execute(statement)
        except sqlite3.Error as error:
            raise RegistryError(
                f"migration {migration.source} failed on {label} at statement {position} "
                f"({_first_code_line(statement)[:60]!r}): {error}; nothing was applied. "
                "Fix the migration file"
            ) from error


__all__ = ["Migration", "applied", "apply", "load", "packaged", "statements"]
