"""Which team is told what: one ``Notice`` per (registry event, recipient team).

Pure functions of the registry's values, called inside the registry's write
transaction so that a notice exists exactly when its event does. Who hears
about what:

- ``proposal.opened``: every affected team except the asset's owner, each
  with its own consumers and the columns they read;
- ``proposal.acknowledged``: the owner (the producer), unless it answered itself;
- ``proposal.published`` / ``forced`` / ``withdrawn`` / ``expired``: every
  affected team and the owner;
- ``consumer.registered``: the owner, unless the new consumer is its own.

A notice's ``data`` is plain JSON; the channels render it (``webhook`` sends it
as is, ``slack`` turns it into blocks).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tessera_core.registry.base import (
    AckResponse,
    Proposal,
    ProposalStatus,
    Registration,
)

MAX_LISTED = 200  # changes or consumers carried in one notice; the rest are counted


class EventType(StrEnum):
    """The ``event`` of a notice: stable strings (webhook receivers switch on them); only add."""

    PROPOSAL_OPENED = "proposal.opened"
    PROPOSAL_ACKNOWLEDGED = "proposal.acknowledged"
    PROPOSAL_PUBLISHED = "proposal.published"
    PROPOSAL_FORCED = "proposal.forced"
    PROPOSAL_WITHDRAWN = "proposal.withdrawn"
    PROPOSAL_EXPIRED = "proposal.expired"
    CONSUMER_REGISTERED = "consumer.registered"


CLOSING = {
    ProposalStatus.PUBLISHED: EventType.PROPOSAL_PUBLISHED,
    ProposalStatus.FORCED: EventType.PROPOSAL_FORCED,
    ProposalStatus.WITHDRAWN: EventType.PROPOSAL_WITHDRAWN,
    ProposalStatus.EXPIRED: EventType.PROPOSAL_EXPIRED,
}


@dataclass(frozen=True, slots=True)
class Notice:
    """What one team is told about one event. ``subject`` is one readable line."""

    event: EventType
    team: str
    asset: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    proposal_id: str | None = None


def ack_command(proposal_id: str, team: str) -> str:
    """The command a team runs to acknowledge a proposal."""
    return f"tessctl ack {shlex.quote(proposal_id)} --team {shlex.quote(team)}"


def proposal_opened(proposal: Proposal, *, owner: str | None) -> tuple[Notice, ...]:
    """One notice per affected team (the owner excepted): the changes, its consumers, their columns."""
    notices = []
    for team in proposal.affected_teams:
        if team == owner:
            continue
        mine = [a for a in proposal.affected if a.team == team]
        columns = sorted({c for a in mine for c in a.columns})
        whole = any(not a.columns for a in mine)
        reads = "every column" if whole else ", ".join(columns)
        data = {
            "proposal": _proposal_summary(proposal, owner),
            **_listed("changes", [c.to_dict() for c in proposal.changes]),
            **_listed("your_consumers", [a.to_dict() for a in mine]),
            "columns_you_read": None if whole else columns,
            "acknowledge": ack_command(proposal.id, team),
            "responses": [r.value for r in AckResponse],
        }
        subject = (
            f"Breaking change proposed on {proposal.asset_fqn} ({proposal.id}): {len(mine)} "
            f"{_plural(len(mine), 'consumer')} of {team} read{'s' if len(mine) == 1 else ''} {reads}; "
            "acknowledge before it can be published"
        )
        event = EventType.PROPOSAL_OPENED
        notices.append(Notice(event, team, proposal.asset_fqn, subject, data, proposal.id))
    return tuple(notices)


def acknowledgment_received(
    proposal: Proposal, team: str, *, owner: str | None, previous: AckResponse | None = None
) -> tuple[Notice, ...]:
    """The owner hears that ``team`` answered, and who the proposal still waits for."""
    ack = proposal.ack_of(team)
    if owner is None or owner == team or ack is None:
        return ()
    data = {
        "proposal": _proposal_summary(proposal, owner),
        "acknowledgment": {
            "team": ack.team,
            "response": ack.response.value,
            "previous_response": previous.value if previous is not None else None,
            "note": ack.note,
            "by": ack.by,
            "at": ack.at,
        },
    }
    waiting = (
        f"still waiting for {', '.join(proposal.awaiting)}"
        if proposal.awaiting
        else "every affected team approved: it can be published"
    )
    subject = f"{team} answered {ack.response.value} to {proposal.id} on {proposal.asset_fqn}; {waiting}"
    return (Notice(EventType.PROPOSAL_ACKNOWLEDGED, owner, proposal.asset_fqn, subject, data, proposal.id),)


def proposal_closed(proposal: Proposal, *, owner: str | None) -> tuple[Notice, ...]:
    """Published, forced, withdrawn or expired: every affected team and the owner are told."""
    event = CLOSING.get(proposal.status)
    if event is None:
        return ()
    teams = sorted(set(proposal.affected_teams) | ({owner} if owner else set()))
    notices = []
    for team in teams:
        mine = [a.to_dict() for a in proposal.affected if a.team == team]
        data: dict[str, Any] = {
            "proposal": _proposal_summary(proposal, owner),
            "version": proposal.published_version,
            "reason": proposal.reason,
            **_listed("changes", [c.to_dict() for c in proposal.changes]),
            **_listed("your_consumers", mine),
        }
        if event is EventType.PROPOSAL_FORCED:
            data["unacknowledged_teams"] = list(proposal.awaiting)
        notices.append(
            Notice(event, team, proposal.asset_fqn, _closing_subject(event, proposal), data, proposal.id)
        )
    return tuple(notices)


def consumer_registered(registration: Registration, *, owner: str | None) -> tuple[Notice, ...]:
    """The owner of the asset hears about a new consumer of another team."""
    reg = registration
    if owner is None or owner == reg.team:
        return ()
    columns = sorted(reg.columns) if reg.columns is not None else None
    data = {
        "registration": {
            "team": reg.team,
            "consumer": reg.consumer,
            "consumer_kind": reg.consumer_kind.value,
            "columns": columns,
            "dependency_type": reg.dependency_type.value,
            "source": reg.source.value,
            "pinned_version": reg.pinned_version,
            "consumer_asset": reg.consumer_asset,
        },
    }
    reads = ", ".join(columns) if columns is not None else "every column"
    subject = f"New consumer of {reg.asset_fqn}: {reg.consumer} ({reg.team}) reads {reads}"
    return (Notice(EventType.CONSUMER_REGISTERED, owner, reg.asset_fqn, subject, data),)


def _closing_subject(event: EventType, proposal: Proposal) -> str:
    where = f"{proposal.id} on {proposal.asset_fqn}"
    reason = f": {proposal.reason}" if proposal.reason else ""
    if event is EventType.PROPOSAL_PUBLISHED:
        return f"{where} was published as version {proposal.published_version}"
    if event is EventType.PROPOSAL_FORCED:
        missing = f" without approval from {', '.join(proposal.awaiting)}" if proposal.awaiting else ""
        return f"{where} was forced out as version {proposal.published_version}{missing}{reason}"
    if event is EventType.PROPOSAL_WITHDRAWN:
        return f"{where} was withdrawn{reason}; nothing changes"
    return f"{where} expired before every affected team approved; nothing changes{reason}"


def _proposal_summary(proposal: Proposal, owner: str | None) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "asset": proposal.asset_fqn,
        "status": proposal.status.value,
        "owner_team": owner,
        "base_version": proposal.base_version,
        "proposed_by": proposal.proposed_by,
        "proposed_at": proposal.proposed_at,
        "affected_teams": list(proposal.affected_teams),
        "awaiting": list(proposal.awaiting),
    }


def _listed(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """``{key: the first MAX_LISTED items}``, plus ``{key}_not_listed`` when some were cut."""
    out: dict[str, Any] = {key: items[:MAX_LISTED]}
    if len(items) > MAX_LISTED:
        out[f"{key}_not_listed"] = len(items) - MAX_LISTED
    return out


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


__all__ = [
    "EventType",
    "Notice",
    "ack_command",
    "acknowledgment_received",
    "consumer_registered",
    "proposal_closed",
    "proposal_opened",
]
