"""The dbt manifest and catalog reader: every schema version, the node facts Tessera uses, the errors.

Two kinds of input:
- a real v12 manifest and catalog, written by dbt 1.11 + dbt-duckdb building tests/core/fixtures/dbt_tiny/
  (copied to a temporary directory, so target/ never lands in the repository);
- small hand-made v7..v11 manifests in tests/core/fixtures/manifests/, in the shapes dbt 1.3..1.7 wrote
  (checked against the published schemas when they were written).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera_core.errors import ManifestError, UnknownDialectError
from tessera_core.manifest import Node, Project, canonical_relation, load_manifest

FIXTURES = Path(__file__).parent / "fixtures"
HAND_MADE = FIXTURES / "manifests"
TINY_PROJECT = FIXTURES / "dbt_tiny"
DBT = Path(sys.executable).with_name("dbt")


def hand_made(version: int) -> Project:
    return load_manifest(HAND_MADE / f"v{version}.json")


def edited(tmp_path: Path, version: int, edit: Any) -> Path:
    """A copy of a hand-made manifest changed by ``edit(document)``."""
    document = json.loads((HAND_MADE / f"v{version}.json").read_text())
    edit(document)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    return path


def written(tmp_path: Path, text: str, name: str = "manifest.json") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the real dbt 1.11 project -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """target/ of dbt_tiny after ``dbt build`` and ``dbt docs generate`` (manifest v12 + catalog)."""
    if not DBT.exists():
        pytest.skip("dbt is not installed next to this Python")
    project = tmp_path_factory.mktemp("dbt") / "dbt_tiny"
    shutil.copytree(TINY_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    for command in (["build"], ["docs", "generate"]):
        done = subprocess.run(
            [str(DBT), *command, "--project-dir", ".", "--profiles-dir", "."],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"dbt {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return project / "target"


@pytest.fixture(scope="session")
def tiny(tiny_target: Path) -> Project:
    return load_manifest(tiny_target / "manifest.json", catalog=tiny_target / "catalog.json")


# --- every schema version loads ------------------------------------------------------------------------


@pytest.mark.parametrize("version", [7, 8, 9, 10, 11])
def test_hand_made_manifest_of_each_schema_version_loads(version: int) -> None:
    project = hand_made(version)

    assert project.schema_version == version
    assert project.project_name == "jaffle"
    assert {n.resource_type for n in project.nodes.values()} == {"model", "seed", "source", "exposure"}
    assert project.nodes["model.jaffle.stg_orders"].depends_on == ("source.jaffle.raw.orders",)


@pytest.mark.slow
def test_real_dbt_manifest_is_schema_v12(tiny: Project) -> None:
    assert (tiny.schema_version, tiny.project_name, tiny.adapter_type, tiny.dialect) == (
        12,
        "tiny_shop",
        "duckdb",
        "duckdb",
    )
    assert tiny.dbt_version is not None and tiny.dbt_version.startswith("1.11.")


@pytest.mark.slow
def test_real_manifest_keeps_models_sources_seeds_snapshots_and_exposures(tiny: Project) -> None:
    assert sorted(tiny.nodes) == [
        "exposure.tiny_shop.weekly_kpis",
        "model.tiny_shop.customers.v1",
        "model.tiny_shop.customers.v2",
        "model.tiny_shop.int_order_totals",
        "model.tiny_shop.stg_customers",
        "model.tiny_shop.stg_orders",
        "seed.tiny_shop.raw_customers",
        "snapshot.tiny_shop.orders_snapshot",
        "source.tiny_shop.shop_raw.orders",
    ]


def test_directory_holding_the_manifest_is_accepted(tmp_path: Path) -> None:
    shutil.copy(HAND_MADE / "v11.json", tmp_path / "manifest.json")

    project = load_manifest(tmp_path)

    assert project.path == tmp_path / "manifest.json"
    assert project.nodes == hand_made(11).nodes


# --- SQL and relations -------------------------------------------------------------------------------


@pytest.mark.slow
def test_compiled_code_of_v12_is_the_compiled_sql(tiny: Project) -> None:
    node = tiny.nodes["model.tiny_shop.stg_orders"]

    assert node.compiled_sql is not None and '"tiny_shop"."raw"."raw_orders"' in node.compiled_sql
    assert node.raw_sql is not None and "{{ source('shop_raw', 'orders') }}" in node.raw_sql


def test_compiled_code_of_v7_is_the_compiled_sql() -> None:
    node = hand_made(7).nodes["model.jaffle.stg_orders"]

    assert node.compiled_sql == (
        'select id as order_id, customer_id, status, amount from "analytics"."raw"."raw_orders"'
    )


def test_compiled_sql_key_of_older_writers_is_read(tmp_path: Path) -> None:
    def rename(document: dict[str, Any]) -> None:
        node = document["nodes"]["model.jaffle.stg_orders"]
        node["compiled_sql"] = node.pop("compiled_code")
        node["raw_sql"] = node.pop("raw_code")

    node = load_manifest(edited(tmp_path, 7, rename)).nodes["model.jaffle.stg_orders"]

    assert node.compiled_sql is not None and node.compiled_sql.startswith("select id as order_id")
    assert node.raw_sql is not None and "source('raw', 'orders')" in node.raw_sql


@pytest.mark.slow
def test_relation_comes_from_quoted_relation_name(tiny: Project) -> None:
    assert tiny.nodes["model.tiny_shop.stg_orders"].relation == "tiny_shop.main.stg_orders"
    assert (
        tiny.nodes["snapshot.tiny_shop.orders_snapshot"].relation
        == "tiny_shop.main_snapshots.orders_snapshot"
    )


@pytest.mark.slow
def test_source_relation_uses_its_identifier(tiny: Project) -> None:
    source = tiny.nodes["source.tiny_shop.shop_raw.orders"]

    assert (source.name, source.source_name, source.relation) == (
        "orders",
        "shop_raw",
        "tiny_shop.raw.raw_orders",
    )


def test_upper_case_snowflake_relation_name_is_folded() -> None:
    assert hand_made(8).nodes["model.jaffle.stg_orders"].relation == "analytics.public.stg_orders"


def test_backticked_bigquery_relation_name_is_split_on_dots_outside_quotes() -> None:
    assert hand_made(10).nodes["model.jaffle.customers.v1"].relation == "acme-data.shop.customers_v1"


def test_relation_without_relation_name_is_database_schema_alias() -> None:
    # v7 seeds carry no relation_name
    assert hand_made(7).nodes["seed.jaffle.raw_customers"].relation == "analytics.public.raw_customers"


@pytest.mark.slow
def test_ephemeral_model_has_no_relation_but_keeps_its_sql(tiny: Project) -> None:
    node = tiny.nodes["model.tiny_shop.int_order_totals"]

    assert (node.materialized, node.relation) == ("ephemeral", None)
    assert node.compiled_sql is not None and "sum(amount)" in node.compiled_sql


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ('"tiny_shop"."main"."orders"', "tiny_shop.main.orders"),
        ("ANALYTICS.PUBLIC.ORDERS", "analytics.public.orders"),
        ('"Sales"."public"."Orders"', "Sales.public.Orders"),
        ('"my.db"."s"."t"', "my.db.s.t"),
        ('"we ""quote"""."s"."t"', 'we "quote".s.t'),
        ("[dwh].[dbo].[Orders]", "dwh.dbo.Orders"),
        ("`acme-data`.`shop`.`orders`", "acme-data.shop.orders"),
        (' "db" . "s" . t ', "db.s.t"),
    ],
)
def test_canonical_relation(text: str, canonical: str) -> None:
    assert canonical_relation(text) == canonical


def test_quoted_upper_case_name_on_snowflake_is_the_unquoted_name() -> None:
    assert canonical_relation('"ANALYTICS"."PUBLIC"."Orders"', adapter_type="snowflake") == (
        "analytics.public.Orders"
    )
    assert canonical_relation('"ANALYTICS"."PUBLIC"."ORDERS"', adapter_type="postgres") == (
        "ANALYTICS.PUBLIC.ORDERS"
    )


@pytest.mark.parametrize("text", ['"db"."s', "db..t", 'db."s"x'])
def test_unreadable_relation_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="in "):
        canonical_relation(text)


def test_unreadable_relation_name_in_manifest_names_node_and_file(tmp_path: Path) -> None:
    def unbalance(document: dict[str, Any]) -> None:
        document["nodes"]["model.jaffle.stg_orders"]["relation_name"] = '"analytics"."public"."stg_orders'

    path = edited(tmp_path, 11, unbalance)

    with pytest.raises(ManifestError, match=r"manifest\.json: relation_name .* of model\.jaffle\.stg_orders"):
        load_manifest(path)


# --- versions, access, contracts ------------------------------------------------------------------------


@pytest.mark.slow
def test_model_versions_and_access(tiny: Project) -> None:
    v1 = tiny.nodes["model.tiny_shop.customers.v1"]
    v2 = tiny.nodes["model.tiny_shop.customers.v2"]

    assert (v1.name, v1.version, v1.latest_version, v1.access) == ("customers", "1", "2", "public")
    assert (v2.version, v2.latest_version, v2.deprecation_date) == ("2", "2", None)
    assert v1.deprecation_date is not None and v1.deprecation_date.startswith("2030-01-01")
    assert tiny.nodes["model.tiny_shop.stg_orders"].access == "protected"


def test_v9_latest_version_comes_from_is_latest_version() -> None:
    project = hand_made(9)

    assert [project.nodes[f"model.jaffle.customers.v{v}"].latest_version for v in (1, 2)] == ["2", "2"]


def test_numeric_model_versions_become_text(tmp_path: Path) -> None:
    def float_version(document: dict[str, Any]) -> None:
        document["nodes"]["model.jaffle.customers.v1"]["version"] = 1.5

    assert (
        load_manifest(edited(tmp_path, 10, float_version)).nodes["model.jaffle.customers.v1"].version == "1.5"
    )


@pytest.mark.slow
def test_contract_constraints_and_column_types(tiny: Project) -> None:
    node = tiny.nodes["model.tiny_shop.customers.v2"]
    customer_id = node.column("customer_id")

    assert node.contract_enforced
    assert [(c["type"], c["columns"]) for c in node.constraints] == [("primary_key", ["customer_id"])]
    assert customer_id is not None and customer_id.data_type == "integer"
    assert [c["type"] for c in customer_id.constraints] == ["not_null"]
    assert not tiny.nodes["model.tiny_shop.stg_orders"].contract_enforced


def test_contract_enforced_in_config_alone_counts(tmp_path: Path) -> None:
    def config_only(document: dict[str, Any]) -> None:
        del document["nodes"]["model.jaffle.customers.v1"]["contract"]

    assert (
        load_manifest(edited(tmp_path, 11, config_only)).nodes["model.jaffle.customers.v1"].contract_enforced
    )


def test_versioned_model_names_carry_no_version_before_v9() -> None:
    node = hand_made(8).nodes["model.jaffle.customers"]

    assert (node.version, node.latest_version, node.access, node.contract_enforced) == (
        None,
        None,
        None,
        False,
    )


# --- owners and meta ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_owner_team_from_meta_tessera_beats_group_owner(tiny: Project) -> None:
    node = tiny.nodes["model.tiny_shop.customers.v2"]

    assert (node.group, node.owner_team, node.owner_email) == (
        "finance",
        "customer-data",
        "finance@example.com",
    )


@pytest.mark.slow
def test_owner_team_from_group_owner_name(tiny: Project) -> None:
    assert tiny.nodes["model.tiny_shop.stg_customers"].owner_team == "Growth Marketing"


def test_group_owner_beats_meta_owner() -> None:
    node = hand_made(9).nodes["model.jaffle.customers.v1"]

    assert (node.meta["owner"], node.owner_team) == ("data-eng", "Finance Analytics")


@pytest.mark.slow
def test_owner_team_from_meta_owner(tiny: Project) -> None:
    assert tiny.nodes["model.tiny_shop.stg_orders"].owner_team == "@ops-oncall"


@pytest.mark.slow
def test_no_owner_anywhere_is_none(tiny: Project) -> None:
    assert tiny.nodes["model.tiny_shop.int_order_totals"].owner_team is None


@pytest.mark.slow
def test_meta_tessera_is_exposed(tiny: Project) -> None:
    tessera = tiny.nodes["model.tiny_shop.customers.v1"].tessera

    assert tessera["compatibility_mode"] == "backward"
    assert tessera["consumers"] == [
        {"team": "marketing", "consumer": "crm_sync", "columns": ["customer_id", "lifetime_value"]}
    ]


def test_node_and_config_meta_are_merged(tmp_path: Path) -> None:
    def split_meta(document: dict[str, Any]) -> None:
        node = document["nodes"]["model.jaffle.stg_orders"]
        node["meta"] = {"tier": "silver", "tessera": {"compatibility_mode": "forward"}}
        node["config"]["meta"] = {"tessera": {"owner_team": "orders-team"}}

    node = load_manifest(edited(tmp_path, 8, split_meta)).nodes["model.jaffle.stg_orders"]

    assert node.meta["tier"] == "silver"
    assert node.tessera == {"compatibility_mode": "forward", "owner_team": "orders-team"}
    assert node.owner_team == "orders-team"


def test_source_meta_of_the_source_block_applies_to_its_tables() -> None:
    assert hand_made(7).nodes["source.jaffle.raw.orders"].owner_team == "platform"


def test_meta_tessera_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    def bad(document: dict[str, Any]) -> None:
        document["nodes"]["model.jaffle.stg_orders"]["config"]["meta"] = {"tessera": ["orders-team"]}

    with pytest.raises(ManifestError, match=r"meta\.tessera of model\.jaffle\.stg_orders must be a mapping"):
        load_manifest(edited(tmp_path, 8, bad))


@pytest.mark.slow
def test_exposure(tiny: Project) -> None:
    exposure = tiny.nodes["exposure.tiny_shop.weekly_kpis"]

    assert exposure.depends_on == ("model.tiny_shop.customers.v2", "model.tiny_shop.stg_orders")
    assert (exposure.exposure_type, exposure.owner_team, exposure.owner_email) == (
        "dashboard",
        "BI Team",
        "bi@example.com",
    )
    assert (exposure.relation, exposure.meta) == (None, {"tier": "gold"})


# --- tests -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_generic_tests_attach_to_their_model(tiny: Project) -> None:
    tests = tiny.nodes["model.tiny_shop.stg_orders"].tests

    assert [(t.kind, t.column, t.severity) for t in tests] == [
        ("relationships", "customer_id", "error"),
        ("not_null", "order_id", "error"),
        ("unique", "order_id", "warn"),
    ]
    assert tests[0].kwargs == {
        "column_name": "customer_id",
        "to": "ref('stg_customers')",
        "field": "customer_id",
    }
    assert tests[1].unique_id.startswith("test.tiny_shop.not_null_stg_orders_order_id.")


@pytest.mark.slow
def test_custom_generic_test_of_the_project_has_no_namespace(tiny: Project) -> None:
    kinds = [t.kind for t in tiny.nodes["model.tiny_shop.stg_customers"].tests]

    assert kinds == ["not_null", "is_lowercase"]


@pytest.mark.slow
def test_source_tests_attach_with_normalized_columns(tiny: Project) -> None:
    tests = tiny.nodes["source.tiny_shop.shop_raw.orders"].tests

    assert [(t.kind, t.column) for t in tests] == [
        ("not_null", "id"),
        ("unique", "id"),
        ("accepted_values", "status"),
    ]
    assert tests[2].kwargs["values"] == ["placed", "shipped", "returned"]


@pytest.mark.slow
def test_tests_of_each_model_version_stay_with_it(tiny: Project) -> None:
    v1 = tiny.nodes["model.tiny_shop.customers.v1"].tests
    v2 = tiny.nodes["model.tiny_shop.customers.v2"].tests

    assert [t.unique_id.split(".")[2] for t in v1] == ["unique_customers_v1_customer_id"]
    assert [t.unique_id.split(".")[2] for t in v2] == ["unique_customers_v2_customer_id"]


def test_before_attached_node_a_test_reading_two_nodes_goes_to_the_one_it_names() -> None:
    # relationships on stg_orders depends on customers too; only the "model" kwarg tells them apart
    project = hand_made(7)

    assert [t.kind for t in project.nodes["model.jaffle.stg_orders"].tests] == [
        "accepted_values",
        "relationships",
        "not_null",
    ]
    assert [t.kind for t in project.nodes["model.jaffle.customers"].tests] == ["dbt_utils.expression_is_true"]


def test_source_relationships_test_goes_to_the_source() -> None:
    tests = hand_made(10).nodes["source.jaffle.raw.orders"].tests

    assert [(t.kind, t.column) for t in tests] == [("relationships", "customer_id"), ("not_null", "id")]
    assert hand_made(10).nodes["seed.jaffle.raw_customers"].tests == ()


@pytest.mark.parametrize("version", [7, 9, 11])
def test_package_test_kind_is_prefixed_with_its_namespace(version: int) -> None:
    node_id = "model.jaffle.customers" if version < 9 else "model.jaffle.customers.v2"
    (test,) = hand_made(version).nodes[node_id].tests

    assert (test.kind, test.column, test.kwargs) == (
        "dbt_utils.expression_is_true",
        None,
        {"expression": "lifetime_value >= 0"},
    )


def test_quoted_column_keeps_its_case_in_columns_and_tests() -> None:
    node = hand_made(9).nodes["model.jaffle.stg_orders"]

    assert [c.name for c in node.columns] == ["order_id", "customer_id", "Status"]
    assert [(t.column, t.severity) for t in node.tests if t.kind == "accepted_values"] == [("Status", "warn")]


# --- catalog -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_catalog_gives_warehouse_types_by_normalized_column(tiny: Project) -> None:
    assert tiny.catalog["model.tiny_shop.stg_orders"] == {
        "order_id": "INTEGER",
        "customer_id": "INTEGER",
        "status": "VARCHAR",
        "amount": "DECIMAL(4,2)",
    }
    assert tiny.catalog["source.tiny_shop.shop_raw.orders"]["id"] == "INTEGER"
    assert "model.tiny_shop.int_order_totals" not in tiny.catalog  # ephemeral: nothing in the warehouse


@pytest.mark.slow
def test_catalog_of_another_project_is_refused(tiny_target: Path) -> None:
    with pytest.raises(ManifestError, match=r"catalog\.json: describes none of the nodes of .*v11\.json"):
        load_manifest(HAND_MADE / "v11.json", catalog=tiny_target / "catalog.json")


@pytest.mark.slow
def test_catalog_given_as_manifest_is_refused(tiny_target: Path) -> None:
    with pytest.raises(ManifestError, match=r"catalog\.json: is a catalog\.json .*, not a manifest"):
        load_manifest(tiny_target / "catalog.json")


def test_manifest_given_as_catalog_is_refused() -> None:
    with pytest.raises(ManifestError, match=r"v10\.json: is a manifest\.json, not a catalog"):
        load_manifest(HAND_MADE / "v11.json", catalog=HAND_MADE / "v10.json")


def test_catalog_upper_case_columns_are_normalized(tmp_path: Path) -> None:
    catalog = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
        "nodes": {
            "model.jaffle.stg_orders": {
                "metadata": {
                    "type": "VIEW",
                    "schema": "PUBLIC",
                    "name": "STG_ORDERS",
                    "database": "ANALYTICS",
                },
                "columns": {
                    "ORDER_ID": {"type": "NUMBER(38,0)", "index": 1, "name": "ORDER_ID"},
                    "Status": {"type": "TEXT", "index": 2, "name": "Status"},
                },
                "stats": {},
                "unique_id": "model.jaffle.stg_orders",
            }
        },
        "sources": {},
        "errors": None,
    }
    path = written(tmp_path, json.dumps(catalog), "catalog.json")

    project = load_manifest(HAND_MADE / "v8.json", catalog=path)

    assert project.catalog == {"model.jaffle.stg_orders": {"order_id": "NUMBER(38,0)", "Status": "TEXT"}}


# --- errors ------------------------------------------------------------------------------------------


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = written(tmp_path, '{\n  "metadata": {\n    "dbt_schema_version": ,\n  }\n}\n')

    with pytest.raises(ManifestError, match=r"manifest\.json: invalid JSON at line 3, column 27"):
        load_manifest(path)


def test_truncated_file_says_so(tmp_path: Path) -> None:
    text = (HAND_MADE / "v7.json").read_text()
    path = written(tmp_path, text[: len(text) // 2])

    with pytest.raises(ManifestError, match=r"invalid JSON at line \d+, column \d+: .*cut short"):
        load_manifest(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"manifest\.json: the file is empty"):
        load_manifest(written(tmp_path, ""))


def test_missing_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no such file; run `dbt parse` or `dbt compile` first"):
        load_manifest(tmp_path / "target")


def test_json_that_is_not_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"package\.json: has no metadata\.dbt_schema_version"):
        load_manifest(written(tmp_path, '{"name": "web", "version": "1.0.0"}', "package.json"))


def test_json_array_is_not_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"is not a dbt manifest: the document is not a JSON object"):
        load_manifest(written(tmp_path, "[1, 2, 3]"))


def test_run_results_is_not_a_manifest(tmp_path: Path) -> None:
    text = '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}}'

    with pytest.raises(ManifestError, match=r"is a run_results\.json, not a manifest"):
        load_manifest(written(tmp_path, text, "run_results.json"))


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (5, r"schema v5 is older than the v7 this reads: re-run `dbt parse` with dbt >= 1\.3"),
        (13, r"schema v13 is newer than the v12 this reads"),
    ],
)
def test_unsupported_schema_version(tmp_path: Path, version: int, message: str) -> None:
    def retag(document: dict[str, Any]) -> None:
        document["metadata"]["dbt_schema_version"] = (
            f"https://schemas.getdbt.com/dbt/manifest/v{version}.json"
        )

    with pytest.raises(ManifestError, match=message):
        load_manifest(edited(tmp_path, 11, retag))


def test_unknown_schema_url(tmp_path: Path) -> None:
    def retag(document: dict[str, Any]) -> None:
        document["metadata"]["dbt_schema_version"] = "https://example.com/manifest.json"

    with pytest.raises(ManifestError, match=r"unknown metadata\.dbt_schema_version 'https://example\.com/"):
        load_manifest(edited(tmp_path, 11, retag))


def test_wrong_field_type_names_the_node_and_field(tmp_path: Path) -> None:
    def break_it(document: dict[str, Any]) -> None:
        document["nodes"]["model.jaffle.stg_orders"]["config"]["materialized"] = ["view"]

    with pytest.raises(
        ManifestError, match=r"\$\.nodes\['model\.jaffle\.stg_orders'\]\.config\.materialized"
    ):
        load_manifest(edited(tmp_path, 9, break_it))


def test_missing_adapter_type_is_an_error(tmp_path: Path) -> None:
    def drop(document: dict[str, Any]) -> None:
        del document["metadata"]["adapter_type"]

    with pytest.raises(ManifestError, match=r"metadata\.adapter_type is missing"):
        load_manifest(edited(tmp_path, 9, drop))


def test_unknown_adapter_names_the_file_and_can_be_overridden(tmp_path: Path) -> None:
    def retype(document: dict[str, Any]) -> None:
        document["metadata"]["adapter_type"] = "acme_warehouse"

    path = edited(tmp_path, 9, retype)

    with pytest.raises(UnknownDialectError, match=r"manifest\.json: dbt adapter 'acme_warehouse'"):
        load_manifest(path)
    assert load_manifest(path, dialect="Postgres").dialect == "postgres"


# --- the graph ---------------------------------------------------------------------------------------


def test_topological_order_puts_parents_first_and_is_stable() -> None:
    assert hand_made(11).topological_order() == [
        "seed.jaffle.raw_customers",
        "source.jaffle.raw.orders",
        "model.jaffle.stg_orders",
        "model.jaffle.order_totals",
        "model.jaffle.customers.v1",
        "model.jaffle.customers.v2",
        "exposure.jaffle.weekly_kpis",
    ]


def test_children_include_exposures() -> None:
    project = hand_made(11)

    assert project.children("model.jaffle.stg_orders") == (
        "exposure.jaffle.weekly_kpis",
        "model.jaffle.order_totals",
    )
    assert project.children("exposure.jaffle.weekly_kpis") == ()


def test_cycle_is_an_error_naming_it(tmp_path: Path) -> None:
    def loop(document: dict[str, Any]) -> None:
        document["nodes"]["model.jaffle.stg_orders"]["depends_on"]["nodes"].append(
            "model.jaffle.order_totals"
        )

    project = load_manifest(edited(tmp_path, 11, loop))

    with pytest.raises(
        ManifestError,
        match=r"manifest\.json has a dependency cycle: model\.jaffle\.order_totals -> "
        r"model\.jaffle\.stg_orders -> model\.jaffle\.order_totals",
    ):
        project.topological_order()


def graph_nodes(edges: dict[str, set[str]]) -> dict[str, Node]:
    return {
        uid: Node(
            unique_id=uid,
            resource_type="model",
            name=uid,
            package="p",
            relation=None,
            depends_on=tuple(sorted(p)),
        )
        for uid, p in edges.items()
    }


@st.composite
def dags(draw: st.DrawFn) -> dict[str, set[str]]:
    """Random DAGs: each node may read nodes made before it; names say nothing of the order."""
    names = draw(st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=1, max_size=12, unique=True))
    edges: dict[str, set[str]] = {}
    for i, name in enumerate(names):
        edges[name] = set(draw(st.lists(st.sampled_from(names[:i]), max_size=3))) if i else set()
    return edges


@given(dags(), st.randoms())
def test_topological_order_respects_every_edge_whatever_the_input_order(
    edges: dict[str, set[str]], rnd: Any
) -> None:
    shuffled = list(edges.items())
    rnd.shuffle(shuffled)
    order = Project("p", "duckdb", "duckdb", 12, graph_nodes(dict(shuffled))).topological_order()

    assert sorted(order) == sorted(edges)
    assert order == Project("p", "duckdb", "duckdb", 12, graph_nodes(edges)).topological_order()
    position = {uid: i for i, uid in enumerate(order)}
    assert all(position[parent] < position[uid] for uid, parents in edges.items() for parent in parents)


def test_node_by_relation_accepts_any_quoting_and_case() -> None:
    project = hand_made(11)

    assert (
        project.node_by_relation('"jaffle"."main"."stg_orders"') is project.nodes["model.jaffle.stg_orders"]
    )
    assert project.node_by_relation("JAFFLE.MAIN.STG_ORDERS") is project.nodes["model.jaffle.stg_orders"]


def test_node_by_relation_matches_a_unique_partial_name() -> None:
    project = hand_made(11)

    assert project.node_by_relation("raw.raw_orders") is project.nodes["source.jaffle.raw.orders"]
    assert project.node_by_relation("customers_v2") is project.nodes["model.jaffle.customers.v2"]


def test_node_by_relation_of_unknown_or_ephemeral_is_none() -> None:
    project = hand_made(11)

    assert project.node_by_relation("jaffle.main.order_totals") is None
    assert project.node_by_relation("jaffle.main.nowhere") is None
    assert project.node_by_relation('"broken') is None


def test_model_wins_over_a_source_on_the_same_table(tmp_path: Path) -> None:
    def same_table(document: dict[str, Any]) -> None:
        document["sources"]["source.jaffle.raw.orders"]["relation_name"] = '"jaffle"."main"."stg_orders"'

    project = load_manifest(edited(tmp_path, 11, same_table))

    assert project.node_by_relation("jaffle.main.stg_orders") is project.nodes["model.jaffle.stg_orders"]


@given(st.lists(st.text(min_size=1), min_size=1, max_size=4))
def test_fully_quoted_relation_keeps_every_name_exactly(names: list[str]) -> None:
    quoted = ".".join('"' + name.replace('"', '""') + '"' for name in names)

    assert canonical_relation(quoted) == ".".join(names)
