"""Dagster definitions for the jaffle_contracts example: dbt assets guarded by Tessera contract checks.

- every model of the dbt project is an asset (dagster-dbt), with ``dagster/column_lineage`` from
  Tessera's lineage; ``dim_customers`` and ``fct_orders`` (enforced contracts) get a blocking
  ``tessera_contract`` check next to their dbt tests;
- ``email_domains`` (team growth) is a Python asset that reads ``dim_customers.email_domain``, a
  column no dbt model reads: the check registers it as a consumer, so dropping that column is
  blocked until growth acknowledges, and ``email_domains`` does not run meanwhile;
- ``tessera_proposals`` runs the blocked assets again once the proposal is acknowledged.

Check it with ``dagster definitions validate -f example_project/dagster_defs/definitions.py`` and run
it with ``dagster dev -f ...``. The registry is ``$TESSERA_REGISTRY`` (default ``.tessera/registry.db``).
The first load compiles the dbt project into ``example_project/target``.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Definitions,
    MaterializeResult,
    TableColumnDep,
    TableColumnLineage,
    asset,
    definitions,
)
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets, get_asset_key_for_model

from tessera_dagster import (
    TesseraDbtTranslator,
    TesseraResource,
    build_contract_sensor,
    build_dbt_contract_checks,
)

EXAMPLE_DIR = Path(__file__).resolve().parent.parent


def build_definitions(project_dir: Path = EXAMPLE_DIR) -> Definitions:
    """The example's definitions for the dbt project in ``project_dir`` (tests pass a copy)."""
    project = DbtProject(project_dir=project_dir, prepare_project_cli_args=["compile", "--quiet"])
    if project.manifest_path.exists():
        project.prepare_if_dev()  # `dagster dev` recompiles on every load
    else:
        project.preparer.prepare(project)  # compiled SQL is what column lineage reads
    translator = TesseraDbtTranslator(project)

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator)
    def jaffle_contracts(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt.cli(["build"], context=context).stream()

    customers = get_asset_key_for_model([jaffle_contracts], "dim_customers")
    warehouse = os.environ.get("TESSERA_EXAMPLE_DB") or str(
        project_dir / "target" / "jaffle_contracts.duckdb"
    )

    @asset(
        key=AssetKey(["growth", "email_domains"]),
        deps=[customers],
        owners=["team:growth"],
        kinds={"python", "duckdb"},
        metadata={
            "dagster/column_lineage": TableColumnLineage(
                {"domain": [TableColumnDep(customers, "email_domain")]}
            )
        },
    )
    def email_domains() -> MaterializeResult:
        """Customers per email domain, for the growth team's partnership outreach."""
        with duckdb.connect(warehouse, read_only=True) as db:
            rows = db.sql(
                "select email_domain, count(*) from main.dim_customers group by 1 order by 2 desc"
            ).fetchall()
        return MaterializeResult(metadata={"domains": len(rows), "top_domain": rows[0][0] if rows else ""})

    checks = build_dbt_contract_checks(jaffle_contracts, translator=translator)
    return Definitions(
        assets=[jaffle_contracts, email_domains],
        asset_checks=checks,
        sensors=[build_contract_sensor(checks)],
        resources={"dbt": DbtCliResource(project_dir=project), "tessera": TesseraResource()},
    )


@definitions
def defs() -> Definitions:
    return build_definitions()
