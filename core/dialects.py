"""SQL dialect names: which sqlglot dialect a dbt adapter speaks, and which names sqlglot knows.

A dialect is always passed in by the caller, never read from a global. These two
functions turn what a user or a manifest says (``"Snowflake"``, adapter type
``"sqlserver"``) into the canonical lower-case sqlglot name, or fail early with
the list of names that would work.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlglot.dialects.dialect import Dialect

from tessera_core.errors import UnknownDialectError

# dbt adapter type (``metadata.adapter_type`` in the manifest) -> sqlglot dialect, where the two differ
# or where the adapter runs on another engine. Adapters whose type is already a sqlglot dialect name
# (postgres, snowflake, bigquery, duckdb, trino, ...) need no entry.
_ADAPTER_DIALECTS: dict[str, str] = {
    "sqlserver": "tsql",
    "synapse": "tsql",
    "azuresynapse": "tsql",
    "fabricspark": "spark",  # Fabric lakehouse runs Spark SQL; "fabric" (the warehouse) is its own dialect
    "glue": "spark",  # AWS Glue interactive sessions run Spark SQL
    "impala": "hive",
    "mariadb": "mysql",
    "tidb": "mysql",
    "greenplum": "postgres",
    "yellowbrick": "postgres",
    "motherduck": "duckdb",
}

_DIALECT_NAME = re.compile(r"[a-z][a-z0-9_]*")


@lru_cache(maxsize=256)
def check_dialect(name: str) -> str:
    """The canonical sqlglot name for ``name`` (case-insensitive): ``"Snowflake"`` -> ``"snowflake"``.

    Raises ``UnknownDialectError`` naming ``name`` and listing the dialects sqlglot knows.
    """
    key = name.strip().lower()
    if _DIALECT_NAME.fullmatch(key) and Dialect.get(key) is not None:
        return key
    raise UnknownDialectError(
        f"unknown SQL dialect {name!r}: sqlglot knows {', '.join(known_dialects())}. "
        "Pass one of these names as the dialect."
    )


def dialect_for_adapter(adapter_type: str) -> str:
    """The sqlglot dialect of a dbt adapter type: ``"sqlserver"`` -> ``"tsql"``, ``"duckdb"`` -> ``"duckdb"``.

    Raises ``UnknownDialectError`` when neither the adapter table nor sqlglot knows the adapter.
    """
    key = adapter_type.strip().lower()
    if key in _ADAPTER_DIALECTS:
        return _ADAPTER_DIALECTS[key]
    try:
        return check_dialect(key)
    except UnknownDialectError:
        raise UnknownDialectError(
            f"dbt adapter {adapter_type!r} has no known sqlglot dialect. Set the dialect explicitly "
            f"to the SQL your warehouse speaks, one of: {', '.join(known_dialects())}."
        ) from None


def known_dialects() -> tuple[str, ...]:
    """Every dialect name sqlglot can load, sorted."""
    return tuple(sorted(key for key in Dialect.classes if key))


__all__ = ["check_dialect", "dialect_for_adapter", "known_dialects"]
