"""The registry interface both backends implement, and the values it stores.

The registry stores and answers; it does not decide. Diffing, verdicts and
impact live in ``compat`` and ``impact``; ``gate`` composes them and calls the
registry's atomic operations. Each operation is one transaction: either it
happened completely or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from tessera_core.compat.changes import Change
from tessera_core.compat.changes import CompatibilityMode as CompatibilityMode
from tessera_core.schema.model import Schema


class ConsumerKind(StrEnum):
    DBT_MODEL = "dbt_model"
    EXPOSURE = "exposure"
    DAGSTER_ASSET = "dagster_asset"
    AIRFLOW_TASK = "airflow_task"
    AGENT = "agent"
    OTHER = "other"


class DependencyType(StrEnum):
    CONSUMES = "consumes"
    REFERENCES = "references"
    TRANSFORMS = "transforms"


class RegistrationSource(StrEnum):
    EXPLICIT = "explicit"  # a person, a config file, an API call
    INFERRED = "inferred"  # lineage; retired when the SQL no longer supports it


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    FORCED = "forced"  # published over missing acknowledgments, with a reason


class AckResponse(StrEnum):
    APPROVED = "approved"
    MIGRATING = "migrating"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """A table, view, topic or endpoint that has (or will have) a contract.

    ``fqn`` is ``database.schema.name`` normalized with the dialect's case rules.
    """

    fqn: str
    owner_team: str | None = None
    compatibility_mode: CompatibilityMode = CompatibilityMode.BACKWARD
    kind: str = "table"  # model, source, seed, snapshot, topic, endpoint, table
    dialect: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Contract:
    asset_fqn: str
    version: str
    schema: Schema
    published_by: str | None = None
    published_at: str | None = None
    change_class: str = "initial"  # initial | major | minor | patch
    forced_reason: str | None = None
    proposal_id: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ColumnFlow:
    """Column ``source`` of the read asset flows into column ``target`` of the consumer's own asset.

    ``direct``: an unchanged copy (``select customer_id``), so the target's type is the source's type.
    Transitive impact follows flows from asset to asset.
    """

    source: str
    target: str
    direct: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "direct": self.direct}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnFlow:
        return cls(data["source"], data["target"], bool(data.get("direct", False)))


@dataclass(frozen=True, slots=True)
class Registration:
    """A consumer depends on an asset, optionally on some of its columns only.

    ``columns`` is ``None`` when the consumer reads everything (or nobody knows
    what it reads: the fail-safe). ``evidence`` says how lineage inferred it
    (``"customer_id: join, select"``). ``consumer_asset`` and ``flows`` carry
    column lineage onward so impact can follow a change to any depth.
    The identity is (asset, team, consumer): registering it again updates it.
    """

    asset_fqn: str
    team: str
    consumer: str
    consumer_kind: ConsumerKind = ConsumerKind.OTHER
    columns: frozenset[str] | None = None
    dependency_type: DependencyType = DependencyType.CONSUMES
    pinned_version: str | None = None
    source: RegistrationSource = RegistrationSource.EXPLICIT
    evidence: tuple[str, ...] = ()
    retired: bool = False
    consumer_asset: str | None = None  # fqn of the asset the consumer itself produces (a dbt model), if any
    flows: tuple[ColumnFlow, ...] = ()  # how read columns reach the consumer's own output columns
    id: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.asset_fqn, self.team, self.consumer)

    def reads(self, column: str | None) -> bool:
        """Does this consumer read ``column`` (``None``: a schema-level change)?"""
        return self.columns is None or column is None or column in self.columns


class RegisterOutcome(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class AffectedConsumer:
    """A consumer a breaking change reaches, with the columns of it that change."""

    team: str
    consumer: str
    asset_fqn: str
    consumer_kind: ConsumerKind = ConsumerKind.OTHER
    columns: tuple[str, ...] = ()  # columns it reads that the change touches; () = whole schema
    evidence: tuple[str, ...] = ()  # e.g. "fct_orders.customer_id <- stg_customers.id via JOIN ON"
    depth: int = 0  # 0: reads the asset itself; n: through n intermediate models

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "consumer": self.consumer,
            "asset": self.asset_fqn,
            "consumer_kind": self.consumer_kind.value,
            "columns": list(self.columns),
            "evidence": list(self.evidence),
            "depth": self.depth,
        }


@dataclass(frozen=True, slots=True)
class Acknowledgment:
    team: str
    response: AckResponse
    note: str | None = None
    by: str | None = None
    at: str | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    id: str
    asset_fqn: str
    schema: Schema
    changes: tuple[Change, ...]
    affected: tuple[AffectedConsumer, ...]
    status: ProposalStatus
    proposed_by: str | None = None
    proposed_at: str | None = None
    base_version: str | None = None
    acknowledgments: tuple[Acknowledgment, ...] = ()
    resolved_at: str | None = None
    published_version: str | None = None
    reason: str | None = None  # force / withdraw reason

    @property
    def affected_teams(self) -> tuple[str, ...]:
        return tuple(sorted({a.team for a in self.affected}))

    def ack_of(self, team: str) -> Acknowledgment | None:
        for ack in self.acknowledgments:
            if ack.team == team:
                return ack
        return None

    @property
    def awaiting(self) -> tuple[str, ...]:
        """Teams that have not approved yet (migrating and blocked still count as waiting)."""
        return tuple(
            t
            for t in self.affected_teams
            if (a := self.ack_of(t)) is None or a.response is not AckResponse.APPROVED
        )

    @property
    def fully_acknowledged(self) -> bool:
        return not self.awaiting


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    at: str
    action: str
    asset_fqn: str | None
    actor: str | None
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@runtime_checkable
class Registry(Protocol):
    """Storage of teams, assets, contracts, registrations, proposals and the audit log."""

    # teams and assets
    def ensure_team(self, name: str) -> Team: ...
    def teams(self) -> list[Team]: ...
    def upsert_asset(self, asset: Asset) -> Asset: ...
    def get_asset(self, fqn: str) -> Asset | None: ...
    def assets(self) -> list[Asset]: ...

    # contracts
    def current_contract(self, fqn: str) -> Contract | None: ...
    def contract_history(self, fqn: str) -> list[Contract]: ...
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
        ...

    # registrations
    def register(self, registration: Registration) -> RegisterOutcome: ...
    def retire(self, fqn: str, team: str, consumer: str) -> bool: ...
    def registrations(
        self,
        fqn: str | None = None,
        *,
        team: str | None = None,
        consumer: str | None = None,
        include_retired: bool = False,
    ) -> list[Registration]: ...

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
        """Open a proposal, or return the pending one for the same schema (created=False).

        A different pending proposal on the same asset raises ConflictError.
        """
        ...

    def get_proposal(self, proposal_id: str) -> Proposal: ...
    def proposals(
        self, fqn: str | None = None, *, status: ProposalStatus | None = None
    ) -> list[Proposal]: ...
    def acknowledge(
        self,
        proposal_id: str,
        team: str,
        response: AckResponse,
        *,
        note: str | None = None,
        by: str | None = None,
    ) -> Proposal:
        """Record (or update) a team's answer; pending -> approved once every affected team approved."""
        ...

    def withdraw(self, proposal_id: str, *, by: str | None = None, reason: str | None = None) -> Proposal: ...
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
        ...

    # audit
    def audit(self, fqn: str | None = None, *, limit: int | None = None) -> list[AuditEvent]: ...
