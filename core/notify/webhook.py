"""The generic webhook: the payload as JSON, signed with the team's secret.

Headers a receiver reads:

- ``X-Tessera-Signature: sha256=<hex>``: HMAC-SHA256 of the raw body with the
  team's secret. Recompute it over the bytes received and compare with
  ``hmac.compare_digest`` before trusting anything in the body.
- ``X-Tessera-Delivery: <uuid>``: the same on every retry of one delivery.
  Delivery is at least once: store the ids already handled and drop a repeat.
- ``X-Tessera-Event: <event>``: ``proposal.opened``, ``consumer.registered`` ...
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests

from tessera_core.notify.channel import post
from tessera_core.notify.config import WEBHOOK, WebhookTarget

SIGNATURE_HEADER = "X-Tessera-Signature"
DELIVERY_HEADER = "X-Tessera-Delivery"
EVENT_HEADER = "X-Tessera-Event"


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of body keyed with secret>``, the value of ``X-Tessera-Signature``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, secret: str) -> bool:
    """What a receiver does: does ``header`` sign ``body`` with ``secret``? (constant-time)."""
    return hmac.compare_digest(signature(body, secret), header)


class WebhookChannel:
    name = WEBHOOK

    def __init__(self, target: WebhookTarget) -> None:
        self.target = target

    def __repr__(self) -> str:
        return f"WebhookChannel({self.target.shown})"

    def send(self, payload: dict[str, Any], *, session: requests.Session, timeout: float) -> None:
        body = body_of(payload)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(body, self.target.secret),
            DELIVERY_HEADER: str(payload["delivery_id"]),
            EVENT_HEADER: str(payload["event"]),
        }
        post(session, self.target.url, body, headers, timeout=timeout, shown=f"webhook {self.target.shown}")


__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "WebhookChannel",
    "body_of",
    "signature",
    "verify",
]


verify_signature = verify  # the name re-exported by tessera_core
