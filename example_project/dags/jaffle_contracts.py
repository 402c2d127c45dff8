"""Build the jaffle_contracts dbt project only after its contracts pass the Tessera check.

``dbt parse`` writes the manifest of the code as it is now; each contracted model is checked
against its published contract (a breaking change that the affected teams have not
acknowledged fails its check, and ``dbt build`` never runs); after a successful build the
new contracts are published.

The registry comes from the ``tessera_default`` connection, for example::

    export AIRFLOW_CONN_TESSERA_DEFAULT='{"conn_type": "tessera", "extra": {"registry": "/srv/tessera.db"}}'

Params: ``target_path`` (dbt's target folder, where the manifest lands) and ``warehouse`` (the
DuckDB file dbt builds into).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from tessera_airflow.operators.contract import TesseraContractCheckOperator, TesseraPublishContractOperator

PROJECT = Path(__file__).resolve().parents[1]
DBT = shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))
CONTRACTED = ("dim_customers", "fct_orders")  # the models with enforced contracts (models/marts/platform)
DBT_ARGS = (
    f"--project-dir {PROJECT} --profiles-dir {PROJECT} "
    "--target-path {{ params.target_path }} --log-path {{ params.target_path }}/logs"
)
MANIFEST = "{{ params.target_path }}/manifest.json"

with DAG(
    "jaffle_contracts",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "target_path": str(PROJECT / "target"),
        "warehouse": str(PROJECT / "target" / "jaffle_contracts.duckdb"),
    },
    doc_md=__doc__,
    tags=["tessera", "dbt"],
):
    dbt_env = {"TESSERA_EXAMPLE_DB": "{{ params.warehouse }}"}
    parse = BashOperator(
        task_id="dbt_parse", bash_command=f"{DBT} parse {DBT_ARGS}", env=dbt_env, append_env=True
    )
    checks = [
        TesseraContractCheckOperator(task_id=f"check_{model}", manifest_path=MANIFEST, model=model)
        for model in CONTRACTED
    ]
    build = BashOperator(
        task_id="dbt_build", bash_command=f"{DBT} build {DBT_ARGS}", env=dbt_env, append_env=True
    )
    publishes = [
        TesseraPublishContractOperator(task_id=f"publish_{model}", manifest_path=MANIFEST, model=model)
        for model in CONTRACTED
    ]
    parse >> checks >> build >> publishes
