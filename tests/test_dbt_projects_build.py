"""The two dbt projects the suite relies on build from a clean state, and their manifests say what we claim.

- example_project/ (``jaffle_contracts``): the demo; three teams, two contracted marts, one exposure.
- tests/fixtures/dbt_projects/tricky/: the lineage accuracy fixture; its expected_lineage.yml is checked
  against the manifest, the warehouse's columns and DuckDB's binder.

Each project is copied to a temporary directory and built once with dbt's programmatic runner, so that
target/, logs/ and the DuckDB file never land in the repository.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

duckdb = pytest.importorskip("duckdb")
dbt_main = pytest.importorskip("dbt.cli.main")

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PROJECT = REPO / "example_project"
TRICKY_PROJECT = REPO / "tests" / "fixtures" / "dbt_projects" / "tricky"
EXPECTED = yaml.safe_load((TRICKY_PROJECT / "expected_lineage.yml").read_text())
TRICKY_MODELS = sorted(EXPECTED["models"])
# Folders the other owners of example_project/ fill later; a build copy does not need them.
# What each consumer of the contracted marts reads, as example_project/README.md tells it.
EXAMPLE_READS = {
    "rpt_customer_revenue": {
        "dim_customers": {"customer_id", "customer_name"},
        "fct_orders": {"customer_id", "amount", "status"},
    },
    "rpt_daily_orders": {"fct_orders": {"order_date", "order_id", "amount", "status"}},
    "ml_customer_features": {
        "dim_customers": {
            "customer_id",
            "first_order_date",
            "lifetime_value",
            "number_of_orders",
            "last_seen_at",
        },
        "fct_orders": {"customer_id", "order_id", "order_date", "amount"},
    },
}
NOT_DBT = shutil.ignore_patterns("target", "logs", "dbt_packages", "dagster_defs", "dags", "__pycache__")


@dataclass(frozen=True)
class Build:
    project_dir: Path
    success: bool
    statuses: dict[str, str]  # unique_id -> run status
    manifest: dict[str, Any]
    seconds: float

    def node(self, name: str) -> dict[str, Any]:
        matches = [n for n in self.manifest["nodes"].values() if n["name"] == name]
        assert len(matches) == 1, f"expected one node named {name}, found {len(matches)}"
        return matches[0]

    def connect(self, database: str) -> Any:
        # Same configuration as dbt's own connection, which may still be open in this process.
        return duckdb.connect(str(self.project_dir / "target" / f"{database}.duckdb"))


def build(source: Path, tmp: Path) -> Build:
    project_dir = tmp / source.name
    shutil.copytree(source, project_dir, ignore=NOT_DBT)
    started = time.perf_counter()
    result = dbt_main.dbtRunner().invoke(
        ["build", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--quiet"]
    )
    seconds = time.perf_counter() - started
    statuses = {r.node.unique_id: str(r.status) for r in (result.result or [])}
    manifest = json.loads((project_dir / "target" / "manifest.json").read_text())
    return Build(project_dir, bool(result.success), statuses, manifest, seconds)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    with pytest.MonkeyPatch.context() as env:
        env.delenv("TESSERA_EXAMPLE_DB", raising=False)
        yield build(EXAMPLE_PROJECT, tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return build(TRICKY_PROJECT, tmp_path_factory.mktemp("tricky"))


# --- example_project ---------------------------------------------------------------------------------


def test_example_builds_every_node_from_a_clean_state(example: Build) -> None:
    assert example.success, example.statuses
    assert set(example.statuses.values()) <= {"success", "pass", "no-op"}, example.statuses
    print(f"example_project dbt build: {example.seconds:.1f}s")


def test_example_database_defaults_to_the_project_target_dir(example: Build) -> None:
    assert (example.project_dir / "target" / "jaffle_contracts.duckdb").is_file()
    assert example.manifest["metadata"]["adapter_type"] == "duckdb"


def test_example_declares_seeds_staging_ephemeral_and_marts(example: Build) -> None:
    nodes = example.manifest["nodes"].values()
    seeds = {n["name"] for n in nodes if n["resource_type"] == "seed"}
    models = {n["name"]: n["config"]["materialized"] for n in nodes if n["resource_type"] == "model"}
    assert seeds == {"raw_customers", "raw_orders", "raw_payments"}
    assert models == {
        "stg_customers": "view",
        "stg_orders": "view",
        "stg_payments": "view",
        "stg_events": "view",
        "int_order_payments": "ephemeral",
        "dim_customers": "table",
        "fct_orders": "table",
        "rpt_customer_revenue": "table",
        "rpt_daily_orders": "table",
        "ml_customer_features": "table",
    }


def test_example_reads_one_real_source(example: Build) -> None:
    assert set(example.manifest["sources"]) == {"source.jaffle_contracts.raw.events"}
    assert example.node("stg_events")["depends_on"]["nodes"] == ["source.jaffle_contracts.raw.events"]
    with example.connect("jaffle_contracts") as db:
        assert db.execute("select count(*) from raw.events").fetchone() == (15,)


def test_example_groups_are_the_three_teams_with_owners(example: Build) -> None:
    owners = {g["name"]: g["owner"]["name"] for g in example.manifest["groups"].values()}
    assert owners == {"platform": "platform", "analytics": "analytics", "ml": "ml"}


@pytest.mark.parametrize(
    ("model", "group"),
    [
        ("dim_customers", "platform"),
        ("fct_orders", "platform"),
        ("rpt_customer_revenue", "analytics"),
        ("rpt_daily_orders", "analytics"),
        ("ml_customer_features", "ml"),
    ],
)
def test_example_marts_belong_to_their_team(example: Build, model: str, group: str) -> None:
    node = example.node(model)
    assert node["group"] == group
    assert node["meta"]["tessera"]["owner_team"] == group


@pytest.mark.parametrize("model", ["dim_customers", "fct_orders"])
def test_example_platform_marts_have_enforced_public_contracts(example: Build, model: str) -> None:
    node = example.node(model)
    assert node["contract"]["enforced"] is True
    assert node["access"] == "public"
    assert node["meta"]["tessera"]["compatibility_mode"] == "backward"
    assert all(column["data_type"] for column in node["columns"].values())
    assert [c["type"] for c in node["constraints"]] == ["primary_key"]


def test_example_dim_customers_key_is_an_integer_the_demo_can_retype(example: Build) -> None:
    column = example.node("dim_customers")["columns"]["customer_id"]
    assert column["data_type"] == "integer"
    assert {c["type"] for c in column["constraints"]} == {"not_null"}


@pytest.mark.parametrize("consumer", sorted(EXAMPLE_READS))
def test_example_consumers_read_the_columns_the_readme_lists(example: Build, consumer: str) -> None:
    sql = example.node(consumer)["compiled_code"]
    with example.connect("jaffle_contracts") as db:
        for upstream, columns in EXAMPLE_READS[consumer].items():
            assert needed_columns(db, example, sql, f"model.jaffle_contracts.{upstream}") == columns, upstream


def test_example_some_dim_customers_columns_have_no_reader(example: Build) -> None:
    read = set().union(*(reads.get("dim_customers", set()) for reads in EXAMPLE_READS.values()))
    unread = set(example.node("dim_customers")["columns"]) - read
    assert {"email_domain", "customer_segment"} <= unread
    assert "customer_id" in read


def test_example_exposure_is_the_analytics_dashboard(example: Build) -> None:
    exposure = example.manifest["exposures"]["exposure.jaffle_contracts.weekly_revenue_dashboard"]
    assert exposure["type"] == "dashboard"
    assert exposure["owner"]["name"] == "analytics"
    assert sorted(exposure["depends_on"]["nodes"]) == [
        "model.jaffle_contracts.fct_orders",
        "model.jaffle_contracts.rpt_customer_revenue",
    ]


def test_example_has_each_kind_of_generic_test(example: Build) -> None:
    kinds = {
        (n["test_metadata"]["name"], n["attached_node"].split(".")[-1], n["column_name"])
        for n in example.manifest["nodes"].values()
        if n["resource_type"] == "test"
    }
    assert ("relationships", "fct_orders", "customer_id") in kinds
    assert ("accepted_values", "fct_orders", "status") in kinds
    assert ("unique", "dim_customers", "customer_id") in kinds
    assert ("not_null", "fct_orders", "order_id") in kinds


def test_example_marts_hold_every_seeded_row(example: Build) -> None:
    with example.connect("jaffle_contracts") as db:
        assert db.execute("select count(*) from dim_customers").fetchone() == (30,)
        assert db.execute("select count(*) from fct_orders").fetchone() == (50,)
        total = "select (select sum(amount) from fct_orders) = (select sum(amount) / 100 from raw_payments)"
        assert db.execute(total).fetchone() == (True,)


# --- tricky: the lineage fixture ----------------------------------------------------------------------


def test_tricky_builds_from_a_clean_state(tricky: Build) -> None:
    assert tricky.success, tricky.statuses
    assert set(tricky.statuses.values()) <= {"success", "pass"}, tricky.statuses
    print(f"tricky dbt build: {tricky.seconds:.1f}s")


def test_tricky_expectations_cover_every_model(tricky: Build) -> None:
    models = {n["name"] for n in tricky.manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(TRICKY_MODELS) == models


@pytest.mark.parametrize("model", TRICKY_MODELS)
def test_tricky_upstreams_are_dbt_depends_on(tricky: Build, model: str) -> None:
    expected = EXPECTED["models"][model]
    node = tricky.node(model)
    assert node["unique_id"] == expected["unique_id"]
    assert node["config"]["materialized"] == expected["materialized"]
    assert sorted(node["depends_on"]["nodes"]) == sorted(expected["upstreams"])


@pytest.mark.parametrize("model", TRICKY_MODELS)
def test_tricky_expected_columns_are_the_warehouse_columns(tricky: Build, model: str) -> None:
    with tricky.connect("tricky") as db:
        columns = output_columns(db, tricky.node(model)["compiled_code"])
    assert columns == list(EXPECTED["models"][model]["columns"])


@pytest.mark.parametrize("model", TRICKY_MODELS)
def test_tricky_derivations_name_only_columns_the_model_reads(model: str) -> None:
    for view in lineage_views(EXPECTED["models"][model]):
        for output, sources in view["columns"].items():
            for upstream, columns in sources.items():
                assert set(columns) <= set(view["reads"][upstream]), f"{model}.{output} <- {upstream}"


@pytest.mark.parametrize("model", TRICKY_MODELS)
def test_tricky_reads_are_the_columns_duckdb_needs(tricky: Build, model: str) -> None:
    """A column is read iff dropping it from its upstream breaks the query or changes its output columns."""
    expected = EXPECTED["models"][model]
    sql = tricky.node(model)["compiled_code"]
    with tricky.connect("tricky") as db:
        for upstream in expected["upstreams"]:
            assert needed_columns(db, tricky, sql, upstream) == set(expected["reads"][upstream]), upstream
        through = expected.get("through_ephemeral")
        for upstream in (through or {}).get("reads", {}):
            assert needed_columns(db, tricky, sql, upstream) == set(through["reads"][upstream]), upstream


def lineage_views(expected: dict[str, Any]) -> list[dict[str, Any]]:
    return [expected, *([expected["through_ephemeral"]] if "through_ephemeral" in expected else [])]


def output_columns(db: Any, sql: str) -> list[str] | None:
    try:
        return [row[0] for row in db.execute(f"describe ({sql})").fetchall()]
    except duckdb.Error:
        return None


def needed_columns(db: Any, build: Build, sql: str, upstream_id: str) -> set[str]:
    """The columns of upstream_id whose absence changes what ``sql`` returns (or lets it run at all)."""
    baseline = output_columns(db, sql)
    assert baseline is not None, f"the compiled SQL does not run:\n{sql}"
    upstream = build.manifest["nodes"].get(upstream_id) or build.manifest["sources"][upstream_id]
    if upstream["config"].get("materialized") == "ephemeral":
        columns = output_columns(db, upstream["compiled_code"]) or []
        without = without_in_ephemeral
    else:
        columns = output_columns(db, f"select * from {upstream['relation_name']}") or []
        without = without_in_relation
    return {column for column in columns if output_columns(db, without(sql, upstream, column)) != baseline}


def without_in_relation(sql: str, upstream: dict[str, Any], column: str) -> str:
    relation = upstream["relation_name"]
    assert relation in sql, f"{relation} does not appear in the compiled SQL"
    return sql.replace(relation, f'(select * exclude ("{column}") from {relation})')


def without_in_ephemeral(sql: str, upstream: dict[str, Any], column: str) -> str:
    cte = f"__dbt__cte__{upstream['name']}"
    renamed = sql.replace(f"{cte} as (", f"{cte}__all as (", 1)
    assert renamed != sql, f"{cte} is not inlined in the compiled SQL"
    end = closing_paren(renamed, renamed.index(f"{cte}__all as (") + len(f"{cte}__all as ("))
    shadow = f', {cte} as (select * exclude ("{column}") from {cte}__all)'
    return renamed[: end + 1] + shadow + renamed[end + 1 :]


def closing_paren(sql: str, start: int) -> int:
    depth = 1
    for index in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[index], 0)
        if depth == 0:
            return index
    raise AssertionError("unbalanced parentheses in the compiled SQL")
