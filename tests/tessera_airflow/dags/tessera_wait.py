"""Wait for acknowledgments, then publish: in reschedule mode, deferred to the triggerer, and timing out."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from tessera_airflow.operators.contract import TesseraPublishContractOperator
from tessera_airflow.sensors.acknowledgment import TesseraAcknowledgmentSensor

START = pendulum.datetime(2024, 1, 1, tz="UTC")
PARAMS = {"asset": "", "schema_path": "", "proposal_id": ""}

with DAG("tessera_wait_reschedule", schedule=None, start_date=START, params=PARAMS):
    wait = TesseraAcknowledgmentSensor(
        task_id="wait", asset="{{ params.asset }}", mode="reschedule", poke_interval=1, timeout=120
    )
    publish = TesseraPublishContractOperator(
        task_id="publish", asset="{{ params.asset }}", schema_path="{{ params.schema_path }}"
    )
    wait >> publish

with DAG("tessera_wait_deferred", schedule=None, start_date=START, params=PARAMS):
    TesseraAcknowledgmentSensor(
        task_id="wait",
        proposal_id="{{ params.proposal_id }}",
        deferrable=True,
        poke_interval=0.2,
        timeout=120,
    )

with DAG("tessera_wait_timeout", schedule=None, start_date=START, params=PARAMS):
    TesseraAcknowledgmentSensor(
        task_id="wait", asset="{{ params.asset }}", mode="reschedule", poke_interval=1, timeout=2
    )
