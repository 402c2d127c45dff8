"""The acknowledgment sensor in real DAG runs: rescheduled, deferred to the trigger, timing out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tessera_airflow.sensors.acknowledgment import TesseraAcknowledgmentSensor
from tessera_core import (
    ConsumerKind,
    Proposal,
    Registration,
    Registry,
    Schema,
    acknowledge,
    open_registry,
    publish,
    read_json_schema,
)

from ..conftest import metadata_rows, run_dag, when

ASSET = "wh.core.orders"


def json_schema(*names: str) -> dict[str, Any]:
    return {"type": "object", "properties": {n: {"type": ["integer", "null"]} for n in names}}


def schema(*names: str) -> Schema:
    return read_json_schema(json_schema(*names))


@pytest.fixture
def registry(tessera_conn: str) -> Registry:
    reg = open_registry(tessera_conn)
    publish(reg, ASSET, schema("order_id", "amount", "discount"), owner_team="platform")
    reg.ensure_team("analytics")
    reg.register(
        Registration(ASSET, "analytics", "rpt_orders", ConsumerKind.DBT_MODEL, frozenset({"discount"}))
    )
    return reg


@pytest.fixture
def proposal(registry: Registry, tmp_path: Path) -> tuple[Proposal, Path]:
    """A pending proposal that drops ``discount``, and the schema file that proposes it."""
    path = tmp_path / "orders.schema.json"
    path.write_text(json.dumps(json_schema("order_id", "amount")))
    opened = publish(registry, ASSET, schema("order_id", "amount"), by="platform")
    assert opened.action == "proposal_opened" and opened.proposal is not None
    return opened.proposal, path


def sensor_state(dag_id: str, state: str) -> bool:
    return bool(metadata_rows("SELECT 1 FROM task_instance WHERE dag_id = ? AND state = ?", dag_id, state))


def ack_by_analytics(spec: str, proposal_id: str) -> None:
    """What the analytics team does, from another process or thread: its own registry handle."""
    acknowledge(open_registry(spec), proposal_id, "analytics", note="moving off discount")


def test_rescheduled_sensor_waits_until_analytics_acknowledges_then_publish_runs(
    dag_bag: Any, tessera_conn: str, proposal: tuple[Proposal, Path]
) -> None:
    pending, path = proposal
    acked = when(
        lambda: sensor_state("tessera_wait_reschedule", "up_for_reschedule"),
        lambda: ack_by_analytics(tessera_conn, pending.id),
    )
    run = run_dag(dag_bag.dags["tessera_wait_reschedule"], asset=ASSET, schema_path=str(path))
    assert acked.done
    assert run.states == {"wait": "success", "publish": "success"}
    reschedules = metadata_rows(
        "SELECT count(*) FROM task_reschedule r JOIN task_instance t ON t.id = r.ti_id "
        "WHERE t.dag_id = 'tessera_wait_reschedule' AND t.run_id = ?",
        run.run_id,
    )
    assert reschedules[0][0] >= 1
    assert run.xcom("wait")["status"] == "approved"
    assert run.xcom("publish")["version"] == "2.0.0"


def test_deferred_sensor_hands_the_wait_to_the_trigger(
    dag_bag: Any, tessera_conn: str, proposal: tuple[Proposal, Path]
) -> None:
    pending, _ = proposal
    acked = when(  # the trigger row exists once the sensor poked, found nothing and deferred
        lambda: bool(
            metadata_rows("SELECT 1 FROM trigger WHERE classpath LIKE '%TesseraAcknowledgmentTrigger'")
        ),
        lambda: ack_by_analytics(tessera_conn, pending.id),
    )
    run = run_dag(dag_bag.dags["tessera_wait_deferred"], proposal_id=pending.id)
    assert acked.done
    assert run.states == {"wait": "success"}
    assert run.xcom("wait")["acknowledgments"][0]["team"] == "analytics"


def test_sensor_times_out_naming_the_teams_still_waiting(
    dag_bag: Any, registry: Registry, proposal: tuple[Proposal, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pending, _ = proposal
    run = run_dag(dag_bag.dags["tessera_wait_timeout"], asset=ASSET)
    assert run.states == {"wait": "failed"}
    out = capsys.readouterr().out
    assert f"proposal {pending.id} was not acknowledged within 2s; still waiting for analytics" in out


def test_withdrawn_proposal_fails_at_once(
    dag_bag: Any, registry: Registry, proposal: tuple[Proposal, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pending, _ = proposal
    registry.withdraw(pending.id, by="platform", reason="wrong column")
    run = run_dag(dag_bag.dags["tessera_wait_timeout"], asset=ASSET)
    assert run.states == {"wait": "failed"}
    assert f"proposal {pending.id} on {ASSET} was withdrawn: wrong column" in capsys.readouterr().out


def test_sensor_needs_a_proposal_or_an_asset() -> None:
    with pytest.raises(ValueError, match="pass proposal_id or asset"):
        TesseraAcknowledgmentSensor(task_id="wait")
