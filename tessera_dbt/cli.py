"""``tessera-dbt``: sync, check (the CI gate) and gated run / build for a dbt project.

Exit codes as ``tessctl``: 0 safe / done, 1 blocked or breaking (or the run failed), 2 bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tessera_core import (
    GateSettings,
    TesseraError,
    open_registry,
    render_github_annotations,
    render_junit,
    render_markdown,
    render_report,
    table,
)
from tessera_dbt.artifacts import compile_project, select_nodes
from tessera_dbt.check import CheckResult, check_project
from tessera_dbt.config import DbtSettings, load_settings
from tessera_dbt.publish import ProjectSync, sync_project
from tessera_dbt.runner import run_gated

FORMATS = ("text", "markdown", "json", "github", "junit")


def _settings(ctx: click.Context) -> DbtSettings:
    settings: DbtSettings = ctx.obj
    return settings


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
@click.option(
    "--project-dir", default=".", type=click.Path(file_okay=False, path_type=Path), show_default=True
)
@click.option("--profiles-dir", default=None, type=click.Path(file_okay=False, path_type=Path))
@click.option("--target", default=None)
@click.option("--registry", default=None, help="SQLite path or Tessera server URL (env TESSERA_REGISTRY)")
@click.option(
    "--fail-open", is_flag=True, default=None, help="Pass, loudly, when the registry is unreachable"
)
@click.pass_context
def main(
    ctx: click.Context,
    project_dir: Path,
    profiles_dir: Path | None,
    target: str | None,
    registry: str | None,
    fail_open: bool | None,
) -> None:
    """Data contracts for a dbt project."""
    try:
        ctx.obj = load_settings(
            project_dir, profiles_dir=profiles_dir, target=target, registry=registry, fail_open=fail_open
        )
    except TesseraError as exc:
        _fail(str(exc))


def render_sync(sync: ProjectSync) -> str:
    rows = []
    for uid, result in sync.published.items():
        version = (
            result.contract.version if result.contract else (result.proposal.id if result.proposal else "")
        )
        rows.append((uid.split(".", 2)[-1], result.action, version))
    regs = sync.registrations
    reg_rows = [
        (r.asset_fqn, r.team, r.consumer, ", ".join(sorted(r.columns)) if r.columns is not None else "(all)")
        for r in (*regs.added, *regs.changed)
    ]
    parts = ["Contracts:\n" + table(["node", "action", "version / proposal"], rows)]
    parts.append(
        f"Consumers: {len(regs.added)} added, {len(regs.changed)} changed, {len(regs.retired)} retired, "
        f"{regs.unchanged} unchanged"
    )
    if reg_rows:
        parts.append(table(["asset", "team", "consumer", "columns read"], reg_rows, max_width=70))
    parts += [f"warning: {w}" for w in sync.lineage_warnings]
    return "\n\n".join(parts)


@main.command()
@click.option("--catalog/--no-catalog", default=True, help="Run dbt docs generate for the warehouse's types")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sync(ctx: click.Context, catalog: bool, as_json: bool) -> None:
    """Publish contracts and register the consumers inferred from column lineage."""
    settings = _settings(ctx)
    try:
        project = compile_project(settings, catalog=catalog)
        registry = open_registry(settings.registry, api_key=settings.api_key)
        result = sync_project(
            registry,
            project,
            default_team=settings.default_team,
            settings=GateSettings(fail_open=settings.fail_open),
            cache_dir=settings.target_dir / "tessera_lineage",
        )
    except TesseraError as exc:
        _fail(str(exc))
        return
    click.echo(json.dumps(result.to_dict(), indent=2, default=str) if as_json else render_sync(result))


def render_check(result: CheckResult, fmt: str) -> str:
    reports = [c.report for c in result.changed]
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, default=str)
    if fmt == "markdown":
        return render_markdown(reports)
    if fmt == "github":
        return render_github_annotations(reports, files=result.files)
    if fmt == "junit":
        return render_junit(result.reports)
    if not reports:
        return f"No contract changes in {len(result.checks)} contracted nodes."
    body = "\n\n".join(render_report(r) for r in reports)
    summary = f"{len(result.blocked)} blocked, {len(reports)} changed, {len(result.checks)} checked"
    return f"{body}\n\n{summary}"


@main.command()
@click.option("--select", "-s", multiple=True, help="dbt node selection, e.g. state:modified+")
@click.option("--exclude", multiple=True)
@click.option(
    "--state", type=click.Path(path_type=Path), default=None, help="Production artifacts for state:"
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here too"
)
@click.option(
    "--catalog/--no-catalog", default=False, help="Compare sources with the live warehouse (docs generate)"
)
@click.pass_context
def check(
    ctx: click.Context,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    state: Path | None,
    fmt: str,
    output: Path | None,
    catalog: bool,
) -> None:
    """Compile and check every changed contract; exit 1 when a change is blocked."""
    settings = _settings(ctx)
    try:
        project = compile_project(settings, catalog=catalog)
        selected = (
            select_nodes(settings, select=select, exclude=exclude, state=state)
            if (select or exclude)
            else None
        )
        registry = open_registry(settings.registry, api_key=settings.api_key)
        result = check_project(
            registry, project, selected=selected, settings=GateSettings(fail_open=settings.fail_open)
        )
    except TesseraError as exc:
        _fail(str(exc))
        return
    text = render_check(result, fmt)
    if output:
        output.write_text(text)
    click.echo(text)
    sys.exit(result.exit_code)


def _run(
    ctx: click.Context,
    command: str,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    exclude_blocked: bool,
    as_json: bool,
    dbt_args: tuple[str, ...],
) -> None:
    settings = _settings(ctx)
    try:
        outcome = run_gated(
            settings,
            command=command,
            select=select,
            exclude=exclude,
            exclude_blocked=exclude_blocked,
            extra_args=dbt_args,
            progress=None if as_json else click.echo,
        )
    except TesseraError as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, default=str))
    else:
        if outcome.check.blocked:
            click.echo(render_check(outcome.check, "text"))
        for uid, result in outcome.proposals.items():
            if result.proposal:
                click.echo(f"{uid}: proposal {result.proposal.id} ({result.action.replace('_', ' ')})")
        if outcome.sync:
            click.echo(render_sync(outcome.sync))
        if outcome.error:
            click.echo(f"error: {outcome.error}", err=True)
    sys.exit(outcome.exit_code)


def _run_options(fn: Any) -> Any:
    fn = click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)(fn)
    fn = click.option("--json", "as_json", is_flag=True)(fn)
    fn = click.option(
        "--exclude-blocked", is_flag=True, help="Run everything except blocked nodes and their descendants"
    )(fn)
    fn = click.option("--exclude", multiple=True)(fn)
    fn = click.option("--select", "-s", multiple=True)(fn)
    return fn


@main.command(context_settings={"ignore_unknown_options": True})
@_run_options
@click.pass_context
def run(
    ctx: click.Context,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    exclude_blocked: bool,
    as_json: bool,
    dbt_args: tuple[str, ...],
) -> None:
    """dbt run behind the gate; extra arguments after -- go to dbt."""
    _run(ctx, "run", select, exclude, exclude_blocked, as_json, dbt_args)


@main.command(context_settings={"ignore_unknown_options": True})
@_run_options
@click.pass_context
def build(
    ctx: click.Context,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    exclude_blocked: bool,
    as_json: bool,
    dbt_args: tuple[str, ...],
) -> None:
    """dbt build behind the gate; extra arguments after -- go to dbt."""
    _run(ctx, "build", select, exclude, exclude_blocked, as_json, dbt_args)


if __name__ == "__main__":  # pragma: no cover
    main()
