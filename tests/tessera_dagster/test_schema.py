"""Dagster ``TableSchema`` -> ``Schema``."""

from __future__ import annotations

import pytest
from dagster import TableColumn, TableColumnConstraints, TableSchema

from tessera_core import Family, SchemaError, parse_data_type
from tessera_dagster import schema_from_table_schema


def test_column_types_are_read_in_the_dialect():
    table = TableSchema([TableColumn("ID", "int8"), TableColumn("amount", "numeric(12,2)")])

    schema = schema_from_table_schema(table, dialect="postgres")

    assert schema.names == ("id", "amount")
    assert schema.field("id").type == parse_data_type("bigint", dialect="postgres")  # type: ignore[union-attr]
    amount = schema.field("amount").type  # type: ignore[union-attr]
    assert (amount.family, amount.precision, amount.scale) == (Family.DECIMAL, 12, 2)
    assert schema.dialect == "postgres"


def test_constraints_become_nullability_and_unique_guarantees():
    key = TableColumn("id", "integer", constraints=TableColumnConstraints(nullable=False, unique=True))

    schema = schema_from_table_schema(TableSchema([key, TableColumn("note", "varchar")]), dialect="duckdb")

    assert [f.nullable for f in schema.fields] == [False, True]
    assert [(g.kind.value, g.column) for g in schema.guarantees] == [("unique", "id")]


def test_duplicate_column_is_an_error_naming_the_asset():
    table = TableSchema([TableColumn("id", "integer"), TableColumn("ID", "bigint")])

    with pytest.raises(SchemaError, match="orders: column id appears twice"):
        schema_from_table_schema(table, dialect="duckdb", source="orders")


def test_unknown_type_is_an_error_naming_the_column():
    with pytest.raises(SchemaError, match="orders at column amount"):
        schema_from_table_schema(
            TableSchema([TableColumn("amount", "decimal(18,")]), dialect="duckdb", source="orders"
        )
