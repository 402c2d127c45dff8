"""A real SQLite registry with an owned asset and two consuming teams, and a loopback receiver."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.notify.config import (
    DeliverySettings,
    NotifyConfig,
    SlackTarget,
    TeamChannels,
    WebhookTarget,
)
from tessera_core.registry.base import AffectedConsumer, Asset, ConsumerKind, Registration
from tessera_core.registry.sqlite import SqliteRegistry
from tessera_core.schema.model import Family, Field, Schema, Type

from .receiver import Receiver

ORDERS = "analytics.core.orders"
OWNER = "core"
SECRETS = {"marketing": "marketing-signing-secret", "finance": "finance-signing-secret", OWNER: "core-secret"}
SLACK_PATH = "/services/T0001/B0001/slackTokenPartThatIsSecret"


def orders(*names: str) -> Schema:
    fields = [Field("id", Type(Family.INTEGER, "BIGINT", bits=64), nullable=False)]
    fields += [Field(name, Type(Family.STRING, "VARCHAR")) for name in names]
    return Schema(tuple(fields), source_format="dbt", dialect="duckdb")


V1 = orders("customer_id", "status")
V2 = orders("customer_id")
DROP_STATUS = (
    Change(ChangeKind.FIELD_REMOVED, "status", "column status removed", old="VARCHAR", column="status"),
)
AFFECTED = (
    AffectedConsumer(
        "marketing",
        "fct_campaigns",
        ORDERS,
        ConsumerKind.DBT_MODEL,
        columns=("status",),
        evidence=("fct_campaigns.order_status <- orders.status",),
    ),
    AffectedConsumer(
        "marketing", "churn_dashboard", ORDERS, ConsumerKind.EXPOSURE, columns=("status",), depth=1
    ),
    AffectedConsumer("finance", "revenue", ORDERS, ConsumerKind.DBT_MODEL, columns=("status",)),
)


def count(path: Path, table: str = "notify_notices") -> int:
    with sqlite3.connect(path) as raw:
        return int(raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def notices(path: Path) -> list[tuple[str, str]]:
    """(event, team) of every notice, oldest first."""
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT event, team FROM notify_notices ORDER BY rowid").fetchall()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "registry.db"


@pytest.fixture
def registry(db_path: Path) -> Iterator[SqliteRegistry]:
    """ORDERS owned by core at 1.0.0; marketing and finance registered (their notices already written)."""
    with SqliteRegistry(db_path) as reg:
        reg.upsert_asset(Asset(ORDERS, owner_team=OWNER))
        reg.publish_contract(ORDERS, V1, "1.0.0", change_class="initial")
        yield reg


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def webhook_config(receiver: Receiver, *teams: str, delivery: DeliverySettings | None = None) -> NotifyConfig:
    """Each team's webhook at ``/hooks/<team>`` on the receiver, signed with its secret in SECRETS."""
    return NotifyConfig(
        {t: TeamChannels(webhook=WebhookTarget(f"{receiver.url}/hooks/{t}", SECRETS[t])) for t in teams},
        delivery or DeliverySettings(),
    )


def slack_config(receiver: Receiver, team: str) -> NotifyConfig:
    return NotifyConfig({team: TeamChannels(slack=SlackTarget(receiver.url + SLACK_PATH))})


def register(registry: SqliteRegistry, team: str, consumer: str, *columns: str) -> None:
    registry.register(Registration(ORDERS, team, consumer, ConsumerKind.DBT_MODEL, frozenset(columns)))
