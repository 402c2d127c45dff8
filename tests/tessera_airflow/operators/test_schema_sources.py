"""Where the check and publish operators take the proposed schema from (no DAG run needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tessera_airflow.operators.contract import TesseraContractCheckOperator, TesseraPublishContractOperator
from tessera_core import Family, Field, Schema, SchemaError, TesseraError, Type

MANIFEST = (
    Path(__file__).parents[1] / "fixtures" / "manifest.json"
)  # trimmed from a dbt parse of example_project


def test_a_schema_value_is_used_as_is() -> None:
    schema = Schema(fields=(Field("id", Type(Family.INTEGER)),))
    op = TesseraContractCheckOperator(task_id="check", asset="wh.s.t", schema=schema)
    assert op.proposed() == ("wh.s.t", schema, None)


def test_a_dict_is_read_as_json_schema() -> None:
    op = TesseraContractCheckOperator(
        task_id="check", asset="wh.s.t", schema={"type": "object", "properties": {"id": {"type": "integer"}}}
    )
    _, schema, _ = op.proposed()
    assert schema.names == ("id",) and schema.fields[0].type.family is Family.INTEGER


def test_an_invalid_json_schema_names_the_task() -> None:
    op = TesseraContractCheckOperator(
        task_id="check", asset="wh.s.t", schema={"type": "object", "properties": 3}
    )
    with pytest.raises(SchemaError, match=r"^check\.schema"):
        op.proposed()


def test_a_file_with_several_schemas_needs_schema_name(tmp_path: Path) -> None:
    path = tmp_path / "shop.graphql"
    path.write_text("type Order { id: ID! total: Float }\ntype Customer { id: ID! name: String }\n")
    op = TesseraContractCheckOperator(task_id="check", asset="api.shop.orders", schema_path=str(path))
    with pytest.raises(TesseraError, match=r"holds the schemas .*Customer.*Order.*: set schema_name"):
        op.proposed()
    named = TesseraContractCheckOperator(
        task_id="check", asset="api.shop.orders", schema_path=str(path), schema_name="Order"
    )
    assert named.proposed()[1].names == ("id", "total")


def test_a_dbt_model_gives_asset_schema_and_node() -> None:
    op = TesseraPublishContractOperator(task_id="publish", manifest_path=str(MANIFEST), model="fct_orders")
    asset, schema, node = op.proposed()
    assert asset == "jaffle_contracts.main.fct_orders"
    assert (
        node is not None
        and node.owner_team == "platform"
        and node.tessera["compatibility_mode"] == "backward"
    )
    assert {"order_id", "amount"} <= set(schema.names) and schema.contract_enforced is True


def test_an_unknown_dbt_model_lists_the_models() -> None:
    op = TesseraContractCheckOperator(task_id="check", manifest_path=str(MANIFEST), model="dim_customer")
    with pytest.raises(
        TesseraError, match="model 'dim_customer' is not in it; models: dim_customers, fct_orders"
    ):
        op.proposed()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"asset": "a.b.c"}, "give exactly one of schema, schema_path, or manifest_path"),
        ({"asset": "a.b.c", "schema_path": "x.json", "schema": {}}, "give exactly one of"),
        ({"manifest_path": "target"}, "manifest_path needs model"),
        ({"schema_path": "x.json"}, "asset is required unless the schema comes from a dbt model"),
    ],
)
def test_misconfigured_operators_fail_when_the_dag_is_parsed(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TesseraContractCheckOperator(task_id="check", **kwargs)  # type: ignore[arg-type]


def test_json_schema_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "orders.schema.json"
    path.write_text(json.dumps({"type": "object", "properties": {"order_id": {"type": "integer"}}}))
    op = TesseraContractCheckOperator(task_id="check", asset="wh.s.orders", schema_path=str(path))
    assert op.proposed()[1].names == ("order_id",)
