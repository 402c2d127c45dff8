"""What the Tessera server has no field for, kept beside the client in one small SQLite file.

- consumer registrations in full (column scope, flows, evidence, kind,
  source): the server registers a *team* on one contract version and has no
  field for the rest. Registering here follows the embedded registry's rules
  (an explicit registration wins over an inferred one; flows are a set);
- notes on server proposals and contracts the server cannot hold: who acted
  (``by``), withdraw and force reasons, answers of teams the server does not
  let answer, the version a proposal was published as;
- proposals the server cannot hold at all (a change our rules block but the
  server would publish at once), with their acknowledgments.

Rows are scoped by the server's origin, so one file can serve several
servers. Each operation opens its own connection (WAL, ``busy_timeout``), so
threads and processes can share the file; writes take the lock up front.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from tessera_core.errors import RegistryError, RegistryUnavailableError
from tessera_core.registry.base import (
    ColumnFlow,
    ConsumerKind,
    DependencyType,
    Proposal,
    RegisterOutcome,
    Registration,
    RegistrationSource,
)
from tessera_core.registry.http_codec import canonical, proposal_dict, proposal_of

_E = TypeVar("_E", bound=StrEnum)

SCHEMA = """
CREATE TABLE IF NOT EXISTS registrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    fqn TEXT NOT NULL,
    team TEXT NOT NULL,
    consumer TEXT NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    retired INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    UNIQUE (scope, fqn, team, consumer)
);
CREATE TABLE IF NOT EXISTS notes (
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (scope, kind, key)
);
CREATE TABLE IF NOT EXISTS proposals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    fqn TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (scope, id)
);
"""


class SideStore:
    """The client-side half of ``HttpRegistry`` for one server (``scope``), in the SQLite file ``path``."""

    def __init__(self, path: str | Path, *, scope: str, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.scope = scope
        self.timeout = timeout
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RegistryError(
                f"cannot create the folder of the side store {self.path} ({error}); pass store_path= "
                "pointing to a writable place"
            ) from error
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    # registrations

    def check(self, reg: Registration) -> None:
        """RegistryError when ``reg`` has a kind, source or dependency type the registry does not know."""
        _body(reg)

    def register(self, reg: Registration) -> RegisterOutcome:
        """Add or update the registration; the embedded registry's outcome rules."""
        source, body = _body(reg)
        key = (self.scope, reg.asset_fqn, reg.team, reg.consumer)
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM registrations WHERE scope = ? AND fqn = ? AND team = ? AND consumer = ?", key
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO registrations (scope, fqn, team, consumer, source, body, retired, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                    (*key, source.value, body, _now()),
                )
                return RegisterOutcome.ADDED
            explicit_stays = (
                row["source"] == RegistrationSource.EXPLICIT.value
                and not row["retired"]
                and source is RegistrationSource.INFERRED
            )
            if explicit_stays or (row["body"] == body and not row["retired"]):
                return RegisterOutcome.UNCHANGED
            conn.execute(
                "UPDATE registrations SET source = ?, body = ?, retired = 0, updated_at = ? WHERE id = ?",
                (source.value, body, _now(), row["id"]),
            )
            return RegisterOutcome.CHANGED

    def retire(self, fqn: str, team: str, consumer: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE registrations SET retired = 1, updated_at = ? WHERE scope = ? AND fqn = ? "
                "AND team = ? AND consumer = ? AND retired = 0",
                (_now(), self.scope, fqn, team, consumer),
            )
            return cursor.rowcount > 0

    def registrations(
        self,
        fqn: str | None = None,
        *,
        team: str | None = None,
        consumer: str | None = None,
        include_retired: bool = False,
    ) -> list[Registration]:
        clauses, params = ["scope = ?"], [self.scope]
        for column, value in (("fqn", fqn), ("team", team), ("consumer", consumer)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if not include_retired:
            clauses.append("retired = 0")
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM registrations WHERE {' AND '.join(clauses)} ORDER BY id", params
            ).fetchall()
        return [_registration(row) for row in rows]

    # notes on server proposals and contracts

    def note(self, kind: str, key: str) -> dict[str, Any]:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT body FROM notes WHERE scope = ? AND kind = ? AND key = ?", (self.scope, kind, key)
            ).fetchone()
        return dict(json.loads(row["body"])) if row is not None else {}

    def annotate(self, kind: str, key: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the note (one level deep for dict values); returns the note."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT body FROM notes WHERE scope = ? AND kind = ? AND key = ?", (self.scope, kind, key)
            ).fetchone()
            note: dict[str, Any] = json.loads(row["body"]) if row is not None else {}
            for name, value in changes.items():
                if isinstance(value, dict) and isinstance(note.get(name), dict):
                    note[name] = {**note[name], **value}
                else:
                    note[name] = value
            conn.execute(
                "INSERT INTO notes (scope, kind, key, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (scope, kind, key) DO UPDATE SET body = excluded.body",
                (self.scope, kind, key, canonical(note)),
            )
        return note

    # proposals only this client holds

    def add_proposal(self, proposal: Proposal) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO proposals (scope, id, fqn, body) VALUES (?, ?, ?, ?)",
                (self.scope, proposal.id, proposal.asset_fqn, canonical(proposal_dict(proposal))),
            )

    def proposal(self, proposal_id: str) -> Proposal | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT body FROM proposals WHERE scope = ? AND id = ?", (self.scope, proposal_id)
            ).fetchone()
        return proposal_of(json.loads(row["body"])) if row is not None else None

    def proposals(self, fqn: str | None = None) -> list[Proposal]:
        clause, params = ("AND fqn = ?", [self.scope, fqn]) if fqn is not None else ("", [self.scope])
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT body FROM proposals WHERE scope = ? {clause} ORDER BY seq", params
            ).fetchall()
        return [proposal_of(json.loads(row["body"])) for row in rows]

    def update_proposal(self, proposal_id: str, change: Callable[[Proposal], Proposal]) -> Proposal:
        """Apply ``change`` to the stored proposal in one write transaction (it may raise to refuse)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT body FROM proposals WHERE scope = ? AND id = ?", (self.scope, proposal_id)
            ).fetchone()
            if row is None:
                raise RegistryError(f"proposal {proposal_id} is not in the side store {self.path}")
            updated = change(proposal_of(json.loads(row["body"])))
            conn.execute(
                "UPDATE proposals SET body = ? WHERE scope = ? AND id = ?",
                (canonical(proposal_dict(updated)), self.scope, proposal_id),
            )
        return updated

    # connections

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise RegistryError(f"cannot open the side store {self.path}: {error}") from error
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            yield conn
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise RegistryUnavailableError(
                    f"the side store {self.path} is locked by another writer (waited {self.timeout}s): "
                    f"{error}"
                ) from error
            raise RegistryError(f"the side store {self.path} failed: {error}") from error
        except sqlite3.DatabaseError as error:
            raise RegistryError(
                f"{self.path} cannot be used as the side store of the Tessera server client: {error}; "
                "pass store_path= pointing to a new file"
            ) from error
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _body(reg: Registration) -> tuple[RegistrationSource, str]:
    """The registration's source and its details as canonical JSON (what decides CHANGED)."""
    where = f"registration of {reg.consumer} ({reg.team}) on {reg.asset_fqn}"
    source = _member(RegistrationSource, reg.source, f"source of the {where}")
    body = canonical(
        {
            "consumer_kind": _member(ConsumerKind, reg.consumer_kind, f"consumer kind of the {where}").value,
            "columns": sorted(reg.columns) if reg.columns is not None else None,
            "dependency_type": _member(
                DependencyType, reg.dependency_type, f"dependency type of the {where}"
            ).value,
            "pinned_version": reg.pinned_version,
            "source": source.value,
            "evidence": list(reg.evidence),
            "consumer_asset": reg.consumer_asset,
            "flows": sorted((f.to_dict() for f in reg.flows), key=_flow_order),
        }
    )
    return source, body


def _flow_order(flow: dict[str, Any]) -> tuple[str, str, bool]:
    return (flow["source"], flow["target"], flow["direct"])


def _member(kind: type[_E], value: Any, what: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise RegistryError(f"{what} is {value!r}, which is not one of: {allowed}") from None


def _registration(row: sqlite3.Row) -> Registration:
    body = json.loads(row["body"])
    columns = body.get("columns")
    return Registration(
        asset_fqn=row["fqn"],
        team=row["team"],
        consumer=row["consumer"],
        consumer_kind=ConsumerKind(body["consumer_kind"]),
        columns=frozenset(columns) if columns is not None else None,
        dependency_type=DependencyType(body["dependency_type"]),
        pinned_version=body.get("pinned_version"),
        source=RegistrationSource(row["source"]),
        evidence=tuple(body.get("evidence", ())),
        retired=bool(row["retired"]),
        consumer_asset=body.get("consumer_asset"),
        flows=tuple(ColumnFlow.from_dict(f) for f in body.get("flows", ())),
        id=f"side-{row['id']}",
    )


__all__ = ["SideStore"]
