"""The outbox tables in the SQLite registry: notices written with their event, deliveries tracked to the end.

Write side: ``record`` runs inside a registry write transaction (the registry
calls it), so a notice commits or rolls back with the event that causes it.

Delivery side: an ``Outbox`` opens the same file on its own connection and
moves each delivery through ``pending -> delivered | dead``:

1. ``route``: notices not yet routed get one delivery per channel their team
   has in the config (a new uuid each, the delivery id, kept for good);
2. ``claim``: due deliveries are taken for one attempt each, in one write
   transaction that counts the attempt and pushes ``next_attempt_at`` past a
   lease. A second flush running at the same time does not take them; a flush
   that dies mid-attempt leaves them to be taken again once the lease is over;
3. ``delivered`` / ``failed``: the outcome, with the next attempt time
   (exponential backoff) or ``dead`` once the attempts are used up.

A crash between the registry's commit and step 3 therefore loses nothing, and
a crash after the receiver got a delivery but before step 3 sends it again
with the same delivery id: at least once, with an idempotency key.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from tessera_core.errors import RegistryUnavailableError
from tessera_core.notify.errors import NotifyError
from tessera_core.notify.events import Notice
from tessera_core.registry import migrations

PAYLOAD_VERSION = 1


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def stamp(moment: datetime) -> str:
    """The one timestamp format of the outbox (UTC, microseconds), so text order is time order."""
    if moment.tzinfo is None:
        raise NotifyError(f"timestamp {moment!r} has no time zone; pass an aware datetime (UTC)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def record(conn: sqlite3.Connection, notices: Iterable[Notice], *, at: str) -> tuple[str, ...]:
    """Insert ``notices`` on ``conn`` inside the caller's open transaction; return their ids."""
    ids = []
    for notice in notices:
        notice_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO notify_notices (id, event, team, asset_fqn, proposal_id, subject, data, "
            "occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                notice_id,
                notice.event.value,
                notice.team,
                notice.asset,
                notice.proposal_id,
                notice.subject,
                json.dumps(notice.data, sort_keys=True),
                at,
            ),
        )
        ids.append(notice_id)
    return tuple(ids)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One (notice, channel) taken for an attempt; ``attempts`` counts this one."""

    id: str
    channel: str
    attempts: int
    notice_id: str
    event: str
    team: str
    asset: str
    subject: str
    occurred_at: str
    data: dict[str, Any] = field(hash=False, compare=False)

    def payload(self) -> dict[str, Any]:
        """The JSON document every channel starts from (the webhook body as is)."""
        return {
            "payload_version": PAYLOAD_VERSION,
            "delivery_id": self.id,
            "notice_id": self.notice_id,
            "event": self.event,
            "occurred_at": self.occurred_at,
            "team": self.team,
            "asset": self.asset,
            "subject": self.subject,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """Where one delivery stands; ``last_error`` never holds a secret."""

    id: str
    channel: str
    status: DeliveryStatus
    attempts: int
    event: str
    team: str
    subject: str
    next_attempt_at: str | None = None
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivery_id": self.id,
            "channel": self.channel,
            "status": self.status.value,
            "attempts": self.attempts,
            "event": self.event,
            "team": self.team,
            "subject": self.subject,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
        }


@dataclass(frozen=True, slots=True)
class Unrouted:
    """A notice whose team had no channel when it was routed: nobody was told."""

    notice_id: str
    event: str
    team: str
    subject: str

    def to_dict(self) -> dict[str, Any]:
        return {"notice_id": self.notice_id, "event": self.event, "team": self.team, "subject": self.subject}


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """Counts by delivery status, notices not routed yet, and every delivery that needs a look."""

    pending: int = 0
    delivered: int = 0
    dead: int = 0
    unrouted: int = 0  # notices written but not yet read by a flush
    no_channel: int = 0  # notices whose team had no channel configured
    dead_deliveries: tuple[DeliveryState, ...] = ()
    retrying: tuple[DeliveryState, ...] = ()  # pending after at least one failed attempt

    def to_dict(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "delivered": self.delivered,
            "dead": self.dead,
            "unrouted": self.unrouted,
            "no_channel": self.no_channel,
            "dead_deliveries": [d.to_dict() for d in self.dead_deliveries],
            "retrying": [d.to_dict() for d in self.retrying],
        }

    def summary(self) -> str:
        """The counts, then each dead and retrying delivery with its last error."""
        lines = [
            f"delivered {self.delivered}, pending {self.pending}, dead {self.dead}, "
            f"not routed yet {self.unrouted}, no channel {self.no_channel}"
        ]
        lines += [
            f"  DEAD   {d.channel:7} {d.team}: {d.event} after {d.attempts} attempts ({d.id}): {d.last_error}"
            for d in self.dead_deliveries
        ]
        lines += [
            f"  retry  {d.channel:7} {d.team}: {d.event} (attempt {d.attempts}, next at "
            f"{d.next_attempt_at}): {d.last_error}"
            for d in self.retrying
        ]
        return "\n".join(lines)


class Outbox:
    """The delivery side of the outbox in the registry file at ``path`` (which must exist).

    Opening applies any missing registry migration, like ``SqliteRegistry``.
    ``timeout``: seconds to wait for a registry writer. Use as a context manager.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise NotifyError(
                f"no registry at {self.path}: nothing to deliver. Point to the SQLite registry the events "
                "were written to (--registry / TESSERA_REGISTRY)"
            )
        self.timeout = timeout
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            with self._translate():
                migrations.apply(self._conn, migrations.packaged(), label=str(self.path))
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def route(self, channels_of: Callable[[str], tuple[str, ...]], *, now: datetime) -> tuple[Unrouted, ...]:
        """Give every unrouted notice one pending delivery per channel of its team; return the notices
        whose team has none (they are marked routed all the same, and counted as ``no_channel``)."""
        at = stamp(now)
        skipped = []
        with self._write() as conn:
            rows = conn.execute(
                "SELECT id, event, team, subject FROM notify_notices WHERE routed_at IS NULL "
                "ORDER BY occurred_at, rowid"
            ).fetchall()
            for row in rows:
                channels = channels_of(row["team"])
                for channel in channels:
                    conn.execute(
                        "INSERT INTO notify_deliveries (id, notice_id, channel, next_attempt_at, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (str(uuid.uuid4()), row["id"], channel, at, at),
                    )
                conn.execute(
                    "UPDATE notify_notices SET routed_at = ?, routed_to = ? WHERE id = ?",
                    (at, json.dumps(list(channels)), row["id"]),
                )
                if not channels:
                    skipped.append(Unrouted(row["id"], row["event"], row["team"], row["subject"]))
        return tuple(skipped)

    def claim(
        self, *, now: datetime, lease: timedelta, max_attempts: int, limit: int = 100
    ) -> tuple[tuple[Delivery, ...], tuple[DeliveryState, ...]]:
        """Take up to ``limit`` due deliveries for one attempt each.

        Returns (taken, died): a due delivery that already used ``max_attempts``
        (its last attempt never reported back) is marked dead instead of taken.
        """
        at = stamp(now)
        taken: list[Delivery] = []
        died: list[DeliveryState] = []
        with self._write() as conn:
            rows = conn.execute(
                f"{_JOINED} WHERE d.status = ? AND d.next_attempt_at <= ? "
                "ORDER BY d.next_attempt_at, d.rowid LIMIT ?",
                (DeliveryStatus.PENDING.value, at, limit),
            ).fetchall()
            for row in rows:
                if row["attempts"] >= max_attempts:
                    error = (
                        f"gave up after {row['attempts']} attempts; the last one never reported back "
                        "(the flushing process stopped mid-delivery)"
                    )
                    conn.execute(
                        "UPDATE notify_deliveries SET status = ?, last_error = ? WHERE id = ?",
                        (DeliveryStatus.DEAD.value, error, row["id"]),
                    )
                    died.append(_state(row, DeliveryStatus.DEAD, last_error=error))
                    continue
                conn.execute(
                    "UPDATE notify_deliveries SET attempts = attempts + 1, last_attempt_at = ?, "
                    "next_attempt_at = ? WHERE id = ?",
                    (at, stamp(now + lease), row["id"]),
                )
                taken.append(
                    Delivery(
                        id=row["id"],
                        channel=row["channel"],
                        attempts=row["attempts"] + 1,
                        notice_id=row["notice_id"],
                        event=row["event"],
                        team=row["team"],
                        asset=row["asset_fqn"],
                        subject=row["subject"],
                        occurred_at=row["occurred_at"],
                        data=json.loads(row["data"]),
                    )
                )
        return tuple(taken), tuple(died)

    def delivered(self, delivery_id: str, *, now: datetime) -> DeliveryState:
        with self._write() as conn:
            conn.execute(
                "UPDATE notify_deliveries SET status = ?, delivered_at = ?, last_error = NULL, "
                "next_attempt_at = ? WHERE id = ?",
                (DeliveryStatus.DELIVERED.value, stamp(now), stamp(now), delivery_id),
            )
            return _state(self._row(conn, delivery_id))

    def failed(self, delivery_id: str, error: str, *, retry_at: datetime | None) -> DeliveryState:
        """Record a failed attempt: pending again at ``retry_at``, or dead when it is ``None``."""
        with self._write() as conn:
            if retry_at is None:
                conn.execute(
                    "UPDATE notify_deliveries SET status = ?, last_error = ? WHERE id = ?",
                    (DeliveryStatus.DEAD.value, error, delivery_id),
                )
            else:
                conn.execute(
                    "UPDATE notify_deliveries SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                    (stamp(retry_at), error, delivery_id),
                )
            return _state(self._row(conn, delivery_id))

    def waiting(self) -> int:
        """Pending deliveries (due later, or claimed by another flush right now)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM notify_deliveries WHERE status = ?", (DeliveryStatus.PENDING.value,)
            ).fetchone()
        return int(row[0])

    def status(self) -> OutboxStatus:
        with self._read() as conn:
            counts = dict(
                conn.execute("SELECT status, count(*) FROM notify_deliveries GROUP BY status").fetchall()
            )
            unrouted, no_channel = conn.execute(
                "SELECT count(*) FILTER (WHERE routed_at IS NULL), "
                "count(*) FILTER (WHERE routed_to = '[]') FROM notify_notices"
            ).fetchone()
            dead = conn.execute(
                f"{_JOINED} WHERE d.status = ? ORDER BY d.rowid", (DeliveryStatus.DEAD.value,)
            ).fetchall()
            retrying = conn.execute(
                f"{_JOINED} WHERE d.status = ? AND d.attempts > 0 ORDER BY d.next_attempt_at",
                (DeliveryStatus.PENDING.value,),
            ).fetchall()
        return OutboxStatus(
            pending=counts.get(DeliveryStatus.PENDING.value, 0),
            delivered=counts.get(DeliveryStatus.DELIVERED.value, 0),
            dead=counts.get(DeliveryStatus.DEAD.value, 0),
            unrouted=unrouted,
            no_channel=no_channel,
            dead_deliveries=tuple(_state(r) for r in dead),
            retrying=tuple(_state(r) for r in retrying),
        )

    def _row(self, conn: sqlite3.Connection, delivery_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(f"{_JOINED} WHERE d.id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise NotifyError(f"delivery {delivery_id} is not in the outbox of {self.path}")
        return row

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._translate():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._translate():
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise RegistryUnavailableError(
                    f"the registry {self.path} is locked by another writer (waited up to {self.timeout}s); "
                    "flush again later"
                ) from error
            raise NotifyError(f"the outbox in {self.path} failed: {error}") from error
        except sqlite3.DatabaseError as error:
            raise NotifyError(
                f"{self.path} cannot be used as a registry outbox: {error}; point to the SQLite registry file"
            ) from error


_JOINED = (
    "SELECT d.*, n.event, n.team, n.asset_fqn, n.subject, n.data, n.occurred_at "
    "FROM notify_deliveries d JOIN notify_notices n ON n.id = d.notice_id"
)


def _state(
    row: sqlite3.Row, status: DeliveryStatus | None = None, *, last_error: str | None = None
) -> DeliveryState:
    final = status or DeliveryStatus(row["status"])
    return DeliveryState(
        id=row["id"],
        channel=row["channel"],
        status=final,
        attempts=row["attempts"],
        event=row["event"],
        team=row["team"],
        subject=row["subject"],
        next_attempt_at=row["next_attempt_at"] if final is DeliveryStatus.PENDING else None,
        last_error=last_error if last_error is not None else row["last_error"],
    )


__all__ = [
    "PAYLOAD_VERSION",
    "Delivery",
    "DeliveryState",
    "DeliveryStatus",
    "Outbox",
    "OutboxStatus",
    "Unrouted",
    "record",
    "stamp",
]
