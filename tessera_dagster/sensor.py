"""A sensor that re-runs blocked assets once every affected team acknowledged their proposal."""

from __future__ import annotations

from collections.abc import Iterable

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from tessera_core import ProposalStatus
from tessera_dagster.checks import ASSET


def build_contract_sensor(
    checks: Iterable[AssetChecksDefinition],
    *,
    name: str = "tessera_proposals",
    resource_key: str = "tessera",
    minimum_interval_seconds: int = 60,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> SensorDefinition:
    """Watch the proposals on the assets that ``checks`` (contract checks) guard.

    A proposal that every affected team approved yields one run (run key ``tessera-<proposal id>``) of
    its asset and everything downstream: the contract check passes then, publishes the new version, and
    the assets it blocked materialize. Proposals still waiting are reported in the skip reason.
    """
    watched = {
        str(spec.metadata[ASSET]): spec.asset_key
        for check in checks
        for spec in check.check_specs
        if ASSET in spec.metadata
    }
    selection = AssetSelection.assets(*watched.values()).downstream()

    @sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        required_resource_keys={resource_key},
        asset_selection=selection,
        description="Runs the assets a Tessera contract check blocked once their proposal is acknowledged",
    )
    def _proposals(context) -> list[RunRequest] | SkipReason:  # type: ignore[no-untyped-def]
        requests, waiting = [], []
        with getattr(context.resources, resource_key).connect() as registry:
            for asset, key in sorted(watched.items()):
                for proposal in registry.proposals(asset, status=ProposalStatus.APPROVED):
                    requests.append(
                        RunRequest(
                            run_key=f"tessera-{proposal.id}",
                            asset_selection=_blocked(context, key),
                            tags={"tessera/proposal": proposal.id, "tessera/asset": asset},
                        )
                    )
                waiting += [
                    f"{p.id} on {asset} waits for {', '.join(p.awaiting)}"
                    for p in registry.proposals(asset, status=ProposalStatus.PENDING)
                ]
        if requests:
            return requests
        return SkipReason("; ".join(waiting) or "no acknowledged proposal to run")

    return _proposals


def _blocked(context: SensorEvaluationContext, key: AssetKey) -> list[AssetKey]:
    """The asset and every asset downstream of it, as far as the repository knows."""
    repository = context.repository_def
    if repository is None:
        return [key]
    return sorted(AssetSelection.assets(key).downstream().resolve(repository.asset_graph))
