"""The check factory: one blocking ``tessera_contract`` asset check per contracted asset.

Each evaluation registers the asset's downstream Dagster assets as its consumers, then hands the
materialized schema to the gate's ``publish``: compatible (or acknowledged) changes publish and pass;
a breaking one opens a proposal and fails, so the downstream assets do not run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MetadataValue,
    TableColumnLineage,
    TableColumnLineageMetadataValue,
    TableSchema,
    asset_check,
)

from tessera_core import (
    ConsumerKind,
    Decision,
    PublishResult,
    Registration,
    RegistrationSource,
    RegistryUnavailableError,
    Schema,
    TesseraError,
    normalize_name,
    publish,
    render_report,
    sync_registrations,
)
from tessera_dagster.resource import TesseraResource
from tessera_dagster.schema import column_schema, schema_from_table_schema

CHECK_NAME = "tessera_contract"
ASSET = "tessera/asset"  # check spec metadata: the registry name of the checked asset
MODE = "tessera/compatibility_mode"  # asset metadata: backward (default), forward, full, none, ...
TABLE_NAME = "dagster/table_name"
COLUMN_LINEAGE = "dagster/column_lineage"
UNOWNED = "unowned"
DBT = (ConsumerKind.DBT_MODEL, ConsumerKind.EXPOSURE)


@dataclass(frozen=True, slots=True)
class ContractTarget:
    """What one contract check guards.

    ``asset``: the registry name. ``schema``: a fixed schema (a dbt model's contract); ``None`` reads
    ``dagster/column_schema`` from the latest materialization, else ``declared`` (the definition's).
    ``registrations``: the dbt models and exposures reading the asset (lineage), synced on every
    evaluation; ``None`` leaves them as registered. ``same_step``: downstream keys built in the asset's
    own step (dbt models), not registered as Dagster consumers.
    """

    key: AssetKey
    asset: str
    owner_team: str | None = None
    mode: str | None = None
    kind: str = "table"
    schema: Schema | None = None
    declared: TableSchema | None = None
    registrations: tuple[Registration, ...] | None = None
    same_step: frozenset[AssetKey] = frozenset()


def asset_name(key: AssetKey, metadata: Mapping[str, Any] | None = None) -> str:
    """The registry name of an asset: its ``dagster/table_name``, else its key path joined by dots."""
    table = (metadata or {}).get(TABLE_NAME)
    parts = str(getattr(table, "value", table)).split(".") if table else key.path
    return ".".join(normalize_name(p) for p in parts)


def owner_team(owners: Iterable[str]) -> str | None:
    """The first ``team:<name>`` owner; e-mail owners name no team."""
    return next((o.removeprefix("team:") for o in owners if o.startswith("team:")), None)


def target_for(spec: AssetSpec) -> ContractTarget:
    mode = spec.metadata.get(MODE)
    return ContractTarget(
        key=spec.key,
        asset=asset_name(spec.key, spec.metadata),
        owner_team=owner_team(spec.owners),
        mode=str(getattr(mode, "value", mode)) if mode else None,
        declared=column_schema(spec.metadata),
    )


def build_contract_checks(
    assets: Iterable[AssetsDefinition | AssetSpec],
    *,
    resource_key: str = "tessera",
    name: str = CHECK_NAME,
) -> list[AssetChecksDefinition]:
    """A blocking contract check for every asset of ``assets``, run with the ``TesseraResource`` under
    ``resource_key``. Schema: ``dagster/column_schema``; owner: the first ``team:`` owner; registry name:
    ``dagster/table_name`` or the key path; mode: ``tessera/compatibility_mode`` (default backward)."""
    specs = [s for a in assets for s in (a.specs if isinstance(a, AssetsDefinition) else [a])]
    return [build_contract_check(target_for(s), resource_key=resource_key, name=name) for s in specs]


def build_contract_check(
    target: ContractTarget, *, resource_key: str = "tessera", name: str = CHECK_NAME
) -> AssetChecksDefinition:
    @asset_check(
        asset=target.key,
        name=name,
        blocking=True,
        required_resource_keys={resource_key},
        description=f"Tessera contract of {target.asset}: compatible, or its breaking change acknowledged",
        metadata={ASSET: target.asset},
    )
    def _contract(context) -> AssetCheckResult:  # type: ignore[no-untyped-def]  # Dagster reads the hint
        return evaluate_contract(context, target, getattr(context.resources, resource_key))

    return _contract


def evaluate_contract(
    context: AssetCheckExecutionContext, target: ContractTarget, tessera: TesseraResource
) -> AssetCheckResult:
    label = target.key.to_user_string()
    try:
        schema = target.schema or _materialized_schema(context, target, dialect=tessera.dialect)
    except TesseraError as exc:
        return _failed(target, str(exc))
    if schema is None:
        return _failed(
            target,
            f"{label} has no dagster/column_schema metadata: declare a TableSchema on the asset or "
            "return it in MaterializeResult(metadata=...) so the contract can be checked",
        )
    try:
        with tessera.connect() as registry:
            if target.registrations is not None:
                sync_registrations(registry, target.registrations, manages=_reads(target.asset, *DBT))
            consumers = _dagster_consumers(context, target)
            sync_registrations(registry, consumers, manages=_reads(target.asset, ConsumerKind.DAGSTER_ASSET))
            result = publish(
                registry,
                target.asset,
                schema,
                owner_team=target.owner_team,
                mode=target.mode,
                kind=target.kind,
                by=f"dagster run {context.run.run_id}",
                settings=tessera.gate_settings,
            )
    except RegistryUnavailableError as exc:
        if tessera.fail_open:
            context.log.warning(f"tessera: {target.asset} passed unchecked (fail_open): {exc}")
            return AssetCheckResult(
                passed=True,
                description=f"registry unreachable ({exc}); passed unchecked because fail_open is set",
                metadata={ASSET: target.asset, "tessera/decision": Decision.NOTIFY.value},
            )
        return _failed(
            target,
            f"registry unreachable ({exc}); {target.asset} blocked (fail closed). Fix the connection, "
            "or set fail_open=True on TesseraResource to let changes through unchecked",
        )
    except TesseraError as exc:
        return _failed(target, f"{target.asset}: {exc}")
    return _result(target, result)


def _materialized_schema(
    context: AssetCheckExecutionContext, target: ContractTarget, *, dialect: str
) -> Schema | None:
    event = context.instance.get_latest_materialization_event(target.key)
    materialization = event.asset_materialization if event else None
    table = (column_schema(materialization.metadata) if materialization else None) or target.declared
    if table is None:
        return None
    return schema_from_table_schema(table, dialect=dialect, source=target.key.to_user_string())


def _dagster_consumers(context: AssetCheckExecutionContext, target: ContractTarget) -> list[Registration]:
    """Every downstream Dagster asset outside the asset's own step, reading the columns its
    ``dagster/column_lineage`` names (all columns when it names none)."""
    graph, label = _whole_graph(context), target.key.to_user_string()
    if not graph.has(target.key):
        return []
    out = []
    for child in sorted(graph.get(target.key).child_keys - target.same_step):
        node = graph.get(child)
        out.append(
            Registration(
                asset_fqn=target.asset,
                team=owner_team(node.owners) or UNOWNED,
                consumer=child.to_user_string(),
                consumer_kind=ConsumerKind.DAGSTER_ASSET,
                columns=_columns_read(node.metadata.get(COLUMN_LINEAGE), target.key),
                source=RegistrationSource.INFERRED,
                evidence=(f"Dagster asset {child.to_user_string()} depends on {label}",),
            )
        )
    return out


def _whole_graph(context: AssetCheckExecutionContext) -> Any:
    """The asset graph of the whole code location, not only of the assets this run selected."""
    graph = context.job_def.asset_layer.asset_graph
    return getattr(graph, "source_asset_graph", graph)


def _columns_read(lineage: object, upstream: AssetKey) -> frozenset[str] | None:
    if isinstance(lineage, TableColumnLineageMetadataValue):
        lineage = lineage.column_lineage
    deps = lineage.deps_by_column.values() if isinstance(lineage, TableColumnLineage) else ()
    read = {normalize_name(d.column_name) for ds in deps for d in ds if d.asset_key == upstream}
    return frozenset(read) or None


def _reads(asset: str, *kinds: ConsumerKind) -> Callable[[Registration], bool]:
    return lambda r: r.asset_fqn == asset and r.consumer_kind in kinds


def _failed(target: ContractTarget, message: str) -> AssetCheckResult:
    return AssetCheckResult(passed=False, description=message, metadata={ASSET: target.asset})


def _result(target: ContractTarget, result: PublishResult) -> AssetCheckResult:
    report = result.report
    data = report.to_dict()
    version = result.contract.version if result.contract else report.current_version
    metadata: dict[str, Any] = {
        ASSET: target.asset,
        "tessera/decision": report.decision.value,
        "tessera/action": result.action,
        "tessera/version": version or "",
        "tessera/breaking_changes": MetadataValue.json(
            [{k: c[k] for k in ("path", "kind", "message")} for c in data["breaking_changes"]]
        ),
        "tessera/affected_consumers": MetadataValue.json(
            [{k: a[k] for k in ("team", "consumer", "columns", "depth")} for a in data["affected_consumers"]]
        ),
    }
    proposal = result.proposal or report.proposal
    if proposal is not None:
        acks = [{"team": a.team, "response": a.response.value, "by": a.by} for a in proposal.acknowledgments]
        metadata["tessera/proposal"] = proposal.id
        metadata["tessera/acknowledgments"] = MetadataValue.json(acks)
        metadata["tessera/awaiting"] = MetadataValue.json(list(proposal.awaiting))
    metadata["tessera/report"] = MetadataValue.md(f"```\n{render_report(report)}\n```")
    passed = report.decision is not Decision.BLOCKED
    messages = list(report.messages)
    if not passed and proposal is not None and result.action == "proposal_opened":
        messages.append(f"opened proposal {proposal.id}: tessctl ack {proposal.id} --team <team>")
    return AssetCheckResult(passed=passed, description="; ".join(messages), metadata=metadata)
