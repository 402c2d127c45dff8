"""The CI gate for a dbt project: every changed contract, who it breaks, and what is still awaited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tessera_core import (
    Decision,
    GateSettings,
    ImpactReport,
    Node,
    Project,
    Registry,
    check_impact,
    check_removal,
    contract_nodes,
    live_source_schema,
    node_schema,
)


@dataclass(frozen=True, slots=True)
class NodeCheck:
    node: Node
    report: ImpactReport
    live: bool = False  # a source compared with what the warehouse holds now


@dataclass(frozen=True, slots=True)
class CheckResult:
    checks: tuple[NodeCheck, ...]
    skipped: tuple[str, ...] = ()  # nodes without known columns

    @property
    def reports(self) -> list[ImpactReport]:
        return [c.report for c in self.checks]

    @property
    def changed(self) -> list[NodeCheck]:
        return [c for c in self.checks if c.report.changes or c.report.decision is not Decision.PASS]

    @property
    def blocked(self) -> list[NodeCheck]:
        return [c for c in self.checks if c.report.decision is Decision.BLOCKED]

    @property
    def exit_code(self) -> int:
        return 1 if self.blocked else 0

    @property
    def files(self) -> dict[str, str]:
        return {c.report.asset: c.node.original_file_path for c in self.checks if c.node.original_file_path}

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "blocked": [c.node.unique_id for c in self.blocked],
            "checks": [
                {
                    "unique_id": c.node.unique_id,
                    "file": c.node.original_file_path,
                    "live": c.live,
                    **c.report.to_dict(),
                }
                for c in self.checks
            ],
            "skipped": list(self.skipped),
        }


def check_project(
    registry: Registry,
    project: Project,
    *,
    selected: Iterable[str] | None = None,
    settings: GateSettings | None = None,
) -> CheckResult:
    """Check every contracted node (or the ``selected`` unique_ids) against its published contract.

    Models, seeds and snapshots are checked with their declared columns; sources
    with the live warehouse columns from the catalog when there is one, so a
    column an ingestion tool dropped is caught before the run starts.
    """
    wanted = set(selected) if selected is not None else None
    checks: list[NodeCheck] = []
    skipped: list[str] = []
    for node in contract_nodes(project):
        if wanted is not None and node.unique_id not in wanted:
            continue
        assert node.relation is not None
        live = node.resource_type == "source"
        schema = live_source_schema(project, node) if live else None
        if schema is None:
            live = False
            schema = node_schema(project, node)
        if schema is None:
            skipped.append(node.unique_id)
            continue
        report = check_impact(registry, node.relation, schema, settings=settings)
        checks.append(NodeCheck(node, report, live))
    if wanted is None:
        checks += removed_nodes(registry, project, settings=settings)
    return CheckResult(tuple(checks), tuple(skipped))


def removed_nodes(
    registry: Registry, project: Project, *, settings: GateSettings | None = None
) -> list[NodeCheck]:
    """Contracted models of this project that the registry knows but the project no longer has."""
    present = {n.relation for n in project.nodes.values() if n.relation}
    gone = []
    for asset in registry.assets():
        uid = str(asset.metadata.get("unique_id", ""))
        if (
            asset.kind != "model"
            or asset.fqn in present
            or not uid.startswith(f"model.{project.project_name}.")
        ):
            continue
        report = check_removal(registry, asset.fqn, settings=settings)
        if report.changes:
            node = Node(uid, "model", uid.split(".")[-1], project.project_name, asset.fqn)
            gone.append(NodeCheck(node, report))
    return gone
