"""Slack incoming webhooks: the payload as readable Block Kit.

A message says what changed, who on the team is affected (each consumer and
the columns it reads) and the command that acknowledges. Plain ``requests``:
an incoming webhook is one POST, the Slack SDK would add nothing.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from tessera_core.notify.channel import post
from tessera_core.notify.config import SLACK, SlackTarget
from tessera_core.notify.events import EventType

MAX_LINES = 10  # bullets per section before "and N more"
MAX_TEXT = 2900  # Slack refuses section text over 3000 characters
MAX_HEADER = 150


def blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The Block Kit blocks for one delivery's payload."""
    data: dict[str, Any] = payload.get("data", {})
    proposal: dict[str, Any] = data.get("proposal") or {}
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _title(payload)[:MAX_HEADER]}},
        _section(_escape(payload["subject"])),
    ]
    if proposal:
        facts = [
            f"*Proposal*\n`{_escape(proposal['id'])}`",
            f"*Status*\n{_escape(proposal['status'])}",
            f"*Owner*\n{_escape(proposal.get('owner_team') or 'none')}",
            f"*Waiting for*\n{_escape(', '.join(proposal.get('awaiting') or []) or 'nobody')}",
        ]
        out.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in facts]})
    if data.get("reason"):
        out.append(_section(f"*Reason*\n{_escape(data['reason'])}"))
    if "acknowledgment" in data:
        ack = data["acknowledgment"]
        note = f"\n>{_escape(ack['note'])}" if ack.get("note") else ""
        by = f" ({_escape(ack['by'])})" if ack.get("by") else ""
        out.append(_section(f"*Answer*\n{_escape(ack['team'])}{by}: *{_escape(ack['response'])}*{note}"))
    if data.get("changes"):
        lines = [f"`{_escape(c['path'] or '(schema)')}`: {_escape(c['message'])}" for c in data["changes"]]
        out.append(_section("*What changed*\n" + _bullets(lines, data.get("changes_not_listed", 0))))
    if data.get("your_consumers"):
        lines = [_consumer_line(a) for a in data["your_consumers"]]
        title = f"*Who is affected in {_escape(payload['team'])}*\n"
        out.append(_section(title + _bullets(lines, data.get("your_consumers_not_listed", 0))))
    if "registration" in data:
        reg = data["registration"]
        reads = _columns(reg["columns"])
        out.append(
            _section(
                f"*New consumer*\n{_escape(reg['consumer'])} ({_escape(reg['consumer_kind'])}) of team "
                f"{_escape(reg['team'])} reads {reads} ({_escape(reg['source'])} registration)"
            )
        )
    if data.get("acknowledge"):
        answers = ", ".join(data.get("responses") or [])
        out.append(
            _section(
                f"*To acknowledge*\n```{_escape(data['acknowledge'])}```\n"
                f"add `--response` with one of: {_escape(answers)} (default approved)"
            )
        )
    out.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{_escape(payload['event'])} · delivery {_escape(payload['delivery_id'])}",
                }
            ],
        }
    )
    return out


def message(payload: dict[str, Any]) -> dict[str, Any]:
    """The incoming-webhook body: blocks plus a plain ``text`` for notifications and screen readers."""
    return {"text": payload["subject"], "blocks": blocks(payload)}


class SlackChannel:
    name = SLACK

    def __init__(self, target: SlackTarget) -> None:
        self.target = target

    def __repr__(self) -> str:
        return f"SlackChannel({self.target.shown})"

    def send(self, payload: dict[str, Any], *, session: requests.Session, timeout: float) -> None:
        body = json.dumps(message(payload), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        post(session, self.target.webhook_url, body, headers, timeout=timeout, shown=self.target.shown)


def _title(payload: dict[str, Any]) -> str:
    data = payload.get("data", {})
    asset = payload["asset"]
    version = data.get("version") or ""
    titles = {
        EventType.PROPOSAL_OPENED.value: f"Breaking change proposed: {asset}",
        EventType.PROPOSAL_PUBLISHED.value: f"Published: {asset} {version}",
        EventType.PROPOSAL_FORCED.value: f"Forced through: {asset} {version}",
        EventType.PROPOSAL_WITHDRAWN.value: f"Proposal withdrawn: {asset}",
        EventType.PROPOSAL_EXPIRED.value: f"Proposal expired: {asset}",
        EventType.CONSUMER_REGISTERED.value: f"New consumer: {asset}",
    }
    if payload["event"] == EventType.PROPOSAL_ACKNOWLEDGED.value:
        ack = data.get("acknowledgment", {})
        return f"{ack.get('team', '?')} answered {ack.get('response', '?')}: {asset}"
    return titles.get(payload["event"], f"{payload['event']}: {asset}").strip()


def _consumer_line(consumer: dict[str, Any]) -> str:
    depth = consumer.get("depth", 0)
    via = f" through {depth} model{'s' if depth != 1 else ''}" if depth else ""
    columns = consumer.get("columns") or None
    return (
        f"*{_escape(consumer['consumer'])}* ({_escape(consumer['consumer_kind'])}) reads "
        f"{_columns(columns)} of {_escape(consumer['asset'])}{via}"
    )


def _columns(columns: list[str] | None) -> str:
    return ", ".join(f"`{_escape(c)}`" for c in columns) if columns else "every column"


def _bullets(lines: list[str], not_listed: int) -> str:
    shown = lines[:MAX_LINES]
    more = len(lines) - len(shown) + not_listed
    text = "\n".join(f"• {line}" for line in shown)
    return text + (f"\n• and {more} more" if more else "")


def _section(text: str) -> dict[str, Any]:
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _escape(value: Any) -> str:
    """Slack mrkdwn control characters as entities, so names cannot become links or mentions."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["SlackChannel", "blocks", "message"]
