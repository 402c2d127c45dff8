"""The example DAG (example_project/dags): dbt parse -> contract checks -> dbt build -> publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tessera_core import (
    ConsumerKind,
    Field,
    Registration,
    Schema,
    open_registry,
    parse_data_type,
    publish,
)

from .conftest import run_dag

pytestmark = pytest.mark.slow

DIM = "jaffle_contracts.main.dim_customers"
FCT = "jaffle_contracts.main.fct_orders"


def params(tmp_path: Path) -> dict[str, str]:
    """dbt's target folder and the DuckDB warehouse, both in the test's own folder."""
    return {"target_path": str(tmp_path / "target"), "warehouse": str(tmp_path / "jaffle_contracts.duckdb")}


def test_fresh_registry_checks_pass_dbt_builds_and_contracts_are_published(
    dag_bag: Any, tessera_conn: str, tmp_path: Path
) -> None:
    run = run_dag(dag_bag.dags["jaffle_contracts"], **params(tmp_path))
    assert run.state == "success", run.states
    assert (tmp_path / "jaffle_contracts.duckdb").is_file()
    registry = open_registry(tessera_conn)
    for fqn in (DIM, FCT):
        contract = registry.current_contract(fqn)
        assert contract is not None and contract.version == "1.0.0"
        assert registry.get_asset(fqn).owner_team == "platform"  # type: ignore[union-attr]
    assert "lifetime_value" in registry.current_contract(DIM).schema.names  # type: ignore[union-attr]


def test_unacknowledged_breaking_change_to_a_contracted_model_stops_dbt_build(
    dag_bag: Any, tessera_conn: str, tmp_path: Path
) -> None:
    # The published contract still has loyalty_tier, which analytics reads; the dbt code dropped it.
    text, integer = parse_data_type("varchar", dialect="duckdb"), parse_data_type("integer", dialect="duckdb")
    published = Schema(
        fields=(
            Field("customer_id", integer, nullable=False),
            Field("customer_name", text, nullable=False),
            Field("loyalty_tier", text),
        ),
        source_format="dbt",
        dialect="duckdb",
    )
    registry = open_registry(tessera_conn)
    publish(registry, DIM, published, owner_team="platform")
    registry.ensure_team("analytics")
    registry.register(
        Registration(DIM, "analytics", "loyalty_report", ConsumerKind.DBT_MODEL, frozenset({"loyalty_tier"}))
    )

    run = run_dag(dag_bag.dags["jaffle_contracts"], **params(tmp_path))
    assert run.state == "failed"
    assert run.states == {
        "dbt_parse": "success",
        "check_dim_customers": "failed",
        "check_fct_orders": "success",
        "dbt_build": "upstream_failed",
        "publish_dim_customers": "upstream_failed",
        "publish_fct_orders": "upstream_failed",
    }
    report = run.xcom("check_dim_customers", "tessera_report")
    assert report["awaiting"] == ["analytics"]
    assert "loyalty_tier" in [c["path"] for c in report["breaking_changes"]]
    assert not (tmp_path / "jaffle_contracts.duckdb").exists()
    assert registry.current_contract(DIM).version == "1.0.0"  # type: ignore[union-attr]
