"""Who is told what, from the registry's own values."""

from __future__ import annotations

from tessera_core.notify.events import (
    EventType,
    ack_command,
    acknowledgment_received,
    consumer_registered,
    proposal_closed,
    proposal_opened,
)
from tessera_core.registry.base import (
    Acknowledgment,
    AckResponse,
    AffectedConsumer,
    ConsumerKind,
    Proposal,
    ProposalStatus,
    Registration,
)

from .conftest import AFFECTED, DROP_STATUS, ORDERS, OWNER, V2


def proposal(
    status: ProposalStatus = ProposalStatus.PENDING,
    *,
    acknowledgments: tuple[Acknowledgment, ...] = (),
    published_version: str | None = None,
    reason: str | None = None,
) -> Proposal:
    return Proposal(
        "P-1",
        ORDERS,
        V2,
        DROP_STATUS,
        AFFECTED,
        status,
        base_version="1.0.0",
        acknowledgments=acknowledgments,
        published_version=published_version,
        reason=reason,
    )


def test_an_opened_proposal_tells_each_affected_team_only_its_own_consumers() -> None:
    told = {n.team: n for n in proposal_opened(proposal(), owner=OWNER)}
    assert sorted(told) == ["finance", "marketing"]
    marketing = told["marketing"].data
    assert [c["consumer"] for c in marketing["your_consumers"]] == ["fct_campaigns", "churn_dashboard"]
    assert marketing["columns_you_read"] == ["status"]
    assert marketing["changes"] == [c.to_dict() for c in DROP_STATUS]
    assert marketing["acknowledge"] == "tessctl ack P-1 --team marketing"
    assert [c["consumer"] for c in told["finance"].data["your_consumers"]] == ["revenue"]


def test_the_owner_is_not_asked_to_acknowledge_its_own_proposal() -> None:
    own = (*AFFECTED, AffectedConsumer(OWNER, "core_model", ORDERS, columns=("status",)))
    opened = Proposal("P-1", ORDERS, V2, DROP_STATUS, own, ProposalStatus.PENDING)
    assert OWNER not in {n.team for n in proposal_opened(opened, owner=OWNER)}


def test_a_consumer_reading_every_column_is_said_to_read_every_column() -> None:
    whole = (AffectedConsumer("ml", "features", ORDERS, ConsumerKind.AGENT, columns=()),)
    opened = Proposal("P-1", ORDERS, V2, DROP_STATUS, whole, ProposalStatus.PENDING)
    (notice,) = proposal_opened(opened, owner=None)
    assert notice.data["columns_you_read"] is None
    assert "every column" in notice.subject


def test_an_acknowledgment_goes_to_the_owner_with_who_is_still_awaited() -> None:
    ack = Acknowledgment("marketing", AckResponse.APPROVED, note="we moved off status", by="bo")
    (notice,) = acknowledgment_received(proposal(acknowledgments=(ack,)), "marketing", owner=OWNER)
    assert (notice.event, notice.team) == (EventType.PROPOSAL_ACKNOWLEDGED, OWNER)
    assert notice.data["acknowledgment"]["response"] == "approved"
    assert notice.data["proposal"]["awaiting"] == ["finance"]
    assert "still waiting for finance" in notice.subject


def test_an_asset_without_owner_has_nobody_to_tell_about_acknowledgments() -> None:
    ack = Acknowledgment("marketing", AckResponse.BLOCKED)
    assert acknowledgment_received(proposal(acknowledgments=(ack,)), "marketing", owner=None) == ()


def test_a_forced_proposal_tells_affected_teams_and_owner_with_the_reason() -> None:
    forced = proposal(ProposalStatus.FORCED, published_version="2.0.0", reason="legal deadline on friday")
    told = {n.team: n for n in proposal_closed(forced, owner=OWNER)}
    assert sorted(told) == [OWNER, "finance", "marketing"]
    assert {n.event for n in told.values()} == {EventType.PROPOSAL_FORCED}
    assert told["finance"].data["reason"] == "legal deadline on friday"
    assert told["finance"].data["unacknowledged_teams"] == ["finance", "marketing"]
    assert told[OWNER].data["your_consumers"] == []


def test_published_withdrawn_and_expired_each_have_their_event() -> None:
    for status, event in (
        (ProposalStatus.PUBLISHED, EventType.PROPOSAL_PUBLISHED),
        (ProposalStatus.WITHDRAWN, EventType.PROPOSAL_WITHDRAWN),
        (ProposalStatus.EXPIRED, EventType.PROPOSAL_EXPIRED),
    ):
        assert {n.event for n in proposal_closed(proposal(status), owner=OWNER)} == {event}


def test_an_open_proposal_is_not_a_closing_event() -> None:
    assert proposal_closed(proposal(ProposalStatus.APPROVED), owner=OWNER) == ()


def test_a_new_consumer_of_another_team_is_told_to_the_owner() -> None:
    reg = Registration(ORDERS, "finance", "revenue", ConsumerKind.DBT_MODEL, frozenset({"status", "id"}))
    (notice,) = consumer_registered(reg, owner=OWNER)
    assert (notice.event, notice.team) == (EventType.CONSUMER_REGISTERED, OWNER)
    assert notice.data["registration"]["columns"] == ["id", "status"]


def test_the_owners_own_consumer_is_not_news_to_the_owner() -> None:
    assert consumer_registered(Registration(ORDERS, OWNER, "core_model"), owner=OWNER) == ()


def test_the_ack_command_quotes_what_the_shell_would_split() -> None:
    assert ack_command("P-1", "data science") == "tessctl ack P-1 --team 'data science'"
