"""The generic webhook against a real loopback receiver: body, headers, signature."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from tessera_core.notify.deliver import flush_notifications
from tessera_core.notify.webhook import verify
from tessera_core.registry.base import AckResponse
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import AFFECTED, DROP_STATUS, ORDERS, OWNER, SECRETS, V2, webhook_config
from .receiver import Receiver

PAYLOAD_KEYS = {
    "payload_version",
    "delivery_id",
    "notice_id",
    "event",
    "occurred_at",
    "team",
    "asset",
    "subject",
    "data",
}


def open_proposal(registry: SqliteRegistry) -> str:
    proposal, _ = registry.open_proposal(
        ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0", proposed_by="alice"
    )
    return proposal.id


def test_an_opened_proposal_reaches_each_affected_team_with_its_consumers(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    proposal_id = open_proposal(registry)
    report = flush_notifications(db_path, webhook_config(receiver, "marketing", "finance", OWNER))
    assert len(report.delivered) == 2
    (got,) = receiver.at("/hooks/marketing")
    body = got.json()
    assert set(body) == PAYLOAD_KEYS
    assert (body["event"], body["team"], body["asset"]) == ("proposal.opened", "marketing", ORDERS)
    data = body["data"]
    assert data["proposal"]["id"] == proposal_id
    assert data["proposal"]["proposed_by"] == "alice"
    assert data["proposal"]["awaiting"] == ["finance", "marketing"]
    assert [c["kind"] for c in data["changes"]] == ["field_removed"]
    assert [(c["consumer"], c["columns"]) for c in data["your_consumers"]] == [
        ("fct_campaigns", ["status"]),
        ("churn_dashboard", ["status"]),
    ]
    assert data["acknowledge"] == f"tessctl ack {proposal_id} --team marketing"
    assert [c["consumer"] for c in receiver.at("/hooks/finance")[0].json()["data"]["your_consumers"]] == [
        "revenue"
    ]


def test_headers_carry_the_delivery_id_and_event(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    flush_notifications(db_path, webhook_config(receiver, "marketing"))
    (got,) = receiver.at("/hooks/marketing")
    assert got.headers["X-Tessera-Event"] == "proposal.opened"
    assert got.headers["X-Tessera-Delivery"] == got.json()["delivery_id"]
    assert got.headers["Content-Type"] == "application/json"


def test_the_signature_verifies_with_the_teams_secret_only(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    flush_notifications(db_path, webhook_config(receiver, "marketing"))
    (got,) = receiver.at("/hooks/marketing")
    header = got.headers["X-Tessera-Signature"]
    expected = "sha256=" + hmac.new(SECRETS["marketing"].encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(header, expected)
    assert verify(got.body, header, SECRETS["marketing"])
    assert not verify(got.body, header, SECRETS["finance"])
    assert not verify(got.body.replace(b"marketing", b"marketinG"), header, SECRETS["marketing"])


def test_the_owner_hears_of_an_acknowledgment(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    proposal_id = open_proposal(registry)
    registry.acknowledge(proposal_id, "finance", AckResponse.BLOCKED, note="revenue needs status", by="fin")
    flush_notifications(db_path, webhook_config(receiver, OWNER))
    (got,) = receiver.at(f"/hooks/{OWNER}")
    body = got.json()
    assert body["event"] == "proposal.acknowledged"
    assert body["data"]["acknowledgment"] == {
        "team": "finance",
        "response": "blocked",
        "previous_response": None,
        "note": "revenue needs status",
        "by": "fin",
        "at": body["data"]["acknowledgment"]["at"],
    }
    assert body["data"]["proposal"]["awaiting"] == ["finance", "marketing"]
