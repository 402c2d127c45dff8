"""Column-scoped, transitive impact over registrations (no registry needed: impact is pure)."""

from __future__ import annotations

from collections.abc import Sequence

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.impact import affected_consumers, contract_breaks
from tessera_core.registry.base import ColumnFlow, ConsumerKind, Registration
from tessera_core.schema.model import Family, Field, Schema, Type

DIM = "wh.core.dim_customers"
RPT = "wh.analytics.rpt_revenue"


def lookup(*regs: Registration):  # type: ignore[no-untyped-def]
    def registrations_of(fqn: str) -> Sequence[Registration]:
        return [r for r in regs if r.asset_fqn == fqn]

    return registrations_of


def removed(column: str) -> Change:
    return Change(ChangeKind.FIELD_REMOVED, column, f"{column} removed", column=column)


def retyped(column: str, kind: ChangeKind = ChangeKind.TYPE_WIDENED) -> Change:
    return Change(kind, column, f"{column}: integer -> bigint", "integer", "bigint", column=column)


analytics = Registration(
    DIM,
    "analytics",
    "rpt_revenue",
    ConsumerKind.DBT_MODEL,
    frozenset({"customer_id", "name"}),
    consumer_asset=RPT,
    flows=(ColumnFlow("customer_id", "customer_id", True), ColumnFlow("name", "customer_name", True)),
    evidence=("customer_id: join, select", "name: select"),
)
ml = Registration(DIM, "ml", "features", ConsumerKind.DBT_MODEL, frozenset({"customer_id", "lifetime_value"}))
unknown = Registration(DIM, "finance", "ledger_job", ConsumerKind.AIRFLOW_TASK, None)
dashboard = Registration(RPT, "exec", "weekly_dashboard", ConsumerKind.EXPOSURE, frozenset({"customer_name"}))


def test_change_to_a_column_reaches_only_its_readers_and_unknown_scopes() -> None:
    found = affected_consumers(DIM, [removed("lifetime_value")], lookup(analytics, ml, unknown))
    assert {(a.team, a.columns) for a in found} == {
        ("ml", ("lifetime_value",)),
        ("finance", ("lifetime_value",)),
    }


def test_change_nobody_reads_affects_only_unknown_scopes() -> None:
    found = affected_consumers(DIM, [removed("email_domain")], lookup(analytics, ml))
    assert found == ()


def test_schema_level_change_reaches_everyone() -> None:
    change = Change(ChangeKind.ENFORCEMENT_DISABLED, "", "contract no longer enforced")
    found = affected_consumers(DIM, [change], lookup(analytics, ml, unknown))
    assert {a.team for a in found} == {"analytics", "ml", "finance"}


def test_transitive_through_a_passed_on_column_with_evidence() -> None:
    found = affected_consumers(DIM, [removed("name")], lookup(analytics, ml, dashboard))
    by_team = {a.team: a for a in found}
    assert set(by_team) == {"analytics", "exec"}
    assert by_team["exec"].depth == 1
    assert by_team["exec"].columns == ("customer_name",)
    assert any("rpt_revenue" in line for line in by_team["exec"].evidence)


def test_transitive_stops_where_the_column_is_not_passed_on() -> None:
    found = affected_consumers(DIM, [removed("customer_id")], lookup(analytics, dashboard))
    assert {a.team for a in found} == {"analytics"}


def test_unknown_flows_are_fail_safe_all_columns_downstream() -> None:
    blind = Registration(DIM, "analytics", "rpt_revenue", ConsumerKind.DBT_MODEL, None, consumer_asset=RPT)
    found = affected_consumers(DIM, [removed("email")], lookup(blind, dashboard))
    assert {a.team for a in found} == {"analytics", "exec"}


def test_cycles_terminate() -> None:
    a = Registration("x.a", "t1", "b", ConsumerKind.DBT_MODEL, None, consumer_asset="x.b")
    b = Registration("x.b", "t2", "a", ConsumerKind.DBT_MODEL, None, consumer_asset="x.a")
    found = affected_consumers("x.a", [removed("c")], lookup(a, b))
    assert {f.consumer for f in found} == {"a", "b"}


def test_retired_registrations_do_not_count() -> None:
    gone = Registration(DIM, "ml", "features", ConsumerKind.DBT_MODEL, None, retired=True)
    assert affected_consumers(DIM, [removed("x")], lookup(gone)) == ()


def test_widening_into_an_enforced_contract_breaks_that_model() -> None:
    enforced = Schema(
        fields=(Field("customer_id", Type(Family.INTEGER, bits=32)),),
        contract_enforced=True,
        source_format="dbt",
    )
    breaks = contract_breaks(
        DIM, [retyped("customer_id")], lookup(analytics), lambda fqn: enforced if fqn == RPT else None
    )
    assert [(b.consumer.consumer, b.target_column) for b in breaks] == [("rpt_revenue", "customer_id")]
    assert "enforced contract" in breaks[0].message


def test_widening_into_an_unenforced_model_is_not_a_contract_break() -> None:
    loose = Schema(fields=(Field("customer_id"),), contract_enforced=False)
    assert contract_breaks(DIM, [retyped("customer_id")], lookup(analytics), lambda fqn: loose) == ()
