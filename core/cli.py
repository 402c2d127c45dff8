"""``tessctl``: the core workflow from a terminal, a CI job or an agent.

Exit codes: 0 safe / done, 1 blocked or breaking, 2 bad input, usage or an
unreachable registry. ``--json`` prints one JSON document with stable field names.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tessera_core import gate
from tessera_core.errors import TesseraError
from tessera_core.registry import DEFAULT_PATH, open_registry
from tessera_core.registry.base import (
    AckResponse,
    CompatibilityMode,
    ConsumerKind,
    DependencyType,
    ProposalStatus,
    Registration,
    Registry,
)
from tessera_core.report.table import table
from tessera_core.report.text import render_proposal, render_report
from tessera_core.schema.model import Schema
from tessera_core.schema.names import normalize_name

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])


class Ctx:
    def __init__(self, registry_spec: str, as_json: bool) -> None:
        self.registry_spec = registry_spec
        self.as_json = as_json
        self._registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = open_registry(self.registry_spec, api_key=os.environ.get("TESSERA_API_KEY"))
        return self._registry

    def emit(self, data: Any, text: str) -> None:
        click.echo(json.dumps(data, indent=2, default=str) if self.as_json else text)

    def notify(self) -> None:
        """Send the notifications a write just queued, when a notify config exists (else they wait)."""
        from tessera_core.notify.config import DEFAULT_CONFIG_PATH
        from tessera_core.notify.deliver import flush_if_configured

        config = os.environ.get("TESSERA_NOTIFY_CONFIG") or DEFAULT_CONFIG_PATH
        report = flush_if_configured(self.registry_spec, config)
        if report is not None and (report.delivered or report.retrying or report.dead):
            click.echo(f"notifications: {report.summary()}", err=True)


def _fail(ctx: Ctx, message: str, code: int = EXIT_USAGE) -> NoReturn:
    if ctx.as_json:
        click.echo(json.dumps({"error": message, "exit_code": code}))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handles_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context().find_object(Ctx)
        assert ctx is not None
        try:
            return fn(*args, **kwargs)
        except TesseraError as exc:
            _fail(ctx, str(exc))

    return wrapper  # type: ignore[return-value]


def load_schema(path: Path, *, name: str | None, fmt: str | None) -> Schema:
    """One schema from a file in any supported format; ``name`` picks one of several."""
    from tessera_core.schema.files import read_schema_file

    schemas = read_schema_file(path, format=fmt)
    if name is not None:
        if name not in schemas:
            raise TesseraError(f"{path}: no schema named {name!r}; it has: {', '.join(sorted(schemas))}")
        return schemas[name]
    if len(schemas) != 1:
        raise TesseraError(
            f"{path} holds {len(schemas)} schemas; pick one with --name: {', '.join(sorted(schemas))}"
        )
    return next(iter(schemas.values()))


pass_ctx = click.make_pass_decorator(Ctx)
schema_options = [
    click.argument("schema_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
    click.option("--asset", required=True, help="Asset FQN: database.schema.name"),
    click.option("--name", default=None, help="Which schema of a multi-schema file (OpenAPI, GraphQL)"),
    click.option(
        "--format", "fmt", default=None, help="json_schema | avro | openapi | graphql (default: guess)"
    ),
]


def with_schema_options(fn: F) -> F:
    for option in reversed(schema_options):
        fn = option(fn)
    return fn


@click.group()
@click.option(
    "--registry",
    envvar="TESSERA_REGISTRY",
    default=str(DEFAULT_PATH),
    show_default=True,
    help="SQLite path or Tessera server URL (env TESSERA_REGISTRY)",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for CI and agents")
@click.version_option(package_name="tessera-integrations")
@click.pass_context
def main(click_ctx: click.Context, registry: str, as_json: bool) -> None:
    """Data contracts: check, publish, register consumers, acknowledge proposals."""
    click_ctx.obj = Ctx(registry, as_json)


@main.command()
@with_schema_options
@click.option("--mode", type=click.Choice([m.value for m in CompatibilityMode]), default=None)
@pass_ctx
@handles_errors
def check(
    ctx: Ctx, schema_file: Path, asset: str, name: str | None, fmt: str | None, mode: str | None
) -> None:
    """Would publishing SCHEMA_FILE break anyone? Exit 1 when blocked."""
    schema = load_schema(schema_file, name=name, fmt=fmt)
    settings = gate.GateSettings(default_mode=CompatibilityMode(mode)) if mode else None
    report = gate.check_impact(ctx.registry, _fqn(asset), schema, settings=settings)
    ctx.emit(report.to_dict(), render_report(report))
    sys.exit(EXIT_OK if report.safe_to_publish else EXIT_BLOCKED)


@main.command()
@with_schema_options
@click.option("--owner", default=None, help="Owning team (set on first publish)")
@click.option("--mode", type=click.Choice([m.value for m in CompatibilityMode]), default=None)
@click.option("--by", default=None, help="Who publishes (for the audit log)")
@pass_ctx
@handles_errors
def publish(
    ctx: Ctx,
    schema_file: Path,
    asset: str,
    name: str | None,
    fmt: str | None,
    owner: str | None,
    mode: str | None,
    by: str | None,
) -> None:
    """Publish SCHEMA_FILE as ASSET's contract, or open the proposal it needs (exit 1)."""
    schema = load_schema(schema_file, name=name, fmt=fmt)
    result = gate.publish(ctx.registry, _fqn(asset), schema, owner_team=owner, mode=mode, by=by)
    ctx.notify()
    text = render_report(result.report)
    if result.contract:
        text += f"\n\npublished {result.contract.asset_fqn} {result.contract.version}"
    elif result.proposal:
        text += f"\n\n{result.action.replace('_', ' ')}: {result.proposal.id}"
    ctx.emit(result.to_dict(), text)
    sys.exit(EXIT_BLOCKED if result.action.startswith("proposal") else EXIT_OK)


@main.command()
@click.option("--asset", required=True)
@click.option("--team", required=True)
@click.option("--consumer", required=True, help="The consumer's name: a model, a dashboard, a task")
@click.option("--columns", default=None, help="Comma-separated columns it reads (default: all)")
@click.option("--kind", type=click.Choice([k.value for k in ConsumerKind]), default=ConsumerKind.OTHER.value)
@click.option(
    "--dependency",
    type=click.Choice([d.value for d in DependencyType]),
    default=DependencyType.CONSUMES.value,
)
@click.option("--pin", default=None, help="Pin a contract version")
@pass_ctx
@handles_errors
def register(
    ctx: Ctx,
    asset: str,
    team: str,
    consumer: str,
    columns: str | None,
    kind: str,
    dependency: str,
    pin: str | None,
) -> None:
    """Register TEAM's CONSUMER as reading ASSET (optionally some columns only)."""
    cols = frozenset(normalize_name(c.strip()) for c in columns.split(",") if c.strip()) if columns else None
    ctx.registry.ensure_team(team)
    reg = Registration(
        asset_fqn=_fqn(asset),
        team=team,
        consumer=consumer,
        consumer_kind=ConsumerKind(kind),
        columns=cols,
        dependency_type=DependencyType(dependency),
        pinned_version=pin,
    )
    outcome = ctx.registry.register(reg)
    ctx.notify()
    ctx.emit(
        {
            "outcome": outcome.value,
            "asset": reg.asset_fqn,
            "team": team,
            "consumer": consumer,
            "columns": sorted(cols) if cols else None,
        },
        f"{outcome.value}: {team}/{consumer} reads {reg.asset_fqn}",
    )


@main.command()
@click.argument("asset")
@click.option("--column", default=None, help="Only consumers that read this column")
@pass_ctx
@handles_errors
def consumers(ctx: Ctx, asset: str, column: str | None) -> None:
    """Who reads ASSET (and which columns)."""
    regs = ctx.registry.registrations(_fqn(asset))
    if column:
        regs = [r for r in regs if r.reads(normalize_name(column))]
    data = [
        {
            "team": r.team,
            "consumer": r.consumer,
            "kind": r.consumer_kind.value,
            "columns": sorted(r.columns) if r.columns is not None else None,
            "source": r.source.value,
            "evidence": list(r.evidence),
        }
        for r in regs
    ]
    rows = [
        (
            d["team"],
            d["consumer"],
            d["kind"],
            ", ".join(d["columns"]) if d["columns"] else "(all)",
            d["source"],
        )
        for d in data
    ]
    ctx.emit(
        {"asset": _fqn(asset), "consumers": data},
        table(["team", "consumer", "kind", "columns", "source"], rows) if rows else "no consumers registered",
    )


@main.group()
def proposals() -> None:
    """List and show proposals."""


@proposals.command("list")
@click.option("--asset", default=None)
@click.option("--status", type=click.Choice([s.value for s in ProposalStatus]), default=None)
@pass_ctx
@handles_errors
def proposals_list(ctx: Ctx, asset: str | None, status: str | None) -> None:
    found = ctx.registry.proposals(
        _fqn(asset) if asset else None, status=ProposalStatus(status) if status else None
    )
    rows = [(p.id, p.asset_fqn, p.status.value, ", ".join(p.awaiting) or "-") for p in found]
    ctx.emit(
        [gate.proposal_dict(p) for p in found],
        table(["id", "asset", "status", "awaiting"], rows) if rows else "no proposals",
    )


@proposals.command("show")
@click.argument("proposal_id")
@pass_ctx
@handles_errors
def proposals_show(ctx: Ctx, proposal_id: str) -> None:
    p = ctx.registry.get_proposal(proposal_id)
    changes = "\n".join(f"  {c.kind.value:24} {c.path}: {c.message}" for c in p.changes)
    ctx.emit(gate.proposal_dict(p), f"{render_proposal(p)}\n\nChanges:\n{changes}")


@main.command()
@click.argument("proposal_id")
@click.option("--team", required=True)
@click.option(
    "--response", type=click.Choice([r.value for r in AckResponse]), default=AckResponse.APPROVED.value
)
@click.option("--note", default=None)
@click.option("--by", default=None)
@pass_ctx
@handles_errors
def ack(ctx: Ctx, proposal_id: str, team: str, response: str, note: str | None, by: str | None) -> None:
    """Acknowledge PROPOSAL_ID for TEAM."""
    p = gate.acknowledge(ctx.registry, proposal_id, team, response, note=note, by=by)
    ctx.notify()
    ctx.emit(gate.proposal_dict(p), render_proposal(p))


@main.command()
@click.argument("proposal_id")
@click.option("--reason", required=True, help="Why it cannot wait (>= 10 characters; goes to the audit log)")
@click.option("--by", default=None)
@pass_ctx
@handles_errors
def force(ctx: Ctx, proposal_id: str, reason: str, by: str | None) -> None:
    """Publish PROPOSAL_ID over missing acknowledgments."""
    contract = gate.force_publish(ctx.registry, proposal_id, reason=reason, by=by)
    ctx.notify()
    ctx.emit(
        {"proposal": proposal_id, "version": contract.version, "asset": contract.asset_fqn},
        f"forced {contract.asset_fqn} {contract.version}",
    )


@main.command()
@click.argument("proposal_id")
@click.option("--reason", default=None)
@click.option("--by", default=None)
@pass_ctx
@handles_errors
def withdraw(ctx: Ctx, proposal_id: str, reason: str | None, by: str | None) -> None:
    """Withdraw PROPOSAL_ID."""
    p = gate.withdraw(ctx.registry, proposal_id, by=by, reason=reason)
    ctx.notify()
    ctx.emit(gate.proposal_dict(p), render_proposal(p))


@main.command()
@click.argument("asset")
@pass_ctx
@handles_errors
def history(ctx: Ctx, asset: str) -> None:
    """Published contract versions of ASSET."""
    found = ctx.registry.contract_history(_fqn(asset))
    data = [
        {
            "version": c.version,
            "change_class": c.change_class,
            "published_at": c.published_at,
            "published_by": c.published_by,
            "forced_reason": c.forced_reason,
            "proposal": c.proposal_id,
        }
        for c in found
    ]
    rows = [
        (
            d["version"],
            d["change_class"],
            d["published_at"],
            d["published_by"] or "",
            d["forced_reason"] or "",
        )
        for d in data
    ]
    ctx.emit(
        {"asset": _fqn(asset), "contracts": data},
        table(["version", "class", "published", "by", "forced"], rows) if rows else "no contracts",
    )


@main.command()
@click.argument("asset", required=False)
@click.option("--limit", default=50, show_default=True)
@pass_ctx
@handles_errors
def audit(ctx: Ctx, asset: str | None, limit: int) -> None:
    """The audit log (newest last)."""
    events = ctx.registry.audit(_fqn(asset) if asset else None, limit=limit)
    data = [
        {
            "seq": e.seq,
            "at": e.at,
            "action": e.action,
            "asset": e.asset_fqn,
            "actor": e.actor,
            "details": e.details,
        }
        for e in events
    ]
    rows = [(d["seq"], d["at"], d["action"], d["asset"] or "", d["actor"] or "") for d in data]
    ctx.emit(data, table(["seq", "at", "action", "asset", "actor"], rows) if rows else "no events")


@main.command()
@click.argument("model")
@click.option(
    "--manifest",
    default="target/manifest.json",
    show_default=True,
    type=click.Path(exists=True, path_type=Path),
    help="A compiled dbt manifest (or its target/ folder)",
)
@click.option("--catalog", default=None, type=click.Path(exists=True, path_type=Path))
@pass_ctx
@handles_errors
def lineage(ctx: Ctx, model: str, manifest: Path, catalog: Path | None) -> None:
    """MODEL's upstream tables, the columns it reads from each (and where), and its output columns."""
    from tessera_core.lineage.project import analyze_project
    from tessera_core.manifest import load_manifest

    project = load_manifest(manifest, catalog=catalog)
    node = project.nodes.get(model) or next(
        (n for n in project.nodes.values() if n.name == model and n.resource_type in ("model", "snapshot")),
        None,
    )
    if node is None:
        raise TesseraError(f"{manifest}: no model named {model!r}")
    found = analyze_project(project).models.get(node.unique_id)
    if found is None:
        raise TesseraError(f"{node.unique_id} has no compiled SQL in {manifest}: run dbt compile first")
    upstream: list[dict[str, Any]] = []
    rows: list[tuple[str, str, str]] = []
    for uid in found.upstream:
        cols = found.columns_read.get(uid)
        reads = {c: sorted(str(k) for k in found.clauses.get((uid, c), ())) for c in sorted(cols or ())}
        relation = project.nodes[uid].relation if uid in project.nodes else None
        upstream.append(
            {"unique_id": uid, "relation": relation, "columns": reads if cols is not None else None}
        )
        name = uid.split(".")[-1]
        if cols is None:
            rows.append((name, "(all columns)", "-"))
        rows += [(name, col, ", ".join(clauses) or "select") for col, clauses in reads.items()]
    outputs = {
        out: sorted(f"{project.nodes[u].name if u in project.nodes else u}.{c}" for u, c in srcs)
        for out, srcs in found.outputs.items()
    }
    out_rows = [(out, ", ".join(srcs) or "-") for out, srcs in outputs.items()]
    text = (
        f"{node.unique_id} reads:\n"
        + table(["upstream", "column", "clauses"], rows, max_width=70)
        + "\n\nOutput columns:\n"
        + table(["column", "derived from"], out_rows, max_width=90)
    )
    text += "".join(f"\nwarning: {w}" for w in found.warnings)
    ctx.emit(
        {
            "model": node.unique_id,
            "upstream": upstream,
            "outputs": outputs,
            "ok": found.ok,
            "warnings": list(found.warnings),
        },
        text,
    )


# notifications (tessera_core.notify): the SQLite registry's outbox
@main.group(invoke_without_command=True)
@click.option("--flush", is_flag=True, help="Deliver the notifications that are due (new ones and retries)")
@click.option(
    "--config",
    "config_path",
    envvar="TESSERA_NOTIFY_CONFIG",
    default=".tessera/notify.yml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Channels per team (env TESSERA_NOTIFY_CONFIG)",
)
@click.pass_context
@handles_errors
def notify(click_ctx: click.Context, flush: bool, config_path: Path) -> None:
    """Notifications: --flush delivers them (exit 1 when one was given up), `status` reports them."""
    if click_ctx.invoked_subcommand is not None:
        return
    if not flush:
        click.echo(click_ctx.get_help(), err=True)
        sys.exit(EXIT_USAGE)
    from tessera_core.notify import flush_notifications

    ctx = click_ctx.find_object(Ctx)
    assert ctx is not None
    if (path := _outbox_path(ctx)) is not None:
        report = flush_notifications(path, config_path)
        ctx.emit(report.to_dict(), report.summary())
        sys.exit(EXIT_OK if report.ok else EXIT_BLOCKED)


@notify.command("status")
@pass_ctx
@handles_errors
def notify_status(ctx: Ctx) -> None:
    """Counts, and every dead or retrying delivery with its last error (exit 1 when any is dead)."""
    from tessera_core.notify import outbox_status

    if (path := _outbox_path(ctx)) is not None:
        status = outbox_status(path)
        ctx.emit(status.to_dict(), status.summary())
        sys.exit(EXIT_BLOCKED if status.dead else EXIT_OK)


def _outbox_path(ctx: Ctx) -> Path | None:
    """The SQLite registry holding the outbox; None (and a message) when the registry is a server."""
    if ctx.registry_spec.startswith(("http://", "https://")):
        message = "the registry is a Tessera server: it sends notifications itself; there is no outbox"
        ctx.emit({"outbox": None, "message": message}, message)
        return None
    return Path(ctx.registry_spec.removeprefix("sqlite:///").removeprefix("sqlite://"))


def _fqn(asset: str) -> str:
    return ".".join(normalize_name(p) for p in asset.split("."))


from tessera_core.cli_agent import register_agent_commands  # noqa: E402

register_agent_commands(main)


if __name__ == "__main__":  # pragma: no cover
    main()
