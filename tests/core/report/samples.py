"""Impact reports for the picture tests, made by the real gate on a real SQLite registry."""

from __future__ import annotations

from pathlib import Path

from tessera_core import gate
from tessera_core.gate import ImpactReport
from tessera_core.registry.base import AckResponse, ColumnFlow, ConsumerKind, Registration, RegistrationSource
from tessera_core.registry.sqlite import SqliteRegistry
from tessera_core.schema.model import Family, Field, Schema, Type

DIM = "warehouse.core.dim_customers"
RPT = "warehouse.analytics.rpt_customer_revenue"
FEATURES = "warehouse.ml.ml_customer_features"

INT = Type(Family.INTEGER, "INTEGER", bits=32)
TEXT = Type(Family.STRING, "VARCHAR")
MONEY = Type(Family.DECIMAL, "DECIMAL", precision=18, scale=2)
WHEN = Type(Family.TIMESTAMP, "TIMESTAMP")


def dbt_schema(*fields: Field, enforced: bool = True) -> Schema:
    return Schema(fields=fields, source_format="dbt", dialect="duckdb", contract_enforced=enforced)


V1 = dbt_schema(
    Field("customer_id", INT),
    Field("customer_name", TEXT),
    Field("email", TEXT),
    Field("lifetime_value", MONEY),
    Field("legacy_segment", TEXT),
    Field("created_at", WHEN),
)
# customer_id becomes a string key; legacy_segment goes away (nobody reads it).
V2 = dbt_schema(
    Field("customer_id", TEXT),
    Field("customer_name", TEXT),
    Field("email", TEXT),
    Field("lifetime_value", MONEY),
    Field("created_at", WHEN),
)


def inferred(
    asset: str,
    team: str,
    consumer: str,
    kind: ConsumerKind,
    columns: set[str],
    *,
    produces: str | None = None,
    flows: tuple[ColumnFlow, ...] = (),
    evidence: tuple[str, ...] = (),
) -> Registration:
    return Registration(
        asset,
        team,
        consumer,
        kind,
        frozenset(columns),
        source=RegistrationSource.INFERRED,
        consumer_asset=produces,
        flows=flows,
        evidence=evidence,
    )


def customer_registry(path: Path) -> SqliteRegistry:
    """dim_customers (team core) read by analytics' revenue model and its dashboard, ml's features
    and a finance ledger that reads nothing the change touches."""
    reg = SqliteRegistry(path)
    gate.publish(reg, DIM, V1, owner_team="core")
    gate.publish(
        reg,
        RPT,
        dbt_schema(Field("customer_id", INT), Field("revenue", MONEY)),
        owner_team="analytics",
    )
    for team in ("analytics", "ml", "finance"):
        reg.ensure_team(team)
    reg.register(
        inferred(
            DIM,
            "analytics",
            "rpt_customer_revenue",
            ConsumerKind.DBT_MODEL,
            {"customer_id", "lifetime_value"},
            produces=RPT,
            flows=(ColumnFlow("customer_id", "customer_id", True), ColumnFlow("lifetime_value", "revenue")),
            evidence=("customer_id: join, group by, select", "lifetime_value: select"),
        )
    )
    reg.register(
        inferred(
            RPT,
            "analytics",
            "weekly_revenue_dashboard",
            ConsumerKind.EXPOSURE,
            {"customer_id", "revenue"},
        )
    )
    reg.register(
        inferred(
            DIM,
            "ml",
            "ml_customer_features",
            ConsumerKind.DBT_MODEL,
            {"customer_id", "created_at"},
            produces=FEATURES,
            flows=(ColumnFlow("customer_id", "customer_id", True),),
            evidence=("customer_id: select, where",),
        )
    )
    reg.register(
        inferred(DIM, "finance", "finance_ledger", ConsumerKind.AIRFLOW_TASK, {"email", "lifetime_value"})
    )
    return reg


def customer_report(path: Path, *, acknowledged: bool = True) -> ImpactReport:
    """The check of V2 after its proposal was opened (and, by default, approved by ml)."""
    with customer_registry(path) as reg:
        opened = gate.publish(reg, DIM, V2, by="dana")
        assert opened.proposal is not None, opened.action
        if acknowledged:
            gate.acknowledge(
                reg,
                opened.proposal.id,
                "ml",
                AckResponse.APPROVED,
                note="features cast ids to text in ml#212",
            )
        return gate.check_impact(reg, DIM, V2)


def customer_check(path: Path) -> ImpactReport:
    """The same change checked before anyone opened a proposal."""
    with customer_registry(path) as reg:
        return gate.check_impact(reg, DIM, V2)


def crowded_report(path: Path, *, teams: int = 10, per_team: int = 8) -> ImpactReport:
    """customer_id removed from dim_customers, read by ``teams`` x ``per_team`` models, each read by a
    dashboard one hop further down; a proposal is open and every third team approved it."""
    with SqliteRegistry(path) as reg:
        gate.publish(reg, DIM, V1, owner_team="core")
        for t in range(teams):
            team = f"team_{t:02d}"
            reg.ensure_team(team)
            for c in range(per_team):
                model = f"{team}_model_{c:02d}"
                produces = f"warehouse.{team}.{model}"
                reg.register(
                    inferred(
                        DIM,
                        team,
                        model,
                        ConsumerKind.DBT_MODEL,
                        {"customer_id"},
                        produces=produces,
                        flows=(ColumnFlow("customer_id", "customer_key"),),
                    )
                )
                reg.register(
                    inferred(produces, team, f"{model}_dashboard", ConsumerKind.EXPOSURE, {"customer_key"})
                )
        without_id = dbt_schema(*(f for f in V1.fields if f.name not in ("customer_id", "legacy_segment")))
        opened = gate.publish(reg, DIM, without_id, by="dana")
        assert opened.proposal is not None, opened.action
        for t in range(0, teams, 3):
            gate.acknowledge(reg, opened.proposal.id, f"team_{t:02d}", AckResponse.APPROVED)
        return gate.check_impact(reg, DIM, without_id)
