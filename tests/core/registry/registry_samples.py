"""Values the registry tests store: an orders table in two versions, a breaking change, affected teams."""

from __future__ import annotations

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.registry.base import AffectedConsumer, ConsumerKind
from tessera_core.schema.model import Family, Field, Schema, Type

ORDERS = "analytics.core.orders"


def orders_schema(*names: str) -> Schema:
    """An orders table with ``id`` plus the given extra columns."""
    fields = [Field("id", Type(Family.INTEGER, "BIGINT", bits=64), nullable=False)]
    fields += [Field(name, Type(Family.STRING, "VARCHAR")) for name in names]
    return Schema(tuple(fields), source_format="dbt", dialect="duckdb")


V1 = orders_schema("customer_id", "status")
V2 = orders_schema("customer_id")  # drops status
V2_OTHER = orders_schema("status")  # drops customer_id

DROP_STATUS = (
    Change(ChangeKind.FIELD_REMOVED, "status", "column status removed", old="VARCHAR", column="status"),
)


def affected(*teams: str) -> tuple[AffectedConsumer, ...]:
    return tuple(
        AffectedConsumer(
            team,
            f"{team}_model",
            ORDERS,
            ConsumerKind.DBT_MODEL,
            columns=("status",),
            evidence=(f"{team}_model.status <- orders.status",),
            depth=0,
        )
        for team in teams
    )
