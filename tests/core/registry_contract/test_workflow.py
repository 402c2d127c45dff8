"""The gate's workflow on both registry backends, with the same assertions.

``SqliteRegistry`` (a file) and ``HttpRegistry`` (a Tessera server on
loopback that answers in the recorded shapes) must mean the same: publish,
additive publish, breaking change -> proposal, acknowledgments, publish of
the approved proposal, withdraw, force, and the registrations the gate reads.
Where the server's rules differ (a ``blocked`` answer rejects the proposal on
the server), only what both guarantee is asserted here; the difference is
tested in ``registry_http``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from registry_http.loopback import running
from registry_http.tessera_fake import FakeTessera

from tessera_core import gate
from tessera_core.errors import ConflictError, InvalidStateError
from tessera_core.gate import Decision
from tessera_core.registry.base import (
    AckResponse,
    ColumnFlow,
    CompatibilityMode,
    ConsumerKind,
    ProposalStatus,
    RegisterOutcome,
    Registration,
    RegistrationSource,
    Registry,
)
from tessera_core.registry.http import HttpRegistry
from tessera_core.registry.sqlite import SqliteRegistry
from tessera_core.schema.model import Family, Field, Schema, Type

DIM = "wh.core.dim_customers"
RPT = "wh.analytics.rpt_revenue"
INT = Type(Family.INTEGER, "INT", bits=32)
BIGINT = Type(Family.INTEGER, "BIGINT", bits=64)
TEXT = Type(Family.STRING, "VARCHAR")


def schema(*fields: Field, enforced: bool | None = True) -> Schema:
    return Schema(fields=fields, source_format="dbt", dialect="duckdb", contract_enforced=enforced)


V1 = schema(Field("customer_id", INT), Field("name", TEXT), Field("email_domain", TEXT), Field("ltv", BIGINT))
ADDITIVE = schema(*V1.fields, Field("segment", TEXT))
RETYPED = schema(Field("customer_id", TEXT), *V1.fields[1:])  # breaking for analytics and ml
NAME_AS_INT = schema(*V1.fields[:1], Field("name", INT), *V1.fields[2:])  # breaking for analytics only
NO_EMAIL = schema(*(f for f in V1.fields if f.name != "email_domain"))  # breaking, read by nobody


@pytest.fixture(params=["sqlite", "http"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    if request.param == "sqlite":
        with SqliteRegistry(tmp_path / "registry.db") as reg:
            yield reg
        return
    with (
        running(FakeTessera()) as server,
        HttpRegistry(server.url, backoff=0.01, store_path=tmp_path / "side.db") as reg,
    ):
        yield reg


@pytest.fixture
def published(registry: Registry) -> Registry:
    result = gate.publish(registry, DIM, V1, owner_team="platform")
    assert result.action == "published" and result.contract and result.contract.version == "1.0.0"
    for team, consumer, cols in (
        ("analytics", "rpt_revenue", {"customer_id", "name"}),
        ("ml", "features", {"customer_id", "ltv"}),
    ):
        registry.ensure_team(team)
        registry.register(Registration(DIM, team, consumer, ConsumerKind.DBT_MODEL, frozenset(cols)))
    return registry


def _keys(registry: Registry, fqn: str = DIM) -> set[tuple[str, str, str]]:
    return {r.key for r in registry.registrations(fqn)}


def test_first_publish_stores_the_schema_exactly(published: Registry) -> None:
    current = published.current_contract(DIM)
    assert current is not None and current.version == "1.0.0" and current.change_class == "initial"
    assert current.schema == V1


def test_identical_schema_is_a_no_op(published: Registry) -> None:
    assert gate.publish(published, DIM, V1).action == "unchanged"
    assert [c.version for c in published.contract_history(DIM)] == ["1.0.0"]


def test_additive_change_publishes_a_minor_version_and_keeps_every_consumer(published: Registry) -> None:
    report = gate.check_impact(published, DIM, ADDITIVE)
    assert report.decision is Decision.PASS and report.next_version == "1.1.0"
    result = gate.publish(published, DIM, ADDITIVE)
    assert result.action == "published" and result.contract and result.contract.version == "1.1.0"
    assert result.contract.change_class == "minor" and result.contract.schema == ADDITIVE
    assert _keys(published) == {(DIM, "analytics", "rpt_revenue"), (DIM, "ml", "features")}


def test_consumers_registered_before_an_additive_publish_still_block_a_breaking_change(
    published: Registry,
) -> None:
    gate.publish(published, DIM, ADDITIVE)
    retyped = schema(Field("customer_id", TEXT), *ADDITIVE.fields[1:])
    report = gate.check_impact(published, DIM, retyped)
    assert report.decision is Decision.BLOCKED and report.awaiting == ("analytics", "ml")


def test_breaking_change_on_a_column_nobody_reads_publishes_without_a_proposal(published: Registry) -> None:
    report = gate.check_impact(published, DIM, NO_EMAIL)
    assert report.breaking and report.decision is Decision.PASS and report.affected == ()
    result = gate.publish(published, DIM, NO_EMAIL)
    assert result.action == "published" and result.contract and result.contract.version == "2.0.0"
    assert published.proposals(DIM) == []


def test_breaking_change_blocks_and_names_teams_and_columns(published: Registry) -> None:
    report = gate.check_impact(published, DIM, RETYPED)
    assert report.decision is Decision.BLOCKED and not report.safe_to_publish
    assert {(a.team, a.columns) for a in report.affected} == {
        ("analytics", ("customer_id",)),
        ("ml", ("customer_id",)),
    }
    assert report.awaiting == ("analytics", "ml")


def test_full_workflow_proposal_acknowledgments_then_publish(published: Registry) -> None:
    opened = gate.publish(published, DIM, RETYPED, by="platform")
    assert opened.action == "proposal_opened" and opened.proposal is not None
    pid = opened.proposal.id
    assert opened.proposal.status is ProposalStatus.PENDING and opened.proposal.base_version == "1.0.0"
    assert opened.proposal.schema == RETYPED and opened.proposal.affected_teams == ("analytics", "ml")
    again = gate.publish(published, DIM, RETYPED)
    assert again.action == "proposal_pending" and again.proposal and again.proposal.id == pid

    first = gate.acknowledge(published, pid, "analytics", note="dashboards migrated", by="ana")
    assert first.status is ProposalStatus.PENDING and first.awaiting == ("ml",)
    answer = first.ack_of("analytics")
    assert answer is not None and (answer.response, answer.note, answer.by) == (
        AckResponse.APPROVED,
        "dashboards migrated",
        "ana",
    )
    assert gate.check_impact(published, DIM, RETYPED).awaiting == ("ml",)
    approved = gate.acknowledge(published, pid, "ml", AckResponse.APPROVED)
    assert approved.status is ProposalStatus.APPROVED and approved.fully_acknowledged

    assert gate.check_impact(published, DIM, RETYPED).decision is Decision.PASS
    done = gate.publish(published, DIM, RETYPED)
    assert done.action == "published" and done.contract and done.contract.version == "2.0.0"
    assert done.contract.change_class == "major" and done.contract.proposal_id == pid
    final = published.get_proposal(pid)
    assert final.status is ProposalStatus.PUBLISHED and final.published_version == "2.0.0"
    assert gate.publish(published, DIM, RETYPED).action == "unchanged"
    assert [c.version for c in published.contract_history(DIM)] == ["1.0.0", "2.0.0"]


def test_a_published_proposal_takes_no_more_answers(published: Registry) -> None:
    pid = gate.publish(published, DIM, NAME_AS_INT).proposal.id  # type: ignore[union-attr]
    gate.acknowledge(published, pid, "analytics")
    gate.publish(published, DIM, NAME_AS_INT)
    assert published.get_proposal(pid).status is ProposalStatus.PUBLISHED
    with pytest.raises(InvalidStateError):
        gate.acknowledge(published, pid, "analytics")


def test_a_team_the_change_does_not_reach_cannot_answer(published: Registry) -> None:
    pid = gate.publish(published, DIM, NAME_AS_INT).proposal.id  # type: ignore[union-attr]
    with pytest.raises(InvalidStateError):
        gate.acknowledge(published, pid, "ml")


def test_publishing_a_pending_proposal_without_a_reason_is_refused(published: Registry) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    with pytest.raises(InvalidStateError):
        published.publish_proposal(pid, "2.0.0")


def test_a_blocked_answer_keeps_the_change_blocked(published: Registry) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    gate.acknowledge(published, pid, "analytics")
    gate.acknowledge(published, pid, "ml", "blocked", note="feature store pins int")
    report = gate.check_impact(published, DIM, RETYPED)
    assert report.decision is Decision.BLOCKED and "ml" in report.awaiting


def test_a_different_breaking_schema_while_one_is_pending_conflicts(published: Registry) -> None:
    gate.publish(published, DIM, RETYPED)
    with pytest.raises(ConflictError):
        gate.publish(published, DIM, NAME_AS_INT)


def test_force_publish_needs_a_reason_and_publishes_once(published: Registry) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    contract = gate.force_publish(published, pid, reason="incident INC-1234 hotfix", by="oncall")
    assert contract.version == "2.0.0" and contract.forced_reason == "incident INC-1234 hotfix"
    assert contract.schema == RETYPED and contract.published_by == "oncall"
    forced = published.get_proposal(pid)
    assert forced.status is ProposalStatus.FORCED and forced.reason == "incident INC-1234 hotfix"
    with pytest.raises(InvalidStateError):
        gate.force_publish(published, pid, reason="incident INC-1234 hotfix")


def test_withdrawn_proposal_frees_the_asset(published: Registry) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    withdrawn = gate.withdraw(published, pid, reason="wrong approach")
    assert withdrawn.status is ProposalStatus.WITHDRAWN and withdrawn.reason == "wrong approach"
    assert gate.publish(published, DIM, NAME_AS_INT).action == "proposal_opened"
    with pytest.raises(InvalidStateError):
        gate.withdraw(published, pid)


def test_mode_none_notifies_but_never_blocks(published: Registry) -> None:
    gate.publish(published, DIM, V1, mode=CompatibilityMode.NONE)
    report = gate.check_impact(published, DIM, RETYPED)
    assert report.decision is Decision.NOTIFY and {a.team for a in report.affected} == {"analytics", "ml"}
    result = gate.publish(published, DIM, RETYPED)
    assert result.action == "published" and result.contract and result.contract.version == "2.0.0"


def test_widening_into_an_enforced_contract_blocks_until_acknowledged(published: Registry) -> None:
    gate.publish(published, RPT, schema(Field("customer_id", INT)), owner_team="analytics")
    published.register(
        Registration(
            DIM,
            "analytics",
            "rpt_revenue",
            ConsumerKind.DBT_MODEL,
            frozenset({"customer_id", "name"}),
            consumer_asset=RPT,
            flows=(ColumnFlow("customer_id", "customer_id", True),),
        )
    )
    widened = schema(Field("customer_id", BIGINT), *V1.fields[1:])
    report = gate.check_impact(published, DIM, widened)
    assert not report.breaking and report.contract_breaks
    assert report.decision is Decision.BLOCKED and report.awaiting == ("analytics",)
    opened = gate.publish(published, DIM, widened)
    assert opened.action == "proposal_opened" and opened.proposal is not None
    gate.acknowledge(published, opened.proposal.id, "analytics")
    done = gate.publish(published, DIM, widened)
    assert done.action == "published" and done.contract and done.contract.schema == widened


def test_registrations_keep_scope_flows_and_evidence(published: Registry) -> None:
    wanted = Registration(
        DIM,
        "finance",
        "fct_ltv",
        ConsumerKind.DBT_MODEL,
        frozenset({"ltv"}),
        source=RegistrationSource.INFERRED,
        evidence=("fct_ltv.ltv <- dim_customers.ltv via SELECT",),
        consumer_asset="wh.finance.fct_ltv",
        flows=(ColumnFlow("ltv", "ltv", True),),
        pinned_version="1.0.0",
    )
    assert published.register(wanted) is RegisterOutcome.ADDED
    (stored,) = published.registrations(DIM, team="finance")
    assert replace(stored, id=None) == wanted


def test_register_outcomes_and_explicit_wins_over_inferred(published: Registry) -> None:
    explicit = Registration(DIM, "finance", "book", columns=frozenset({"ltv"}))
    assert published.register(explicit) is RegisterOutcome.ADDED
    assert published.register(explicit) is RegisterOutcome.UNCHANGED
    inferred = replace(explicit, columns=frozenset({"name"}), source=RegistrationSource.INFERRED)
    assert published.register(inferred) is RegisterOutcome.UNCHANGED
    wider = replace(explicit, columns=frozenset({"ltv", "name"}))
    assert published.register(wider) is RegisterOutcome.CHANGED
    (stored,) = published.registrations(DIM, consumer="book")
    assert stored.columns == frozenset({"ltv", "name"}) and stored.source is RegistrationSource.EXPLICIT


def test_retired_consumers_stop_counting(published: Registry) -> None:
    assert published.retire(DIM, "ml", "features") is True
    assert published.retire(DIM, "ml", "features") is False
    assert _keys(published) == {(DIM, "analytics", "rpt_revenue")}
    retired = [r for r in published.registrations(DIM, include_retired=True) if r.retired]
    assert [r.key for r in retired] == [(DIM, "ml", "features")]
    assert gate.check_impact(published, DIM, RETYPED).awaiting == ("analytics",)


def test_stale_base_version_and_taken_versions_conflict(published: Registry) -> None:
    with pytest.raises(ConflictError):
        published.open_proposal(DIM, RETYPED, (), (), base_version="0.9.0")
    with pytest.raises(ConflictError):
        published.publish_contract(DIM, ADDITIVE, "1.0.0", change_class="minor", expected_current="1.0.0")
    with pytest.raises(ConflictError):
        published.publish_contract(DIM, ADDITIVE, "1.1.0", change_class="minor", expected_current="0.1.0")


def test_asset_settings_round_trip(published: Registry) -> None:
    gate.publish(published, DIM, V1, mode="full", kind="model")
    asset = published.get_asset(DIM)
    assert asset is not None
    assert (asset.owner_team, asset.compatibility_mode, asset.kind) == (
        "platform",
        CompatibilityMode.FULL,
        "model",
    )
    assert [a.fqn for a in published.assets()] == [DIM]
    assert {t.name for t in published.teams()} >= {"platform", "analytics", "ml"}
