"""The contract a dbt node promises: its declared columns (with the warehouse's types from the
catalog where the declaration has none), its tests and constraints, and its dbt contract facts."""

from __future__ import annotations

from dataclasses import replace

from tessera_core.manifest import Node, Project
from tessera_core.schema.dbt import catalog_schema, schema_from_dbt
from tessera_core.schema.model import Schema

CONTRACT_KINDS = ("model", "source", "seed", "snapshot")


def node_schema(project: Project, node: Node) -> Schema | None:
    """The schema to publish for ``node``; ``None`` when nothing is known of its columns.

    Declared columns win (an enforced dbt contract declares every type); a
    declared column without ``data_type`` takes the catalog's type; a node that
    declares no columns at all is described by the catalog alone.
    """
    catalog = project.catalog.get(node.unique_id)
    label = node.original_file_path or node.unique_id
    if node.columns:
        return schema_from_dbt(
            node.columns,
            dialect=project.dialect,
            tests=node.tests,
            model_constraints=node.constraints,
            contract_enforced=node.contract_enforced if node.resource_type == "model" else None,
            access=node.access if node.resource_type == "model" else None,
            deprecation_date=node.deprecation_date,
            catalog_types=catalog,
            source=f"{label} ({node.name})",
        )
    if catalog:
        return catalog_schema(catalog, dialect=project.dialect, source=f"{label} ({node.name})")
    return None


def contract_nodes(project: Project) -> list[Node]:
    """Nodes that get a contract: models, sources, seeds and snapshots that exist in the warehouse."""
    return [n for n in project.nodes.values() if n.resource_type in CONTRACT_KINDS and n.relation is not None]


def live_source_schema(project: Project, node: Node) -> Schema | None:
    """What the warehouse holds now for a source, per the catalog, in the terms of its declaration.

    Declared columns missing from the catalog are dropped (an ingestion tool
    removed them), columns only the catalog has are added, and types are the
    catalog's. ``None`` without a catalog entry for the source.
    """
    live = project.catalog.get(node.unique_id)
    if not live:
        return None
    declared = node_schema(project, node)
    observed = catalog_schema(live, dialect=project.dialect, source=f"catalog ({node.name})")
    if declared is None:
        return observed
    by_name = {f.name: f for f in observed.fields}
    kept = [replace(f, type=by_name[f.name].type) for f in declared.fields if f.name in by_name]
    names = {f.name for f in kept}
    kept += [f for f in observed.fields if f.name not in names]
    present = {f.name for f in kept}
    guarantees = tuple(g for g in declared.guarantees if g.column is None or g.column in present)
    return replace(declared, fields=tuple(kept), guarantees=guarantees)
