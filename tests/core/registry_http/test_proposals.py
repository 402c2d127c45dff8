"""Proposals and answers on the server, and where its rules differ from the embedded registry's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera_core import gate
from tessera_core.compat.changes import ChangeKind
from tessera_core.errors import ConflictError, InvalidStateError, NotFoundError, RegistryError
from tessera_core.registry.base import AckResponse, AffectedConsumer, ProposalStatus
from tessera_core.registry.http import HttpRegistry

from .conftest import API_KEY
from .loopback import Loopback, running
from .samples import ADDITIVE, DIM, NAME_AS_INT, RETYPED, WIDENED, seed
from .tessera_fake import FakeTessera


def _server_proposal(fake: FakeTessera, pid: str) -> dict[str, object]:
    return fake.proposals[pid]


def _dim(fake: FakeTessera) -> dict[str, object]:
    return next(a for a in fake.assets.values() if a["fqn"] == DIM)


def _other_client_publishes(
    fake: FakeTessera, document: dict[str, object], **query: str
) -> dict[str, object]:
    asset = _dim(fake)
    return fake.act(  # type: ignore[no-any-return]
        "POST",
        f"/api/v1/assets/{asset['id']}/publish",
        {"schema": document},
        published_by=str(asset["owner_team_id"]),
        **query,
    )


def test_a_breaking_change_opens_the_servers_proposal_carrying_our_facts(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    opened = gate.publish(published, DIM, RETYPED, by="alice")
    proposal = opened.proposal
    assert opened.action == "proposal_opened" and proposal is not None and proposal.id in fake.proposals
    told = fake.proposals[proposal.id]["proposed_schema"]["x-tessera"]["proposal"]
    assert told["base_version"] == "1.0.0" and told["proposed_by"] == "alice"
    assert {a["team"] for a in told["affected"]} == {"analytics", "ml"}
    assert [c.kind for c in proposal.changes] == [ChangeKind.TYPE_CHANGED]
    assert (proposal.proposed_by, proposal.base_version, proposal.status) == (
        "alice",
        "1.0.0",
        ProposalStatus.PENDING,
    )


def test_the_same_schema_finds_the_open_proposal_without_a_new_one(
    published: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    first = gate.publish(published, DIM, RETYPED).proposal
    again, created = published.open_proposal(DIM, RETYPED, (), (), base_version="1.0.0")
    assert first is not None and again.id == first.id and created is False and len(fake.proposals) == 1


def test_a_proposal_another_client_opened_meanwhile_conflicts_with_the_servers_words(
    published: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    _other_client_publishes(fake, {"type": "object", "properties": {"customer_id": {"type": "string"}}})
    empty = {"results": [], "total": 0, "limit": 100, "offset": 0}
    server.fail("GET", "/api/v1/proposals", status=200, body=empty, times=2)  # our look misses it
    with pytest.raises(ConflictError, match="409 DUPLICATE_PROPOSAL: Asset already has a pending proposal"):
        published.open_proposal(DIM, RETYPED, (), (), base_version="1.0.0")


def test_a_change_the_server_would_publish_at_once_is_held_by_this_client(
    published: HttpRegistry, fake: FakeTessera, caplog: pytest.LogCaptureFixture
) -> None:
    affected = (AffectedConsumer("analytics", "rpt_revenue", DIM, columns=("customer_id",)),)
    proposal, created = published.open_proposal(DIM, WIDENED, (), affected, base_version="1.0.0")
    assert created and proposal.id.startswith("local-") and fake.proposals == {}
    assert "kept by this client only" in caplog.text
    assert published.get_proposal(proposal.id) == proposal
    assert published.proposals(DIM, status=ProposalStatus.PENDING) == [proposal]
    approved = gate.acknowledge(published, proposal.id, "analytics", note="fine", by="ana")
    assert approved.status is ProposalStatus.APPROVED and approved.acknowledgments[0].by == "ana"
    done, contract = published.publish_proposal(proposal.id, "1.0.1", change_class="patch", by="bob")
    assert done.status is ProposalStatus.PUBLISHED and done.published_version == "1.0.1"
    assert (
        contract.schema == WIDENED and contract.proposal_id == proposal.id and contract.published_by == "bob"
    )
    with pytest.raises(InvalidStateError):
        published.withdraw(proposal.id)


def test_an_answer_is_sent_to_the_server_and_who_gave_it_is_kept_here(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    proposal = gate.acknowledge(published, pid, "analytics", note="migrated", by="ana")
    (ack,) = fake.acks
    assert (ack["response"], ack["notes"]) == ("approved", "migrated")
    answer = proposal.ack_of("analytics")
    assert answer is not None and (answer.response, answer.note, answer.by) == (
        AckResponse.APPROVED,
        "migrated",
        "ana",
    )


def test_the_same_answer_twice_is_a_no_op_and_a_changed_one_conflicts(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    gate.acknowledge(published, pid, "analytics", AckResponse.MIGRATING)
    again = gate.acknowledge(published, pid, "analytics", AckResponse.MIGRATING)
    assert again.ack_of("analytics").response is AckResponse.MIGRATING  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match=r"already answered 'migrating' .* keeps a team's first answer"):
        gate.acknowledge(published, pid, "analytics", AckResponse.APPROVED)
    assert len(fake.acks) == 1


def test_a_blocked_answer_rejects_the_proposal_on_the_server(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    rejected = gate.acknowledge(published, pid, "ml", "blocked", note="feature store pins int")
    assert rejected.status is ProposalStatus.REJECTED and fake.proposals[pid]["status"] == "rejected"
    assert gate.publish(published, DIM, RETYPED).action == "proposal_opened"


def test_an_answer_after_another_client_published_registers_the_team_first(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    newer = _other_client_publishes(fake, _dim_document(fake, extra="segment"))
    assert newer["action"] == "published"  # the server forgot analytics and ml on the new contract
    proposal = gate.acknowledge(published, pid, "analytics")
    assert proposal.ack_of("analytics") is not None and len(fake.acks) == 1
    contract_id = newer["contract"]["id"]  # type: ignore[index]
    assert any(r["contract_id"] == contract_id for r in fake.registrations.values())


def _dim_document(fake: FakeTessera, *, extra: str) -> dict[str, object]:
    current = [c for c in fake.contracts.values() if c["asset_id"] == _dim(fake)["id"]][-1]
    document = dict(current["schema_def"])
    document["properties"] = {**document["properties"], extra: {"type": "string"}}  # type: ignore[dict-item]
    return document


def test_a_team_reached_only_through_lineage_answers_beside_the_client(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    affected = (
        AffectedConsumer("analytics", "rpt_revenue", DIM, columns=("customer_id",)),
        AffectedConsumer("finance", "fct_ltv", "wh.analytics.rpt_revenue", columns=("customer_id",), depth=1),
    )
    proposal, _ = published.open_proposal(DIM, RETYPED, (), affected, base_version="1.0.0")
    answered = gate.acknowledge(published, proposal.id, "finance", note="ok for us", by="fin")
    assert fake.acks == [] and answered.ack_of("finance").by == "fin"  # type: ignore[union-attr]
    assert answered.awaiting == ("analytics",)


def test_withdrawing_a_pending_proposal_withdraws_it_on_the_server(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    withdrawn = gate.withdraw(published, pid, by="alice", reason="wrong approach")
    assert fake.proposals[pid]["status"] == "withdrawn" and withdrawn.reason == "wrong approach"


def test_withdrawing_a_proposal_the_server_approved_is_kept_here(
    published: HttpRegistry, fake: FakeTessera, caplog: pytest.LogCaptureFixture
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    gate.acknowledge(published, pid, "analytics", "migrating")
    gate.acknowledge(published, pid, "ml")
    assert fake.proposals[pid]["status"] == "approved"  # every registered team answered
    assert published.get_proposal(pid).status is ProposalStatus.PENDING  # analytics is still migrating
    withdrawn = gate.withdraw(published, pid, reason="rethink")
    assert withdrawn.status is ProposalStatus.WITHDRAWN and fake.proposals[pid]["status"] == "approved"
    assert "withdraws only pending proposals" in caplog.text
    assert published.proposals(DIM, status=ProposalStatus.WITHDRAWN) == [withdrawn]


def test_publishing_an_approved_proposal_publishes_the_servers_proposal(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    gate.acknowledge(published, pid, "analytics")
    gate.acknowledge(published, pid, "ml")
    done = gate.publish(published, DIM, RETYPED, by="alice")
    assert done.contract is not None and done.contract.published_by == "alice"
    assert fake.proposals[pid]["status"] == "published"
    assert not any(e["action"] == "proposal.force_approved" for e in fake.events)


def test_approved_by_every_affected_team_force_approves_the_servers_proposal(
    published: HttpRegistry, fake: FakeTessera, caplog: pytest.LogCaptureFixture
) -> None:
    pid = gate.publish(published, DIM, NAME_AS_INT).proposal.id  # type: ignore[union-attr]
    assert gate.acknowledge(published, pid, "analytics").status is ProposalStatus.APPROVED
    assert fake.proposals[pid]["status"] == "pending"  # the server also waits for ml
    done = gate.publish(published, DIM, NAME_AS_INT)
    assert done.action == "published" and fake.proposals[pid]["status"] == "published"
    assert "the server also waits for ml, which the change does not reach" in caplog.text
    assert any(e["action"] == "proposal.force_approved" for e in fake.events)


@pytest.fixture
def no_admin(tmp_path: Path) -> Iterator[HttpRegistry]:
    with running(FakeTessera(api_key=API_KEY, admin=False)) as server:
        yield seed(HttpRegistry(server.url, api_key=API_KEY, backoff=0.01, store_path=tmp_path / "side.db"))


def test_forcing_without_an_admin_key_is_refused_by_the_server(no_admin: HttpRegistry) -> None:
    pid = gate.publish(no_admin, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    with pytest.raises(RegistryError, match=r"POST /api/v1/proposals/.*/force .* 403 FORBIDDEN.*admin scope"):
        gate.force_publish(no_admin, pid, reason="incident INC-1234 hotfix")
    assert no_admin.get_proposal(pid).status is ProposalStatus.PENDING


def test_an_answer_whose_reply_is_lost_is_read_back(
    published: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    server.fail("POST", r"/api/v1/proposals/[^/]+/acknowledge", "drop_after")
    assert gate.acknowledge(published, pid, "ml").ack_of("ml") is not None
    assert len(fake.acks) == 1


def test_unknown_proposals_are_not_found(published: HttpRegistry, server: Loopback) -> None:
    with pytest.raises(NotFoundError, match="404 PROPOSAL_NOT_FOUND"):
        published.get_proposal("00000000-0000-0000-0000-000000000000")
    before = len(server.seen)
    with pytest.raises(NotFoundError, match="ids are UUIDs"):
        published.get_proposal("P-1234")
    with pytest.raises(NotFoundError, match="side store"):
        published.get_proposal("local-abc")
    assert len(server.seen) == before


def test_a_proposal_another_client_opened_reads_from_the_servers_facts(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    answer = _other_client_publishes(
        fake, {"type": "object", "properties": {"customer_id": {"type": "string"}}}
    )
    pid = answer["proposal"]["id"]  # type: ignore[index]
    proposal = published.get_proposal(pid)
    assert proposal.proposed_by == "platform" and proposal.base_version is None
    assert {(c.kind, c.column) for c in proposal.changes} >= {
        (ChangeKind.FIELD_REMOVED, "name"),
        (ChangeKind.TYPE_CHANGED, "customer_id"),
    }
    assert {(a.team, a.consumer) for a in proposal.affected} == {
        ("analytics", "server:analytics"),
        ("ml", "server:ml"),
    }


def test_status_filters_span_the_server_and_this_client(published: HttpRegistry) -> None:
    first = gate.publish(published, DIM, RETYPED).proposal
    assert first is not None
    gate.withdraw(published, first.id)
    local, _ = published.open_proposal(
        DIM, WIDENED, (), (AffectedConsumer("analytics", "r", DIM),), base_version="1.0.0"
    )
    assert [p.id for p in published.proposals(DIM)] == [first.id, local.id]
    assert [p.id for p in published.proposals(status=ProposalStatus.WITHDRAWN)] == [first.id]
    assert [p.id for p in published.proposals(DIM, status=ProposalStatus.PENDING)] == [local.id]
    assert published.proposals("wh.nowhere.at_all") == []


def test_the_version_a_proposal_became_is_found_when_another_client_published_it(
    published: HttpRegistry, fake: FakeTessera, tmp_path: Path, server: Loopback
) -> None:
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    owner = str(_dim(fake)["owner_team_id"])
    fake.act("POST", f"/api/v1/proposals/{pid}/force", actor_id=owner)
    fake.act("POST", f"/api/v1/proposals/{pid}/publish", {"version": "5.0.0", "published_by": owner})
    proposal = published.get_proposal(pid)
    assert proposal.status is ProposalStatus.PUBLISHED and proposal.published_version == "5.0.0"
    assert published.current_contract(DIM).schema == RETYPED  # type: ignore[union-attr]
    assert gate.publish(published, DIM, ADDITIVE).action == "proposal_opened"  # drops the retype again
