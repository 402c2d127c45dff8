"""Run dbt programmatically and read what it leaves behind (manifest, catalog)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner, dbtRunnerResult

from tessera_core import Project, TesseraError, load_manifest
from tessera_dbt.config import DbtSettings

Progress = Callable[[str], None]


class DbtCommandError(TesseraError):
    """A dbt command failed; the message names the command, the project and the failing nodes."""


def _progress_callback(progress: Progress) -> Callable[[Any], None]:
    """Models, seeds and snapshots as they finish; tests only when they do not pass."""

    def on_event(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        node = event.data.node_info
        quiet = node.resource_type in ("test", "unit_test", "exposure") and node.node_status in (
            "pass",
            "no-op",
        )
        if not quiet:
            progress(f"  {node.resource_type:<9} {node.node_name:<36} {node.node_status}")

    return on_event


def invoke(
    settings: DbtSettings, args: Sequence[str], *, progress: Progress | None = None, check: bool = True
) -> dbtRunnerResult:
    """``dbt <args>`` on the configured project; ``check``: raise DbtCommandError on failure."""
    callbacks = [_progress_callback(progress)] if progress else []
    full = [*args, *settings.dbt_args()]
    result = dbtRunner(callbacks=callbacks).invoke(full)
    if check and not result.success:
        raise DbtCommandError(_failure(settings, args, result))
    return result


def _failure(settings: DbtSettings, args: Sequence[str], result: dbtRunnerResult) -> str:
    command = " ".join(a for a in args[:2] if not a.startswith("-"))  # run, docs generate
    what = f"dbt {command} failed in {settings.project_dir}"
    if result.exception is not None:
        return f"{what}: {result.exception}"
    failed = []
    for item in getattr(result.result, "results", None) or ():
        status = str(getattr(item, "status", ""))
        if status in ("error", "fail", "runtime error"):
            failed.append(f"{item.node.unique_id} ({item.node.original_file_path}): {item.message}")
    return what + (": " + "; ".join(failed) if failed else "")


def compile_project(
    settings: DbtSettings, *, catalog: bool = False, progress: Progress | None = None
) -> Project:
    """Compile the project (``dbt docs generate`` when a catalog is wanted) and load the artifacts.

    A project whose SQL does not compile raises DbtCommandError naming the
    failing models: nothing is published from it.
    """
    invoke(
        settings, ["docs", "generate", "--quiet"] if catalog else ["compile", "--quiet"], progress=progress
    )
    return load_project(settings, catalog=catalog)


def load_project(settings: DbtSettings, *, catalog: bool = True) -> Project:
    manifest = settings.target_dir / "manifest.json"
    if not manifest.exists():
        raise DbtCommandError(f"{manifest} not found: run dbt compile (or tessera-dbt check) first")
    catalog_path = settings.target_dir / "catalog.json"
    return load_manifest(manifest, catalog=catalog_path if catalog and catalog_path.exists() else None)


def select_nodes(
    settings: DbtSettings,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    state: str | Path | None = None,
) -> set[str]:
    """dbt's own node selection (``--select state:modified+ --state prod/``): the unique_ids it picks."""
    # not --quiet: dbt ls prints every node to stdout even then, which would corrupt `check --format json`
    args = ["ls", "--output", "json", "--output-keys", "unique_id", "--log-level", "none"]
    for value in select:
        args += ["--select", value]
    for value in exclude:
        args += ["--exclude", value]
    if state:
        args += ["--state", str(state)]
    result = invoke(settings, args)
    ids = set()
    for line in result.result or ():
        ids.add(json.loads(line)["unique_id"] if str(line).startswith("{") else str(line))
    return ids
