"""Sync of example_project/: contracts per node, consumers from column lineage, retirement on re-sync.

One module story on one copy of the project: ``dbt build``, ``tessera-dbt sync --json``, a second
sync (nothing changes), then two consumers stop reading something and the project is synced again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tessera_core import Family, Registry, open_registry
from tessera_dbt.artifacts import compile_project, invoke
from tessera_dbt.publish import ProjectSync, sync_project

from .conftest import DIM, FCT, cli, copy_example, edit, settings_for

pytestmark = pytest.mark.slow

RPT_REVENUE = "models/marts/analytics/rpt_customer_revenue.sql"
ML_FEATURES = "models/marts/ml/ml_customer_features.sql"
CONTRACT_NODES = {
    # models (int_order_payments is ephemeral: no relation, no contract)
    "model.jaffle_contracts.stg_customers",
    "model.jaffle_contracts.stg_orders",
    "model.jaffle_contracts.stg_payments",
    "model.jaffle_contracts.stg_events",
    "model.jaffle_contracts.dim_customers",
    "model.jaffle_contracts.fct_orders",
    "model.jaffle_contracts.rpt_customer_revenue",
    "model.jaffle_contracts.rpt_daily_orders",
    "model.jaffle_contracts.ml_customer_features",
    "seed.jaffle_contracts.raw_customers",
    "seed.jaffle_contracts.raw_orders",
    "seed.jaffle_contracts.raw_payments",
    "source.jaffle_contracts.raw.events",
}


@dataclass(frozen=True)
class Story:
    project: Path
    registry: Registry
    first: dict[str, Any]  # `tessera-dbt sync --json`
    first_exit: int
    first_reads: dict[str, dict[tuple[str, str], set[str] | None]]  # per asset, in the registry after it
    again: ProjectSync
    after_edit: ProjectSync


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, module_registry_spec: str) -> Story:
    work = tmp_path_factory.mktemp("sync")
    project = copy_example(work)
    settings = settings_for(project, module_registry_spec)
    invoke(settings, ["build", "--quiet"])
    first = cli(settings, "sync", "--json")
    registry = open_registry(settings.registry)
    first_reads = {asset: _reads(registry, asset) for asset in (DIM, FCT)}
    again = sync_project(registry, compile_project(settings, catalog=True))

    # ml stops reading dim_customers.last_seen_at; rpt_customer_revenue stops reading fct_orders at all
    edit(project / ML_FEATURES, r"customers\.last_seen_at is not null", "false")
    edit(
        project / RPT_REVENUE,
        r"select\n        customer_id,\n        amount\n    from \{\{ ref\('fct_orders'\) \}\}\n"
        r"    where status = 'completed'",
        "select\n        customer_id,\n        0 as amount\n"
        "    from {{ ref('dim_customers') }}\n    where false",
    )
    after_edit = sync_project(registry, compile_project(settings, catalog=True))
    return Story(project, registry, json.loads(first.stdout), first.exit_code, first_reads, again, after_edit)


def _reads(registry: Registry, asset: str) -> dict[tuple[str, str], set[str] | None]:
    return {
        (r.team, r.consumer): (set(r.columns) if r.columns is not None else None)
        for r in registry.registrations(asset)
    }


def test_sync_publishes_a_contract_for_every_model_seed_and_source(story: Story) -> None:
    assert story.first_exit == 0
    contracts = story.first["contracts"]
    assert set(contracts) == CONTRACT_NODES
    assert {c["action"] for c in contracts.values()} == {"published"}
    assert {c["version"] for c in contracts.values()} == {"1.0.0"}


def test_enforced_contract_carries_the_declared_columns_and_types(story: Story) -> None:
    contract = story.registry.current_contract(DIM)
    assert contract is not None
    assert [f.name for f in contract.schema.fields] == [
        "customer_id",
        "customer_name",
        "email",
        "email_domain",
        "customer_segment",
        "first_order_date",
        "most_recent_order_date",
        "number_of_orders",
        "lifetime_value",
        "last_seen_at",
    ]
    types = {f.name: f.type.family for f in contract.schema.fields}
    assert types["customer_id"] is Family.INTEGER
    assert types["lifetime_value"] is Family.DECIMAL
    assert contract.schema.contract_enforced is True


def test_seed_contract_takes_the_warehouse_types_from_the_catalog(story: Story) -> None:
    contract = story.registry.current_contract("jaffle_contracts.main.raw_orders")
    assert contract is not None
    types = {f.name: f.type.family for f in contract.schema.fields}
    assert types == {
        "id": Family.INTEGER,
        "user_id": Family.INTEGER,
        "order_date": Family.DATE,
        "status": Family.STRING,
    }


def test_sync_json_reports_the_consumers_it_inferred_with_their_columns(story: Story) -> None:
    added = {
        (r["team"], r["consumer"]): r["columns"]
        for r in story.first["registrations"]["added"]
        if r["asset"] == DIM
    }
    assert added == {
        ("analytics", "rpt_customer_revenue"): ["customer_id", "customer_name"],
        ("ml", "ml_customer_features"): [
            "customer_id",
            "first_order_date",
            "last_seen_at",
            "lifetime_value",
            "number_of_orders",
        ],
    }


def test_consumers_of_dim_customers_are_registered_column_by_column(story: Story) -> None:
    assert story.first_reads[DIM] == {
        ("analytics", "rpt_customer_revenue"): {"customer_id", "customer_name"},
        ("ml", "ml_customer_features"): {
            "customer_id",
            "first_order_date",
            "lifetime_value",
            "number_of_orders",
            "last_seen_at",
        },
    }


def test_consumers_of_fct_orders_include_the_exposure(story: Story) -> None:
    reads = story.first_reads[FCT]
    assert reads[("analytics", "rpt_daily_orders")] == {"order_date", "order_id", "amount", "status"}
    assert reads[("ml", "ml_customer_features")] == {"customer_id", "order_id", "order_date", "amount"}
    assert reads[("analytics", "weekly_revenue_dashboard")] == {"order_date", "amount", "status"}


def test_second_sync_of_an_unchanged_project_changes_nothing(story: Story) -> None:
    regs = story.again.registrations
    assert (regs.added, regs.changed, regs.retired) == ((), (), ())
    assert regs.unchanged > 0
    assert {r.action for r in story.again.published.values()} == {"unchanged"}


def test_resync_narrows_a_registration_when_a_model_stops_reading_a_column(story: Story) -> None:
    changed = {(r.asset_fqn, r.consumer): r for r in story.after_edit.registrations.changed}
    ml = changed[(DIM, "ml_customer_features")]
    assert ml.columns is not None
    assert "last_seen_at" not in ml.columns
    assert {"customer_id", "lifetime_value"} <= ml.columns


def test_resync_retires_a_registration_when_a_model_stops_reading_a_table(story: Story) -> None:
    retired = {(r.asset_fqn, r.team, r.consumer) for r in story.after_edit.registrations.retired}
    assert retired == {(FCT, "analytics", "rpt_customer_revenue")}
    assert ("analytics", "rpt_customer_revenue") not in _reads(story.registry, FCT)
    kept = story.registry.registrations(FCT, include_retired=True)
    assert any(r.consumer == "rpt_customer_revenue" and r.retired for r in kept)
