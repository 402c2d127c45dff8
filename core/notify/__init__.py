"""Notifications that are not lost: a durable outbox in the SQLite registry, delivered by webhook and Slack.

How it fits together:

1. ``events``: which team is told what about each registry event.
2. ``outbox``: the SQLite registry writes one notice per (event, team) in the
   same transaction as the event; a flush turns it into one delivery per
   channel of the team, each with a uuid delivery id that never changes.
3. ``deliver``: ``Notifier.flush()`` / ``flush_notifications()`` send what is
   due with timeouts, retry failures in later flushes with exponential
   backoff, and mark a delivery dead (reported, never retried) after
   ``max_attempts``.
4. ``webhook`` (signed JSON) and ``slack`` (Block Kit) are the channels;
   ``config`` reads which team has which, with secrets from env vars.

Delivery is at least once. A process that dies after the receiver accepted a
delivery but before it was marked delivered sends it again, with the same
``X-Tessera-Delivery`` id: receivers keep the ids they handled and drop
repeats. Nothing secret is logged or stored in error messages.

Only the SQLite registry has an outbox. When the registry is the Tessera
server (``HttpRegistry``), the server notifies and the client does not.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "EventType": "tessera_core.notify.events",
    "Notice": "tessera_core.notify.events",
    "NotifyConfig": "tessera_core.notify.config",
    "TeamChannels": "tessera_core.notify.config",
    "WebhookTarget": "tessera_core.notify.config",
    "SlackTarget": "tessera_core.notify.config",
    "DeliverySettings": "tessera_core.notify.config",
    "DEFAULT_CONFIG_PATH": "tessera_core.notify.config",
    "load_notify_config": "tessera_core.notify.config",
    "DeliveryState": "tessera_core.notify.outbox",
    "DeliveryStatus": "tessera_core.notify.outbox",
    "OutboxStatus": "tessera_core.notify.outbox",
    "FlushReport": "tessera_core.notify.deliver",
    "Notifier": "tessera_core.notify.deliver",
    "flush_notifications": "tessera_core.notify.deliver",
    "flush_if_configured": "tessera_core.notify.deliver",
    "flush_after_write": "tessera_core.notify.deliver",
    "outbox_status": "tessera_core.notify.deliver",
    "verify": "tessera_core.notify.webhook",
    "NotifyError": "tessera_core.notify.errors",
    "NotifyConfigError": "tessera_core.notify.errors",
    "DeliveryError": "tessera_core.notify.errors",
}

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DeliveryError",
    "DeliverySettings",
    "DeliveryState",
    "DeliveryStatus",
    "EventType",
    "FlushReport",
    "Notice",
    "Notifier",
    "NotifyConfig",
    "NotifyConfigError",
    "NotifyError",
    "OutboxStatus",
    "SlackTarget",
    "TeamChannels",
    "WebhookTarget",
    "flush_after_write",
    "flush_if_configured",
    "flush_notifications",
    "load_notify_config",
    "outbox_status",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tessera_core.notify' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from tessera_core.notify.config import (
        DEFAULT_CONFIG_PATH,
        DeliverySettings,
        NotifyConfig,
        SlackTarget,
        TeamChannels,
        WebhookTarget,
        load_notify_config,
    )
    from tessera_core.notify.deliver import (
        FlushReport,
        Notifier,
        flush_after_write,
        flush_if_configured,
        flush_notifications,
        outbox_status,
    )
    from tessera_core.notify.errors import DeliveryError, NotifyConfigError, NotifyError
    from tessera_core.notify.events import EventType, Notice
    from tessera_core.notify.outbox import DeliveryState, DeliveryStatus, OutboxStatus
    from tessera_core.notify.webhook import verify
