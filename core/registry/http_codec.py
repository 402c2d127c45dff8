"""The Tessera server's JSON <-> the registry's values.

What the server has no field for travels where it keeps arbitrary JSON:

- a contract's full ``Schema`` (and, for a publish, its change class, who
  published and the forced reason; for a proposal, our changes, affected
  consumers and base version) under the top-level key ``x-tessera`` of the
  JSON Schema document. The server stores the document as sent, returns it
  unchanged and ignores unknown keywords when it diffs;
- an asset's compatibility mode, kind, dialect and metadata under the key
  ``tessera`` of the asset's ``metadata``.

Documents without these keys (published by other clients) are read with
``read_json_schema``; their change class is inferred from the version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.errors import RegistryError
from tessera_core.registry.base import (
    Acknowledgment,
    AckResponse,
    AffectedConsumer,
    Asset,
    AuditEvent,
    CompatibilityMode,
    ConsumerKind,
    Contract,
    Proposal,
    ProposalStatus,
)
from tessera_core.schema.export import to_json_schema
from tessera_core.schema.jsonschema import read_json_schema
from tessera_core.schema.model import Schema

SCHEMA_KEY = "x-tessera"  # in a contract's or proposal's JSON Schema document
ASSET_KEY = "tessera"  # in an asset's metadata
SERVER_CONSUMER = "server:"  # consumer name of a team registered on the server with no details here

SERVER_MODES = {
    CompatibilityMode.BACKWARD: "backward",
    CompatibilityMode.BACKWARD_TRANSITIVE: "backward",
    CompatibilityMode.FORWARD: "forward",
    CompatibilityMode.FORWARD_TRANSITIVE: "forward",
    CompatibilityMode.FULL: "full",
    CompatibilityMode.FULL_TRANSITIVE: "full",
    CompatibilityMode.NONE: "none",
}
RESOURCE_TYPES = {
    "model": "model",
    "source": "source",
    "seed": "seed",
    "snapshot": "snapshot",
    "endpoint": "api_endpoint",
    "api_endpoint": "api_endpoint",
    "graphql_query": "graphql_query",
    "grpc_service": "grpc_service",
}
# The server's change kinds (services/schema_diff.py) in our vocabulary.
SERVER_KINDS = {
    "property_added": ChangeKind.FIELD_ADDED,
    "property_removed": ChangeKind.FIELD_REMOVED,
    "property_renamed": ChangeKind.FIELD_REMOVED,
    "type_changed": ChangeKind.TYPE_CHANGED,
    "type_widened": ChangeKind.TYPE_WIDENED,
    "type_narrowed": ChangeKind.TYPE_NARROWED,
    "required_added": ChangeKind.REQUIRED_ADDED,
    "required_removed": ChangeKind.REQUIRED_REMOVED,
    "enum_values_added": ChangeKind.ENUM_VALUE_ADDED,
    "enum_values_removed": ChangeKind.ENUM_VALUE_REMOVED,
    "constraint_tightened": ChangeKind.CONSTRAINT_TIGHTENED,
    "constraint_relaxed": ChangeKind.CONSTRAINT_LOOSENED,
    "default_added": ChangeKind.DEFAULT_ADDED,
    "default_removed": ChangeKind.DEFAULT_REMOVED,
    "default_changed": ChangeKind.DEFAULT_CHANGED,
    "nullable_added": ChangeKind.NULLABILITY_LOOSENED,
    "nullable_removed": ChangeKind.NULLABILITY_TIGHTENED,
}
# Server proposal statuses that each of our statuses can come from (ours is computed, see proposal_from).
SERVER_STATUSES = {
    ProposalStatus.PENDING: ("pending", "approved"),
    ProposalStatus.APPROVED: ("pending", "approved"),
    ProposalStatus.WITHDRAWN: ("withdrawn", "pending", "approved"),
    ProposalStatus.PUBLISHED: ("published",),
    ProposalStatus.FORCED: ("published",),
    ProposalStatus.REJECTED: ("rejected",),
    ProposalStatus.EXPIRED: ("expired",),
}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def same_schema(a: Schema, b: Schema) -> bool:
    return canonical(a.to_dict()) == canonical(b.to_dict())


# assets


def resource_type(kind: str) -> str:
    """The server's ``resource_type`` for an asset kind (``other`` when it has none of its own)."""
    return RESOURCE_TYPES.get(kind, "other")


def asset_block(asset: Asset) -> dict[str, Any]:
    """What the server keeps of an asset under ``metadata.tessera``."""
    return {
        "compatibility_mode": CompatibilityMode(asset.compatibility_mode).value,
        "kind": asset.kind,
        "dialect": asset.dialect,
        "metadata": dict(asset.metadata),
    }


def asset_from(row: Mapping[str, Any], owner: str | None) -> Asset:
    """An ``Asset`` from the server's asset JSON; ``owner`` is the owner team's name."""
    metadata = row.get("metadata")
    block = metadata.get(ASSET_KEY) if isinstance(metadata, dict) else None
    block = block if isinstance(block, dict) else {}
    try:
        mode = CompatibilityMode(block.get("compatibility_mode", CompatibilityMode.BACKWARD.value))
    except ValueError:
        mode = CompatibilityMode.BACKWARD
    kind = block.get("kind") or _kind_of(str(row.get("resource_type") or "other"))
    extra = block.get("metadata")
    return Asset(
        fqn=str(row["fqn"]),
        owner_team=owner,
        compatibility_mode=mode,
        kind=str(kind),
        dialect=block.get("dialect"),
        metadata=dict(extra) if isinstance(extra, dict) else {},
        id=str(row["id"]),
    )


def _kind_of(resource: str) -> str:
    return {"api_endpoint": "endpoint", "other": "table"}.get(resource, resource)


# schema documents


def schema_document(schema: Schema, **notes: Any) -> dict[str, Any]:
    """The JSON Schema the server stores, carrying ``schema`` in full and ``notes`` under ``x-tessera``."""
    document = to_json_schema(schema)
    document[SCHEMA_KEY] = {
        "schema": schema.to_dict(),
        **{key: value for key, value in notes.items() if value is not None},
    }
    return document


def document_notes(document: Any) -> dict[str, Any]:
    block = document.get(SCHEMA_KEY) if isinstance(document, dict) else None
    return block if isinstance(block, dict) else {}


def document_schema(document: Any, *, source: str) -> Schema:
    """Our ``Schema`` of a server document: the copy under ``x-tessera``, else read as JSON Schema."""
    if not isinstance(document, dict):
        raise RegistryError(f"{source} has no JSON Schema document (got {type(document).__name__})")
    stored = document_notes(document).get("schema")
    if isinstance(stored, dict):
        try:
            return Schema.from_dict(stored)
        except (KeyError, TypeError, ValueError) as error:
            raise RegistryError(
                f"{source}: the schema kept under {SCHEMA_KEY!r} cannot be read ({error}); "
                "it was written by an incompatible client"
            ) from error
    return read_json_schema({k: v for k, v in document.items() if k != SCHEMA_KEY}, source=source)


# contracts


def infer_change_class(version: str) -> str:
    """The class of change a version number implies, for contracts published by other clients."""
    try:
        major, minor, patch = (int(part) for part in version.split("+")[0].split("-")[0].split("."))
    except ValueError:
        return "patch"
    if (major, minor, patch) == (1, 0, 0):
        return "initial"
    if patch:
        return "patch"
    return "minor" if minor else "major"


def contract_from(
    fqn: str, row: Mapping[str, Any], *, publisher: str | None, notes: Mapping[str, Any] | None = None
) -> Contract:
    """A ``Contract`` from the server's contract JSON.

    What we published carries its facts in the document; ``notes`` (kept
    beside the client) win over them; a contract published from a proposal is
    a major change unless the notes say otherwise.
    """
    document = row.get("schema_def", row.get("schema"))
    version = str(row["version"])
    told = document_notes(document)
    facts: dict[str, Any] = dict(told.get("contract") or {})
    if "proposal" in told and "change_class" not in facts:
        facts["change_class"] = "major"
    facts.update(notes or {})
    ours = "contract" in told or bool(notes)  # what we published says who did, even nobody
    return Contract(
        asset_fqn=fqn,
        version=version,
        schema=document_schema(document, source=f"contract {version} of {fqn}"),
        published_by=facts.get("published_by") if ours else publisher,
        published_at=row.get("published_at"),
        change_class=str(facts.get("change_class") or infer_change_class(version)),
        forced_reason=facts.get("forced_reason"),
        proposal_id=facts.get("proposal_id"),
        id=str(row["id"]),
    )


# proposals


def server_changes(items: Iterable[Any]) -> tuple[Change, ...]:
    """The server's ``breaking_changes`` as our changes (for proposals other clients opened)."""
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        path = str(item.get("path", ""))
        parts = path.split(".")
        column = parts[1] if len(parts) > 1 and parts[0] == "properties" else None
        kind = SERVER_KINDS.get(str(item.get("type")), ChangeKind.TYPE_CHANGED)
        out.append(
            Change(
                kind,
                column or "",
                str(item.get("message", "")),
                old=item.get("old_value"),
                new=item.get("new_value"),
                column=column,
            )
        )
    return tuple(out)


def affected_from(data: Mapping[str, Any]) -> AffectedConsumer:
    try:
        kind = ConsumerKind(data.get("consumer_kind", ConsumerKind.OTHER.value))
    except ValueError:
        kind = ConsumerKind.OTHER
    return AffectedConsumer(
        team=str(data["team"]),
        consumer=str(data["consumer"]),
        asset_fqn=str(data["asset"]),
        consumer_kind=kind,
        columns=tuple(data.get("columns", ())),
        evidence=tuple(data.get("evidence", ())),
        depth=int(data.get("depth", 0)),
    )


def ack_from(data: Mapping[str, Any]) -> Acknowledgment:
    return Acknowledgment(
        str(data["team"]), AckResponse(data["response"]), data.get("note"), data.get("by"), data.get("at")
    )


def ack_dict(ack: Acknowledgment) -> dict[str, Any]:
    return {"team": ack.team, "response": ack.response.value, "note": ack.note, "by": ack.by, "at": ack.at}


def open_status(affected: Iterable[AffectedConsumer], acks: Iterable[Acknowledgment]) -> ProposalStatus:
    """Approved once every affected team approved (the embedded registry's rule), else pending."""
    approved = {a.team for a in acks if a.response is AckResponse.APPROVED}
    waiting = {a.team for a in affected} - approved
    return ProposalStatus.PENDING if waiting else ProposalStatus.APPROVED


def proposal_from(
    detail: Mapping[str, Any],
    *,
    notes: Mapping[str, Any],
    published_version: str | None = None,
) -> Proposal:
    """A ``Proposal`` from the server's proposal detail (``GET /proposals/{id}``) and the client's notes.

    Changes, affected consumers and base version come from the document we
    sent; answers from the server's acknowledgments, plus answers kept beside
    the client (``notes["acks"]``) for teams the server does not let answer.
    Open proposals get their status from our rule (``open_status``), not from
    the server's, which waits for every team registered on the asset instead
    of every affected one.
    """
    pid = str(detail.get("proposal_id") or detail.get("id"))
    fqn = str(detail.get("asset_fqn") or "")
    document = detail.get("proposed_schema")
    told = document_notes(document).get("proposal")
    told = told if isinstance(told, dict) else {}
    by_team = notes.get("ack_by") or {}
    answers: dict[str, Acknowledgment] = {}
    for item in detail.get("acknowledgments") or ():
        team = str(item.get("consumer_team_name"))
        answers[team] = Acknowledgment(
            team,
            AckResponse(item["response"]),
            item.get("notes"),
            by_team.get(team),
            item.get("responded_at"),
        )
    for team, data in (notes.get("acks") or {}).items():
        if team not in answers:
            answers[team] = ack_from({"team": team, **data})
    if "affected" in told:
        affected = tuple(affected_from(a) for a in told["affected"])
    else:
        teams = sorted(
            {str(c.get("team_name")) for c in detail.get("pending_consumers") or ()}
            | {a.team for a in answers.values()}
        )
        affected = tuple(AffectedConsumer(t, f"{SERVER_CONSUMER}{t}", fqn) for t in teams)
    changes = (
        tuple(Change.from_dict(c) for c in told["changes"])
        if "changes" in told
        else server_changes(detail.get("breaking_changes") or ())
    )
    acks = tuple(sorted(answers.values(), key=lambda a: a.team))
    server = str(detail.get("status", "pending"))
    resolved_at = notes.get("resolved_at") or detail.get("resolved_at")
    if server in ("pending", "approved") and notes.get("withdrawn"):
        status = ProposalStatus.WITHDRAWN
    elif server in ("pending", "approved"):
        status = open_status(affected, acks)
        resolved_at = None
    elif server == "published" and notes.get("forced"):
        status = ProposalStatus.FORCED
    else:
        status = ProposalStatus(server)
    proposer = detail.get("proposed_by")
    return Proposal(
        id=pid,
        asset_fqn=fqn,
        schema=document_schema(document, source=f"proposal {pid} on {fqn}"),
        changes=changes,
        affected=affected,
        status=status,
        proposed_by=told.get("proposed_by")
        or (proposer.get("team_name") if isinstance(proposer, dict) else None),
        proposed_at=detail.get("proposed_at"),
        base_version=told.get("base_version"),
        acknowledgments=acks,
        resolved_at=resolved_at,
        published_version=notes.get("published_version") or published_version,
        reason=notes.get("reason"),
    )


def proposal_dict(proposal: Proposal) -> dict[str, Any]:
    """A proposal as JSON, for the proposals only this client holds."""
    return {
        "id": proposal.id,
        "asset": proposal.asset_fqn,
        "schema": proposal.schema.to_dict(),
        "changes": [c.to_dict() for c in proposal.changes],
        "affected": [a.to_dict() for a in proposal.affected],
        "status": proposal.status.value,
        "proposed_by": proposal.proposed_by,
        "proposed_at": proposal.proposed_at,
        "base_version": proposal.base_version,
        "acknowledgments": [ack_dict(a) for a in proposal.acknowledgments],
        "resolved_at": proposal.resolved_at,
        "published_version": proposal.published_version,
        "reason": proposal.reason,
    }


def proposal_of(data: Mapping[str, Any]) -> Proposal:
    return Proposal(
        id=str(data["id"]),
        asset_fqn=str(data["asset"]),
        schema=Schema.from_dict(data["schema"]),
        changes=tuple(Change.from_dict(c) for c in data["changes"]),
        affected=tuple(affected_from(a) for a in data["affected"]),
        status=ProposalStatus(data["status"]),
        proposed_by=data.get("proposed_by"),
        proposed_at=data.get("proposed_at"),
        base_version=data.get("base_version"),
        acknowledgments=tuple(ack_from(a) for a in data.get("acknowledgments", ())),
        resolved_at=data.get("resolved_at"),
        published_version=data.get("published_version"),
        reason=data.get("reason"),
    )


def with_answer(proposal: Proposal, answer: Acknowledgment) -> Proposal:
    """``proposal`` with ``answer`` recorded (replacing the team's earlier one) and its status recomputed."""
    acks = tuple(sorted([a for a in proposal.acknowledgments if a.team != answer.team] + [answer], key=_team))
    return replace(proposal, acknowledgments=acks, status=open_status(proposal.affected, acks))


def _team(ack: Acknowledgment) -> str:
    return ack.team


# audit


def audit_from(seq: int, row: Mapping[str, Any], *, fqn: str | None, actor: str | None) -> AuditEvent:
    payload = row.get("payload")
    details = dict(payload) if isinstance(payload, dict) else {}
    details.update({"entity_type": row.get("entity_type"), "entity_id": row.get("entity_id")})
    named = details.get("asset_fqn") or details.get("fqn")
    return AuditEvent(
        seq=seq,
        at=str(row.get("occurred_at", "")),
        action=str(row.get("action", "")),
        asset_fqn=str(named) if named else fqn,
        actor=actor,
        details=details,
    )


__all__ = [
    "ASSET_KEY",
    "SCHEMA_KEY",
    "SERVER_CONSUMER",
    "SERVER_MODES",
    "SERVER_STATUSES",
    "asset_block",
    "asset_from",
    "contract_from",
    "document_schema",
    "proposal_from",
    "schema_document",
]
