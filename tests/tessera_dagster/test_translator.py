"""dagster-dbt over the example project (a copy in tmp_path): checks, column lineage, and a failing
contract check that stops the non-dbt asset downstream (what dagster-dbt's own checks once missed,
dagster issue #25112)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import AssetCheckKey, AssetKey, DagsterInstance, Definitions, TableColumnDep

from tessera_core import ConsumerKind, open_registry

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
DIM_CUSTOMERS = AssetKey("dim_customers")
FCT_ORDERS = AssetKey("fct_orders")
EMAIL_DOMAINS = AssetKey(["growth", "email_domains"])
DIM_FQN = "jaffle_contracts.main.dim_customers"


BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project copied and built once with plain dbt: a compiled manifest and a warehouse."""
    copy = tmp_path_factory.mktemp("built") / "example_project"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "dags"))
    env = {k: v for k, v in os.environ.items() if k != "TESSERA_EXAMPLE_DB"}
    dbt = [str(BIN / "dbt"), "build", "--quiet", "--project-dir", str(copy), "--profiles-dir", str(copy)]
    subprocess.run(dbt, cwd=copy, env=env, check=True, capture_output=True)
    (copy / "target" / "partial_parse.msgpack").unlink(missing_ok=True)  # it holds the absolute paths
    return copy


@pytest.fixture
def example(built_example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_spec: str) -> Path:
    """This test's copy of the built project; dbt's target/ and the DuckDB file stay inside it."""
    copy = tmp_path / "example_project"
    shutil.copytree(built_example, copy)
    monkeypatch.setenv("TESSERA_REGISTRY", registry_spec)
    monkeypatch.delenv("TESSERA_EXAMPLE_DB", raising=False)
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # dagster-dbt runs `dbt`
    return copy


def definitions_for(project_dir: Path) -> Definitions:
    spec = importlib.util.spec_from_file_location(
        "example_definitions", EXAMPLE / "dagster_defs" / "definitions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defs: Definitions = module.build_definitions(project_dir)
    return defs


def run(defs: Definitions, instance: DagsterInstance, selection: list[AssetKey] | None = None) -> Any:
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=instance, asset_selection=selection, raise_on_error=False)


def contract_check(result: Any, key: AssetKey) -> Any:
    (found,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == key and e.check_name == "tessera_contract"
    ]
    return found


def drop_email_domain(project_dir: Path) -> None:
    """A breaking change no dbt model notices: only the growth team's Dagster asset reads the column."""
    yml = project_dir / "models" / "marts" / "platform" / "_platform.yml"
    doc = yaml.safe_load(yml.read_text())
    model = next(m for m in doc["models"] if m["name"] == "dim_customers")
    model["columns"] = [c for c in model["columns"] if c["name"] != "email_domain"]
    yml.write_text(yaml.safe_dump(doc, sort_keys=False))
    sql = project_dir / "models" / "marts" / "platform" / "dim_customers.sql"
    sql.write_text(
        "".join(line for line in sql.read_text().splitlines(True) if "as email_domain" not in line)
    )
    (project_dir / "target" / "manifest.json").unlink()  # compiled again on the next load


def test_contracted_models_get_blocking_checks_and_every_model_column_lineage(example):
    defs = definitions_for(example)

    graph = defs.resolve_asset_graph()
    checks = {k for k in graph.asset_check_keys if k.name == "tessera_contract"}
    assert checks == {
        AssetCheckKey(DIM_CUSTOMERS, "tessera_contract"),
        AssetCheckKey(FCT_ORDERS, "tessera_contract"),
    }
    assert all(graph.get_check_spec(k).blocking for k in checks)
    lineage = graph.get(DIM_CUSTOMERS).metadata["dagster/column_lineage"]
    assert lineage.deps_by_column["email_domain"] == [TableColumnDep(AssetKey("stg_customers"), "email")]
    assert graph.get(EMAIL_DOMAINS).parent_keys == {DIM_CUSTOMERS}


def test_example_materialization_publishes_contracts_and_registers_consumers(
    example, instance, registry_spec
):
    result = run(definitions_for(example), instance)

    assert result.success
    assert contract_check(result, DIM_CUSTOMERS).passed and contract_check(result, FCT_ORDERS).passed
    assert EMAIL_DOMAINS in {e.asset_key for e in result.get_asset_materialization_events()}
    registry = open_registry(registry_spec)
    assert registry.current_contract(DIM_FQN).version == "1.0.0"  # type: ignore[union-attr]
    readers = {(r.consumer, r.consumer_kind, r.columns) for r in registry.registrations(DIM_FQN)}
    assert ("growth/email_domains", ConsumerKind.DAGSTER_ASSET, frozenset({"email_domain"})) in readers
    assert (
        "rpt_customer_revenue",
        ConsumerKind.DBT_MODEL,
        frozenset({"customer_id", "customer_name"}),
    ) in readers


def test_failing_contract_check_on_a_dbt_model_stops_its_non_dbt_downstream_asset(example, instance):
    run(definitions_for(example), instance, selection=[DIM_CUSTOMERS, EMAIL_DOMAINS])  # publishes 1.0.0
    drop_email_domain(example)

    result = run(definitions_for(example), instance, selection=[DIM_CUSTOMERS, EMAIL_DOMAINS])

    check = contract_check(result, DIM_CUSTOMERS)
    assert not check.passed
    assert check.metadata["tessera/affected_consumers"].value == [
        {"team": "growth", "consumer": "growth/email_domains", "columns": ["email_domain"], "depth": 0}
    ]
    assert check.metadata["tessera/awaiting"].value == ["growth"]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert DIM_CUSTOMERS in materialized and EMAIL_DOMAINS not in materialized
    assert "dim_customers_tessera_contract" in result.get_failed_step_keys()
