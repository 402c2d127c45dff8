"""SQL tasks as consumers: what each task's SQL reads becomes a registration in the registry.

A SQL task is any operator with a ``sql`` template field (``SQLExecuteQueryOperator``, the
SQL check operators, most database providers). Its SQL is rendered with the running DAG's
context (so ``{{ ds }}``, ``params`` and ``.sql`` template files work), analyzed with the
core's column lineage, and each table it reads becomes an inferred registration of the
consumer ``<dag_id>.<task_id>`` (kind ``airflow_task``) with the columns it reads.

Lineage degrades, it does not fail: SQL that cannot be rendered is skipped with a warning
(and its earlier registrations are kept), SQL that cannot be parsed registers its tables as
read in full. Registering a DAG retires the inferred registrations of its tasks that the
SQL no longer supports, and of tasks that left the DAG.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tessera_core import (
    ConsumerKind,
    Registration,
    RegistrationSource,
    Registry,
    SyncReport,
    analyze_query,
    check_dialect,
    sync_registrations,
)

if TYPE_CHECKING:
    from airflow.sdk import DAG, BaseOperator, Context

    from tessera_airflow.operators.contract import TesseraRegisterSqlConsumersOperator


@dataclass(frozen=True, slots=True)
class TaskReads:
    """What one SQL task reads. ``ok`` is False when the SQL could not be rendered (nothing inferred)."""

    task_id: str
    consumer: str
    registrations: tuple[Registration, ...] = ()
    warnings: tuple[str, ...] = ()
    ok: bool = True


def consumer_name(dag_id: str, task_id: str) -> str:
    """How a task appears as a consumer in the registry."""
    return f"{dag_id}.{task_id}"


def is_sql_task(task: Any) -> bool:
    return "sql" in getattr(task, "template_fields", ())


def sql_tasks(dag: DAG, task_ids: Iterable[str] | None = None) -> list[BaseOperator]:
    """The SQL tasks of ``dag`` (only ``task_ids`` when given; a missing id is a ``KeyError``)."""
    if task_ids is not None:
        chosen = [dag.get_task(task_id) for task_id in task_ids]
        return [t for t in chosen if is_sql_task(t)]  # type: ignore[misc]
    return [t for t in dag.tasks if is_sql_task(t)]  # type: ignore[misc]


def rendered_sql(task: BaseOperator, context: Context) -> str:
    """The task's ``sql`` rendered as it would run in this DAG run; several statements join with ``;``."""
    task_context = {**context, "task": task}
    value = task.render_template(task.sql, task_context, jinja_env=task.get_template_env())  # type: ignore[attr-defined, arg-type]
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return ";\n".join(str(v) for v in value)
    return str(value)


def task_reads(
    task: BaseOperator,
    context: Context,
    *,
    team: str,
    dialect: str,
    default_database: str | None = None,
    default_schema: str | None = None,
    contracts: Mapping[str, Sequence[str]] | None = None,
) -> TaskReads:
    """Render ``task``'s SQL and turn what it reads into registrations for ``team``.

    ``contracts`` maps relation names to their columns (e.g. from published contracts) so
    ``SELECT *`` and unqualified columns resolve; without it they count as reading everything.
    """
    consumer = consumer_name(task.dag_id, task.task_id)
    try:
        sql = rendered_sql(task, context)
    except Exception as exc:  # a template that needs a value this run lacks: keep what was registered
        warning = f"{consumer}: the SQL could not be rendered ({exc}); its registrations stay as they were"
        return TaskReads(task.task_id, consumer, (), (warning,), ok=False)
    lineage = analyze_query(
        sql,
        dialect=dialect,
        schema=contracts,
        default_database=default_database,
        default_schema=default_schema,
        name=consumer,
    )
    regs = []
    for table in sorted(lineage.tables):
        columns = lineage.columns_read(table)
        evidence = tuple(
            f"{ref.column}: {', '.join(sorted(str(c).replace('_', ' ') for c in clauses))}"
            for ref, clauses in lineage.reads
            if ref.table == table
        ) or (f"{consumer} reads {table} in full",)
        regs.append(
            Registration(
                asset_fqn=table,
                team=team,
                consumer=consumer,
                consumer_kind=ConsumerKind.AIRFLOW_TASK,
                columns=columns,
                source=RegistrationSource.INFERRED,
                evidence=evidence,
            )
        )
    return TaskReads(task.task_id, consumer, tuple(regs), lineage.warnings, ok=True)


def _contract_columns(registry: Registry, tables: Iterable[str]) -> dict[str, tuple[str, ...]]:
    found = {}
    for table in tables:
        contract = registry.current_contract(table)
        if contract is not None:
            found[table] = contract.schema.names
    return found


def register_sql_tasks(
    registry: Registry,
    context: Context,
    *,
    team: str,
    dialect: str,
    task_ids: Iterable[str] | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
) -> tuple[SyncReport, tuple[TaskReads, ...]]:
    """Register what the SQL tasks of the running DAG read; callable from any task.

    ``task_ids`` (default: every SQL task of the DAG) limits which tasks are read.
    Published contracts of the tables read are used to resolve ``SELECT *`` and
    unqualified columns. Returns the sync report and what each task read.
    """
    dialect = check_dialect(dialect)
    dag = context["dag"]
    options = {
        "team": team,
        "dialect": dialect,
        "default_database": default_database,
        "default_schema": default_schema,
    }
    reads = []
    for task in sql_tasks(dag, task_ids):
        first = task_reads(task, context, **options)  # type: ignore[arg-type]
        contracts = _contract_columns(registry, (r.asset_fqn for r in first.registrations))
        reads.append(task_reads(task, context, contracts=contracts, **options) if contracts else first)  # type: ignore[arg-type]
    analyzed = {r.consumer for r in reads if r.ok}
    present = {consumer_name(dag.dag_id, t) for t in dag.task_ids}
    prefix = f"{dag.dag_id}."

    def manages(existing: Registration) -> bool:
        ours = existing.consumer_kind is ConsumerKind.AIRFLOW_TASK and existing.consumer.startswith(prefix)
        return ours and (existing.consumer in analyzed or existing.consumer not in present)

    desired = [reg for r in reads for reg in r.registrations]
    report = sync_registrations(registry, desired, manages=manages)
    warnings = tuple(w for r in reads for w in r.warnings)
    return SyncReport(
        report.added, report.changed, report.retired, report.unchanged, report.assets, warnings
    ), tuple(reads)


def register_sql_consumers(
    dag: DAG,
    *,
    team: str,
    dialect: str,
    task_id: str = "tessera_register_sql_consumers",
    **kwargs: Any,
) -> TesseraRegisterSqlConsumersOperator:
    """Add a task to ``dag`` that registers what its SQL tasks read (see ``register_sql_tasks``).

    Call it after the SQL tasks are defined; ``kwargs`` go to the operator (``task_ids``,
    ``default_database``, ``default_schema``, ``tessera_conn_id``, any ``BaseOperator`` argument).
    """
    from tessera_airflow.operators.contract import TesseraRegisterSqlConsumersOperator

    return TesseraRegisterSqlConsumersOperator(task_id=task_id, team=team, dialect=dialect, dag=dag, **kwargs)
