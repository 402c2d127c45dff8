"""Flushing the outbox: retries across flushes with backoff, dead deliveries, no secret in any output."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tessera_core.notify.config import DeliverySettings, NotifyConfig, SlackTarget, TeamChannels
from tessera_core.notify.deliver import FlushReport, Notifier, flush_notifications, outbox_status
from tessera_core.notify.outbox import DeliveryStatus, stamp
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import AFFECTED, DROP_STATUS, ORDERS, SECRETS, SLACK_PATH, V2, webhook_config
from .receiver import Receiver

T0 = datetime.now(UTC)


def open_proposal(registry: SqliteRegistry) -> None:
    registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")


def test_a_delivery_that_got_a_500_is_retried_by_a_later_flush_and_delivered(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    receiver.answers = [500]
    config = webhook_config(receiver, "marketing", delivery=DeliverySettings(backoff=30))
    first = flush_notifications(db_path, config, now=T0)
    assert first.delivered == ()
    (retry,) = first.retrying
    assert (retry.attempts, retry.status) == (1, DeliveryStatus.PENDING)
    assert retry.next_attempt_at == stamp(T0 + timedelta(seconds=30))
    assert retry.last_error is not None and "HTTP 500: receiver failed" in retry.last_error

    early = flush_notifications(db_path, config, now=T0 + timedelta(seconds=10))
    assert (early.delivered, early.retrying, early.waiting) == ((), (), 1)

    later = flush_notifications(db_path, config, now=T0 + timedelta(seconds=31))
    (done,) = later.delivered
    assert (done.id, done.attempts, done.status) == (retry.id, 2, DeliveryStatus.DELIVERED)
    sent = receiver.at("/hooks/marketing")
    assert [r.delivery_id for r in sent] == [retry.id, retry.id]
    assert sent[0].body == sent[1].body


def test_a_channel_that_keeps_failing_ends_dead_and_is_reported(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    receiver.answers = [503] * 10
    config = webhook_config(receiver, "marketing", delivery=DeliverySettings(max_attempts=3, backoff=60))
    reports = [flush_notifications(db_path, config, now=T0 + timedelta(hours=h)) for h in range(4)]
    assert [len(r.retrying) for r in reports] == [1, 1, 0, 0]
    (dead,) = reports[2].dead
    assert (dead.attempts, dead.status, dead.channel, dead.team) == (
        3,
        DeliveryStatus.DEAD,
        "webhook",
        "marketing",
    )
    assert not reports[2].ok
    assert "DEAD   webhook marketing: proposal.opened after 3 attempts" in reports[2].summary()
    assert len(receiver.at("/hooks/marketing")) == 3  # never retried after dying
    status = outbox_status(db_path)
    assert (status.dead, status.pending, status.delivered) == (1, 0, 0)
    assert status.dead_deliveries[0].id == dead.id


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    receiver.delay = 1.5
    config = webhook_config(receiver, "marketing", delivery=DeliverySettings(timeout=0.3))
    (retry,) = flush_notifications(db_path, config, now=T0).retrying
    assert retry.last_error is not None and "did not answer within 0.3s" in retry.last_error


def test_a_team_without_a_channel_is_reported_not_retried(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    report = flush_notifications(db_path, webhook_config(receiver, "marketing"), now=T0)
    assert [(n.team, n.event) for n in report.no_channel] == [("finance", "proposal.opened")]
    assert "no channel configured for finance" in report.summary()
    again = flush_notifications(db_path, webhook_config(receiver, "marketing", "finance"), now=T0)
    assert again == FlushReport()  # routed once, to the channels the team had then
    assert outbox_status(db_path).no_channel == 1


def test_two_flushes_at_once_send_a_delivery_once(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    config = webhook_config(receiver, "marketing")
    during: list[FlushReport] = []
    receiver.on_request = lambda: during.append(flush_notifications(db_path, config, now=T0))
    first = flush_notifications(db_path, config, now=T0)
    assert len(first.delivered) == 1
    assert [len(r.delivered) for r in during] == [0]
    assert during[0].waiting == 1  # claimed by the first flush, not finished yet
    assert len(receiver.at("/hooks/marketing")) == 1


def test_a_channel_removed_from_the_config_fails_its_deliveries(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    receiver.answers = [500]
    flush_notifications(db_path, webhook_config(receiver, "marketing"), now=T0)
    report = flush_notifications(db_path, NotifyConfig(), now=T0 + timedelta(hours=1))
    (retry,) = report.retrying
    assert retry.last_error is not None and "team marketing has no webhook channel" in retry.last_error


def test_nothing_secret_reaches_logs_errors_or_status(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    open_proposal(registry)
    receiver.answers = [500]
    closed_port = Receiver().start()
    closed_port.stop()  # nothing listens there any more
    config = NotifyConfig(
        {
            **webhook_config(receiver, "marketing").teams,
            "finance": TeamChannels(slack=SlackTarget(closed_port.url + SLACK_PATH)),
        },
        DeliverySettings(max_attempts=1, timeout=2),
    )
    caplog.set_level(logging.DEBUG, logger="tessera")
    caplog.set_level(logging.INFO)
    report = flush_notifications(db_path, config, now=T0)
    assert len(report.dead) == 2
    assert "could not connect to slack incoming webhook at http://127.0.0.1" in report.summary()
    with sqlite3.connect(db_path) as raw:
        stored = json.dumps(raw.execute("SELECT * FROM notify_deliveries").fetchall())
    everything = "\n".join(
        [
            caplog.text,
            report.summary(),
            json.dumps(report.to_dict()),
            json.dumps(outbox_status(db_path).to_dict()),
        ]
    )
    assert "tessera notify" in caplog.text
    for secret in (SECRETS["marketing"], SLACK_PATH, "slackTokenPartThatIsSecret", "/hooks/marketing"):
        assert secret not in everything
        assert secret not in stored


def test_a_notifier_reports_the_outbox_status(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    open_proposal(registry)
    with Notifier(db_path, webhook_config(receiver, "marketing", "finance")) as notifier:
        assert notifier.status().unrouted == 2
        notifier.flush(now=T0)
        status = notifier.status()
    assert (status.delivered, status.pending, status.dead, status.unrouted) == (2, 0, 0, 0)
