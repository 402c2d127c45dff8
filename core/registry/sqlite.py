"""The embedded registry: one SQLite file that implements ``Registry``.

Concurrency: every connection runs in WAL mode with ``busy_timeout`` and
foreign keys on. Every write operation is one transaction opened with
``BEGIN IMMEDIATE``, so writers in other threads or processes wait for each
other instead of failing, and each check-then-write (an optimistic version
check, "is the proposal still approved?") happens under the write lock. Every
read runs in one read transaction and sees one consistent snapshot. Each
thread gets its own connection; a process that forks opens fresh ones.

Decisions the protocol leaves open:

- ``upsert_asset`` replaces owner, mode, kind, dialect and metadata with the
  given values; it writes an audit event only when something changed.
- ``publish_contract``, ``register`` and ``open_proposal`` create a missing
  asset (owner ``None``) and ``register`` a missing team.
- ``register``: an explicit registration wins. A later *inferred* register of
  the same (asset, team, consumer) leaves an active explicit registration
  untouched and returns UNCHANGED; a retired one is revived as inferred.
  An explicit register always overwrites an inferred one. ``flows`` are
  stored sorted (they are a set), so reordering them is not a change.
- ``open_proposal`` with no affected consumers opens it already APPROVED; with
  a ``base_version`` that is not the asset's current version it raises
  ConflictError (the proposal would be stale before it is read).
- ``contract_history``, ``registrations``, ``proposals`` and ``audit`` list
  oldest first; ``audit(limit=n)`` keeps the newest ``n`` events, still oldest
  first (the tail of the log).

Notifications: ``open_proposal`` (when it creates one), ``acknowledge``,
``withdraw``, ``publish_proposal`` and ``register`` (when it adds) write their
notices to the outbox tables in the same transaction (``tessera_core.notify``
decides who is told what and delivers them after the commit).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from tessera_core.compat.changes import Change
from tessera_core.errors import (
    ConflictError,
    InvalidStateError,
    NotFoundError,
    RegistryError,
    RegistryUnavailableError,
)
from tessera_core.notify import events as notify
from tessera_core.notify.outbox import record as record_notices
from tessera_core.registry import migrations
from tessera_core.registry.base import (
    Acknowledgment,
    AckResponse,
    AffectedConsumer,
    Asset,
    AuditEvent,
    ColumnFlow,
    CompatibilityMode,
    ConsumerKind,
    Contract,
    DependencyType,
    Proposal,
    ProposalStatus,
    RegisterOutcome,
    Registration,
    RegistrationSource,
    Team,
)
from tessera_core.registry.rules import (
    MIN_FORCED_REASON,
    OPEN_STATUSES,
)
from tessera_core.registry.rules import (
    check_change_class as _check_change_class,
)
from tessera_core.registry.rules import (
    check_forced_reason as _check_forced_reason,
)
from tessera_core.registry.rules import (
    member as _member,
)
from tessera_core.registry.rules import (
    now as _now,
)
from tessera_core.registry.rules import (
    require as _require,
)
from tessera_core.registry.rules import (
    require_open as _require_open,
)
from tessera_core.registry.rules import (
    shown as _shown,
)
from tessera_core.schema.model import Schema


class AuditAction(StrEnum):
    """The ``action`` of every audit event this registry writes."""

    TEAM_CREATED = "team.created"
    ASSET_CREATED = "asset.created"
    ASSET_UPDATED = "asset.updated"
    CONTRACT_PUBLISHED = "contract.published"
    REGISTRATION_ADDED = "registration.added"
    REGISTRATION_CHANGED = "registration.changed"
    REGISTRATION_RETIRED = "registration.retired"
    PROPOSAL_OPENED = "proposal.opened"
    PROPOSAL_ACKNOWLEDGED = "proposal.acknowledged"
    PROPOSAL_APPROVED = "proposal.approved"  # every affected team approved
    PROPOSAL_REOPENED = "proposal.reopened"  # approved -> pending: a team changed its answer
    PROPOSAL_WITHDRAWN = "proposal.withdrawn"
    PROPOSAL_PUBLISHED = "proposal.published"
    PROPOSAL_FORCED = "proposal.forced"


class SqliteRegistry:
    """A ``Registry`` stored in one SQLite file, created and migrated on open.

    ``timeout`` (seconds, default 30) is how long an operation waits for
    another writer before raising ``RegistryUnavailableError``.
    ``migrations_dir`` replaces the packaged migrations (for tests); leave it
    ``None``. Use as a context manager, or call ``close()``.
    """

    def __init__(
        self, path: str | Path, *, timeout: float = 30.0, migrations_dir: Path | None = None
    ) -> None:
        if str(path) in ("", ":memory:"):
            raise RegistryError(
                f"SqliteRegistry needs a file path, got {str(path)!r}: every thread and process opens the "
                "file on its own; pass a path such as .tessera/registry.db (a temporary file in tests)"
            )
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[int, threading.Thread, sqlite3.Connection]] = []
        self._closed = False
        known = migrations.load(migrations_dir) if migrations_dir is not None else migrations.packaged()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._translate():
                migrations.apply(self._connection(), known, label=str(self.path))
        except BaseException:
            self.close()
            raise

    # lifecycle

    def close(self) -> None:
        """Close every connection this process opened; later calls raise RegistryError."""
        with self._lock:
            self._closed = True
            mine = [conn for pid, _, conn in self._connections if pid == os.getpid()]
            self._connections.clear()
        for conn in mine:
            conn.close()

    def __enter__(self) -> SqliteRegistry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteRegistry({str(self.path)!r})"

    # teams and assets

    def ensure_team(self, name: str) -> Team:
        _require(name, "team name")
        with self._write() as conn:
            self._ensure_team(conn, name)
            row = conn.execute("SELECT id, name FROM teams WHERE name = ?", (name,)).fetchone()
        return Team(row["name"], str(row["id"]))

    def teams(self) -> list[Team]:
        with self._read() as conn:
            rows = conn.execute("SELECT id, name FROM teams ORDER BY name").fetchall()
        return [Team(row["name"], str(row["id"])) for row in rows]

    def upsert_asset(self, asset: Asset) -> Asset:
        _require(asset.fqn, "asset fqn")
        mode = _member(
            CompatibilityMode, asset.compatibility_mode, f"compatibility mode of asset {asset.fqn}"
        )
        metadata = _json(asset.metadata, f"metadata of asset {asset.fqn}")
        wanted = {
            "owner_team": asset.owner_team,
            "compatibility_mode": mode.value,
            "kind": asset.kind,
            "dialect": asset.dialect,
            "metadata": metadata,
        }
        with self._write() as conn:
            if asset.owner_team is not None:
                self._ensure_team(conn, asset.owner_team)
            row = self._asset_row(conn, asset.fqn)
            if row is None:
                now = _now()
                conn.execute(
                    "INSERT INTO assets (fqn, owner_team, compatibility_mode, kind, dialect, metadata, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (asset.fqn, *wanted.values(), now, now),
                )
                _audit(conn, AuditAction.ASSET_CREATED, asset.fqn, None, _asset_details(wanted))
            else:
                changed = {key: [row[key], value] for key, value in wanted.items() if row[key] != value}
                if changed:
                    conn.execute(
                        "UPDATE assets SET owner_team = ?, compatibility_mode = ?, kind = ?, dialect = ?, "
                        "metadata = ?, updated_at = ? WHERE id = ?",
                        (*wanted.values(), _now(), row["id"]),
                    )
                    _audit(conn, AuditAction.ASSET_UPDATED, asset.fqn, None, _asset_details(changed))
            stored = self._asset_row(conn, asset.fqn)
        assert stored is not None
        return _asset(stored)

    def get_asset(self, fqn: str) -> Asset | None:
        with self._read() as conn:
            row = self._asset_row(conn, fqn)
        return _asset(row) if row is not None else None

    def assets(self) -> list[Asset]:
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM assets ORDER BY fqn").fetchall()
        return [_asset(row) for row in rows]

    # contracts

    def current_contract(self, fqn: str) -> Contract | None:
        with self._read() as conn:
            row = self._current_row(conn, fqn)
        return _contract(row) if row is not None else None

    def contract_history(self, fqn: str) -> list[Contract]:
        with self._read() as conn:
            rows = conn.execute(f"{_CONTRACTS} WHERE a.fqn = ? ORDER BY c.id", (fqn,)).fetchall()
        return [_contract(row) for row in rows]

    def publish_contract(
        self,
        fqn: str,
        schema: Schema,
        version: str,
        *,
        change_class: str,
        published_by: str | None = None,
        expected_current: str | None = None,
        forced_reason: str | None = None,
    ) -> Contract:
        """Publish ``version``; ConflictError when the current version is not ``expected_current``."""
        _require(fqn, "asset fqn")
        _require(version, f"contract version for {fqn}")
        _check_change_class(change_class, fqn)
        if forced_reason is not None:
            _check_forced_reason(forced_reason, f"publishing {version} of {fqn}")
        with self._write() as conn:
            asset_id = self._asset_id(conn, fqn)
            self._check_version_free(conn, asset_id, fqn, version)
            self._check_current(conn, asset_id, fqn, version, expected_current)
            contract = self._insert_contract(
                conn, asset_id, fqn, schema, version, change_class, published_by, forced_reason, None
            )
        return contract

    # registrations

    def register(self, registration: Registration) -> RegisterOutcome:
        reg = registration
        _require(reg.asset_fqn, "registration asset fqn")
        _require(reg.team, f"team of the registration of {reg.consumer} on {reg.asset_fqn}")
        _require(reg.consumer, f"consumer of a registration on {reg.asset_fqn}")
        where = f"registration of {reg.consumer} ({reg.team}) on {reg.asset_fqn}"
        if reg.retired:
            raise RegistryError(f"{where} is marked retired; call retire() to retire it, register() adds")
        wanted = {
            "consumer_kind": _member(ConsumerKind, reg.consumer_kind, f"consumer kind of the {where}").value,
            "columns": json.dumps(sorted(reg.columns)) if reg.columns is not None else None,
            "dependency_type": _member(
                DependencyType, reg.dependency_type, f"dependency type of the {where}"
            ).value,
            "pinned_version": reg.pinned_version,
            "source": _member(RegistrationSource, reg.source, f"source of the {where}").value,
            "evidence": json.dumps(list(reg.evidence)),
            "consumer_asset": reg.consumer_asset,
            "flows": json.dumps(sorted((f.to_dict() for f in reg.flows), key=_flow_order)),
            "retired": 0,
        }
        with self._write() as conn:
            self._ensure_team(conn, reg.team)
            asset_id = self._asset_id(conn, reg.asset_fqn)
            row = conn.execute(
                "SELECT * FROM registrations WHERE asset_id = ? AND team = ? AND consumer = ?",
                (asset_id, reg.team, reg.consumer),
            ).fetchone()
            now = _now()
            if row is None:
                conn.execute(
                    "INSERT INTO registrations (asset_id, team, consumer, consumer_kind, columns, "
                    "dependency_type, pinned_version, source, evidence, consumer_asset, flows, retired, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (asset_id, reg.team, reg.consumer, *wanted.values(), now, now),
                )
                _audit(
                    conn,
                    AuditAction.REGISTRATION_ADDED,
                    reg.asset_fqn,
                    None,
                    _registration_details(reg, wanted),
                )
                self._notify(conn, notify.consumer_registered(reg, owner=self._owner(conn, reg.asset_fqn)))
                return RegisterOutcome.ADDED
            explicit_stays = (
                row["source"] == RegistrationSource.EXPLICIT.value
                and not row["retired"]
                and wanted["source"] == RegistrationSource.INFERRED.value
            )
            changed = {
                key: [_decoded(key, row[key]), _decoded(key, value)]
                for key, value in wanted.items()
                if row[key] != value
            }
            if explicit_stays or not changed:
                return RegisterOutcome.UNCHANGED
            conn.execute(
                "UPDATE registrations SET consumer_kind = ?, columns = ?, dependency_type = ?, "
                "pinned_version = ?, source = ?, evidence = ?, consumer_asset = ?, flows = ?, retired = ?, "
                "updated_at = ? WHERE id = ?",
                (*wanted.values(), now, row["id"]),
            )
            details = {"team": reg.team, "consumer": reg.consumer, "changed": changed}
            _audit(conn, AuditAction.REGISTRATION_CHANGED, reg.asset_fqn, None, details)
            return RegisterOutcome.CHANGED

    def retire(self, fqn: str, team: str, consumer: str) -> bool:
        with self._write() as conn:
            row = conn.execute(
                "SELECT r.id FROM registrations r JOIN assets a ON a.id = r.asset_id "
                "WHERE a.fqn = ? AND r.team = ? AND r.consumer = ? AND r.retired = 0",
                (fqn, team, consumer),
            ).fetchone()
            if row is None:
                return False
            conn.execute(
                "UPDATE registrations SET retired = 1, updated_at = ? WHERE id = ?", (_now(), row["id"])
            )
            _audit(conn, AuditAction.REGISTRATION_RETIRED, fqn, None, {"team": team, "consumer": consumer})
            return True

    def registrations(
        self,
        fqn: str | None = None,
        *,
        team: str | None = None,
        consumer: str | None = None,
        include_retired: bool = False,
    ) -> list[Registration]:
        clauses: list[str] = []
        params: list[str] = []
        for column, value in (("a.fqn", fqn), ("r.team", team), ("r.consumer", consumer)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if not include_retired:
            clauses.append("r.retired = 0")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT r.*, a.fqn FROM registrations r JOIN assets a ON a.id = r.asset_id "
                f"{where} ORDER BY r.id",
                params,
            ).fetchall()
        return [_registration(row) for row in rows]

    # proposals

    def open_proposal(
        self,
        fqn: str,
        schema: Schema,
        changes: Sequence[Change],
        affected: Sequence[AffectedConsumer],
        *,
        proposed_by: str | None = None,
        base_version: str | None = None,
    ) -> tuple[Proposal, bool]:
        """Open a proposal, or return the open one for the same schema (created=False).

        A different open (pending or approved) proposal on the same asset
        raises ConflictError, and so does a ``base_version`` that is not the
        asset's current version.
        """
        _require(fqn, "asset fqn")
        schema_json = _canonical(schema.to_dict())
        with self._write() as conn:
            asset_id = self._asset_id(conn, fqn)
            row = conn.execute(
                "SELECT p.*, a.fqn FROM proposals p JOIN assets a ON a.id = p.asset_id "
                "WHERE p.asset_id = ? AND p.status IN (?, ?)",
                (asset_id, *OPEN_STATUSES),
            ).fetchone()
            if row is not None:
                if _canonical(Schema.from_dict(json.loads(row["schema"])).to_dict()) == schema_json:
                    return self._proposal(conn, row), False
                raise ConflictError(
                    f"asset {fqn} already has open proposal {row['id']} ({row['status']}) for a "
                    f"different schema; withdraw it (withdraw({row['id']!r})) or get it acknowledged "
                    "and published first"
                )
            current = self._current_version(conn, asset_id)
            if current != base_version:
                raise ConflictError(
                    f"cannot open a proposal on {fqn} based on version {_shown(base_version)}: the current "
                    f"version is {_shown(current)}; diff against the current contract and propose again"
                )
            proposal_id = _new_proposal_id(conn)
            teams = sorted({a.team for a in affected})
            status = ProposalStatus.PENDING if teams else ProposalStatus.APPROVED
            conn.execute(
                "INSERT INTO proposals (id, asset_id, schema, changes, affected, status, base_version, "
                "proposed_by, proposed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    proposal_id,
                    asset_id,
                    schema_json,
                    json.dumps([c.to_dict() for c in changes]),
                    json.dumps([a.to_dict() for a in affected]),
                    status.value,
                    base_version,
                    proposed_by,
                    _now(),
                ),
            )
            details = {
                "proposal": proposal_id,
                "base_version": base_version,
                "affected_teams": teams,
                "changes": len(changes),
                "status": status.value,
            }
            _audit(conn, AuditAction.PROPOSAL_OPENED, fqn, proposed_by, details)
            opened = self._proposal(conn, self._proposal_row(conn, proposal_id))
            self._notify(conn, notify.proposal_opened(opened, owner=self._owner(conn, fqn)))
            return opened, True

    def get_proposal(self, proposal_id: str) -> Proposal:
        with self._read() as conn:
            return self._proposal(conn, self._proposal_row(conn, proposal_id))

    def proposals(self, fqn: str | None = None, *, status: ProposalStatus | None = None) -> list[Proposal]:
        clauses: list[str] = []
        params: list[str] = []
        if fqn is not None:
            clauses.append("a.fqn = ?")
            params.append(fqn)
        if status is not None:
            clauses.append("p.status = ?")
            params.append(_member(ProposalStatus, status, "proposal status filter").value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT p.*, a.fqn FROM proposals p JOIN assets a ON a.id = p.asset_id "
                f"{where} ORDER BY p.rowid",
                params,
            ).fetchall()
            return [self._proposal(conn, row) for row in rows]

    def acknowledge(
        self,
        proposal_id: str,
        team: str,
        response: AckResponse,
        *,
        note: str | None = None,
        by: str | None = None,
    ) -> Proposal:
        """Record (or update) a team's acknowledgment; pending -> approved once every affected team approved.

        A team changing its answer to migrating or blocked moves an approved
        proposal back to pending, in the same transaction.
        """
        answer = _member(AckResponse, response, f"response of team {team} to proposal {proposal_id}")
        with self._write() as conn:
            proposal = self._proposal(conn, self._proposal_row(conn, proposal_id))
            _require_open(proposal, f"acknowledge proposal {proposal_id} for team {team}")
            if team not in proposal.affected_teams:
                raise InvalidStateError(
                    f"team {team!r} is not affected by proposal {proposal_id} on {proposal.asset_fqn}; only "
                    f"{', '.join(proposal.affected_teams) or 'no team'} may acknowledge it"
                )
            self._ensure_team(conn, team)
            conn.execute(
                "INSERT INTO acknowledgments (proposal_id, team, response, note, acknowledged_by, "
                "acknowledged_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (proposal_id, team) DO UPDATE SET response = excluded.response, "
                "note = excluded.note, acknowledged_by = excluded.acknowledged_by, "
                "acknowledged_at = excluded.acknowledged_at",
                (proposal_id, team, answer.value, note, by, _now()),
            )
            previous = proposal.ack_of(team)
            details: dict[str, Any] = {
                "proposal": proposal_id,
                "team": team,
                "response": answer.value,
                "note": note,
            }
            if previous is not None:
                details["previous_response"] = previous.response.value
            _audit(conn, AuditAction.PROPOSAL_ACKNOWLEDGED, proposal.asset_fqn, by, details)
            updated = self._proposal(conn, self._proposal_row(conn, proposal_id))
            status = ProposalStatus.APPROVED if updated.fully_acknowledged else ProposalStatus.PENDING
            if status is not updated.status:
                conn.execute("UPDATE proposals SET status = ? WHERE id = ?", (status.value, proposal_id))
                action = (
                    AuditAction.PROPOSAL_APPROVED
                    if status is ProposalStatus.APPROVED
                    else (AuditAction.PROPOSAL_REOPENED)
                )
                _audit(conn, action, proposal.asset_fqn, by, {"proposal": proposal_id, "after": team})
                updated = self._proposal(conn, self._proposal_row(conn, proposal_id))
            if previous is None or (previous.response, previous.note) != (answer, note):  # news only
                owner = self._owner(conn, proposal.asset_fqn)
                was = previous.response if previous is not None else None
                self._notify(conn, notify.acknowledgment_received(updated, team, owner=owner, previous=was))
            return updated

    def withdraw(self, proposal_id: str, *, by: str | None = None, reason: str | None = None) -> Proposal:
        with self._write() as conn:
            proposal = self._proposal(conn, self._proposal_row(conn, proposal_id))
            _require_open(proposal, f"withdraw proposal {proposal_id}")
            conn.execute(
                "UPDATE proposals SET status = ?, resolved_at = ?, reason = ? WHERE id = ?",
                (ProposalStatus.WITHDRAWN.value, _now(), reason, proposal_id),
            )
            details = {"proposal": proposal_id, "reason": reason, "was": proposal.status.value}
            _audit(conn, AuditAction.PROPOSAL_WITHDRAWN, proposal.asset_fqn, by, details)
            withdrawn = self._proposal(conn, self._proposal_row(conn, proposal_id))
            self._notify(conn, notify.proposal_closed(withdrawn, owner=self._owner(conn, proposal.asset_fqn)))
            return withdrawn

    def publish_proposal(
        self,
        proposal_id: str,
        version: str,
        *,
        change_class: str = "major",
        by: str | None = None,
        forced_reason: str | None = None,
    ) -> tuple[Proposal, Contract]:
        """Publish an approved proposal (or force a pending one with ``forced_reason``) exactly once."""
        _require(version, f"contract version for proposal {proposal_id}")
        _check_change_class(change_class, f"proposal {proposal_id}")
        if forced_reason is not None:
            _check_forced_reason(forced_reason, f"forcing proposal {proposal_id}")
        with self._write() as conn:
            row = self._proposal_row(conn, proposal_id)
            proposal = self._proposal(conn, row)
            fqn = proposal.asset_fqn
            _require_open(proposal, f"publish proposal {proposal_id}")
            if forced_reason is None and proposal.status is not ProposalStatus.APPROVED:
                raise InvalidStateError(
                    f"proposal {proposal_id} on {fqn} is {proposal.status.value}: waiting for "
                    f"{', '.join(proposal.awaiting)} to approve; wait for their acknowledgments "
                    f"or publish with forced_reason (at least {MIN_FORCED_REASON} characters)"
                )
            self._check_version_free(conn, row["asset_id"], fqn, version)
            try:
                self._check_current(conn, row["asset_id"], fqn, version, proposal.base_version)
            except ConflictError as error:
                raise ConflictError(
                    f"proposal {proposal_id} is stale: {error}. "
                    "Withdraw it and propose against the current contract"
                ) from error
            status = ProposalStatus.FORCED if forced_reason is not None else ProposalStatus.PUBLISHED
            contract = self._insert_contract(
                conn,
                row["asset_id"],
                fqn,
                proposal.schema,
                version,
                change_class,
                by,
                forced_reason,
                proposal_id,
            )
            conn.execute(
                "UPDATE proposals SET status = ?, resolved_at = ?, published_version = ?, "
                "reason = COALESCE(?, reason) WHERE id = ?",
                (status.value, _now(), version, forced_reason, proposal_id),
            )
            action = (
                AuditAction.PROPOSAL_FORCED if forced_reason is not None else AuditAction.PROPOSAL_PUBLISHED
            )
            details = {
                "proposal": proposal_id,
                "version": version,
                "forced_reason": forced_reason,
                "awaiting": list(proposal.awaiting),
            }
            _audit(conn, action, fqn, by, details)
            closed = self._proposal(conn, self._proposal_row(conn, proposal_id))
            self._notify(conn, notify.proposal_closed(closed, owner=self._owner(conn, fqn)))
            return closed, contract

    # audit

    def audit(self, fqn: str | None = None, *, limit: int | None = None) -> list[AuditEvent]:
        """Audit events, oldest first; ``limit`` keeps the newest ``limit`` of them."""
        if limit is not None and limit < 0:
            raise RegistryError(f"audit limit must be 0 or more, got {limit}; pass None for every event")
        where, params = ("WHERE asset_fqn = ?", [fqn]) if fqn is not None else ("", [])
        tail = f"LIMIT {int(limit)}" if limit is not None else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT * FROM audit_events {where} ORDER BY seq DESC {tail}", params
            ).fetchall()
        return [
            AuditEvent(
                row["seq"],
                row["at"],
                row["action"],
                row["asset_fqn"],
                row["actor"],
                json.loads(row["details"]),
            )
            for row in reversed(rows)
        ]

    # connections and transactions

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RegistryError(f"the registry {self.path} is closed; open a new SqliteRegistry")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = self._open()
            with self._lock:
                if self._closed:  # closed by another thread meanwhile
                    conn.close()
                    raise RegistryError(f"the registry {self.path} is closed; open a new SqliteRegistry")
                finished = [
                    c for pid, thread, c in self._connections if pid == os.getpid() and not thread.is_alive()
                ]
                self._connections = [entry for entry in self._connections if entry[2] not in finished]
                self._connections.append((os.getpid(), threading.current_thread(), conn))
            self._local.conn, self._local.pid = conn, os.getpid()
            for old in finished:  # threads that ended leave their connection behind; close it now
                old.close()
        return conn

    def _open(self) -> sqlite3.Connection:
        with self._translate():
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            try:
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA journal_mode = WAL")
            except BaseException:
                conn.close()
                raise
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the write lock is taken up front (BEGIN IMMEDIATE)."""
        conn = self._connection()
        with self._translate():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query inside sees the same snapshot."""
        conn = self._connection()
        with self._translate():
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            text = str(error)
            if "locked" in text or "busy" in text:
                raise RegistryUnavailableError(
                    f"the registry {self.path} is locked by another writer "
                    f"(waited up to {self.timeout}s: {text}); "
                    "retry, or open it with a longer timeout"
                ) from error
            raise RegistryError(f"the registry {self.path} failed: {text}") from error
        except sqlite3.IntegrityError as error:
            raise ConflictError(f"the registry {self.path} refused a write: {error}") from error
        except sqlite3.DatabaseError as error:
            raise RegistryError(
                f"{self.path} cannot be used as a registry: {error}; point to a SQLite registry file "
                "or to a path where a new one can be created"
            ) from error

    # helpers inside a transaction

    def _ensure_team(self, conn: sqlite3.Connection, name: str) -> None:
        cursor = conn.execute("INSERT OR IGNORE INTO teams (name, created_at) VALUES (?, ?)", (name, _now()))
        if cursor.rowcount:
            _audit(conn, AuditAction.TEAM_CREATED, None, None, {"team": name})

    def _asset_row(self, conn: sqlite3.Connection, fqn: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute("SELECT * FROM assets WHERE fqn = ?", (fqn,)).fetchone()
        return row

    def _owner(self, conn: sqlite3.Connection, fqn: str) -> str | None:
        row = self._asset_row(conn, fqn)
        return row["owner_team"] if row is not None else None

    def _notify(self, conn: sqlite3.Connection, notices: Sequence[notify.Notice]) -> None:
        """Write an event's notices to the outbox inside the event's own transaction."""
        if notices:
            record_notices(conn, notices, at=_now())

    def _asset_id(self, conn: sqlite3.Connection, fqn: str) -> int:
        """The id of asset ``fqn``, created (no owner, defaults) when missing."""
        row = self._asset_row(conn, fqn)
        if row is not None:
            return int(row["id"])
        now = _now()
        cursor = conn.execute(
            "INSERT INTO assets (fqn, created_at, updated_at) VALUES (?, ?, ?)", (fqn, now, now)
        )
        _audit(conn, AuditAction.ASSET_CREATED, fqn, None, {"implicit": True})
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _current_row(self, conn: sqlite3.Connection, fqn: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            f"{_CONTRACTS} WHERE a.fqn = ? ORDER BY c.id DESC LIMIT 1", (fqn,)
        ).fetchone()
        return row

    def _current_version(self, conn: sqlite3.Connection, asset_id: int) -> str | None:
        row = conn.execute(
            "SELECT version FROM contracts WHERE asset_id = ? ORDER BY id DESC LIMIT 1", (asset_id,)
        ).fetchone()
        return str(row["version"]) if row is not None else None

    def _check_version_free(self, conn: sqlite3.Connection, asset_id: int, fqn: str, version: str) -> None:
        taken = conn.execute(
            "SELECT 1 FROM contracts WHERE asset_id = ? AND version = ?", (asset_id, version)
        ).fetchone()
        if taken is not None:
            raise ConflictError(
                f"version {version} of {fqn} is already published; publish a new version number"
            )

    def _check_current(
        self, conn: sqlite3.Connection, asset_id: int, fqn: str, version: str, expected: str | None
    ) -> None:
        current = self._current_version(conn, asset_id)
        if current != expected:
            raise ConflictError(
                f"cannot publish {version} of {fqn}: expected the current version to be {_shown(expected)} "
                f"but it is {_shown(current)} (someone published meanwhile); re-read the current contract, "
                "check compatibility again and retry"
            )

    def _insert_contract(
        self,
        conn: sqlite3.Connection,
        asset_id: int,
        fqn: str,
        schema: Schema,
        version: str,
        change_class: str,
        by: str | None,
        forced_reason: str | None,
        proposal_id: str | None,
    ) -> Contract:
        now = _now()
        cursor = conn.execute(
            "INSERT INTO contracts (asset_id, version, schema, change_class, published_by, published_at, "
            "forced_reason, proposal_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                asset_id,
                version,
                _canonical(schema.to_dict()),
                change_class,
                by,
                now,
                forced_reason,
                proposal_id,
            ),
        )
        details = {
            "version": version,
            "change_class": change_class,
            "forced_reason": forced_reason,
            "proposal": proposal_id,
        }
        _audit(conn, AuditAction.CONTRACT_PUBLISHED, fqn, by, details)
        return Contract(
            fqn, version, schema, by, now, change_class, forced_reason, proposal_id, str(cursor.lastrowid)
        )

    def _proposal_row(self, conn: sqlite3.Connection, proposal_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT p.*, a.fqn FROM proposals p JOIN assets a ON a.id = p.asset_id WHERE p.id = ?",
            (proposal_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"proposal {proposal_id!r} not found in the registry {self.path}; list the proposals with "
                "proposals() (or proposals(fqn) for one asset)"
            )
        return row

    def _proposal(self, conn: sqlite3.Connection, row: sqlite3.Row) -> Proposal:
        acks = conn.execute(
            "SELECT * FROM acknowledgments WHERE proposal_id = ? ORDER BY team", (row["id"],)
        ).fetchall()
        return Proposal(
            id=row["id"],
            asset_fqn=row["fqn"],
            schema=Schema.from_dict(json.loads(row["schema"])),
            changes=tuple(Change.from_dict(c) for c in json.loads(row["changes"])),
            affected=tuple(_affected(a) for a in json.loads(row["affected"])),
            status=ProposalStatus(row["status"]),
            proposed_by=row["proposed_by"],
            proposed_at=row["proposed_at"],
            base_version=row["base_version"],
            acknowledgments=tuple(
                Acknowledgment(
                    a["team"],
                    AckResponse(a["response"]),
                    a["note"],
                    a["acknowledged_by"],
                    a["acknowledged_at"],
                )
                for a in acks
            ),
            resolved_at=row["resolved_at"],
            published_version=row["published_version"],
            reason=row["reason"],
        )


_CONTRACTS = "SELECT c.*, a.fqn FROM contracts c JOIN assets a ON a.id = c.asset_id"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _json(value: Any, what: str) -> str:
    try:
        return _canonical(value)
    except (TypeError, ValueError) as error:
        raise RegistryError(
            f"{what} is not JSON-serializable ({error}); store strings, numbers, lists, dicts"
        ) from error


def _new_proposal_id(conn: sqlite3.Connection) -> str:
    while True:
        candidate = f"P-{secrets.token_hex(4)}"
        if conn.execute("SELECT 1 FROM proposals WHERE id = ?", (candidate,)).fetchone() is None:
            return candidate


def _audit(
    conn: sqlite3.Connection, action: AuditAction, fqn: str | None, actor: str | None, details: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO audit_events (at, action, asset_fqn, actor, details) VALUES (?, ?, ?, ?, ?)",
        (_now(), action.value, fqn, actor, _canonical(details)),
    )


def _asset_details(values: dict[str, Any]) -> dict[str, Any]:
    """Audit details of an asset: metadata decoded back to JSON, not a string inside JSON."""
    out = dict(values)
    if "metadata" in out:
        meta = out["metadata"]
        out["metadata"] = [json.loads(v) for v in meta] if isinstance(meta, list) else json.loads(meta)
    return out


def _decoded(key: str, value: Any) -> Any:
    return json.loads(value) if key in ("columns", "evidence", "flows") and value is not None else value


def _flow_order(flow: dict[str, Any]) -> tuple[str, str, bool]:
    return (flow["source"], flow["target"], flow["direct"])


def _registration_details(reg: Registration, wanted: dict[str, Any]) -> dict[str, Any]:
    details = {key: _decoded(key, value) for key, value in wanted.items() if key != "retired"}
    return {"team": reg.team, "consumer": reg.consumer, **details}


def _asset(row: sqlite3.Row) -> Asset:
    return Asset(
        fqn=row["fqn"],
        owner_team=row["owner_team"],
        compatibility_mode=CompatibilityMode(row["compatibility_mode"]),
        kind=row["kind"],
        dialect=row["dialect"],
        metadata=json.loads(row["metadata"]),
        id=str(row["id"]),
    )


def _contract(row: sqlite3.Row) -> Contract:
    return Contract(
        asset_fqn=row["fqn"],
        version=row["version"],
        schema=Schema.from_dict(json.loads(row["schema"])),
        published_by=row["published_by"],
        published_at=row["published_at"],
        change_class=row["change_class"],
        forced_reason=row["forced_reason"],
        proposal_id=row["proposal_id"],
        id=str(row["id"]),
    )


def _registration(row: sqlite3.Row) -> Registration:
    columns = row["columns"]
    return Registration(
        asset_fqn=row["fqn"],
        team=row["team"],
        consumer=row["consumer"],
        consumer_kind=ConsumerKind(row["consumer_kind"]),
        columns=frozenset(json.loads(columns)) if columns is not None else None,
        dependency_type=DependencyType(row["dependency_type"]),
        pinned_version=row["pinned_version"],
        source=RegistrationSource(row["source"]),
        evidence=tuple(json.loads(row["evidence"])),
        retired=bool(row["retired"]),
        consumer_asset=row["consumer_asset"],
        flows=tuple(ColumnFlow.from_dict(f) for f in json.loads(row["flows"])),
        id=str(row["id"]),
    )


def _affected(data: dict[str, Any]) -> AffectedConsumer:
    return AffectedConsumer(
        team=data["team"],
        consumer=data["consumer"],
        asset_fqn=data["asset"],
        consumer_kind=ConsumerKind(data.get("consumer_kind", ConsumerKind.OTHER.value)),
        columns=tuple(data.get("columns", ())),
        evidence=tuple(data.get("evidence", ())),
        depth=int(data.get("depth", 0)),
    )


__all__ = ["AuditAction", "SqliteRegistry"]
