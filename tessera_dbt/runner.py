"""``dbt run`` / ``dbt build`` behind the gate: compile, check, refuse or exclude, run, publish.

1. compile the project and check every contracted node against its contract;
2. blocked nodes open (or find) their proposal, so the affected teams have something to acknowledge;
3. when anything is blocked: refuse, or with ``exclude_blocked`` run everything except the
   blocked nodes and their descendants;
4. run / build through dbt's programmatic runner, with progress from its events;
5. publish the contracts of the nodes that built successfully, and re-sync the consumers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tessera_core import (
    Decision,
    GateSettings,
    Project,
    PublishResult,
    Registry,
    flush_if_configured,
    node_schema,
    open_registry,
    publish,
)
from tessera_dbt.artifacts import Progress, compile_project, invoke, select_nodes
from tessera_dbt.check import CheckResult, NodeCheck, check_project
from tessera_dbt.config import DbtSettings
from tessera_dbt.plugin import suspended
from tessera_dbt.publish import ProjectSync, sync_project


@dataclass(frozen=True, slots=True)
class RunOutcome:
    command: str
    check: CheckResult
    refused: bool = False
    excluded: tuple[str, ...] = ()  # dbt selectors excluded because they are blocked
    succeeded: bool = False
    built: tuple[str, ...] = ()  # unique_ids that ran successfully
    proposals: dict[str, PublishResult] = field(default_factory=dict)
    sync: ProjectSync | None = None
    error: str | None = None

    @property
    def exit_code(self) -> int:
        if self.error:
            return 2
        if self.refused or not self.succeeded:
            return 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "refused": self.refused,
            "excluded": list(self.excluded),
            "succeeded": self.succeeded,
            "built": list(self.built),
            "proposals": {uid: r.to_dict() for uid, r in self.proposals.items()},
            "check": self.check.to_dict(),
            "sync": self.sync.to_dict() if self.sync else None,
            "error": self.error,
        }


def _selector(check: NodeCheck) -> str:
    node = check.node
    if node.resource_type == "source":
        source_name = node.unique_id.split(".")[2]
        return f"source:{source_name}.{node.name}+"
    return f"{node.name}.v{node.version}+" if node.version else f"{node.name}+"


def _sources_to_publish(check: CheckResult) -> set[str]:
    """Sources are never built, but their contracts publish with the run (unless blocked)."""
    return {
        c.node.unique_id
        for c in check.checks
        if c.node.resource_type == "source" and c.report.decision is not Decision.BLOCKED
    }


def open_proposals(
    registry: Registry, project: Project, check: CheckResult, *, settings: GateSettings
) -> dict[str, PublishResult]:
    """Open (or find) the proposal of every blocked node, so the affected teams can acknowledge it."""
    proposals = {}
    for blocked in check.blocked:
        if blocked.report.current_version is None:  # registry unreachable: nothing to propose against
            continue
        schema = node_schema(project, blocked.node)
        if schema is not None and blocked.node.relation and not blocked.live:
            proposals[blocked.node.unique_id] = publish(
                registry,
                blocked.node.relation,
                schema,
                owner_team=blocked.node.owner_team,
                by="tessera-dbt",
                settings=settings,
            )
    return proposals


def _notify(settings: DbtSettings, say: Progress) -> None:
    """Send what the registry writes queued (SQLite registry + notify config); failures wait in the outbox."""
    report = flush_if_configured(settings.registry, settings.notify_config)
    if report is not None and (report.delivered or report.retrying or report.dead):
        say(f"tessera: notifications {report.summary().splitlines()[0]}")


def run_gated(
    settings: DbtSettings,
    *,
    command: str = "build",
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    exclude_blocked: bool = False,
    extra_args: Sequence[str] = (),
    progress: Progress | None = None,
) -> RunOutcome:
    if command not in ("run", "build"):
        raise ValueError(f"command must be run or build, not {command!r}")
    gate = GateSettings(fail_open=settings.fail_open)
    registry = open_registry(settings.registry, api_key=settings.api_key)
    say = progress or (lambda _msg: None)

    say(f"tessera: compiling {settings.project_dir.name}")
    project = compile_project(settings)
    selected = select_nodes(settings, select=select, exclude=exclude) if (select or exclude) else None
    check = check_project(registry, project, selected=selected, settings=gate)
    proposals = open_proposals(registry, project, check, settings=gate)
    _notify(settings, say)
    if check.blocked and not exclude_blocked:
        say(f"tessera: {len(check.blocked)} blocked; refusing to {command}")
        return RunOutcome(command, check, refused=True, proposals=proposals)

    excluded = tuple(_selector(c) for c in check.blocked)
    args = [command, *[a for s in select for a in ("--select", s)]]
    args += [a for s in (*exclude, *excluded) for a in ("--exclude", s)]
    args += list(extra_args)
    if excluded:
        say(f"tessera: running everything except {', '.join(excluded)}")
    with suspended():  # already gated above; the plain-dbt hook would check again
        result = invoke(settings, args, progress=progress, check=False)
    built = tuple(
        item.node.unique_id
        for item in (getattr(result.result, "results", None) or ())
        if str(item.status) in ("success", "pass")
    )
    if result.exception is not None:
        return RunOutcome(command, check, excluded=excluded, proposals=proposals, error=str(result.exception))
    project = compile_project(settings, catalog=True) if result.success else project
    sync = sync_project(
        registry,
        project,
        default_team=settings.default_team,
        only={*built, *_sources_to_publish(check)},
        settings=gate,
        cache_dir=settings.target_dir / "tessera_lineage",
    )
    count = sum(1 for r in sync.published.values() if r.action == "published")
    say(f"tessera: published {count} contract{'s' if count != 1 else ''}")
    _notify(settings, say)
    return RunOutcome(
        command,
        check,
        excluded=excluded,
        succeeded=bool(result.success),
        built=built,
        proposals=proposals,
        sync=sync,
    )
