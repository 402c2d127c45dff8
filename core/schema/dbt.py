"""dbt model and source columns -> the normalized ``Schema``.

Reads the value types of ``tessera_core.manifest`` (no dbt import):

- one ``Field`` per column, in the declared order. Its type comes from the column's ``data_type``, else
  from the warehouse catalog, else ``ANY``. Warehouse columns are always present, so ``required``
  stays False; ``nullable`` is False only when a ``not_null`` or ``primary_key`` *constraint* covers the
  column (on the column itself or model-level). A ``not_null`` *test* is a guarantee, not shape.
- guarantees: the tests ``not_null``, ``unique``, ``accepted_values`` (``values`` sorted as strings,
  ``quote``) and ``relationships`` (``to``, ``field``) become ``Guarantee(source="test")``; a test whose
  severity is ``warn`` carries ``severity="warn"`` (a weaker promise). Other tests (``dbt_utils.*``,
  ``dbt_expectations.*``, custom generic tests) promise things this model cannot state and are left out.
  The constraints ``not_null``, ``unique``, ``primary_key``, ``foreign_key`` (``to``, ``to_columns``,
  ``expression``) and ``check`` (``expression``) become ``Guarantee(source="constraint")``; ``custom``
  constraints (free DDL) are left out. A model-level constraint on exactly one column is the same
  promise as that column's constraint and is recorded on the column; a model-level ``not_null`` is a
  per-column promise on each of its columns; the others stay model-level (``column=None``) with a
  ``columns`` parameter.
- schema facts: ``contract_enforced``, ``access``, ``deprecation_date``, ``source_format="dbt"`` and the
  dialect.

A catalog type the parser cannot read becomes ``ANY`` named after it: the warehouse reported it, and
there is nothing in the project to fix. A declared ``data_type`` that cannot be read is a
``SchemaError`` naming the model and the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tessera_core.dialects import check_dialect
from tessera_core.errors import SchemaError
from tessera_core.manifest import DbtColumn, DbtTest
from tessera_core.schema.model import ANY, Family, Field, Guarantee, GuaranteeKind, Schema, Type, guarantee
from tessera_core.schema.names import normalize_name
from tessera_core.schema.types import parse_data_type

_CONSTRAINT_KINDS = {
    "not_null": GuaranteeKind.NOT_NULL,
    "unique": GuaranteeKind.UNIQUE,
    "primary_key": GuaranteeKind.PRIMARY_KEY,
    "foreign_key": GuaranteeKind.FOREIGN_KEY,
    "check": GuaranteeKind.CHECK,
}
_NOT_NULL_CONSTRAINTS = {"not_null", "primary_key"}


def schema_from_dbt(
    columns: Iterable[DbtColumn],
    *,
    dialect: str,
    tests: Iterable[DbtTest] = (),
    model_constraints: Iterable[Mapping[str, Any]] = (),
    contract_enforced: bool | None = None,
    access: str | None = None,
    deprecation_date: str | None = None,
    catalog_types: Mapping[str, str] | None = None,
    source: str | None = None,
    description: str | None = None,
) -> Schema:
    """The ``Schema`` of a dbt model, seed, snapshot or source.

    ``dialect`` is the sqlglot dialect of the warehouse; ``catalog_types`` maps column names to the types
    the warehouse reports (``catalog.json``), used for columns without a ``data_type``; ``source`` names
    the model in error messages (its unique_id or file).
    """
    dialect = check_dialect(dialect)
    columns = tuple(columns)
    model_constraints = tuple(model_constraints)
    _reject_duplicates(columns, source)
    catalog = _Catalog(catalog_types or {}, dialect=dialect, source=source)
    not_null = _not_null_columns(columns, model_constraints)
    fields = tuple(
        Field(
            name=column.name,
            type=_column_type(column, dialect=dialect, catalog=catalog, source=source),
            nullable=column.name not in not_null,
            description=column.description or None,
        )
        for column in columns
    )
    guarantees = [g for test in tests if (g := _test_guarantee(test)) is not None]
    for column in columns:
        guarantees.extend(_constraint_guarantees(column.constraints, column=column.name))
    for constraint in model_constraints:
        guarantees.extend(_model_constraint_guarantees(constraint))
    return Schema(
        fields=fields,
        guarantees=_ordered(guarantees),
        source_format="dbt",
        dialect=dialect,
        contract_enforced=contract_enforced,
        access=access,
        deprecation_date=deprecation_date,
        description=description or None,
    )


def catalog_schema(columns: Mapping[str, str], *, dialect: str, source: str | None = None) -> Schema:
    """The ``Schema`` of a table known only from the warehouse catalog (a source without declared columns).

    Every column is typed from the catalog, in the mapping's order, and nullable.
    """
    dialect = check_dialect(dialect)
    catalog = _Catalog(columns, dialect=dialect, source=source)
    fields = tuple(Field(name=name, type=catalog.type_of(name) or ANY) for name in columns)
    return Schema(fields=fields, source_format="dbt", dialect=dialect)


class _Catalog:
    """Warehouse types by column name; looks names up as given, then normalized (Snowflake's ``ID``)."""

    def __init__(self, types: Mapping[str, str], *, dialect: str, source: str | None) -> None:
        self._types = types
        self._normalized = {normalize_name(name): data_type for name, data_type in types.items()}
        self._dialect = dialect
        self._source = source

    def type_of(self, column: str) -> Type | None:
        data_type = self._types.get(column, self._normalized.get(normalize_name(column)))
        if not data_type:
            return None
        try:
            return parse_data_type(data_type, dialect=self._dialect, column=column, source=self._source)
        except SchemaError:
            return Type(Family.ANY, name=data_type.strip().upper())


def _column_type(column: DbtColumn, *, dialect: str, catalog: _Catalog, source: str | None) -> Type:
    if column.data_type and column.data_type.strip():
        return parse_data_type(column.data_type, dialect=dialect, column=column.name, source=source)
    return catalog.type_of(column.name) or ANY


def _reject_duplicates(columns: tuple[DbtColumn, ...], source: str | None) -> None:
    seen: set[str] = set()
    for column in columns:
        if column.name in seen:
            raise SchemaError(
                f"column {column.name!r} is declared twice; keep one entry (names are compared "
                "case-insensitively unless quoted).",
                source=source,
                location=f"column {column.name}",
            )
        seen.add(column.name)


def _not_null_columns(
    columns: tuple[DbtColumn, ...], model_constraints: tuple[Mapping[str, Any], ...]
) -> set[str]:
    names = {
        column.name
        for column in columns
        if any(c.get("type") in _NOT_NULL_CONSTRAINTS for c in column.constraints)
    }
    for constraint in model_constraints:
        if constraint.get("type") in _NOT_NULL_CONSTRAINTS:
            names.update(_names(constraint.get("columns")))
    return names


def _test_guarantee(test: DbtTest) -> Guarantee | None:
    extra: dict[str, Any] = {"severity": "warn"} if str(test.severity).lower() == "warn" else {}
    kwargs = test.kwargs
    if test.kind in ("not_null", "unique"):
        return guarantee(test.kind, test.column, source="test", **extra)
    if test.kind == "accepted_values":
        values = sorted(str(v) for v in kwargs.get("values") or ())
        quote = bool(kwargs.get("quote", True))
        return guarantee(GuaranteeKind.ACCEPTED_VALUES, test.column, values=values, quote=quote, **extra)
    if test.kind == "relationships":
        params = _present(to=_text(kwargs.get("to")), field=_column_name(kwargs.get("field")))
        return guarantee(GuaranteeKind.RELATIONSHIPS, test.column, **params, **extra)
    return None


def _constraint_guarantees(
    constraints: Iterable[Mapping[str, Any]], *, column: str | None
) -> list[Guarantee]:
    out: list[Guarantee] = []
    for constraint in constraints:
        kind = _CONSTRAINT_KINDS.get(str(constraint.get("type")))
        if kind is not None:
            out.append(guarantee(kind, column, source="constraint", **_constraint_params(kind, constraint)))
    return out


def _model_constraint_guarantees(constraint: Mapping[str, Any]) -> list[Guarantee]:
    kind = _CONSTRAINT_KINDS.get(str(constraint.get("type")))
    if kind is None:
        return []
    columns = _names(constraint.get("columns"))
    if kind is GuaranteeKind.NOT_NULL and columns:
        return [guarantee(kind, name, source="constraint") for name in columns]
    if len(columns) == 1:
        return _constraint_guarantees([constraint], column=columns[0])
    params = _constraint_params(kind, constraint)
    if columns:
        params["columns"] = columns
    return [guarantee(kind, None, source="constraint", **params)]


def _constraint_params(kind: GuaranteeKind, constraint: Mapping[str, Any]) -> dict[str, Any]:
    if kind is GuaranteeKind.FOREIGN_KEY:
        return _present(
            to=_text(constraint.get("to")),
            to_columns=_names(constraint.get("to_columns")) or None,
            expression=_text(constraint.get("expression")),
        )
    if kind is GuaranteeKind.CHECK:
        return _present(expression=_text(constraint.get("expression")))
    return {}


def _ordered(guarantees: list[Guarantee]) -> tuple[Guarantee, ...]:
    """Deduplicated, in a stable order: model-level first, then by column, kind and source."""
    unique = set(guarantees)
    return tuple(
        sorted(
            unique,
            key=lambda g: (g.column is not None, g.column or "", g.kind.value, g.source, repr(g.params)),
        )
    )


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    return [normalize_name(str(name).strip()) for name in value or () if str(name).strip()]


def _column_name(value: Any) -> str | None:
    names = _names(value)
    return names[0] if names else None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _present(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


__all__ = ["catalog_schema", "schema_from_dbt"]
