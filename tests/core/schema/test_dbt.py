"""dbt columns -> Schema, on artifacts written by a real dbt-duckdb build (fixtures/dbt_shop)."""

import json
from pathlib import Path
from typing import Any

import pytest

from tessera_core.errors import SchemaError, UnknownDialectError
from tessera_core.manifest import DbtColumn, DbtTest
from tessera_core.schema.dbt import catalog_schema, schema_from_dbt
from tessera_core.schema.model import ANY, Family, Field, Guarantee, GuaranteeKind, Schema, Type, guarantee
from tessera_core.schema.names import normalize_name
from tessera_core.schema.types import parse_data_type

SHOP = Path(__file__).parent / "fixtures" / "dbt_shop"
MANIFEST = json.loads((SHOP / "manifest.json").read_text())
CATALOG = json.loads((SHOP / "catalog.json").read_text())


def node(unique_id: str) -> dict[str, Any]:
    return MANIFEST["nodes"][unique_id]


def columns_of(unique_id: str) -> tuple[DbtColumn, ...]:
    return tuple(
        DbtColumn(
            name=normalize_name(c["name"], quoted=bool(c.get("quote"))),
            data_type=c["data_type"],
            description=c["description"],
            constraints=tuple(c["constraints"]),
        )
        for c in node(unique_id)["columns"].values()
    )


def data_tests_of(unique_id: str) -> tuple[DbtTest, ...]:
    return tuple(
        DbtTest(
            kind=n["test_metadata"]["name"],
            column=normalize_name(n["column_name"]) if n["column_name"] else None,
            kwargs=n["test_metadata"]["kwargs"],
            unique_id=n["unique_id"],
            severity=n["config"]["severity"],
        )
        for n in MANIFEST["nodes"].values()
        if n["resource_type"] == "test" and n["attached_node"] == unique_id
    )


def catalog_types(unique_id: str) -> dict[str, str]:
    return {name: c["type"] for name, c in CATALOG["nodes"][unique_id]["columns"].items()}


def model_schema(unique_id: str, **options: Any) -> Schema:
    model = node(unique_id)
    return schema_from_dbt(
        columns_of(unique_id),
        dialect=MANIFEST["metadata"]["adapter_type"],
        tests=data_tests_of(unique_id),
        model_constraints=model["constraints"],
        contract_enforced=model["contract"]["enforced"],
        access=model["access"],
        deprecation_date=model["deprecation_date"],
        source=unique_id,
        description=model["description"],
        **options,
    )


def field_of(schema: Schema, name: str) -> Field:
    found = schema.field(name)
    assert found is not None, f"no field {name!r}"
    return found


def guarantees_on(schema: Schema, column: str | None) -> set[Guarantee]:
    return {g for g in schema.guarantees if g.column == column}


ORDERS = "model.shop.orders"


def test_one_field_per_column_in_declared_order() -> None:
    assert model_schema(ORDERS).names == (
        "order_id",
        "customer_id",
        "amount",
        "status",
        "placed_at",
        "item_ids",
        "address",
        "loaded_at",
    )


def test_field_types_come_from_data_type() -> None:
    schema = model_schema(ORDERS)
    types = {f.name: f.type.describe() for f in schema.fields}
    assert types == {
        "order_id": "bigint",
        "customer_id": "int",
        "amount": "decimal(18,2)",
        "status": "text",
        "placed_at": "timestamp",
        "item_ids": "array<int>",
        "address": "struct<city text, zip int>",
        "loaded_at": "timestamptz",
    }


def test_declared_types_equal_the_types_the_warehouse_reports() -> None:
    declared = model_schema(ORDERS)
    warehouse = catalog_schema(catalog_types(ORDERS), dialect="duckdb", source=ORDERS)
    assert [(f.name, f.type) for f in declared.fields] == [(f.name, f.type) for f in warehouse.fields]


def test_fields_are_never_required() -> None:
    assert not any(f.required for f in model_schema(ORDERS).fields)


def test_not_null_and_primary_key_constraints_make_columns_non_nullable() -> None:
    nullable = {f.name: f.nullable for f in model_schema(ORDERS).fields}
    assert nullable["order_id"] is False  # model-level primary_key
    assert nullable["customer_id"] is False  # column not_null constraint
    assert nullable["status"] is True  # only a not_null *test*: a guarantee, not shape
    assert nullable["amount"] is True


def test_column_primary_key_constraint_makes_the_column_non_nullable() -> None:
    schema = model_schema("model.shop.customers")
    assert field_of(schema, "customer_id").nullable is False


def test_descriptions_are_kept_and_empty_ones_dropped() -> None:
    schema = model_schema(ORDERS)
    assert field_of(schema, "order_id").description == "The order key."
    assert field_of(schema, "amount").description is None


def test_tests_become_test_guarantees() -> None:
    schema = model_schema(ORDERS)
    assert guarantees_on(schema, "status") == {
        guarantee("not_null", "status"),
        guarantee(
            "accepted_values", "status", values=["placed", "returned", "shipped"], quote=True, severity="warn"
        ),
    }
    assert (
        guarantee("relationships", "customer_id", to="ref('customers')", field="customer_id")
        in schema.guarantees
    )


def test_accepted_values_are_sorted_as_strings() -> None:
    test = DbtTest(kind="accepted_values", column="level", kwargs={"values": [3, 1, 20], "quote": False})
    schema = schema_from_dbt([DbtColumn("level", "int")], dialect="postgres", tests=[test])
    assert schema.guarantees == (guarantee("accepted_values", "level", values=["1", "20", "3"], quote=False),)


def test_column_constraints_become_constraint_guarantees() -> None:
    schema = model_schema(ORDERS)
    assert guarantees_on(schema, "customer_id") == {
        guarantee("not_null", "customer_id", source="constraint"),
        guarantee(
            "foreign_key",
            "customer_id",
            source="constraint",
            to='"shop"."main"."customers"',
            to_columns=["customer_id"],
        ),
        guarantee("relationships", "customer_id", to="ref('customers')", field="customer_id"),
    }


def test_model_constraint_on_one_column_is_that_columns_constraint() -> None:
    schema = model_schema(ORDERS)
    assert guarantees_on(schema, "order_id") == {guarantee("primary_key", "order_id", source="constraint")}
    assert guarantees_on(schema, "amount") == {
        guarantee("check", "amount", source="constraint", expression="amount >= 0")
    }


def test_model_constraint_on_several_columns_stays_model_level() -> None:
    schema = model_schema(ORDERS)
    assert guarantees_on(schema, None) == {
        guarantee("unique", None, source="constraint", columns=["customer_id", "placed_at"])
    }


def test_model_level_not_null_is_a_promise_on_each_column() -> None:
    schema = schema_from_dbt(
        [DbtColumn("a", "int"), DbtColumn("b", "int"), DbtColumn("c", "int")],
        dialect="postgres",
        model_constraints=[{"type": "not_null", "columns": ["a", "B"]}],
    )
    assert [f.nullable for f in schema.fields] == [False, False, True]
    assert set(schema.guarantees) == {
        guarantee("not_null", "a", source="constraint"),
        guarantee("not_null", "b", source="constraint"),
    }


def test_check_constraint_without_columns_is_model_level() -> None:
    schema = schema_from_dbt(
        [DbtColumn("starts", "date"), DbtColumn("ends", "date")],
        dialect="postgres",
        model_constraints=[{"type": "check", "expression": "starts <= ends", "columns": []}],
    )
    assert schema.guarantees == (guarantee("check", None, source="constraint", expression="starts <= ends"),)


def test_unknown_tests_and_custom_constraints_are_left_out() -> None:
    tests = [
        DbtTest(
            kind="unique_combination_of_columns", column=None, kwargs={"combination_of_columns": ["a", "b"]}
        ),
        DbtTest(kind="expect_column_values_to_be_between", column="a", kwargs={"min_value": 0}),
        DbtTest(kind="my_custom_test", column="a"),
    ]
    schema = schema_from_dbt(
        [DbtColumn("a", "int", constraints=({"type": "custom", "expression": "masking policy p"},))],
        dialect="snowflake",
        tests=tests,
        model_constraints=[{"type": "custom", "expression": "cluster by (a)"}],
    )
    assert schema.guarantees == ()


def test_repeated_guarantees_are_kept_once_in_a_stable_order() -> None:
    tests = [DbtTest("unique", "b"), DbtTest("not_null", "a"), DbtTest("unique", "b", unique_id="test.other")]
    first = schema_from_dbt([DbtColumn("a"), DbtColumn("b")], dialect="postgres", tests=tests)
    second = schema_from_dbt(
        [DbtColumn("a"), DbtColumn("b")], dialect="postgres", tests=list(reversed(tests))
    )
    assert first.guarantees == (guarantee("not_null", "a"), guarantee("unique", "b"))
    assert second.guarantees == first.guarantees


def test_schema_level_facts() -> None:
    schema = model_schema(ORDERS)
    assert schema.source_format == "dbt"
    assert schema.dialect == "duckdb"
    assert schema.contract_enforced is True
    assert schema.access == "public"
    assert schema.deprecation_date == "2030-01-01T00:00:00+00:00"
    assert schema.description == "One row per order."


def test_schema_survives_the_json_round_trip() -> None:
    schema = model_schema(ORDERS)
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


def test_columns_without_data_type_are_typed_from_the_catalog() -> None:
    events = "model.shop.order_events"
    schema = model_schema(events, catalog_types=catalog_types(events))
    assert [(f.name, f.type.describe()) for f in schema.fields] == [
        ("order_id", "bigint"),  # catalog
        ("event", "text"),  # catalog; declared as EVENT in YAML
        ("weight_kg", "double"),  # data_type
    ]
    assert field_of(schema, "event").description == "What happened."


def test_declared_data_type_wins_over_the_catalog() -> None:
    schema = schema_from_dbt(
        [DbtColumn("amount", "numeric(18,2)")], dialect="postgres", catalog_types={"amount": "numeric(10,2)"}
    )
    assert schema.fields[0].type == parse_data_type("numeric(18,2)", dialect="postgres")


def test_catalog_names_are_matched_case_insensitively() -> None:
    schema = schema_from_dbt(
        [DbtColumn("customer_id"), DbtColumn("Name")],
        dialect="snowflake",
        catalog_types={"CUSTOMER_ID": "NUMBER(38,0)", "Name": "VARCHAR(100)"},
    )
    assert [f.type.describe() for f in schema.fields] == ["decimal(38,0)", "varchar(100)"]


def test_without_data_type_or_catalog_the_type_is_any() -> None:
    schema = schema_from_dbt(
        [DbtColumn("x"), DbtColumn("y", "  ")], dialect="postgres", catalog_types={"z": "int"}
    )
    assert [f.type for f in schema.fields] == [ANY, ANY]


def test_unreadable_catalog_type_becomes_any_with_its_name() -> None:
    schema = schema_from_dbt(
        [DbtColumn("shape")], dialect="snowflake", catalog_types={"shape": "SPATIAL_THING(4"}
    )
    assert schema.fields[0].type == Type(Family.ANY, name="SPATIAL_THING(4")


def test_catalog_schema_types_every_column_and_leaves_it_nullable() -> None:
    events = "model.shop.order_events"
    schema = catalog_schema(catalog_types(events), dialect="duckdb", source=events)
    assert [(f.name, f.type.describe(), f.nullable) for f in schema.fields] == [
        ("order_id", "bigint", True),
        ("event", "text", True),
        ("weight_kg", "double", True),
        ("event_date", "date", True),
        ("event_id", "uuid", True),
    ]
    assert (schema.source_format, schema.dialect, schema.guarantees) == ("dbt", "duckdb", ())


def test_bad_data_type_names_the_model_and_the_column() -> None:
    with pytest.raises(SchemaError) as caught:
        schema_from_dbt(
            [DbtColumn("order_id", "bigint"), DbtColumn("amount", "decimal(18,")],
            dialect="postgres",
            source="model.shop.orders",
        )
    assert str(caught.value).startswith("model.shop.orders at column amount: data_type 'decimal(18,'")


def test_duplicate_columns_are_rejected() -> None:
    with pytest.raises(SchemaError, match="'id' is declared twice"):
        schema_from_dbt([DbtColumn("id", "int"), DbtColumn("id", "bigint")], dialect="postgres", source="m")


def test_unknown_dialect_is_rejected() -> None:
    with pytest.raises(UnknownDialectError):
        schema_from_dbt([DbtColumn("id", "int")], dialect="duck")
    with pytest.raises(UnknownDialectError):
        catalog_schema({"id": "int"}, dialect="duck")


def test_dialect_is_stored_canonical() -> None:
    assert schema_from_dbt([DbtColumn("id", "int")], dialect="DuckDB").dialect == "duckdb"


def test_guarantee_kinds_are_the_model_kinds() -> None:
    kinds = {g.kind for g in model_schema(ORDERS).guarantees}
    assert kinds == {
        GuaranteeKind.NOT_NULL,
        GuaranteeKind.ACCEPTED_VALUES,
        GuaranteeKind.RELATIONSHIPS,
        GuaranteeKind.PRIMARY_KEY,
        GuaranteeKind.FOREIGN_KEY,
        GuaranteeKind.CHECK,
        GuaranteeKind.UNIQUE,
    }
