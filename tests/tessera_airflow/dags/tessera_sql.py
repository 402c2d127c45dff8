"""SQL tasks whose reads become registrations, plus one explicit registration."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from tessera_airflow.lineage import register_sql_consumers
from tessera_airflow.operators.contract import TesseraRegisterConsumerOperator

with DAG(
    "tessera_sql",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"since": "2024-01-01", "measure": "amount", "with_names": True},
    template_searchpath=[str(Path(__file__).parent / "sql")],
) as dag:
    daily = SQLExecuteQueryOperator(
        task_id="daily_revenue",
        conn_id="warehouse",
        sql="""
            select order_date, sum({{ params.measure }}) as revenue
            from fct_orders
            where order_date >= '{{ params.since }}' and status = 'completed'
            group by order_date
        """,
    )
    top = SQLExecuteQueryOperator(task_id="top_customers", conn_id="warehouse", sql="top_customers.sql")
    register = register_sql_consumers(
        dag, team="analytics", dialect="duckdb", default_database="jaffle", default_schema="main"
    )
    dashboard = TesseraRegisterConsumerOperator(
        task_id="register_dashboard",
        asset="jaffle.main.dim_customers",
        team="analytics",
        consumer="revenue_dashboard",
        columns=["customer_id", "customer_name"],
    )
    register >> [daily, top]
