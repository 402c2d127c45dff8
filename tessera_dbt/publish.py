"""Sync a compiled dbt project into the registry: assets, inferred consumers, then contracts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tessera_core import (
    GateSettings,
    Project,
    PublishResult,
    Registry,
    SyncReport,
    analyze_project,
    assets_from_project,
    contract_nodes,
    node_schema,
    publish,
    registrations_from_lineage,
    sync_registrations,
)


@dataclass(frozen=True, slots=True)
class ProjectSync:
    registrations: SyncReport
    published: dict[str, PublishResult] = field(default_factory=dict)  # by unique_id
    lineage_warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "registrations": self.registrations.to_dict(),
            "contracts": {uid: r.to_dict() for uid, r in self.published.items()},
            "lineage_warnings": list(self.lineage_warnings),
        }


def register_consumers(
    registry: Registry,
    project: Project,
    *,
    default_team: str = "unowned",
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[SyncReport, tuple[str, ...]]:
    """Assets for every source/seed/snapshot/model and inferred consumers from column lineage."""
    lineage = analyze_project(project, cache_dir=cache_dir, progress=progress)
    regs = registrations_from_lineage(project, lineage, default_team=default_team)
    report = sync_registrations(
        registry, regs, assets=assets_from_project(project, default_team=default_team)
    )
    return report, tuple(w for model in lineage.models.values() for w in model.warnings)


def publish_contracts(
    registry: Registry,
    project: Project,
    *,
    only: Iterable[str] | None = None,
    settings: GateSettings | None = None,
    by: str | None = "tessera-dbt",
) -> dict[str, PublishResult]:
    """Publish each node's contract (compatible changes publish; breaking ones open proposals)."""
    wanted = set(only) if only is not None else None
    results = {}
    for node in contract_nodes(project):
        if wanted is not None and node.unique_id not in wanted:
            continue
        schema = node_schema(project, node)
        if schema is None or node.relation is None:
            continue
        mode = node.tessera.get("compatibility_mode")
        results[node.unique_id] = publish(
            registry,
            node.relation,
            schema,
            owner_team=node.owner_team,
            mode=mode,
            kind=node.resource_type,
            by=by,
            settings=settings,
        )
    return results


def sync_project(
    registry: Registry,
    project: Project,
    *,
    default_team: str = "unowned",
    only: Iterable[str] | None = None,
    settings: GateSettings | None = None,
    cache_dir: Path | None = None,
) -> ProjectSync:
    regs, warnings = register_consumers(registry, project, default_team=default_team, cache_dir=cache_dir)
    published = publish_contracts(registry, project, only=only, settings=settings)
    return ProjectSync(regs, published, warnings)
