"""Canonical spelling of identifiers and relation names, shared by contracts and lineage.

One rule for every dialect, so that a column named in a dbt YAML file, in a
warehouse catalog and in compiled SQL compare equal: unquoted identifiers are
case-insensitive and fold to lower case; quoted identifiers keep their case.
"""

from __future__ import annotations


def normalize_name(name: str, *, quoted: bool = False) -> str:
    """``CUSTOMER_ID`` -> ``customer_id``; a quoted ``"CustomerId"`` stays as it is."""
    if quoted:
        return name
    if len(name) >= 2 and name[0] == name[-1] and name[0] in '"`':
        return name[1:-1]
    if len(name) >= 2 and name[0] == "[" and name[-1] == "]":
        return name[1:-1]
    return name.lower()


def relation_fqn(database: str | None, schema: str | None, name: str) -> str:
    """``database.schema.name`` with each part normalized; missing parts are left out."""
    parts = [p for p in (database, schema, name) if p]
    return ".".join(normalize_name(p) for p in parts)
