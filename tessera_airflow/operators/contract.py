"""Operators that check and publish contracts and register consumers.

The proposed schema comes from exactly one of: ``schema`` (a ``Schema``, or a JSON Schema
document as a dict), ``schema_path`` (a JSON Schema, Avro, OpenAPI or GraphQL file; pick one
of several schemas with ``schema_name``), or ``manifest_path`` plus ``model`` (a dbt model, its
declared columns and tests; ``catalog_path`` adds warehouse types). For a dbt model the asset
defaults to the model's relation and, when publishing, the owner and mode to its
``meta.tessera``. The gate in ``tessera_core`` decides; these operators only translate.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from tessera_airflow.hooks.tessera import TesseraHook
from tessera_airflow.lineage import consumer_name, register_sql_tasks
from tessera_core import (
    ConsumerKind,
    DependencyType,
    Registration,
    RegistrationSource,
    RegistryUnavailableError,
    Schema,
    TesseraError,
    check_impact,
    load_manifest,
    node_schema,
    publish,
    read_json_schema,
    read_schema_file,
    render_report,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from tessera_core import ImpactReport, Node, Registry

REPORT_KEY = "tessera_report"


class _ContractOperator(BaseOperator):
    """What the check and publish operators share: where the proposed schema comes from."""

    template_fields: Sequence[str] = (
        "asset",
        "schema_path",
        "schema_name",
        "manifest_path",
        "catalog_path",
        "model",
        "tessera_conn_id",
    )
    ui_color = "#e8eefc"

    def __init__(
        self,
        *,
        asset: str | None = None,
        schema: Schema | dict[str, Any] | None = None,
        schema_path: str | None = None,
        schema_name: str | None = None,
        schema_format: str | None = None,
        manifest_path: str | None = None,
        catalog_path: str | None = None,
        model: str | None = None,
        tessera_conn_id: str = TesseraHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        sources = [schema is not None, schema_path is not None, manifest_path is not None]
        if sum(sources) != 1:
            raise ValueError(
                f"{self.task_id}: give exactly one of schema, schema_path, or manifest_path with model"
            )
        if manifest_path is not None and not model:
            raise ValueError(f"{self.task_id}: manifest_path needs model, the dbt model to check")
        if manifest_path is None and not asset:
            raise ValueError(f"{self.task_id}: asset is required unless the schema comes from a dbt model")
        self.asset = asset
        self.schema = schema
        self.schema_path = schema_path
        self.schema_name = schema_name
        self.schema_format = schema_format
        self.manifest_path = manifest_path
        self.catalog_path = catalog_path
        self.model = model
        self.tessera_conn_id = tessera_conn_id

    def proposed(self) -> tuple[str, Schema, Node | None]:
        """The asset, the proposed schema, and the dbt node it came from (if any)."""
        if self.manifest_path is not None:
            node, schema = self._from_manifest()
            asset = self.asset or node.relation
            assert asset is not None  # _from_manifest only returns nodes with a relation
            return asset, schema, node
        assert self.asset is not None
        if isinstance(self.schema, Schema):
            return self.asset, self.schema, None
        if self.schema is not None:
            return self.asset, read_json_schema(self.schema, source=f"{self.task_id}.schema"), None
        assert self.schema_path is not None
        found = read_schema_file(self.schema_path, format=self.schema_format)
        if self.schema_name is None and len(found) == 1:
            return self.asset, next(iter(found.values())), None
        if self.schema_name in found:
            return self.asset, found[self.schema_name], None
        raise TesseraError(
            f"{self.schema_path} holds the schemas {', '.join(sorted(found))}: set schema_name to one of them"
        )

    def _from_manifest(self) -> tuple[Node, Schema]:
        project = load_manifest(self.manifest_path, catalog=self.catalog_path)  # type: ignore[arg-type]
        matches = [
            n
            for n in project.nodes.values()
            if n.resource_type in ("model", "seed", "snapshot") and self.model in (n.name, n.unique_id)
        ]
        if len(matches) != 1:
            known = sorted(n.name for n in project.nodes.values() if n.resource_type == "model")
            problem = "is ambiguous" if matches else "is not in it"
            raise TesseraError(
                f"{self.manifest_path}: model {self.model!r} {problem}; models: {', '.join(known)}. "
                "Use the model's name or unique_id"
            )
        node = matches[0]
        schema = node_schema(project, node)
        if node.relation is None or schema is None:
            raise TesseraError(
                f"{self.manifest_path}: model {self.model!r} has no relation or no documented columns, so it "
                "has no contract; declare its columns (with data_type) in its YAML, or pass catalog_path"
            )
        return node, schema


class _Unreachable:
    """A registry that could not be opened: every call raises, so the gate applies fail-open/closed."""

    def __init__(self, error: RegistryUnavailableError) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


class TesseraContractCheckOperator(_ContractOperator):
    """Fail the task, with a readable report, when the proposed schema breaks consumers who have
    not acknowledged it; pass otherwise.

    The report (``ImpactReport.to_dict()``) goes to XCom under ``tessera_report`` whether the
    check passes or fails, and is the return value when it passes. ``fail_open`` (default
    ``None``: the connection's setting) passes with a warning when the registry is unreachable;
    otherwise an unreachable registry fails the task as an ordinary error, so its retries apply.
    A change blocked on teams fails without retries: waiting for acknowledgments is the sensor's job.
    """

    def __init__(self, *, fail_open: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_open = fail_open

    def execute(self, context: Context) -> dict[str, Any]:
        asset, schema, _ = self.proposed()
        report = self._check(asset, schema)
        payload = report.to_dict()
        context["ti"].xcom_push(key=REPORT_KEY, value=payload)
        text = render_report(report)
        if report.awaiting:
            raise AirflowFailException(f"Tessera contract check failed for {asset}:\n\n{text}")
        if not report.safe_to_publish:
            raise AirflowException(f"Tessera contract check could not run for {asset}:\n\n{text}")
        self.log.info("Tessera contract check passed for %s:\n\n%s", asset, text)
        return payload

    def _check(self, asset: str, schema: Schema) -> ImpactReport:
        hook = TesseraHook(self.tessera_conn_id, fail_open=self.fail_open)
        try:
            registry: Registry | _Unreachable = hook.get_conn()
        except RegistryUnavailableError as exc:
            registry = _Unreachable(exc)
        try:
            return check_impact(registry, asset, schema, settings=hook.settings)
        finally:
            hook.close()


class TesseraPublishContractOperator(_ContractOperator):
    """Publish the proposed schema as the asset's contract, or open the proposal it needs.

    A compatible change publishes with a version bump; a breaking one opens a proposal (its id
    is in the XCom ``proposal``) unless every affected team already approved it.
    ``fail_on_proposal`` (default False) fails the task when a proposal is opened or still
    pending instead of a contract published. ``owner_team`` / ``mode`` / ``kind`` default to the
    dbt model's ``meta.tessera`` (or to the asset's current settings). The return value is
    ``PublishResult.to_dict()``.
    """

    template_fields: Sequence[str] = (*_ContractOperator.template_fields, "owner_team", "mode")

    def __init__(
        self,
        *,
        owner_team: str | None = None,
        mode: str | None = None,
        kind: str | None = None,
        fail_on_proposal: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.owner_team = owner_team
        self.mode = mode
        self.kind = kind
        self.fail_on_proposal = fail_on_proposal

    def execute(self, context: Context) -> dict[str, Any]:
        asset, schema, node = self.proposed()
        hook = TesseraHook(self.tessera_conn_id)
        try:
            result = publish(
                hook.get_conn(),
                asset,
                schema,
                owner_team=self.owner_team or (node.owner_team if node else None),
                mode=self.mode or (node.tessera.get("compatibility_mode") if node else None),
                kind=self.kind or (node.resource_type if node else None),
                by=f"airflow:{consumer_name(self.dag_id, self.task_id)}",
                settings=hook.settings,
            )
        finally:
            hook.close()
        payload = result.to_dict()
        if result.action in ("published", "unchanged"):
            version = result.contract.version if result.contract else result.report.current_version
            self.log.info("Tessera: %s %s (%s)", result.action, asset, version)
            return payload
        message = f"Tessera did not publish {asset} ({result.action}):\n\n{render_report(result.report)}"
        if self.fail_on_proposal:
            context["ti"].xcom_push(key=REPORT_KEY, value=payload)
            raise AirflowFailException(message)
        self.log.warning("%s", message)
        return payload


class TesseraRegisterConsumerOperator(BaseOperator):
    """Register this task (or ``consumer``) as a reader of ``asset``, optionally of some columns only.

    ``columns`` ``None`` (the default) means every column. The registration is explicit: lineage
    never retires it. ``consumer`` defaults to ``<dag_id>.<task_id>``. Returns the outcome
    (``added``, ``changed`` or ``unchanged``).
    """

    template_fields: Sequence[str] = ("asset", "team", "consumer", "columns", "tessera_conn_id")
    ui_color = "#e8eefc"

    def __init__(
        self,
        *,
        asset: str,
        team: str,
        consumer: str | None = None,
        columns: Collection[str] | None = None,
        consumer_kind: ConsumerKind | str = ConsumerKind.AIRFLOW_TASK,
        dependency_type: DependencyType | str = DependencyType.CONSUMES,
        tessera_conn_id: str = TesseraHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset = asset
        self.team = team
        self.consumer = consumer
        self.columns = columns
        self.consumer_kind = ConsumerKind(consumer_kind)
        self.dependency_type = DependencyType(dependency_type)
        self.tessera_conn_id = tessera_conn_id

    def execute(self, context: Context) -> str:
        registration = Registration(
            asset_fqn=self.asset,
            team=self.team,
            consumer=self.consumer or consumer_name(self.dag_id, self.task_id),
            consumer_kind=self.consumer_kind,
            columns=frozenset(_names(self.columns)) if self.columns is not None else None,
            dependency_type=self.dependency_type,
            source=RegistrationSource.EXPLICIT,
            evidence=(f"registered by Airflow task {consumer_name(self.dag_id, self.task_id)}",),
        )
        hook = TesseraHook(self.tessera_conn_id)
        try:
            registry = hook.get_conn()
            registry.ensure_team(self.team)
            outcome = registry.register(registration)
        finally:
            hook.close()
        self.log.info("Tessera: %s %s on %s", outcome.value, registration.consumer, self.asset)
        return outcome.value


def _names(columns: Iterable[str] | str) -> list[str]:
    """Columns as a list; a rendered template may give one comma-separated string."""
    if isinstance(columns, str):
        return [c.strip() for c in columns.split(",") if c.strip()]
    return list(columns)


class TesseraRegisterSqlConsumersOperator(BaseOperator):
    """Register what the DAG's SQL tasks read, each task as a consumer (``tessera_airflow.lineage``).

    ``team`` owns the consumers; ``dialect`` is the SQL dialect (sqlglot name); ``task_ids``
    (default: every task with a ``sql`` template field) limits the tasks read;
    ``default_database`` / ``default_schema`` qualify unqualified table names so they match
    the registry's ``database.schema.table`` assets. Returns ``SyncReport.to_dict()``.
    """

    template_fields: Sequence[str] = ("team", "default_database", "default_schema", "tessera_conn_id")
    ui_color = "#e8eefc"

    def __init__(
        self,
        *,
        team: str,
        dialect: str,
        task_ids: Collection[str] | None = None,
        default_database: str | None = None,
        default_schema: str | None = None,
        tessera_conn_id: str = TesseraHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.team = team
        self.dialect = dialect
        self.task_ids = list(task_ids) if task_ids is not None else None
        self.default_database = default_database
        self.default_schema = default_schema
        self.tessera_conn_id = tessera_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        hook = TesseraHook(self.tessera_conn_id)
        try:
            report, reads = register_sql_tasks(
                hook.get_conn(),
                context,
                team=self.team,
                dialect=self.dialect,
                task_ids=self.task_ids,
                default_database=self.default_database,
                default_schema=self.default_schema,
            )
        finally:
            hook.close()
        for warning in report.warnings:
            self.log.warning("%s", warning)
        for read in reads:
            tables = ", ".join(
                f"{r.asset_fqn} ({', '.join(sorted(r.columns)) if r.columns is not None else 'all columns'})"
                for r in read.registrations
            )
            self.log.info("Tessera: %s reads %s", read.consumer, tables or "nothing it could name")
        return report.to_dict()
