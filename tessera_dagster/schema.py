"""Dagster's ``dagster/column_schema`` table schema -> the normalized ``Schema``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import TableSchema, TableSchemaMetadataValue

from tessera_core import Field, Guarantee, Schema, SchemaError, normalize_name, parse_data_type

COLUMN_SCHEMA = "dagster/column_schema"


def schema_from_table_schema(table: TableSchema, *, dialect: str, source: str | None = None) -> Schema:
    """Each ``TableColumn`` becomes a field typed by ``parse_data_type`` in ``dialect``.

    ``constraints.nullable=False`` makes the field not nullable and ``unique=True`` a unique guarantee.
    ``source`` (the asset key) names the asset in errors; an unreadable type raises ``SchemaError``.
    """
    fields, guarantees, seen = [], [], set()
    for column in table.columns:
        name = normalize_name(column.name)
        if name in seen:
            raise SchemaError(
                f"column {name} appears twice in {COLUMN_SCHEMA}; list each column once", source=source
            )
        seen.add(name)
        kind = parse_data_type(column.type, dialect=dialect, column=name, source=source)
        fields.append(
            Field(name=name, type=kind, nullable=column.constraints.nullable, description=column.description)
        )
        if column.constraints.unique:
            guarantees.append(Guarantee.from_dict({"kind": "unique", "column": name, "source": "constraint"}))
    return Schema(
        fields=tuple(fields), guarantees=tuple(guarantees), source_format="dagster", dialect=dialect
    )


def column_schema(metadata: Mapping[str, Any] | None) -> TableSchema | None:
    """The ``dagster/column_schema`` of definition or materialization metadata, if any."""
    value = (metadata or {}).get(COLUMN_SCHEMA)
    if isinstance(value, TableSchemaMetadataValue):
        return value.schema
    return value if isinstance(value, TableSchema) else None
