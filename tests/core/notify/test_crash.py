"""Processes killed at the worst moments: nothing is lost, and a repeat carries the same delivery id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tessera_core.notify.deliver import flush_notifications, outbox_status
from tessera_core.notify.outbox import DeliveryStatus
from tessera_core.notify.webhook import verify
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import AFFECTED, DROP_STATUS, ORDERS, OWNER, SECRETS, V2, webhook_config
from .receiver import Receiver

ACK_THEN_HANG = """
import sys, time
from tessera_core.registry.base import AckResponse
from tessera_core.registry.sqlite import SqliteRegistry
SqliteRegistry(sys.argv[1]).acknowledge(sys.argv[2], "marketing", AckResponse.APPROVED)
print("committed", flush=True)
time.sleep(120)  # the flush that would come next never runs
"""

FLUSH = """
import sys
from tessera_core.notify.deliver import flush_notifications
flush_notifications(sys.argv[1], sys.argv[2])
print("flushed", flush=True)
"""


def python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_a_crash_between_the_commit_and_the_flush_loses_nothing(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver
) -> None:
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    child = python(ACK_THEN_HANG, str(db_path), proposal.id)
    assert child.stdout is not None and child.stdout.readline().strip() == "committed"
    child.kill()
    assert child.wait(timeout=30) == -signal.SIGKILL

    config = webhook_config(receiver, OWNER)
    (delivered,) = flush_notifications(db_path, config).delivered
    assert delivered.event == "proposal.acknowledged"
    assert flush_notifications(db_path, config).delivered == ()
    (got,) = receiver.at(f"/hooks/{OWNER}")
    assert got.json()["data"]["acknowledgment"]["team"] == "marketing"


def test_a_crash_after_the_receiver_got_it_resends_with_the_same_delivery_id(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver, tmp_path: Path
) -> None:
    registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    config_file = tmp_path / "notify.yml"
    config_file.write_text(
        f"teams:\n  marketing:\n    webhook:\n      url: {receiver.url}/hooks/marketing\n"
        "      secret_env: MARKETING_SECRET\n"
    )
    child = python(FLUSH, str(db_path), str(config_file), env={"MARKETING_SECRET": SECRETS["marketing"]})
    receiver.on_request = child.kill  # the receiver has the request; the sender dies before hearing back
    assert child.wait(timeout=60) == -signal.SIGKILL
    receiver.on_request = None
    (first,) = receiver.at("/hooks/marketing")

    config = webhook_config(receiver, "marketing")
    now = datetime.now(UTC)
    assert flush_notifications(db_path, config, now=now).waiting == 1  # its attempt's lease is not over
    (again,) = flush_notifications(db_path, config, now=now + timedelta(minutes=2)).delivered
    assert again.attempts == 2

    repeat = receiver.at("/hooks/marketing")[1]
    assert repeat.delivery_id == first.delivery_id == again.id
    assert repeat.body == first.body
    assert verify(repeat.body, repeat.headers["X-Tessera-Signature"], SECRETS["marketing"])
    handled = {r.delivery_id for r in receiver.at("/hooks/marketing")}
    assert len(handled) == 1  # a receiver that keeps delivery ids acts once
    assert outbox_status(db_path).delivered == 1
    assert DeliveryStatus.DELIVERED is again.status
