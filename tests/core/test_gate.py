"""The gate end to end on a real SQLite registry: check, publish, proposals, acknowledgments."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_core import gate
from tessera_core.errors import ConflictError, InvalidStateError, RegistryUnavailableError
from tessera_core.gate import Decision, GateSettings
from tessera_core.registry.base import (
    AckResponse,
    ColumnFlow,
    CompatibilityMode,
    ConsumerKind,
    ProposalStatus,
    Registration,
)
from tessera_core.registry.sqlite import SqliteRegistry
from tessera_core.schema.model import Family, Field, Schema, Type

DIM = "wh.core.dim_customers"
INT = Type(Family.INTEGER, "INT", bits=32)
BIGINT = Type(Family.INTEGER, "BIGINT", bits=64)
TEXT = Type(Family.STRING, "VARCHAR")


def schema(*fields: Field, enforced: bool | None = True) -> Schema:
    return Schema(fields=fields, source_format="dbt", dialect="duckdb", contract_enforced=enforced)


V1 = schema(Field("customer_id", INT), Field("name", TEXT), Field("email_domain", TEXT), Field("ltv", BIGINT))


@pytest.fixture
def registry(tmp_path: Path) -> SqliteRegistry:
    reg = SqliteRegistry(tmp_path / "registry.db")
    result = gate.publish(reg, DIM, V1, owner_team="platform")
    assert result.action == "published" and result.contract and result.contract.version == "1.0.0"
    for team, consumer, cols in (
        ("analytics", "rpt_revenue", {"customer_id", "name"}),
        ("ml", "features", {"customer_id", "ltv"}),
    ):
        reg.ensure_team(team)
        reg.register(Registration(DIM, team, consumer, ConsumerKind.DBT_MODEL, frozenset(cols)))
    return reg


def test_identical_schema_is_a_no_op(registry: SqliteRegistry) -> None:
    result = gate.publish(registry, DIM, V1)
    assert result.action == "unchanged"
    assert [c.version for c in registry.contract_history(DIM)] == ["1.0.0"]


def test_additive_change_publishes_a_minor_version(registry: SqliteRegistry) -> None:
    v2 = schema(*V1.fields, Field("segment", TEXT))
    report = gate.check_impact(registry, DIM, v2)
    assert report.decision is Decision.PASS and report.next_version == "1.1.0"
    result = gate.publish(registry, DIM, v2)
    assert result.action == "published" and result.contract and result.contract.version == "1.1.0"


def test_breaking_change_on_a_column_nobody_reads_passes_without_proposal(registry: SqliteRegistry) -> None:
    v2 = schema(*(f for f in V1.fields if f.name != "email_domain"))
    report = gate.check_impact(registry, DIM, v2)
    assert report.breaking and report.decision is Decision.PASS and report.affected == ()
    result = gate.publish(registry, DIM, v2)
    assert result.action == "published" and result.contract and result.contract.version == "2.0.0"
    assert registry.proposals(DIM) == []


def test_breaking_change_blocks_names_teams_and_columns(registry: SqliteRegistry) -> None:
    v2 = schema(Field("customer_id", TEXT), *V1.fields[1:])
    report = gate.check_impact(registry, DIM, v2)
    assert report.decision is Decision.BLOCKED and not report.safe_to_publish
    assert {(a.team, a.columns) for a in report.affected} == {
        ("analytics", ("customer_id",)),
        ("ml", ("customer_id",)),
    }
    assert report.awaiting == ("analytics", "ml")


def test_full_workflow_proposal_acks_then_publish(registry: SqliteRegistry) -> None:
    v2 = schema(Field("customer_id", TEXT), *V1.fields[1:])
    opened = gate.publish(registry, DIM, v2, by="platform")
    assert opened.action == "proposal_opened" and opened.proposal is not None
    pid = opened.proposal.id
    again = gate.publish(registry, DIM, v2)
    assert again.action == "proposal_pending" and again.proposal and again.proposal.id == pid

    gate.acknowledge(registry, pid, "analytics", note="dashboards migrated")
    assert gate.check_impact(registry, DIM, v2).awaiting == ("ml",)
    p = gate.acknowledge(registry, pid, "ml", AckResponse.APPROVED)
    assert p.status is ProposalStatus.APPROVED

    assert gate.check_impact(registry, DIM, v2).decision is Decision.PASS
    done = gate.publish(registry, DIM, v2)
    assert done.action == "published" and done.contract and done.contract.version == "2.0.0"
    assert registry.get_proposal(pid).status is ProposalStatus.PUBLISHED
    assert gate.publish(registry, DIM, v2).action == "unchanged"


def test_blocked_ack_keeps_it_blocked(registry: SqliteRegistry) -> None:
    v2 = schema(Field("customer_id", TEXT), *V1.fields[1:])
    pid = gate.publish(registry, DIM, v2).proposal.id  # type: ignore[union-attr]
    gate.acknowledge(registry, pid, "analytics")
    gate.acknowledge(registry, pid, "ml", "blocked", note="feature store pins int")
    report = gate.check_impact(registry, DIM, v2)
    assert report.decision is Decision.BLOCKED and report.awaiting == ("ml",)


def test_a_different_breaking_schema_while_one_is_pending_conflicts(registry: SqliteRegistry) -> None:
    gate.publish(registry, DIM, schema(Field("customer_id", TEXT), *V1.fields[1:]))
    with pytest.raises(ConflictError):
        gate.publish(registry, DIM, schema(*V1.fields[:1], Field("name", INT), *V1.fields[2:]))


def test_force_publish_needs_a_reason_and_publishes(registry: SqliteRegistry) -> None:
    pid = gate.publish(registry, DIM, schema(Field("customer_id", TEXT), *V1.fields[1:])).proposal.id  # type: ignore[union-attr]
    contract = gate.force_publish(registry, pid, reason="incident INC-1234 hotfix", by="oncall")
    assert contract.version == "2.0.0" and contract.forced_reason == "incident INC-1234 hotfix"
    with pytest.raises(InvalidStateError):
        gate.force_publish(registry, pid, reason="incident INC-1234 hotfix")


def test_withdrawn_proposal_frees_the_asset(registry: SqliteRegistry) -> None:
    pid = gate.publish(registry, DIM, schema(Field("customer_id", TEXT), *V1.fields[1:])).proposal.id  # type: ignore[union-attr]
    gate.withdraw(registry, pid, reason="wrong approach")
    other = gate.publish(registry, DIM, schema(*V1.fields[:1], Field("name", INT), *V1.fields[2:]))
    assert other.action == "proposal_opened"


def test_mode_none_notifies_but_never_blocks(registry: SqliteRegistry) -> None:
    gate.publish(registry, DIM, V1, mode=CompatibilityMode.NONE)
    v2 = schema(Field("customer_id", TEXT), *V1.fields[1:])
    report = gate.check_impact(registry, DIM, v2)
    assert report.decision is Decision.NOTIFY and {a.team for a in report.affected} == {"analytics", "ml"}
    assert gate.publish(registry, DIM, v2).action == "published"


def test_forward_mode_blocks_an_added_field(registry: SqliteRegistry) -> None:
    gate.publish(registry, DIM, V1, mode="forward")
    report = gate.check_impact(registry, DIM, schema(*V1.fields, Field("segment", TEXT)))
    # an added column is read by nobody yet, so only consumers with unknown scope would block
    assert report.breaking and report.decision is Decision.PASS


def test_widening_into_an_enforced_contract_blocks_whatever_the_mode(registry: SqliteRegistry) -> None:
    rpt = "wh.analytics.rpt_revenue"
    gate.publish(registry, rpt, schema(Field("customer_id", INT)), owner_team="analytics")
    registry.register(
        Registration(
            DIM,
            "analytics",
            "rpt_revenue",
            ConsumerKind.DBT_MODEL,
            frozenset({"customer_id", "name"}),
            consumer_asset=rpt,
            flows=(ColumnFlow("customer_id", "customer_id", True),),
        )
    )
    v2 = schema(Field("customer_id", BIGINT), *V1.fields[1:])
    report = gate.check_impact(registry, DIM, v2)
    assert not report.breaking and report.contract_breaks
    assert report.decision is Decision.BLOCKED and report.awaiting == ("analytics",)


def test_registry_down_fails_closed_by_default_and_open_when_asked(tmp_path: Path) -> None:
    class Down(SqliteRegistry):
        def get_asset(self, fqn: str):  # type: ignore[no-untyped-def]
            raise RegistryUnavailableError("connection refused")

    down = Down(tmp_path / "r.db")
    closed = gate.check_impact(down, DIM, V1)
    assert closed.decision is Decision.BLOCKED and "fail closed" in closed.messages[0]
    opened = gate.check_impact(down, DIM, V1, settings=GateSettings(fail_open=True))
    assert opened.decision is Decision.NOTIFY and "fail-open" in opened.messages[0]


def test_removing_a_contracted_asset_blocks_every_reader(registry: SqliteRegistry) -> None:
    report = gate.check_removal(registry, DIM)
    assert report.decision is Decision.BLOCKED
    assert [c.kind.value for c in report.changes] == ["asset_removed"]
    assert {a.team for a in report.affected} == {"analytics", "ml"}


def test_removing_an_asset_without_contract_passes(tmp_path: Path) -> None:
    assert gate.check_removal(SqliteRegistry(tmp_path / "r.db"), DIM).decision is Decision.PASS
