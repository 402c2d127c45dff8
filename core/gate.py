"""The gate: check a proposed schema, publish it, and move proposals along.

Every plugin (dbt, Dagster, Airflow, the CLI, the MCP server) calls these
functions; they compose ``compat`` (what changed, what breaks under the mode),
``impact`` (who it reaches) and a ``Registry`` (what is published, who
registered, what was acknowledged). The registry stores; the gate decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tessera_core.compat.changes import Change
from tessera_core.compat.diff import diff, removed_asset_changes
from tessera_core.compat.modes import CompatPolicy, Judged, change_class, verdict, verdict_transitive
from tessera_core.errors import RegistryUnavailableError
from tessera_core.impact import ContractBreak, affected_consumers, contract_breaks
from tessera_core.registry.base import (
    AckResponse,
    AffectedConsumer,
    Asset,
    CompatibilityMode,
    Contract,
    Proposal,
    ProposalStatus,
    Registry,
)
from tessera_core.schema.model import Schema
from tessera_core.versioning import INITIAL_VERSION, bump

log = logging.getLogger("tessera")

TRANSITIVE = {
    CompatibilityMode.BACKWARD_TRANSITIVE,
    CompatibilityMode.FORWARD_TRANSITIVE,
    CompatibilityMode.FULL_TRANSITIVE,
}
OPEN = (ProposalStatus.PENDING, ProposalStatus.APPROVED)


class Decision(StrEnum):
    PASS = "pass"  # nothing breaks (or every affected team approved): go ahead and publish
    BLOCKED = "blocked"  # breaking, and some affected team has not approved yet
    NOTIFY = "notify_only"  # breaking by the rules, but the mode (none) or fail-open says go: teams are told


@dataclass(frozen=True, slots=True)
class GateSettings:
    """How the gate decides. ``fail_open``: when the registry cannot be reached, pass with a
    loud warning instead of blocking (the default is to block)."""

    policy: CompatPolicy = field(default_factory=CompatPolicy)
    default_mode: CompatibilityMode = CompatibilityMode.BACKWARD
    fail_open: bool = False


@dataclass(frozen=True, slots=True)
class ImpactReport:
    """Everything a caller needs to decide, explain and notify."""

    asset: str
    mode: CompatibilityMode
    decision: Decision
    current_version: str | None = None
    next_version: str | None = None
    change_class: str = "none"
    changes: tuple[Change, ...] = ()
    breaking: tuple[Judged, ...] = ()
    warnings: tuple[Judged, ...] = ()
    contract_breaks: tuple[ContractBreak, ...] = ()
    affected: tuple[AffectedConsumer, ...] = ()
    proposal: Proposal | None = None
    awaiting: tuple[str, ...] = ()  # teams that still have to approve
    owner_team: str | None = None
    messages: tuple[str, ...] = ()

    @property
    def safe_to_publish(self) -> bool:
        return self.decision is not Decision.BLOCKED

    @property
    def affected_teams(self) -> tuple[str, ...]:
        return tuple(sorted({a.team for a in self.affected}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "mode": self.mode.value,
            "decision": self.decision.value,
            "safe_to_publish": self.safe_to_publish,
            "current_version": self.current_version,
            "next_version": self.next_version,
            "change_class": self.change_class,
            "changes": [c.to_dict() for c in self.changes],
            "breaking_changes": [_judged(j) for j in self.breaking],
            "warnings": [_judged(j) for j in self.warnings],
            "contract_breaks": [
                {
                    "change": b.change.to_dict(),
                    "consumer": b.consumer.consumer,
                    "column": b.target_column,
                    "message": b.message,
                }
                for b in self.contract_breaks
            ],
            "affected_consumers": [a.to_dict() for a in self.affected],
            "affected_teams": list(self.affected_teams),
            "proposal": proposal_dict(self.proposal) if self.proposal else None,
            "awaiting": list(self.awaiting),
            "owner_team": self.owner_team,
            "messages": list(self.messages),
        }


def _judged(j: Judged) -> dict[str, Any]:
    return {**j.change.to_dict(), "severity": j.severity.value, "rule": j.rule}


def proposal_dict(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "asset": p.asset_fqn,
        "status": p.status.value,
        "base_version": p.base_version,
        "proposed_by": p.proposed_by,
        "proposed_at": p.proposed_at,
        "changes": [c.to_dict() for c in p.changes],
        "affected_consumers": [a.to_dict() for a in p.affected],
        "affected_teams": list(p.affected_teams),
        "acknowledgments": [
            {"team": a.team, "response": a.response.value, "note": a.note, "by": a.by, "at": a.at}
            for a in p.acknowledgments
        ],
        "awaiting": list(p.awaiting),
        "published_version": p.published_version,
        "reason": p.reason,
    }


@dataclass(frozen=True, slots=True)
class PublishResult:
    """``action``: published | unchanged | proposal_opened | proposal_pending | blocked."""

    action: str
    report: ImpactReport
    contract: Contract | None = None
    proposal: Proposal | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "version": self.contract.version if self.contract else None,
            "proposal": proposal_dict(self.proposal) if self.proposal else None,
            "report": self.report.to_dict(),
        }


def _open_proposal(registry: Registry, fqn: str) -> Proposal | None:
    for status in OPEN:
        found = registry.proposals(fqn, status=status)
        if found:
            return found[-1]
    return None


def check_impact(
    registry: Registry,
    asset: str,
    schema: Schema,
    *,
    settings: GateSettings | None = None,
) -> ImpactReport:
    """What publishing ``schema`` for ``asset`` would change, break and require. Read-only.

    A registry that cannot be reached blocks (fail closed) unless
    ``settings.fail_open``, which passes with a loud warning.
    """
    settings = settings or GateSettings()
    try:
        return _check(registry, asset, schema, settings)
    except RegistryUnavailableError as exc:
        return _unreachable(asset, settings, exc)


def _unreachable(asset: str, settings: GateSettings, exc: RegistryUnavailableError) -> ImpactReport:
    """Fail closed by default; pass loudly when fail-open is set."""
    mode = settings.default_mode
    if settings.fail_open:
        log.warning("tessera: registry unreachable, passing %s because fail_open is set: %s", asset, exc)
        return ImpactReport(
            asset,
            mode,
            Decision.NOTIFY,
            messages=(f"registry unreachable ({exc}); passed only because fail-open is set",),
        )
    return ImpactReport(
        asset,
        mode,
        Decision.BLOCKED,
        messages=(
            f"registry unreachable ({exc}); blocked (fail closed). Fix the connection, or set "
            "fail-open to let changes through unchecked",
        ),
    )


def check_removal(registry: Registry, asset: str, *, settings: GateSettings | None = None) -> ImpactReport:
    """What deleting (or renaming) the contracted ``asset`` breaks: every consumer of it. Read-only."""
    settings = settings or GateSettings()
    try:
        return _check(registry, asset, None, settings)
    except RegistryUnavailableError as exc:
        return _unreachable(asset, settings, exc)


def _check(registry: Registry, fqn: str, schema: Schema | None, settings: GateSettings) -> ImpactReport:
    """``schema`` None: the asset is going away."""
    found: Asset | None = registry.get_asset(fqn)
    mode = found.compatibility_mode if found else settings.default_mode
    owner = found.owner_team if found else None
    current = registry.current_contract(fqn)
    if current is None:
        return ImpactReport(
            fqn,
            mode,
            Decision.PASS,
            next_version=INITIAL_VERSION if schema is not None else None,
            change_class="initial" if schema is not None else "none",
            owner_team=owner,
            messages=(
                "no contract yet: publishing creates version 1.0.0"
                if schema is not None
                else "no contract to remove",
            ),
        )
    changes = diff(current.schema, schema) if schema is not None else removed_asset_changes(current.schema)
    if not changes:
        return ImpactReport(
            fqn,
            mode,
            Decision.PASS,
            current_version=current.version,
            owner_team=owner,
            messages=(f"identical to the published {current.version}: nothing to publish",),
        )
    if mode in TRANSITIVE and schema is not None:
        history = [c.schema for c in registry.contract_history(fqn)]
        judged = verdict_transitive(history, schema, mode, policy=settings.policy)
    else:
        judged = verdict(changes, mode, policy=settings.policy)
    klass = change_class(changes)
    next_version = bump(current.version, "major" if (judged.breaking and klass != "major") else klass)

    # Under "none" nothing blocks, but readers of what would break elsewhere are still told.
    reported = judged.breaking
    if mode is CompatibilityMode.NONE:
        reported = verdict(changes, CompatibilityMode.BACKWARD, policy=settings.policy).breaking
    breaks = contract_breaks(fqn, changes, registry.registrations, _contract_schema(registry))
    affected = list(affected_consumers(fqn, [j.change for j in reported], registry.registrations))
    known = {(a.asset_fqn, a.team, a.consumer) for a in affected}
    for b in breaks:
        if (b.consumer.asset_fqn, b.consumer.team, b.consumer.consumer) not in known:
            affected.append(b.consumer)
    proposal = _open_proposal(registry, fqn) if schema is not None else None
    if proposal is not None and proposal.schema != schema:
        other = proposal
        proposal = None
    else:
        other = None

    required = {a.team for a in affected} - ({owner} if owner else set())
    if proposal is not None:
        required |= set(proposal.affected_teams) - ({owner} if owner else set())
        approved = {a.team for a in proposal.acknowledgments if a.response is AckResponse.APPROVED}
        awaiting = tuple(sorted(required - approved))
    else:
        awaiting = tuple(sorted(required))

    messages: list[str] = []
    if not reported and not breaks:
        decision = Decision.PASS
        messages.append(f"compatible under {mode.value}: publishes as {next_version}")
    elif mode is CompatibilityMode.NONE:
        decision = Decision.NOTIFY
        messages.append("mode is none: the change goes ahead, affected teams are notified")
    elif not required:
        decision = Decision.PASS
        messages.append(
            "breaking, but no consumer outside the owning team reads the changed columns: "
            f"publishes as {next_version}"
        )
    elif not awaiting:
        decision = Decision.PASS
        messages.append(f"every affected team approved proposal {proposal.id if proposal else ''}".strip())
    else:
        decision = Decision.BLOCKED
        if proposal is None:
            messages.append(
                f"breaking for {', '.join(awaiting)}: publishing opens a proposal they must acknowledge"
            )
        else:
            messages.append(
                f"proposal {proposal.id} waits for {', '.join(awaiting)}: "
                f"tessctl ack {proposal.id} --team <team>"
            )
    if other is not None:
        messages.append(
            f"another proposal ({other.id}) is open on this asset for a different schema: "
            "withdraw it or get it acknowledged first"
        )
    return ImpactReport(
        asset=fqn,
        mode=mode,
        decision=decision,
        current_version=current.version,
        next_version=next_version,
        change_class=klass,
        changes=changes,
        breaking=tuple(reported),
        warnings=judged.warnings,
        contract_breaks=breaks,
        affected=tuple(affected),
        proposal=proposal,
        awaiting=awaiting if decision is Decision.BLOCKED else (),
        owner_team=owner,
        messages=tuple(messages),
    )


def _contract_schema(registry: Registry) -> Callable[[str], Schema | None]:
    def lookup(fqn: str) -> Schema | None:
        c = registry.current_contract(fqn)
        return c.schema if c else None

    return lookup


def publish(
    registry: Registry,
    asset: str,
    schema: Schema,
    *,
    owner_team: str | None = None,
    mode: CompatibilityMode | str | None = None,
    kind: str | None = None,
    by: str | None = None,
    settings: GateSettings | None = None,
) -> PublishResult:
    """Publish ``schema`` as the contract of ``asset``, or open the proposal it needs.

    Compatible changes publish with a version bump; a breaking change opens a
    proposal (or finds the one already open for the same schema) and publishes
    once every affected team approved; an identical schema is a no-op.
    """
    settings = settings or GateSettings()
    _ensure_asset(registry, asset, owner_team=owner_team, mode=mode, kind=kind)
    report = _check(registry, asset, schema, settings)
    if report.current_version is None and report.change_class == "initial":
        contract = registry.publish_contract(
            asset, schema, INITIAL_VERSION, change_class="initial", published_by=by, expected_current=None
        )
        return PublishResult("published", report, contract=contract)
    if not report.changes:
        return PublishResult("unchanged", report)
    assert report.next_version is not None
    if report.decision is Decision.BLOCKED:
        proposal, created = registry.open_proposal(
            asset,
            schema,
            report.changes,
            report.affected,
            proposed_by=by,
            base_version=report.current_version,
        )
        return PublishResult("proposal_opened" if created else "proposal_pending", report, proposal=proposal)
    if report.proposal is not None and report.proposal.status is ProposalStatus.APPROVED:
        proposal, contract = registry.publish_proposal(
            report.proposal.id, report.next_version, change_class="major", by=by
        )
        return PublishResult("published", report, contract=contract, proposal=proposal)
    contract = registry.publish_contract(
        asset,
        schema,
        report.next_version,
        change_class=report.change_class if report.change_class != "none" else "patch",
        published_by=by,
        expected_current=report.current_version,
    )
    return PublishResult("published", report, contract=contract)


def _ensure_asset(
    registry: Registry,
    fqn: str,
    *,
    owner_team: str | None,
    mode: CompatibilityMode | str | None,
    kind: str | None,
) -> Asset:
    found = registry.get_asset(fqn)
    wanted_mode = CompatibilityMode(mode) if mode else (found.compatibility_mode if found else None)
    if (
        found is not None
        and (owner_team is None or owner_team == found.owner_team)
        and (wanted_mode is None or wanted_mode == found.compatibility_mode)
        and (kind is None or kind == found.kind)
    ):
        return found
    if owner_team:
        registry.ensure_team(owner_team)
    base = found or Asset(fqn)
    return registry.upsert_asset(
        Asset(
            fqn=fqn,
            owner_team=owner_team or base.owner_team,
            compatibility_mode=wanted_mode or base.compatibility_mode,
            kind=kind or base.kind,
            dialect=base.dialect,
            metadata=base.metadata,
        )
    )


def acknowledge(
    registry: Registry,
    proposal_id: str,
    team: str,
    response: AckResponse | str = AckResponse.APPROVED,
    *,
    note: str | None = None,
    by: str | None = None,
) -> Proposal:
    """Record ``team``'s answer to a proposal; the proposal is approved once every affected team approved."""
    return registry.acknowledge(proposal_id, team, AckResponse(response), note=note, by=by)


def force_publish(registry: Registry, proposal_id: str, *, reason: str, by: str | None = None) -> Contract:
    """Publish a proposal over missing acknowledgments, with a reason that goes into the audit log."""
    proposal = registry.get_proposal(proposal_id)
    version = bump(proposal.base_version, "major")
    _, contract = registry.publish_proposal(
        proposal_id, version, change_class="major", by=by, forced_reason=reason
    )
    return contract


def withdraw(
    registry: Registry, proposal_id: str, *, by: str | None = None, reason: str | None = None
) -> Proposal:
    return registry.withdraw(proposal_id, by=by, reason=reason)
