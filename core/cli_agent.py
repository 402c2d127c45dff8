"""``tessctl agent ...``: the MCP server's tools as commands, with the same names, arguments and answers.

Every command builds the tool's JSON arguments from its options and runs
``tessera_core.agent.call``, so the answer (``--json``) has the same fields as the
MCP tool's. ``tessctl agent call NAME`` takes the arguments as one JSON document.

Exit codes: 0 safe or done; 1 blocked (a breaking change not yet acknowledged, a
proposal still waiting, or a registry state that refuses the operation); 2 bad input
(the message says which argument and how to fix it) or an unreachable registry.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from tessera_core import agent
from tessera_core.errors import TesseraError
from tessera_core.registry.base import AckResponse, ConsumerKind

if TYPE_CHECKING:
    from tessera_core.cli import Ctx

F = TypeVar("F", bound=Callable[..., Any])


def register_agent_commands(group: click.Group) -> None:
    """Add the ``agent`` command group to ``group`` (``tessctl``'s ``main``)."""
    group.add_command(agent_commands)


@click.group("agent")
def agent_commands() -> None:
    """The agent operations (the MCP server's tools): check-impact, who-reads, register-query,
    open-proposal, acknowledge, proposal-status.

    Exit codes: 0 safe or done, 1 blocked, 2 bad input or an unreachable registry.
    """


def _ctx() -> Ctx:
    root: Ctx = click.get_current_context().find_root().obj
    return root


def _finish(name: str, answer: dict[str, Any], as_json: bool) -> NoReturn:
    use_json = as_json or _ctx().as_json
    click.echo(json.dumps(answer, indent=2, default=str) if use_json else render_text(answer))
    sys.exit(agent.exit_code(name, answer))


def _fail(error: TesseraError, as_json: bool) -> NoReturn:
    answer = agent.error_answer(error)
    if as_json or _ctx().as_json:
        click.echo(json.dumps(answer, indent=2))
    else:
        click.echo(f"error: {answer['error']}", err=True)
    sys.exit(answer["exit_code"])


def run(name: str, arguments: dict[str, Any], *, as_json: bool) -> NoReturn:
    """Run operation ``name`` on the registry of ``tessctl``, print its answer and exit with its code."""
    given = {key: value for key, value in arguments.items() if value is not None}
    try:
        answer = agent.call(_ctx().registry, name, given)
    except TesseraError as error:
        _fail(error, as_json)
    _finish(name, answer, as_json)


def render_text(answer: dict[str, Any]) -> str:
    """A terminal rendering of any operation's answer: the summary, then its lists."""
    if "error" in answer:
        return f"error: {answer['error']}"
    lines = [str(answer.get("summary", ""))]
    more = answer.get("more", {})
    for change in answer.get("changes", []):
        severity = f" [{change['severity']}]" if change.get("severity") else ""
        lines.append(f"  change  {change['kind']}{severity}: {change['message']}")
    for reader in answer.get("readers", []):
        columns = "every column" if reader["all_columns"] else ", ".join(reader["columns"])
        via = f" (depth {reader['depth']})" if reader["depth"] else ""
        who = f"{reader['team']}/{reader['consumer']}"
        lines.append(f"  reader  {who} reads {reader['reads']}: {columns}{via}")
    for row in answer.get("registered", []):
        columns = "every column" if row["all_columns"] else ", ".join(row["columns"])
        lines.append(f"  {row['outcome']:9} {row['asset']}: {columns}")
    for ack in answer.get("acknowledgments", []):
        note = f" ({ack['note']})" if ack.get("note") else ""
        lines.append(f"  ack     {ack['team']}: {ack['response']}{note}")
    for what, count in more.items():
        if count:
            lines.append(f"  and {count} more {what}")
    lines += [f"warning: {w}" for w in answer.get("warnings", [])]
    lines += [f"next: {step}" for step in answer.get("next_steps", [])]
    return "\n".join(line for line in lines if line)


# --- options shared by the schema-taking commands --------------------------------------------------


def _read_text(path: str) -> str:
    if path == "-":
        text: str = sys.stdin.read()
        return text
    return Path(path).read_text(encoding="utf-8")


def _load_json_schema(path: Path) -> Any:
    from tessera_core.schema.files import load_document

    document, _ = load_document(path)
    return document


def _columns(specs: tuple[str, ...]) -> list[dict[str, str]] | None:
    if not specs:
        return None
    columns = []
    for spec in specs:
        name, _, data_type = spec.partition(":")
        column = {"name": name.strip()}
        if data_type.strip():
            column["data_type"] = data_type.strip()
        columns.append(column)
    return columns


def _schema_arguments(
    schema_file: Path | None, column: tuple[str, ...], sql_file: str | None, sql: str | None
) -> dict[str, Any]:
    if sql_file is not None and sql is not None:
        raise click.UsageError("pass --sql-file or --sql, not both")
    return {
        "schema": _load_json_schema(schema_file) if schema_file else None,
        "columns": _columns(column),
        "sql": _read_text(sql_file) if sql_file is not None else sql,
    }


_SCHEMA_OPTIONS = [
    click.option(
        "--schema-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The proposed schema: a JSON Schema document (.json / .yaml)",
    ),
    click.option(
        "--column",
        multiple=True,
        metavar="NAME[:TYPE]",
        help="A proposed column (repeat, all columns in order); without TYPE it keeps its contract type",
    ),
    click.option("--sql-file", metavar="PATH|-", help="The model's new SQL (- reads stdin)"),
    click.option("--sql", default=None, help="The model's new SQL, inline"),
    click.option("--dialect", default=None, help="SQL dialect of the types / SQL (default: the asset's)"),
    click.option("--default-database", default=None, help="Database of unqualified tables in the SQL"),
    click.option("--default-schema", default=None, help="Schema of unqualified tables in the SQL"),
]
_LIMIT = click.option(
    "--limit", type=int, default=None, help=f"Items per list (default {agent.DEFAULT_LIMIT})"
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON")


def _with(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


def _usage(fn: Callable[..., None]) -> Callable[..., None]:
    """Turn a ``click.UsageError`` or an unreadable file into exit code 2 with the JSON error shape."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except (click.UsageError, OSError) as error:
            message = error.format_message() if isinstance(error, click.UsageError) else str(error)
            _fail(agent.AgentInputError(message), bool(kwargs.get("as_json")))
        except TesseraError as error:
            _fail(error, bool(kwargs.get("as_json")))

    return wrapper


# --- the commands ---------------------------------------------------------------------------------


@agent_commands.command("check-impact")
@click.option("--asset", required=True, help="database.schema.name, or a unique model / table name")
@_with(_SCHEMA_OPTIONS)
@_LIMIT
@_JSON
@_usage
def check_impact(
    asset: str,
    schema_file: Path | None,
    column: tuple[str, ...],
    sql_file: str | None,
    sql: str | None,
    dialect: str | None,
    default_database: str | None,
    default_schema: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Which columns a proposed schema or model SQL changes, who reads them, and whether it is safe."""
    arguments = {
        "asset": asset,
        **_schema_arguments(schema_file, column, sql_file, sql),
        "dialect": dialect,
        "default_database": default_database,
        "default_schema": default_schema,
        "limit": limit,
    }
    run("check_impact", arguments, as_json=as_json)


@agent_commands.command("who-reads")
@click.argument("asset")
@click.option("--column", default=None, help="Only the consumers of this column")
@click.option("--transitive", is_flag=True, help="Also the consumers downstream")
@_LIMIT
@_JSON
@_usage
def who_reads(asset: str, column: str | None, transitive: bool, limit: int | None, as_json: bool) -> None:
    """Who reads ASSET (or one column of it)."""
    arguments = {"asset": asset, "column": column, "transitive": transitive or None, "limit": limit}
    run("who_reads", arguments, as_json=as_json)


@agent_commands.command("register-query")
@click.option("--sql-file", metavar="PATH|-", help="The query (- reads stdin)")
@click.option("--sql", default=None, help="The query, inline")
@click.option("--dialect", required=True, help="SQL dialect (duckdb, snowflake, bigquery...)")
@click.option("--consumer", required=True, help="What runs the query: a notebook, a job, a dashboard")
@click.option("--team", required=True, help="The team that owns the consumer")
@click.option("--kind", type=click.Choice([k.value for k in ConsumerKind]), default=None)
@click.option("--produces", default=None, help="The asset the query writes, if any")
@click.option("--default-database", default=None)
@click.option("--default-schema", default=None)
@click.option("--replace-previous", is_flag=True, help="Retire registrations on tables no longer read")
@click.option("--dry-run", is_flag=True, help="Show what would be registered")
@_LIMIT
@_JSON
@_usage
def register_query(
    sql_file: str | None,
    sql: str | None,
    dialect: str,
    consumer: str,
    team: str,
    kind: str | None,
    produces: str | None,
    default_database: str | None,
    default_schema: str | None,
    replace_previous: bool,
    dry_run: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """Register the tables and columns a query reads, from its SQL."""
    if (sql_file is None) == (sql is None):
        raise click.UsageError("pass the query with --sql-file (or - for stdin) or --sql")
    arguments = {
        "sql": _read_text(sql_file) if sql_file is not None else sql,
        "dialect": dialect,
        "consumer": consumer,
        "team": team,
        "consumer_kind": kind,
        "produces": produces,
        "default_database": default_database,
        "default_schema": default_schema,
        "replace_previous": replace_previous or None,
        "dry_run": dry_run or None,
        "limit": limit,
    }
    run("register_query", arguments, as_json=as_json)


@agent_commands.command("open-proposal")
@click.option("--asset", default=None, help="database.schema.name, or a unique model / table name")
@_with(_SCHEMA_OPTIONS)
@click.option("--proposal-id", default=None, help="Publish this (approved) proposal's schema")
@click.option("--owner", "owner_team", default=None, help="Owning team (first publish)")
@click.option("--by", default=None, help="Who publishes (audit log)")
@_LIMIT
@_JSON
@_usage
def open_proposal(
    asset: str | None,
    schema_file: Path | None,
    column: tuple[str, ...],
    sql_file: str | None,
    sql: str | None,
    dialect: str | None,
    default_database: str | None,
    default_schema: str | None,
    proposal_id: str | None,
    owner_team: str | None,
    by: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Publish through the gate: safe changes publish, breaking ones open a proposal (exit 1)."""
    arguments = {
        "asset": asset,
        **_schema_arguments(schema_file, column, sql_file, sql),
        "proposal_id": proposal_id,
        "dialect": dialect,
        "default_database": default_database,
        "default_schema": default_schema,
        "owner_team": owner_team,
        "by": by,
        "limit": limit,
    }
    run("open_proposal", arguments, as_json=as_json)


@agent_commands.command("acknowledge")
@click.argument("proposal_id")
@click.option("--team", required=True, help="The affected team that answers")
@click.option("--response", type=click.Choice([r.value for r in AckResponse]), default=None)
@click.option("--note", default=None)
@click.option("--by", default=None)
@_LIMIT
@_JSON
@_usage
def acknowledge(
    proposal_id: str,
    team: str,
    response: str | None,
    note: str | None,
    by: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Answer PROPOSAL_ID for TEAM (approved by default)."""
    arguments = {
        "proposal_id": proposal_id,
        "team": team,
        "response": response,
        "note": note,
        "by": by,
        "limit": limit,
    }
    run("acknowledge", arguments, as_json=as_json)


@agent_commands.command("proposal-status")
@click.argument("proposal_id", required=False)
@click.option("--asset", default=None, help="Instead of PROPOSAL_ID: the newest proposal on this asset")
@_LIMIT
@_JSON
@_usage
def proposal_status(proposal_id: str | None, asset: str | None, limit: int | None, as_json: bool) -> None:
    """A proposal's state (exit 1 while it still holds the change back)."""
    run("proposal_status", {"proposal_id": proposal_id, "asset": asset, "limit": limit}, as_json=as_json)


@agent_commands.command("call")
@click.argument("operation", type=click.Choice(list(agent.OPERATIONS)))
@click.option(
    "--input", "source", default="-", show_default=True, metavar="PATH|-", help="JSON arguments file"
)
@_JSON
@_usage
def call(operation: str, source: str, as_json: bool) -> None:
    """Run OPERATION with the JSON arguments the MCP tool takes (from a file or stdin)."""
    text = _read_text(source)
    try:
        arguments = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise agent.AgentInputError(
            f"{source}: not JSON ({error.msg} at line {error.lineno} column {error.colno}); pass one JSON "
            "object of arguments"
        ) from None
    if not isinstance(arguments, dict):
        raise agent.AgentInputError(
            f"{source}: the arguments must be one JSON object, not {type(arguments).__name__}"
        )
    try:
        answer = agent.call(_ctx().registry, operation, arguments)
    except TesseraError as error:
        _fail(error, as_json)
    _finish(operation, answer, as_json)


@agent_commands.command("tools")
def list_tools() -> None:
    """The operations with their descriptions and JSON Schemas (what the MCP server lists)."""
    click.echo(
        json.dumps(
            [
                {"name": op.name, "description": op.description, "input_schema": op.input_schema}
                for op in agent.OPERATIONS.values()
            ],
            indent=2,
        )
    )
