"""The vocabulary of column lineage: an upstream column, and the clause that reads it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Clause(StrEnum):
    """Where in a query a column is read."""

    SELECT = "select"
    WHERE = "where"
    JOIN = "join"
    GROUP_BY = "group_by"
    HAVING = "having"
    QUALIFY = "qualify"
    WINDOW = "window"
    ORDER_BY = "order_by"


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """One column of one physical relation.

    ``table`` is the normalized relation name (``db.schema.name``, qualified with the
    query's defaults; fewer parts when no default was given) and ``column`` the
    normalized column name.
    """

    table: str
    column: str
