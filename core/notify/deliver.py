"""Flush the outbox: route new notices to their team's channels, send what is due, record each outcome.

One flush makes at most one attempt per delivery; a failed one waits for a
later flush (``next_attempt_at``, exponential backoff) and dies after
``max_attempts``. Call ``flush`` after the registry committed (the gate, the
CLI, an adapter, ``tessctl notify --flush``, a scheduled job): whatever an
earlier process left behind goes out too.

Only the SQLite registry keeps an outbox. With the Tessera server as the
registry, the server sends its own notifications and the client sends none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tessera_core.notify.channel import Channel
from tessera_core.notify.config import SLACK, WEBHOOK, NotifyConfig, load_notify_config
from tessera_core.notify.errors import DeliveryError
from tessera_core.notify.outbox import Delivery, DeliveryState, Outbox, OutboxStatus, Unrouted
from tessera_core.notify.slack import SlackChannel
from tessera_core.notify.webhook import WebhookChannel

log = logging.getLogger("tessera.notify")

BATCH = 100


@dataclass(frozen=True, slots=True)
class FlushReport:
    """What one flush did. ``dead`` lists the deliveries given up in this flush (``tessctl notify
    status`` lists all of them); ``waiting`` counts deliveries still pending for a later flush."""

    delivered: tuple[DeliveryState, ...] = ()
    retrying: tuple[DeliveryState, ...] = ()
    dead: tuple[DeliveryState, ...] = ()
    no_channel: tuple[Unrouted, ...] = ()
    waiting: int = 0

    @property
    def ok(self) -> bool:
        """No delivery was given up in this flush."""
        return not self.dead

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "delivered": [d.to_dict() for d in self.delivered],
            "retrying": [d.to_dict() for d in self.retrying],
            "dead": [d.to_dict() for d in self.dead],
            "no_channel": [n.to_dict() for n in self.no_channel],
            "waiting": self.waiting,
        }

    def summary(self) -> str:
        """A few readable lines: the counts, then every failure with its reason."""
        lines = [
            f"delivered {len(self.delivered)}, retrying {len(self.retrying)}, dead {len(self.dead)}, "
            f"no channel {len(self.no_channel)}, still waiting {self.waiting}"
        ]
        lines += [
            f"  retry  {d.channel:7} {d.team}: {d.event} (attempt {d.attempts}, "
            f"next at {d.next_attempt_at}): {d.last_error}"
            for d in self.retrying
        ]
        lines += [
            f"  DEAD   {d.channel:7} {d.team}: {d.event} after {d.attempts} attempts: {d.last_error}"
            for d in self.dead
        ]
        teams = sorted({n.team for n in self.no_channel})
        if teams:
            lines.append(
                f"  no channel configured for {', '.join(teams)}: {len(self.no_channel)} notice(s) not sent"
            )
        return "\n".join(lines)


class Notifier:
    """Delivers the outbox of the SQLite registry at ``registry_path`` through ``config``'s channels.

    ``session``: the ``requests.Session`` to send with (one is created and
    closed with the notifier when not given). Use as a context manager.
    """

    def __init__(
        self,
        registry_path: str | Path,
        config: NotifyConfig,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.config = config
        self._own_session = session is None
        self._session = session or requests.Session()
        self._outbox = Outbox(registry_path, timeout=timeout)

    def close(self) -> None:
        self._outbox.close()
        if self._own_session:
            self._session.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def flush(self, *, now: datetime | None = None) -> FlushReport:
        """Route new notices, then make one attempt at every delivery due at ``now`` (default: now)."""
        moment = now or datetime.now(UTC)
        settings = self.config.delivery
        no_channel = self._outbox.route(lambda team: self.config.channels_of(team).names, now=moment)
        for notice in no_channel:
            log.warning(
                "tessera notify: team %s has no channel configured; %s notice %s not sent",
                notice.team,
                notice.event,
                notice.notice_id,
            )
        delivered: list[DeliveryState] = []
        retrying: list[DeliveryState] = []
        dead: list[DeliveryState] = []
        while True:
            taken, died = self._outbox.claim(
                now=moment, lease=settings.lease, max_attempts=settings.max_attempts, limit=BATCH
            )
            dead += died
            if not taken and not died:
                break
            for delivery in taken:
                state = self._attempt(delivery, moment)
                {"delivered": delivered, "pending": retrying, "dead": dead}[state.status.value].append(state)
        return FlushReport(
            tuple(delivered), tuple(retrying), tuple(dead), no_channel, waiting=self._outbox.waiting()
        )

    def status(self) -> OutboxStatus:
        return self._outbox.status()

    def _attempt(self, delivery: Delivery, now: datetime) -> DeliveryState:
        settings = self.config.delivery
        where = f"{delivery.channel} delivery {delivery.id} ({delivery.event} for {delivery.team})"
        try:
            channel = self._channel(delivery)
            try:
                channel.send(delivery.payload(), session=self._session, timeout=settings.timeout)
            except (KeyError, TypeError, ValueError) as bad:  # a payload this channel cannot render
                raise DeliveryError(
                    f"the {delivery.channel} channel could not render this payload ({type(bad).__name__}); "
                    "report it as a bug in tessera_core.notify"
                ) from None
        except DeliveryError as error:
            last = delivery.attempts >= settings.max_attempts
            retry_at = None if last else now + settings.delay(delivery.attempts)
            state = self._outbox.failed(delivery.id, str(error), retry_at=retry_at)
            if last:
                log.error("tessera notify: %s is dead after %d attempts: %s", where, delivery.attempts, error)
            else:
                log.warning(
                    "tessera notify: %s failed (attempt %d of %d, next at %s): %s",
                    where,
                    delivery.attempts,
                    settings.max_attempts,
                    state.next_attempt_at,
                    error,
                )
            return state
        log.info("tessera notify: %s delivered", where)
        return self._outbox.delivered(delivery.id, now=now)

    def _channel(self, delivery: Delivery) -> Channel:
        channels = self.config.channels_of(delivery.team)
        if delivery.channel == WEBHOOK and channels.webhook is not None:
            return WebhookChannel(channels.webhook)
        if delivery.channel == SLACK and channels.slack is not None:
            return SlackChannel(channels.slack)
        raise DeliveryError(
            f"team {delivery.team} has no {delivery.channel} channel in the notify config "
            f"{self.config.source or '(given in code)'} any more; add it back to deliver, or leave the "
            "delivery to die"
        )


def flush_notifications(
    registry_path: str | Path,
    config: NotifyConfig | str | Path,
    *,
    now: datetime | None = None,
    session: requests.Session | None = None,
) -> FlushReport:
    """Deliver what the SQLite registry at ``registry_path`` has waiting; ``config`` is a
    ``NotifyConfig`` or the path of a notify config file."""
    loaded = config if isinstance(config, NotifyConfig) else load_notify_config(config)
    with Notifier(registry_path, loaded, session=session) as notifier:
        return notifier.flush(now=now)


def outbox_status(registry_path: str | Path) -> OutboxStatus:
    """Counts and the deliveries that need a look (dead, retrying), without sending anything."""
    with Outbox(registry_path) as outbox:
        return outbox.status()


__all__ = ["FlushReport", "Notifier", "flush_notifications", "outbox_status"]


def flush_if_configured(registry: str | Path, config: str | Path | None) -> FlushReport | None:
    """Flush when the registry is a SQLite file and a notify config exists; ``None`` otherwise.

    What callers run right after a registry write, so that notifications go out
    at once; whatever fails stays in the outbox for the next flush.
    """
    spec = str(registry)
    if spec.startswith(("http://", "https://")) or config is None or not Path(config).exists():
        return None
    return flush_notifications(spec, config)


def flush_after_write(registry: str | Path, config: str | Path | None = None) -> FlushReport | None:
    """``flush_if_configured`` for callers that must not fail because of a notification.

    ``config`` defaults to ``.tessera/notify.yml``. A broken config or an
    outbox that cannot be read is logged; the notices stay queued for the next
    flush (``tessctl notify --flush``).
    """
    from tessera_core.errors import TesseraError
    from tessera_core.notify.config import DEFAULT_CONFIG_PATH

    try:
        return flush_if_configured(registry, config if config is not None else DEFAULT_CONFIG_PATH)
    except TesseraError as exc:
        log.warning("tessera notify: notifications not sent now (%s); they stay queued in the outbox", exc)
        return None
