"""Notices commit and roll back with the registry event that causes them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tessera_core.errors import ConflictError, InvalidStateError, RegistryError
from tessera_core.notify.errors import NotifyError
from tessera_core.notify.outbox import Outbox
from tessera_core.registry import migrations
from tessera_core.registry.base import (
    AckResponse,
    ConsumerKind,
    ProposalStatus,
    RegisterOutcome,
    Registration,
)
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import AFFECTED, DROP_STATUS, ORDERS, OWNER, V1, V2, count, notices, register


def test_each_registry_event_writes_its_notices(registry: SqliteRegistry, db_path: Path) -> None:
    register(registry, "finance", "revenue", "status")
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    registry.acknowledge(proposal.id, "marketing", AckResponse.APPROVED)
    registry.publish_proposal(proposal.id, "2.0.0", forced_reason="finance is on holiday until june")
    assert notices(db_path) == [
        ("consumer.registered", OWNER),
        ("proposal.opened", "finance"),
        ("proposal.opened", "marketing"),
        ("proposal.acknowledged", OWNER),
        ("proposal.forced", OWNER),
        ("proposal.forced", "finance"),
        ("proposal.forced", "marketing"),
    ]


def test_a_withdrawn_proposal_is_told_to_its_teams(registry: SqliteRegistry, db_path: Path) -> None:
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    registry.withdraw(proposal.id, reason="wrong branch")
    assert notices(db_path)[-3:] == [
        ("proposal.withdrawn", OWNER),
        ("proposal.withdrawn", "finance"),
        ("proposal.withdrawn", "marketing"),
    ]


def test_an_acknowledgment_that_fails_validation_leaves_no_notice(
    registry: SqliteRegistry, db_path: Path
) -> None:
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    before = count(db_path)
    with pytest.raises(InvalidStateError):
        registry.acknowledge(proposal.id, "sales", AckResponse.APPROVED)  # sales is not affected
    assert count(db_path) == before


def test_a_stale_publish_leaves_no_notice(registry: SqliteRegistry, db_path: Path) -> None:
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    before = count(db_path)
    with pytest.raises(ConflictError):
        registry.publish_proposal(proposal.id, "1.0.0", forced_reason="publishing a taken version")
    assert count(db_path) == before
    assert registry.get_proposal(proposal.id).status is ProposalStatus.PENDING


def test_an_event_whose_notice_cannot_be_written_does_not_happen(
    registry: SqliteRegistry, db_path: Path
) -> None:
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            "CREATE TRIGGER no_notices BEFORE INSERT ON notify_notices "
            "BEGIN SELECT RAISE(ABORT, 'outbox refused'); END"
        )
    with pytest.raises(RegistryError, match="outbox refused"):
        registry.acknowledge(proposal.id, "marketing", AckResponse.APPROVED)
    assert registry.get_proposal(proposal.id).acknowledgments == ()


def test_finding_the_open_proposal_again_writes_nothing(registry: SqliteRegistry, db_path: Path) -> None:
    registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    before = count(db_path)
    _, created = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    assert not created
    assert count(db_path) == before


def test_an_unchanged_registration_or_answer_is_not_news(registry: SqliteRegistry, db_path: Path) -> None:
    register(registry, "finance", "revenue", "status")
    proposal, _ = registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    registry.acknowledge(proposal.id, "finance", AckResponse.MIGRATING)
    before = count(db_path)
    again = Registration(ORDERS, "finance", "revenue", ConsumerKind.DBT_MODEL, frozenset({"status"}))
    assert registry.register(again) is RegisterOutcome.UNCHANGED
    registry.acknowledge(proposal.id, "finance", AckResponse.MIGRATING)
    assert count(db_path) == before
    registry.acknowledge(proposal.id, "finance", AckResponse.APPROVED)
    assert count(db_path) == before + 1


def test_a_registry_from_before_the_outbox_gains_it_on_open(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old, isolation_level=None) as raw:
        migrations.apply(raw, migrations.packaged()[:1], label=str(old))
    with Outbox(old) as outbox:
        assert outbox.status().pending == 0
    with SqliteRegistry(old) as reg:
        reg.publish_contract(ORDERS, V1, "1.0.0", change_class="initial")


def test_the_outbox_refuses_a_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(NotifyError, match=r"no registry at .*nowhere\.db"):
        Outbox(tmp_path / "nowhere.db")
    assert not (tmp_path / "nowhere.db").exists()
