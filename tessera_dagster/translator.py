"""dagster-dbt: column lineage on dbt assets, and contract checks for the models that have a contract.

``TesseraDbtTranslator`` wraps the user's ``DagsterDbtTranslator`` (keys, groups, owners stay theirs)
and adds ``dagster/column_lineage`` computed by the core's lineage. ``build_dbt_contract_checks``
attaches a blocking ``tessera_contract`` check to every model that has a contract; each evaluation
keeps the model's dbt consumers (from lineage) and its non-dbt Dagster consumers registered.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    TableColumnDep,
    TableColumnLineage,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from tessera_core import (
    Node,
    Project,
    Schema,
    TesseraError,
    analyze_project,
    load_manifest,
    node_schema,
    registrations_from_lineage,
)
from tessera_dagster.checks import CHECK_NAME, COLUMN_LINEAGE, ContractTarget, build_contract_check

log = logging.getLogger("tessera")
CONTRACT_TYPES = ("model", "seed", "snapshot")


class TesseraDbtTranslator(DagsterDbtTranslator):
    """The user's translator (default: ``DagsterDbtTranslator()``) plus Tessera.

    ``project``: the ``DbtProject`` or the path of its ``manifest.json``; the manifest should be compiled
    (``dbt compile``/``build``): models without compiled SQL get no column lineage and no dbt consumers.
    ``catalog``: an optional ``catalog.json`` for columns declared without a ``data_type``.
    ``lineage_cache``: a directory where lineage results are kept between loads.
    """

    def __init__(
        self,
        project: DbtProject | str | Path,
        *,
        translator: DagsterDbtTranslator | None = None,
        catalog: str | Path | None = None,
        lineage_cache: Path | None = None,
    ) -> None:
        self._inner = translator or DagsterDbtTranslator()
        self._manifest = project.manifest_path if isinstance(project, DbtProject) else Path(project)
        self._catalog = catalog
        self._cache = lineage_cache
        self._project: Project | None = None
        self._lineage: Any = None
        self._keys: dict[str, AssetKey] = {}  # unique_id -> asset key, as dagster-dbt asked for them
        self._column_lineage: dict[str, TableColumnLineage | None] = {}

    # dagster-dbt's entry points, delegated to the user's translator

    @property
    def settings(self) -> DagsterDbtTranslatorSettings:
        return self._inner.settings

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return self._inner.get_asset_key(dbt_resource_props)

    def get_asset_check_spec(
        self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> Any:
        return self._inner.get_asset_check_spec(asset_spec, manifest, unique_id, project)

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = self._inner.get_asset_spec(manifest, unique_id, project)
        self._keys[unique_id] = spec.key
        lineage = self.get_column_lineage(manifest, unique_id, project)
        return spec.merge_attributes(metadata={COLUMN_LINEAGE: lineage}) if lineage else spec

    # Tessera

    @property
    def tessera_project(self) -> Project:
        if self._project is None:
            self._project = load_manifest(self._manifest, catalog=self._catalog)
        return self._project

    @property
    def lineage(self) -> Any:
        """The core's ``ProjectLineage`` of the project, computed once."""
        if self._lineage is None:
            self._lineage = analyze_project(self.tessera_project, cache_dir=self._cache)
        return self._lineage

    def get_column_lineage(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> TableColumnLineage | None:
        """Each output column of a model -> the upstream asset columns it is computed from."""
        if unique_id not in self._column_lineage:
            model = self.lineage.models.get(unique_id)
            nodes = self.tessera_project.nodes
            deps: dict[str, list[TableColumnDep]] = {}
            for column, sources in sorted((model.outputs if model else {}).items()):
                deps[column] = [
                    TableColumnDep(self._inner.get_asset_spec(manifest, uid, project).key, source)
                    for uid, source in sorted(sources)
                    if uid in nodes and nodes[uid].relation is not None  # ephemerals are no assets
                ]
            self._column_lineage[unique_id] = TableColumnLineage(deps) if deps else None
        return self._column_lineage[unique_id]

    def has_contract(self, node: Node) -> bool:
        """Models, seeds and snapshots with an enforced dbt contract or a ``meta.tessera.compatibility_mode``
        (an ``owner_team`` alone says who owns a model, not that it promises a contract)."""
        return (
            node.resource_type in CONTRACT_TYPES
            and node.relation is not None
            and (node.contract_enforced or "compatibility_mode" in node.tessera)
        )

    def get_contract_schema(self, node: Node) -> Schema | None:
        return node_schema(self.tessera_project, node)

    def contract_targets(self, dbt_assets: AssetsDefinition) -> list[ContractTarget]:
        known = {key: uid for uid, key in self._keys.items() if key in dbt_assets.keys}
        if not known:
            raise TesseraError(
                "none of the dbt assets was built with this TesseraDbtTranslator: pass the same instance "
                "to @dbt_assets(dagster_dbt_translator=...) and to build_dbt_contract_checks"
            )
        project, analyzed = self.tessera_project, self.lineage.models
        registrations = registrations_from_lineage(project, self.lineage)
        targets = []
        for key, uid in sorted(known.items()):
            node = project.nodes.get(uid)
            if node is None or node.relation is None or not self.has_contract(node):
                continue
            schema = self.get_contract_schema(node)
            if schema is None:
                continue
            mode = node.tessera.get("compatibility_mode")
            unread = [c for c in project.children(uid) if _needs_sql(project.nodes[c]) and c not in analyzed]
            if unread:
                log.warning(
                    "tessera: %s has no compiled SQL for %s: the dbt consumers of %s stay as registered; "
                    "prepare the project with `dbt compile` (prepare_project_cli_args=['compile'])",
                    self._manifest,
                    ", ".join(unread),
                    node.name,
                )
            targets.append(
                ContractTarget(
                    key=key,
                    asset=node.relation,
                    owner_team=node.owner_team,
                    mode=str(mode) if mode else None,
                    kind=node.resource_type,
                    schema=schema,
                    registrations=None
                    if unread
                    else tuple(r for r in registrations if r.asset_fqn == node.relation),
                    same_step=frozenset(dbt_assets.keys),
                )
            )
        return targets


def _needs_sql(node: Node) -> bool:
    return node.resource_type in ("model", "snapshot") and node.relation is not None


def build_dbt_contract_checks(
    dbt_assets: AssetsDefinition,
    *,
    translator: TesseraDbtTranslator,
    resource_key: str = "tessera",
    name: str = CHECK_NAME,
) -> list[AssetChecksDefinition]:
    """A blocking contract check for every model of ``dbt_assets`` that has a contract.

    The checked schema is the model's contract from the manifest (declared columns, tests,
    constraints); its consumers are the dbt models and exposures that read it (column lineage) and the
    Dagster assets downstream of it outside the dbt step. A failing check stops those Dagster assets.
    """
    targets = translator.contract_targets(dbt_assets)
    return [build_contract_check(t, resource_key=resource_key, name=name) for t in targets]
