"""Canonical spelling of the identifiers of one parsed query, per dialect.

``tessera_core.schema.names.normalize_name`` is the one spelling: unquoted names
fold to lower case, quoted names keep theirs. On warehouses that fold unquoted
names to upper case (Snowflake, Oracle, ...) a quoted all-upper-case name is the
unquoted one (``"ORDER_ID"`` is ``order_id``), as in the manifest reader's
``canonical_relation``, so relations and columns spelled either way compare equal.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from tessera_core.dialects import check_dialect
from tessera_core.errors import UnknownDialectError
from tessera_core.schema.names import normalize_name

_UPPER_FOLDING = (NormalizationStrategy.UPPERCASE, NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE)
_CASE_BLIND = (NormalizationStrategy.CASE_INSENSITIVE, NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE)


@lru_cache(maxsize=64)
def _known_dialect(dialect: str) -> Dialect:
    return Dialect.get_or_raise(check_dialect(dialect))


def get_dialect(dialect: str, *, model: str | None = None) -> Dialect:
    """The sqlglot dialect called ``dialect``; an unknown name raises ``UnknownDialectError``."""
    try:
        return _known_dialect(dialect)
    except UnknownDialectError as error:
        if model is None:
            raise
        raise UnknownDialectError(f"model {model}: {error}") from None


def folds_upper(dialect: Dialect) -> bool:
    """Whether ``dialect`` folds unquoted names to upper case."""
    return dialect.normalization_strategy in _UPPER_FOLDING


def ignores_case(dialect: Dialect) -> bool:
    """Whether ``dialect`` matches names whatever their case, quoted or not (DuckDB, BigQuery, Spark...).

    There ``"CustomerID"`` and ``customerid`` name the same column, so a column the SQL
    spells in another case than the schema is still that column.
    """
    return dialect.normalization_strategy in _CASE_BLIND


def canonical_name(text: str, *, quoted: bool, dialect: Dialect) -> str:
    """The canonical spelling of one identifier as ``dialect`` resolves it."""
    keep_case = quoted and not (folds_upper(dialect) and text == text.upper())
    name: str = normalize_name(text, quoted=keep_case)
    return name


def canonicalize(expression: exp.Expr, dialect: Dialect) -> None:
    """Rewrite every identifier of ``expression`` in place to its canonical spelling.

    The same walk drops every node's parent link: the tree then holds no reference
    cycles and is freed as soon as it is dropped, instead of waiting for the cyclic
    garbage collector to walk it (which costs about a third of parsing). Code that
    reads the tree afterwards must only walk down (``args``, ``find_all``), never up.
    """
    upper = folds_upper(dialect)
    identifier = exp.Identifier
    expr = exp.Expr
    expression.parent = None
    stack = [expression]
    while stack:
        node = stack.pop()
        for value in node.args.values():
            if type(value) is list:
                for item in value:
                    if type(item) is identifier:
                        item.parent = None
                        _spell(item.args, upper)
                    elif isinstance(item, expr):
                        item.parent = None
                        stack.append(item)
            elif type(value) is identifier:
                value.parent = None
                _spell(value.args, upper)
            elif isinstance(value, expr):
                value.parent = None
                stack.append(value)


def _spell(args: dict[str, object], upper: bool) -> None:
    """Canonical spelling of one identifier, from its ``this`` and ``quoted`` args."""
    text = args["this"]
    if isinstance(text, str) and (not args.get("quoted") or (upper and text == text.upper())):
        args["this"] = text.lower()


def relation_name(table: exp.Table, *, default_database: str | None, default_schema: str | None) -> str:
    """``database.schema.name`` of a canonicalized table, with the defaults filling missing parts."""
    name = table.name
    schema = table.text("db")
    database = table.text("catalog")
    if not schema:
        schema = default_schema or ""
    if not database and schema:
        database = default_database or ""
    return ".".join(part for part in (database, schema, name) if part)
