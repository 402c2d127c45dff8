"""From a dbt project and its lineage to assets and consumer registrations, kept in step.

Every model becomes a consumer of each upstream asset it reads, with the
columns it reads and how they flow into its own columns; exposures become
consumers of what they depend on; ``meta.tessera.consumers`` declarations
register explicitly. A sync adds what is new, updates changed column scopes and
retires inferred registrations that the SQL no longer supports (never explicit
ones), and reports all three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tessera_core.lineage.project import ModelLineage, ProjectLineage
from tessera_core.manifest import Node, Project
from tessera_core.registry.base import (
    Asset,
    ColumnFlow,
    CompatibilityMode,
    ConsumerKind,
    RegisterOutcome,
    Registration,
    RegistrationSource,
    Registry,
)
from tessera_core.schema.names import normalize_name

ASSET_KINDS = ("model", "source", "seed", "snapshot")
UNOWNED = "unowned"


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: tuple[Registration, ...] = ()
    changed: tuple[Registration, ...] = ()
    retired: tuple[Registration, ...] = ()
    unchanged: int = 0
    assets: tuple[Asset, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def reg(r: Registration) -> dict[str, Any]:
            return {
                "asset": r.asset_fqn,
                "team": r.team,
                "consumer": r.consumer,
                "kind": r.consumer_kind.value,
                "columns": sorted(r.columns) if r.columns is not None else None,
            }

        return {
            "added": [reg(r) for r in self.added],
            "changed": [reg(r) for r in self.changed],
            "retired": [reg(r) for r in self.retired],
            "unchanged": self.unchanged,
            "assets": [a.fqn for a in self.assets],
            "warnings": list(self.warnings),
        }


def consumer_name(node: Node) -> str:
    """How a dbt node appears as a consumer: its name, with the version when it has one."""
    return f"{node.name}.v{node.version}" if node.version else node.name


def assets_from_project(project: Project, *, default_team: str | None = None) -> list[Asset]:
    """Sources, seeds, snapshots and models (not ephemeral) as assets with their owners and modes."""
    out = []
    for node in project.nodes.values():
        if node.resource_type not in ASSET_KINDS or node.relation is None:
            continue
        mode = node.tessera.get("compatibility_mode")
        out.append(
            Asset(
                fqn=node.relation,
                owner_team=node.owner_team or default_team,
                compatibility_mode=CompatibilityMode(mode) if mode else CompatibilityMode.BACKWARD,
                kind=node.resource_type,
                dialect=project.dialect,
                metadata={"unique_id": node.unique_id, "package": node.package},
            )
        )
    return out


def _evidence(lineage: ModelLineage, upstream: str, columns: Iterable[str]) -> tuple[str, ...]:
    lines = []
    for column in sorted(columns):
        clauses = lineage.clauses.get((upstream, column), frozenset())
        names = ", ".join(sorted(str(c).replace("_", " ") for c in clauses)) or "select"
        lines.append(f"{column}: {names}")
    return tuple(lines)


def _flows(lineage: ModelLineage, upstream: str) -> tuple[ColumnFlow, ...]:
    flows = set()
    for target, sources in lineage.outputs.items():
        direct = lineage.direct.get(target)
        for uid, column in sources:
            if uid == upstream:
                flows.add(ColumnFlow(column, target, direct == (uid, column)))
    return tuple(sorted(flows, key=lambda f: (f.source, f.target)))


def registrations_from_lineage(
    project: Project, lineage: ProjectLineage, *, default_team: str = UNOWNED
) -> list[Registration]:
    """Inferred registrations for every model's upstream reads and every exposure's dependencies."""
    regs: list[Registration] = []
    for uid, model in lineage.models.items():
        node = project.nodes[uid]
        if node.relation is None:  # ephemeral: inlined into the models that use it
            continue
        for upstream in model.upstream:
            up = project.nodes.get(upstream)
            if up is None or up.relation is None:
                continue
            columns = model.columns_read.get(upstream)
            regs.append(
                Registration(
                    asset_fqn=up.relation,
                    team=node.owner_team or default_team,
                    consumer=consumer_name(node),
                    consumer_kind=ConsumerKind.DBT_MODEL,
                    columns=frozenset(columns) if columns is not None else None,
                    source=RegistrationSource.INFERRED,
                    evidence=_evidence(model, upstream, columns or ()),
                    consumer_asset=node.relation,
                    flows=_flows(model, upstream),
                )
            )
    for node in project.nodes.values():
        if node.resource_type == "exposure":
            regs.extend(_exposure_registrations(project, node, default_team))
        elif (
            node.resource_type in ("model", "snapshot")
            and node.relation
            and node.unique_id not in lineage.models
        ):
            regs.extend(_unanalyzed_registrations(project, node, default_team))
    regs.extend(declared_registrations(project))
    return regs


def _unanalyzed_registrations(project: Project, node: Node, default_team: str) -> list[Registration]:
    """A model without compiled SQL (a parse-only manifest) keeps its dependencies, reading every column."""
    if node.relation is None:
        return []
    out = []
    for upstream in node.depends_on:
        up = project.nodes.get(upstream)
        if up is None or up.relation is None:
            continue
        out.append(
            Registration(
                asset_fqn=up.relation,
                team=node.owner_team or default_team,
                consumer=consumer_name(node),
                consumer_kind=ConsumerKind.DBT_MODEL,
                columns=None,
                source=RegistrationSource.INFERRED,
                evidence=(f"{node.name} has no compiled SQL: treated as reading every column of {up.name}",),
                consumer_asset=node.relation,
            )
        )
    return out


def _exposure_registrations(project: Project, node: Node, default_team: str) -> list[Registration]:
    declared: Mapping[str, Any] = node.tessera.get("columns") or {}
    out = []
    for upstream in node.depends_on:
        up = project.nodes.get(upstream)
        if up is None or up.relation is None:
            continue
        cols = declared.get(up.name) or declared.get(up.relation)
        out.append(
            Registration(
                asset_fqn=up.relation,
                team=node.owner_team or default_team,
                consumer=node.name,
                consumer_kind=ConsumerKind.EXPOSURE,
                columns=frozenset(normalize_name(c) for c in cols) if cols else None,
                source=RegistrationSource.INFERRED,
                evidence=(f"exposure {node.name} ({node.exposure_type or 'exposure'}) depends on {up.name}",),
            )
        )
    return out


def declared_registrations(project: Project) -> list[Registration]:
    """Explicit registrations from each node's ``meta.tessera.consumers`` ({team, consumer, columns?})."""
    out = []
    for node in project.nodes.values():
        if node.relation is None:
            continue
        for item in node.tessera.get("consumers") or ():
            cols = item.get("columns")
            out.append(
                Registration(
                    asset_fqn=node.relation,
                    team=str(item["team"]),
                    consumer=str(item.get("consumer") or item["team"]),
                    consumer_kind=ConsumerKind(item.get("kind", ConsumerKind.OTHER.value)),
                    columns=frozenset(normalize_name(c) for c in cols) if cols else None,
                    source=RegistrationSource.EXPLICIT,
                    evidence=(f"declared in meta.tessera.consumers of {node.name}",),
                )
            )
    return out


def sync_registrations(
    registry: Registry,
    desired: Iterable[Registration],
    *,
    manages: Callable[[Registration], bool] | None = None,
    assets: Iterable[Asset] = (),
) -> SyncReport:
    """Make the registry's inferred registrations match ``desired``.

    ``manages`` picks the existing inferred registrations this sync is
    responsible for (default: inferred dbt-model and exposure registrations);
    those not in ``desired`` are retired. Explicit registrations are never retired.
    """
    desired = list(desired)
    manages = manages or (lambda r: r.consumer_kind in (ConsumerKind.DBT_MODEL, ConsumerKind.EXPOSURE))
    upserted = []
    for asset in assets:
        if asset.owner_team:
            registry.ensure_team(asset.owner_team)
        upserted.append(_merge_asset(registry, asset))
    added, changed = [], []
    unchanged = 0
    keys = set()
    for reg in desired:
        keys.add(reg.key)
        registry.ensure_team(reg.team)
        outcome = registry.register(reg)
        if outcome is RegisterOutcome.ADDED:
            added.append(reg)
        elif outcome is RegisterOutcome.CHANGED:
            changed.append(reg)
        else:
            unchanged += 1
    retired = []
    for existing in registry.registrations():
        if (
            existing.key in keys
            or existing.source is not RegistrationSource.INFERRED
            or not manages(existing)
        ):
            continue
        if registry.retire(*existing.key):
            retired.append(existing)
    return SyncReport(tuple(added), tuple(changed), tuple(retired), unchanged, tuple(upserted))


def _merge_asset(registry: Registry, asset: Asset) -> Asset:
    """Upsert, keeping what people set in the registry when the project does not say otherwise."""
    found = registry.get_asset(asset.fqn)
    if found is None:
        return registry.upsert_asset(asset)
    merged = Asset(
        fqn=asset.fqn,
        owner_team=asset.owner_team or found.owner_team,
        compatibility_mode=asset.compatibility_mode
        if asset.compatibility_mode is not CompatibilityMode.BACKWARD
        else found.compatibility_mode,
        kind=asset.kind,
        dialect=asset.dialect or found.dialect,
        metadata={**found.metadata, **asset.metadata},
    )
    if (merged.owner_team, merged.compatibility_mode, merged.kind, merged.dialect, merged.metadata) == (
        found.owner_team,
        found.compatibility_mode,
        found.kind,
        found.dialect,
        found.metadata,
    ):
        return found
    return registry.upsert_asset(merged)
