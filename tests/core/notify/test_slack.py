"""Slack incoming webhooks: readable blocks, posted to a real loopback receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tessera_core.notify.deliver import flush_notifications
from tessera_core.notify.slack import blocks
from tessera_core.registry.base import AffectedConsumer
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import AFFECTED, DROP_STATUS, ORDERS, SLACK_PATH, V2, slack_config
from .receiver import Receiver


def texts(message: dict[str, Any]) -> str:
    parts = []
    for block in message["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e["text"] for e in block.get("elements", [])]
    return "\n".join(parts)


def test_a_proposal_reads_as_what_changed_who_is_affected_and_how_to_ack(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    report = flush_notifications(db_path, slack_config(receiver, "marketing"))
    assert [d.channel for d in report.delivered] == ["slack"]
    (got,) = receiver.at(SLACK_PATH)
    message = got.json()
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": f"Breaking change proposed: {ORDERS}"},
    }
    assert message["text"].startswith(f"Breaking change proposed on {ORDERS} ({proposal.id})")
    shown = texts(message)
    assert "*What changed*\n• `status`: column status removed" in shown
    assert "*fct_campaigns* (dbt_model) reads `status` of analytics.core.orders" in shown
    assert "*churn_dashboard* (exposure) reads `status` of analytics.core.orders through 1 model" in shown
    assert f"```tessctl ack {proposal.id} --team marketing```" in shown
    assert "revenue" not in shown  # finance's consumer is not marketing's business


def test_a_long_list_ends_with_and_n_more() -> None:
    many = [AffectedConsumer("m", f"model_{i:02d}", ORDERS, columns=("status",)).to_dict() for i in range(14)]
    payload = {
        "event": "proposal.opened",
        "delivery_id": "d-1",
        "team": "m",
        "asset": ORDERS,
        "subject": "s",
        "data": {"your_consumers": many},
    }
    shown = texts({"blocks": blocks(payload)})
    assert "model_09" in shown and "model_10" not in shown
    assert "• and 4 more" in shown


def test_names_cannot_turn_into_mentions_or_links() -> None:
    payload = {
        "event": "consumer.registered",
        "delivery_id": "d-1",
        "team": "core",
        "asset": ORDERS,
        "subject": "<!channel> new consumer <https://evil.example|click>",
        "data": {},
    }
    shown = texts({"blocks": blocks(payload)})
    assert "<!channel>" not in shown
    assert "&lt;!channel&gt;" in shown
