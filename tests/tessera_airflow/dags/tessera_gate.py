"""Check, build, publish: the build runs only when the contract check passes."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from tessera_airflow.operators.contract import TesseraContractCheckOperator, TesseraPublishContractOperator

with DAG(
    "tessera_gate",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"asset": "", "schema_path": ""},
):
    check = TesseraContractCheckOperator(
        task_id="check", asset="{{ params.asset }}", schema_path="{{ params.schema_path }}"
    )

    @task
    def build() -> str:
        return "built"

    publish = TesseraPublishContractOperator(
        task_id="publish",
        asset="{{ params.asset }}",
        schema_path="{{ params.schema_path }}",
        owner_team="platform",
    )
    check >> build() >> publish

with DAG(
    "tessera_publish",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"asset": "", "schema_path": ""},
):
    TesseraPublishContractOperator(
        task_id="publish", asset="{{ params.asset }}", schema_path="{{ params.schema_path }}"
    )
    TesseraPublishContractOperator(
        task_id="publish_strict",
        asset="{{ params.asset }}",
        schema_path="{{ params.schema_path }}",
        fail_on_proposal=True,
    )
