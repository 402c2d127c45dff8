"""The gate inside plain ``dbt run`` / ``build`` / ``seed`` / ``snapshot``: a dbt plugin hook.

dbt-core imports every installed ``dbt_*`` module that lists ``plugins`` (``dbt_tessera`` lists
:class:`TesseraGate`) and calls ``get_manifest_artifacts`` after parsing, when it writes
``manifest.json``, before any hook or node runs. There is no compiled SQL yet, but the declared
columns of contracted models are known, so they are checked against the registry; a blocked change
opens its proposal and raises, which dbt turns into a runtime error that stops the command.

Off unless turned on (``vars: {tessera: {gate: true}}`` in ``dbt_project.yml``, ``--vars``, or
``TESSERA_DBT_GATE=1``, which also turns it off with ``0``). Only commands that build are gated.
What the hook cannot do (so ``tessera-dbt run`` / ``build`` remains the full path):

- it does not run with ``--no-write-json``, nor when a caller hands dbtRunner a parsed manifest;
  ``retry`` and ``clone`` are not gated;
- columns known only from compiled SQL or the catalog (models without declared columns, seeds,
  live source columns) are not checked: there is neither at parse time;
- nothing publishes after the run: dbt has no plugin hook after execution (``tessera-dbt sync``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbt.plugins.manager import dbt_hook, dbtPlugin

from tessera_core import TesseraError
from tessera_dbt.config import TRUE, DbtSettings, load_settings

BUILDING = frozenset({"run", "build", "seed", "snapshot"})
_suspended = 0


class ContractGateError(TesseraError):
    """The plain-dbt gate refused the command: a contract change waits for acknowledgments."""


@contextmanager
def suspended() -> Iterator[None]:
    """Skip the hook for dbt calls made inside (the ``tessera-dbt`` wrapper gates on its own)."""
    global _suspended
    _suspended += 1
    try:
        yield
    finally:
        _suspended -= 1


def gate_settings(flags: Any) -> DbtSettings | None:
    """The settings when the gate is on for this dbt invocation, else ``None`` (never raises when off)."""
    if _suspended or str(getattr(flags, "WHICH", "")) not in BUILDING:
        return None
    env = dict(os.environ)
    try:
        from_cli = (getattr(flags, "VARS", None) or {}).get("tessera")  # --vars '{tessera: {gate: true}}'
        if "TESSERA_DBT_GATE" not in env and isinstance(from_cli, dict) and from_cli.get("gate") is not None:
            env["TESSERA_DBT_GATE"] = str(from_cli["gate"])
        settings = load_settings(getattr(flags, "PROJECT_DIR", None) or ".", env=env)
    except Exception:  # unreadable settings never break dbt, unless the gate was turned on explicitly
        if env.get("TESSERA_DBT_GATE", "").strip().lower() in TRUE:
            raise
        return None
    return settings if settings.gate else None


def selected_nodes(flags: Any, manifest: Any) -> set[str] | None:
    """The unique_ids this command will execute, by dbt's own selection; ``None`` (check every
    contracted node) when it cannot be worked out at this point."""
    from dbt.adapters.factory import get_adapter_by_type
    from dbt.task.build import BuildTask
    from dbt.task.run import RunTask
    from dbt.task.seed import SeedTask
    from dbt.task.snapshot import SnapshotTask

    tasks = {"run": RunTask, "build": BuildTask, "seed": SeedTask, "snapshot": SnapshotTask}
    try:
        config = get_adapter_by_type(manifest.metadata.adapter_type).config
        task = tasks[str(flags.WHICH)](flags, config, manifest)
        task.compile_manifest()
        return set(task.get_node_selector().get_selected(task.get_selection_spec()))
    except Exception:  # selection is an optimisation: checking everything is the safe fallback
        return None


def run_gate(settings: DbtSettings, manifest_path: Path, *, selected: set[str] | None) -> str:
    """Check the parsed project; open proposals and raise ContractGateError when anything is blocked."""
    from tessera_core import GateSettings, load_manifest, open_registry, render_report
    from tessera_dbt.check import check_project
    from tessera_dbt.runner import open_proposals

    gate = GateSettings(fail_open=settings.fail_open)
    registry = open_registry(settings.registry, api_key=settings.api_key)
    project = load_manifest(manifest_path)
    result = check_project(registry, project, selected=selected, settings=gate)
    summary = f"tessera: {len(result.checks)} contract(s) checked, {len(result.blocked)} blocked"
    if result.skipped:
        summary += f", {len(result.skipped)} without declared columns not checked (use tessera-dbt check)"
    if not result.blocked:
        return summary
    if open_proposals(registry, project, result, settings=gate):  # report them with their proposals
        blocked = [c.node.unique_id for c in result.blocked]
        result = check_project(registry, project, selected=blocked, settings=gate)
    raise ContractGateError(
        f"{summary}; dbt stopped before building anything.\n\n"
        + "\n\n".join(render_report(c.report) for c in result.changed)
        + "\n\nOnce the affected teams acknowledge (tessctl ack <proposal> --team <team>) the run goes "
        "ahead; TESSERA_DBT_GATE=0 turns this gate off."
    )


class TesseraGate(dbtPlugin):
    """Checks declared contracts against the Tessera registry before dbt builds anything."""

    @dbt_hook
    def get_manifest_artifacts(self, manifest: Any) -> dict[str, Any]:
        from dbt.flags import get_flags

        flags = get_flags()
        settings = gate_settings(flags)
        if settings is None:
            return {}
        from dbt.adapters.factory import get_adapter_by_type
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note

        target = Path(get_adapter_by_type(manifest.metadata.adapter_type).config.project_target_path)
        summary = run_gate(settings, target / "manifest.json", selected=selected_nodes(flags, manifest))
        fire_event(Note(msg=summary))
        return {}
