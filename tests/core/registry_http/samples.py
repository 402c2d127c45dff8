"""Schemas and a seeded story shared by the HttpRegistry tests."""

from __future__ import annotations

from tessera_core import gate
from tessera_core.registry.base import ConsumerKind, Registration
from tessera_core.registry.http import HttpRegistry
from tessera_core.schema.model import Family, Field, Schema, Type

DIM = "wh.core.dim_customers"
INT = Type(Family.INTEGER, "INT", bits=32)
BIGINT = Type(Family.INTEGER, "BIGINT", bits=64)
TEXT = Type(Family.STRING, "VARCHAR")


def schema(*fields: Field) -> Schema:
    return Schema(fields=fields, source_format="dbt", dialect="duckdb", contract_enforced=True)


V1 = schema(Field("customer_id", INT), Field("name", TEXT), Field("email_domain", TEXT), Field("ltv", BIGINT))
ADDITIVE = schema(*V1.fields, Field("segment", TEXT))
RETYPED = schema(Field("customer_id", TEXT), *V1.fields[1:])  # breaking for analytics and ml
NAME_AS_INT = schema(*V1.fields[:1], Field("name", INT), *V1.fields[2:])  # breaking for analytics only
WIDENED = schema(Field("customer_id", BIGINT), *V1.fields[1:])  # the server sees no change


def seed(registry: HttpRegistry) -> HttpRegistry:
    """DIM at 1.0.0 owned by platform; analytics reads customer_id and name, ml customer_id and ltv."""
    gate.publish(registry, DIM, V1, owner_team="platform")
    for team, consumer, cols in (
        ("analytics", "rpt_revenue", {"customer_id", "name"}),
        ("ml", "features", {"customer_id", "ltv"}),
    ):
        registry.register(Registration(DIM, team, consumer, ConsumerKind.DBT_MODEL, frozenset(cols)))
    return registry
