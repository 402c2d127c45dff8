"""The acknowledgment trigger's run() under asyncio, and the state it reports."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from airflow.sdk.module_loading import import_string

from tessera_airflow.triggers.acknowledgment import TesseraAcknowledgmentTrigger, acknowledgment_state
from tessera_core import (
    ConsumerKind,
    Proposal,
    Registration,
    Registry,
    TesseraError,
    acknowledge,
    open_registry,
    publish,
    read_json_schema,
)

ASSET = "wh.core.orders"


def schema(*names: str) -> Any:
    return read_json_schema({"type": "object", "properties": {n: {"type": "integer"} for n in names}})


@pytest.fixture
def registry(tessera_conn: str) -> Registry:
    reg = open_registry(tessera_conn)
    publish(reg, ASSET, schema("order_id", "discount"), owner_team="platform")
    for team in ("analytics", "ml"):
        reg.ensure_team(team)
        reg.register(
            Registration(ASSET, team, f"{team}_orders", ConsumerKind.DBT_MODEL, frozenset({"discount"}))
        )
    return reg


@pytest.fixture
def pending(registry: Registry) -> Proposal:
    opened = publish(registry, ASSET, schema("order_id"), by="platform")
    assert opened.proposal is not None
    return opened.proposal


def first_event(trigger: TesseraAcknowledgmentTrigger) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        event = await anext(trigger.run())
        payload: dict[str, Any] = event.payload
        return payload

    return asyncio.run(run())


def test_pending_proposal_waits_for_every_team_that_has_not_approved(
    registry: Registry, pending: Proposal
) -> None:
    acknowledge(registry, pending.id, "ml", "migrating")
    state = acknowledgment_state(registry, proposal_id=pending.id)
    assert (state.status, state.awaiting, state.done) == ("waiting", ("analytics", "ml"), False)
    assert f"tessctl ack {pending.id} --team <team>" in state.message


def test_proposal_approved_by_every_team_ends_the_wait(registry: Registry, pending: Proposal) -> None:
    for team in ("analytics", "ml"):
        acknowledge(registry, pending.id, team)
    state = acknowledgment_state(registry, asset=ASSET)
    assert (state.status, state.done, state.proposal_id) == ("acknowledged", True, pending.id)
    assert state.proposal is not None and state.proposal["status"] == "approved"


def test_asset_without_proposals_has_nothing_to_wait_for(registry: Registry) -> None:
    state = acknowledgment_state(registry, asset=ASSET)
    assert (state.status, state.done) == ("none", True)


def test_unknown_proposal_id_is_an_error_naming_it(registry: Registry) -> None:
    with pytest.raises(TesseraError, match="proposal nope is not in the registry"):
        acknowledgment_state(registry, proposal_id="nope")


def test_serialize_round_trips_through_the_classpath(pending: Proposal) -> None:
    trigger = TesseraAcknowledgmentTrigger(proposal_id=pending.id, poke_interval=5.0, deadline=123.0)
    classpath, kwargs = trigger.serialize()
    rebuilt = import_string(classpath)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert json.loads(json.dumps(kwargs)) == kwargs  # what the triggerer stores must be plain JSON


def test_run_yields_once_the_last_team_acknowledges(tessera_conn: str, pending: Proposal) -> None:
    acknowledge(open_registry(tessera_conn), pending.id, "ml")
    trigger = TesseraAcknowledgmentTrigger(proposal_id=pending.id, poke_interval=0.05)

    async def scenario() -> tuple[bool, dict[str, Any]]:
        waiting = asyncio.ensure_future(anext(trigger.run()))
        await asyncio.sleep(0.5)
        still_waiting = not waiting.done()
        await asyncio.to_thread(acknowledge, open_registry(tessera_conn), pending.id, "analytics")
        event = await asyncio.wait_for(waiting, timeout=30)
        return still_waiting, event.payload

    still_waiting, payload = asyncio.run(scenario())
    assert still_waiting
    assert (payload["status"], payload["proposal"]["status"]) == ("acknowledged", "approved")


def test_run_yields_timeout_at_the_deadline_with_the_teams_still_waiting(pending: Proposal) -> None:
    trigger = TesseraAcknowledgmentTrigger(
        proposal_id=pending.id, poke_interval=0.05, deadline=time.time() + 0.3
    )
    payload = first_event(trigger)
    assert (payload["status"], payload["awaiting"]) == ("timeout", ["analytics", "ml"])


def test_run_yields_closed_for_a_withdrawn_proposal(registry: Registry, pending: Proposal) -> None:
    registry.withdraw(pending.id, reason="wrong column")
    payload = first_event(TesseraAcknowledgmentTrigger(proposal_id=pending.id))
    assert payload["status"] == "closed" and "withdrawn: wrong column" in payload["message"]


def test_run_yields_an_error_when_the_registry_cannot_be_opened(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    extra = {"registry": str(blocker / "registry.db")}
    monkeypatch.setenv("AIRFLOW_CONN_TESSERA_DEFAULT", json.dumps({"conn_type": "tessera", "extra": extra}))
    payload = first_event(TesseraAcknowledgmentTrigger(proposal_id="p-1"))
    assert payload["status"] == "error" and "cannot open the Tessera registry" in payload["message"]
