"""SQL tasks as consumers: rendered SQL -> tables and columns read -> registrations, kept in step."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from tessera_airflow.lineage import register_sql_tasks, sql_tasks, task_reads
from tessera_core import (
    ConsumerKind,
    Registration,
    RegistrationSource,
    Registry,
    UnknownDialectError,
    open_registry,
    publish,
    read_json_schema,
)

from .conftest import run_dag

FCT = "jaffle.main.fct_orders"
DIM = "jaffle.main.dim_customers"
OPTIONS = {"team": "analytics", "dialect": "duckdb", "default_database": "jaffle", "default_schema": "main"}


def sql_dag(dag_id: str = "sql_unit", **sqls: str) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        for task_id, sql in sqls.items():
            SQLExecuteQueryOperator(task_id=task_id, conn_id="warehouse", sql=sql)
    return dag


def reads_of(registry: Registry, consumer: str) -> dict[str, frozenset[str] | None]:
    return {r.asset_fqn: r.columns for r in registry.registrations(consumer=consumer)}


@pytest.fixture
def registry(registry_spec: str) -> Registry:
    return open_registry(registry_spec)


def test_sql_task_reads_become_registrations_of_the_rendered_sql(dag_bag: Any, tessera_conn: str) -> None:
    run = run_dag(dag_bag.dags["tessera_sql"], mark_success="daily_revenue|top_customers")
    assert run.states["tessera_register_sql_consumers"] == "success"
    registry = open_registry(tessera_conn)
    assert reads_of(registry, "tessera_sql.daily_revenue") == {
        FCT: frozenset({"order_date", "amount", "status"})
    }
    assert reads_of(registry, "tessera_sql.top_customers") == {
        FCT: frozenset({"customer_id", "amount"}),
        DIM: frozenset({"customer_id", "customer_name"}),
    }
    daily = registry.registrations(FCT, consumer="tessera_sql.daily_revenue")[0]
    assert (daily.team, daily.consumer_kind, daily.source) == (
        "analytics",
        ConsumerKind.AIRFLOW_TASK,
        RegistrationSource.INFERRED,
    )
    assert "order_date: group by, select, where" in daily.evidence
    assert run.xcom("tessera_register_sql_consumers")["added"] != []


def test_changed_sql_updates_and_retires_registrations_but_keeps_explicit_ones(
    dag_bag: Any, tessera_conn: str
) -> None:
    dag = dag_bag.dags["tessera_sql"]
    run_dag(dag, mark_success="daily_revenue|top_customers")
    run = run_dag(
        dag, mark_success="daily_revenue|top_customers", measure="credit_card_amount", with_names=False
    )
    registry = open_registry(tessera_conn)
    assert reads_of(registry, "tessera_sql.daily_revenue") == {
        FCT: frozenset({"order_date", "credit_card_amount", "status"})
    }
    assert reads_of(registry, "tessera_sql.top_customers") == {FCT: frozenset({"customer_id", "amount"})}
    report = run.xcom("tessera_register_sql_consumers")
    assert [(r["asset"], r["consumer"]) for r in report["retired"]] == [(DIM, "tessera_sql.top_customers")]
    explicit = registry.registrations(DIM, consumer="revenue_dashboard")[0]
    assert (explicit.source, explicit.columns) == (
        RegistrationSource.EXPLICIT,
        frozenset({"customer_id", "customer_name"}),
    )


def test_only_tasks_with_a_sql_template_field_are_read() -> None:
    dag = sql_dag(q="select 1")
    with dag:
        EmptyOperator(task_id="not_sql")
    assert [t.task_id for t in sql_tasks(dag)] == ["q"]


def test_select_star_reads_every_column_unless_a_contract_lists_them(registry: Registry) -> None:
    dag = sql_dag(q="select * from fct_orders")
    context: Any = {"dag": dag, "params": {}}
    read = task_reads(dag.get_task("q"), context, **OPTIONS)  # type: ignore[arg-type]
    assert [(r.asset_fqn, r.columns) for r in read.registrations] == [(FCT, None)]
    assert read.registrations[0].evidence == ("sql_unit.q reads jaffle.main.fct_orders in full",)

    publish(registry, FCT, read_json_schema({"type": "object", "properties": {"order_id": {}, "amount": {}}}))
    register_sql_tasks(registry, context, **OPTIONS)  # type: ignore[arg-type]
    assert reads_of(registry, "sql_unit.q") == {FCT: frozenset({"order_id", "amount"})}


def test_unparseable_sql_registers_nothing_and_warns(registry: Registry) -> None:
    dag = sql_dag(q="select from where")
    report, reads = register_sql_tasks(registry, {"dag": dag}, **OPTIONS)  # type: ignore[arg-type]
    assert reads[0].registrations == () and reads[0].ok
    assert any("could not be analyzed" in w for w in report.warnings)


def test_sql_that_cannot_be_rendered_keeps_the_earlier_registrations(registry: Registry) -> None:
    dag = sql_dag(q="select amount from fct_orders where order_date >= '{{ params.since }}'")
    register_sql_tasks(registry, {"dag": dag, "params": {"since": "2024-01-01"}}, **OPTIONS)  # type: ignore[arg-type]
    report, reads = register_sql_tasks(registry, {"dag": dag}, **OPTIONS)  # type: ignore[arg-type]
    assert not reads[0].ok and "sql_unit.q: the SQL could not be rendered" in report.warnings[0]
    assert report.retired == ()
    assert reads_of(registry, "sql_unit.q") == {FCT: frozenset({"amount", "order_date"})}


def test_tasks_that_left_the_dag_are_retired(registry: Registry) -> None:
    both = sql_dag(a="select amount from fct_orders", b="select customer_id from dim_customers")
    register_sql_tasks(registry, {"dag": both}, **OPTIONS)  # type: ignore[arg-type]
    registry.register(Registration(DIM, "ml", "sql_unit.c", ConsumerKind.AIRFLOW_TASK))  # explicit: stays
    report, _ = register_sql_tasks(registry, {"dag": sql_dag(a="select amount from fct_orders")}, **OPTIONS)  # type: ignore[arg-type]
    assert [r.consumer for r in report.retired] == ["sql_unit.b"]
    assert {r.consumer for r in registry.registrations()} == {"sql_unit.a", "sql_unit.c"}


def test_other_dags_registrations_are_left_alone(registry: Registry) -> None:
    register_sql_tasks(registry, {"dag": sql_dag("other", q="select amount from fct_orders")}, **OPTIONS)  # type: ignore[arg-type]
    report, _ = register_sql_tasks(registry, {"dag": sql_dag(q="select 1")}, **OPTIONS)  # type: ignore[arg-type]
    assert report.retired == () and reads_of(registry, "other.q") == {FCT: frozenset({"amount"})}


def test_unknown_dialect_fails_naming_it(registry: Registry) -> None:
    with pytest.raises(UnknownDialectError, match="'duckdbb'"):
        register_sql_tasks(registry, {"dag": sql_dag(q="select 1")}, **{**OPTIONS, "dialect": "duckdbb"})  # type: ignore[arg-type]
