"""The agent interface: what a coding agent calls before and after it changes data code.

Six operations, each a function over a ``Registry`` that returns a small JSON-ready
dict with stable field names: ``check_impact``, ``who_reads``, ``register_query``,
``open_proposal``, ``acknowledge`` and ``proposal_status``. ``OPERATIONS`` holds
each one with the JSON Schema of its arguments; ``call`` validates the arguments
and runs it. The MCP server and the CLI both go through ``call``, so they accept
the same arguments and give the same answers.

Answers stay short enough for a model's context: lists of objects are capped at
``limit`` and ``more`` counts what was left out; lists of strings end with an
``"and N more"`` line. ``summary`` is one sentence; ``next_steps`` says what to
call next. Readers have ``columns`` (the ones that matter here) and
``all_columns`` (true when the consumer reads every column, or nobody knows which:
the fail-safe). Errors are ``TesseraError``s; ``error_answer`` turns one into
``{"error", "kind", "exit_code"}``.

Exit codes (``exit_code``): 0 safe or done, 1 blocked, 2 bad input (or an
unreachable registry).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from tessera_core import gate
from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.errors import (
    ConflictError,
    InvalidStateError,
    NotFoundError,
    RegistryUnavailableError,
    SchemaError,
    TesseraError,
    UnknownDialectError,
)
from tessera_core.impact import affected_consumers
from tessera_core.lineage.query import QueryAnalysis, QueryLineage, analyze_model_sql, analyze_query
from tessera_core.registry.base import (
    AckResponse,
    AffectedConsumer,
    ColumnFlow,
    ConsumerKind,
    Contract,
    Proposal,
    ProposalStatus,
    Registration,
    RegistrationSource,
    Registry,
)
from tessera_core.schema.jsonschema import read_json_schema
from tessera_core.schema.model import ANY, Field, Schema
from tessera_core.schema.names import normalize_name
from tessera_core.schema.types import parse_data_type

EXIT_DONE, EXIT_BLOCKED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
EVIDENCE_LINES = 3

Answer = dict[str, Any]


class AgentInputError(TesseraError):
    """Arguments an operation cannot use; the message names the argument and how to fix it."""


# --- the arguments -------------------------------------------------------------------------------

_ASSET = {
    "type": "string",
    "minLength": 1,
    "description": "The asset: database.schema.name, or just the model / table name when it is unique",
}
_SCHEMA = {
    "type": "object",
    "description": "The proposed schema as a JSON Schema document (an object schema with properties)",
}
_COLUMNS = {
    "type": "array",
    "minItems": 1,
    "description": (
        "The proposed columns, all of them, in order. A column without data_type keeps its contract type; "
        "tests, constraints and contract settings are kept from the published contract"
    ),
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "data_type": {"type": "string", "minLength": 1, "description": "Warehouse type in the dialect"},
            "nullable": {"type": "boolean"},
            "description": {"type": "string"},
        },
        "required": ["name"],
        "additionalProperties": False,
    },
}
_SQL = {
    "type": "string",
    "minLength": 1,
    "description": "SQL (compiled, or dbt model code using ref() / source())",
}
_MODEL_SQL = {
    **_SQL,
    "description": (
        "The model's new SQL: its output columns are compared with the published contract (removed and "
        "added columns; types stay the contract's). Compiled SQL, or dbt model code using ref() / source()"
    ),
}
_DIALECT = {
    "type": "string",
    "minLength": 1,
    "description": "sqlglot dialect (duckdb, snowflake, bigquery, postgres...); default: the asset's",
}
_DEFAULT_DATABASE = {"type": "string", "minLength": 1, "description": "Database of unqualified tables"}
_DEFAULT_SCHEMA = {"type": "string", "minLength": 1, "description": "Schema of unqualified tables"}
_LIMIT = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_LIMIT,
    "description": f"At most this many items per list (default {DEFAULT_LIMIT}); `more` counts the rest",
}
_PROPOSAL_ID = {"type": "string", "minLength": 1, "description": "The proposal id, e.g. P-1a2b3c4d"}
_BY = {"type": "string", "minLength": 1, "description": "Who does it (for the audit log)"}


def _object(properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


CHECK_IMPACT_INPUT = _object(
    {
        "asset": _ASSET,
        "schema": _SCHEMA,
        "columns": _COLUMNS,
        "sql": _MODEL_SQL,
        "dialect": _DIALECT,
        "default_database": _DEFAULT_DATABASE,
        "default_schema": _DEFAULT_SCHEMA,
        "limit": _LIMIT,
    },
    ["asset"],
)
WHO_READS_INPUT = _object(
    {
        "asset": _ASSET,
        "column": {"type": "string", "minLength": 1, "description": "Only the consumers of this column"},
        "transitive": {
            "type": "boolean",
            "description": "Also the consumers downstream, through the models that pass the columns on",
        },
        "limit": _LIMIT,
    },
    ["asset"],
)
REGISTER_QUERY_INPUT = _object(
    {
        "sql": _SQL,
        "dialect": {**_DIALECT, "description": "sqlglot dialect of the SQL (duckdb, snowflake, bigquery...)"},
        "consumer": {"type": "string", "minLength": 1, "description": "Name of what runs the query"},
        "team": {"type": "string", "minLength": 1, "description": "Team that owns the consumer"},
        "consumer_kind": {"enum": [k.value for k in ConsumerKind], "description": "Default: other"},
        "produces": {**_ASSET, "description": "The asset the query writes, if any (for transitive impact)"},
        "default_database": _DEFAULT_DATABASE,
        "default_schema": _DEFAULT_SCHEMA,
        "replace_previous": {
            "type": "boolean",
            "description": "Retire this consumer's registrations on tables the query no longer reads",
        },
        "dry_run": {"type": "boolean", "description": "Say what would be registered; register nothing"},
        "limit": _LIMIT,
    },
    ["sql", "dialect", "consumer", "team"],
)
OPEN_PROPOSAL_INPUT = _object(
    {
        "asset": {**_ASSET, "description": f"{_ASSET['description']}; not needed with proposal_id"},
        "schema": _SCHEMA,
        "columns": _COLUMNS,
        "sql": _MODEL_SQL,
        "proposal_id": {
            **_PROPOSAL_ID,
            "description": "Publish the schema of this proposal (once every affected team approved)",
        },
        "dialect": _DIALECT,
        "default_database": _DEFAULT_DATABASE,
        "default_schema": _DEFAULT_SCHEMA,
        "owner_team": {"type": "string", "minLength": 1, "description": "Owning team (first publish)"},
        "by": _BY,
        "limit": _LIMIT,
    },
)
ACKNOWLEDGE_INPUT = _object(
    {
        "proposal_id": _PROPOSAL_ID,
        "team": {"type": "string", "minLength": 1, "description": "The affected team that answers"},
        "response": {
            "enum": [r.value for r in AckResponse],
            "description": "approved (default), migrating or blocked",
        },
        "note": {"type": "string", "description": "Why, or what the team does about it"},
        "by": _BY,
        "limit": _LIMIT,
    },
    ["proposal_id", "team"],
)
PROPOSAL_STATUS_INPUT = _object(
    {
        "proposal_id": _PROPOSAL_ID,
        "asset": {**_ASSET, "description": "Instead of proposal_id: the newest proposal on this asset"},
        "limit": _LIMIT,
    },
)


# --- answers: small dicts -------------------------------------------------------------------------


def _cap(items: Sequence[Any], limit: int) -> tuple[list[Any], int]:
    return list(items[:limit]), max(0, len(items) - limit)


def _lines(items: Sequence[str], limit: int) -> list[str]:
    shown, more = _cap(items, limit)
    return [*shown, f"and {more} more"] if more else shown


def _names(items: Sequence[str], limit: int = 10) -> str:
    return ", ".join(_lines(sorted(items), limit))


def _change(change: Change, severity: str | None) -> Answer:
    return {
        "column": change.column,
        "path": change.path,
        "kind": change.kind.value,
        "severity": severity,
        "message": change.message,
    }


def _reader(consumer: AffectedConsumer) -> Answer:
    return {
        "team": consumer.team,
        "consumer": consumer.consumer,
        "kind": consumer.consumer_kind.value,
        "reads": consumer.asset_fqn,
        "columns": list(consumer.columns),
        "all_columns": not consumer.columns,
        "depth": consumer.depth,
        "evidence": _lines(consumer.evidence, EVIDENCE_LINES),
        "source": None,
        "produces": None,
    }


def _registration(reg: Registration, column: str | None) -> Answer:
    if reg.columns is None:
        columns = [column] if column else []
    else:
        columns = [column] if column else sorted(reg.columns)
    return {
        "team": reg.team,
        "consumer": reg.consumer,
        "kind": reg.consumer_kind.value,
        "reads": reg.asset_fqn,
        "columns": columns,
        "all_columns": reg.columns is None,
        "depth": 0,
        "evidence": _lines(_evidence_of(reg, column), EVIDENCE_LINES),
        "source": reg.source.value,
        "produces": reg.consumer_asset,
    }


def _evidence_of(reg: Registration, column: str | None) -> list[str]:
    if column is None:
        return list(reg.evidence)
    return [e for e in reg.evidence if e.split(":", 1)[0].strip() == column]


def _proposal_brief(p: Proposal) -> Answer:
    return {"id": p.id, "status": p.status.value, "awaiting": list(p.awaiting)}


# --- arguments -> the proposed schema -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposed:
    """A proposed schema, how it was given, and what was inferred or assumed on the way."""

    schema: Schema
    given_as: str  # schema | columns | sql | proposal
    inferred: Answer | None = None
    warnings: tuple[str, ...] = ()


def _fqn(text: str) -> str:
    return ".".join(normalize_name(part) for part in text.strip().split("."))


def resolve_asset(registry: Registry, text: str, *, must_exist: bool = True, argument: str = "asset") -> str:
    """The FQN of the asset ``text`` names: its full name, or a unique suffix (``dim_customers``).

    Unknown names raise ``AgentInputError`` (with the closest known names) unless
    ``must_exist`` is false, when the normalized name comes back as it is.
    """
    fqn = _fqn(text)
    if registry.get_asset(fqn) is not None:
        return fqn
    known = [a.fqn for a in registry.assets()]
    matches = [k for k in known if k.endswith("." + fqn)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise AgentInputError(
            f"arguments.{argument}: {text!r} matches several assets ({_names(matches)}); pass the full name"
        )
    if not must_exist:
        return fqn
    close = difflib.get_close_matches(fqn, known, n=3, cutoff=0.6) or difflib.get_close_matches(
        fqn, [k.rsplit(".", 1)[-1] for k in known], n=3, cutoff=0.6
    )
    hint = f"did you mean {', '.join(close)}?" if close else f"known assets: {_names(known) or 'none'}"
    raise AgentInputError(f"arguments.{argument}: no asset {text!r} in the registry; {hint}")


def _dialect(registry: Registry, fqn: str, given: str | None, contract: Contract | None) -> str | None:
    if given:
        return given
    asset = registry.get_asset(fqn)
    if asset is not None and asset.dialect:
        return asset.dialect
    return contract.schema.dialect if contract is not None else None


def _with_fields(base: Schema, fields: Sequence[Field]) -> Schema:
    """``base`` with new fields; guarantees on columns that are gone go with them."""
    present = {f.name for f in fields}
    kept = tuple(g for g in base.guarantees if g.column is None or g.column in present)
    return replace(base, fields=tuple(fields), guarantees=kept)


def schema_from_columns(
    columns: Sequence[Mapping[str, Any]], *, contract: Contract | None, dialect: str | None
) -> Schema:
    """The proposed schema from a column list; everything the list does not say stays the contract's."""
    base = contract.schema if contract is not None else Schema(source_format="dbt", dialect=dialect)
    old = {normalize_name(f.name): f for f in base.fields}
    fields: list[Field] = []
    for i, column in enumerate(columns):
        name = normalize_name(column["name"])
        where = f"arguments.columns[{i}]"
        if any(f.name == name for f in fields):
            raise AgentInputError(f"{where}: column {name!r} is listed twice; list each column once")
        previous = old.get(name)
        data_type = column.get("data_type")
        if data_type is None:
            kind = previous.type if previous is not None else ANY
        elif dialect is None:
            raise AgentInputError(
                f"{where}: reading data_type {data_type!r} needs a dialect and the asset has none on record; "
                "pass dialect (duckdb, snowflake, bigquery, postgres...)"
            )
        else:
            kind = parse_data_type(data_type, dialect=dialect, column=name, source=where)
        field = replace(previous, name=name, type=kind) if previous is not None else Field(name, kind)
        if "nullable" in column:
            field = replace(field, nullable=bool(column["nullable"]))
        if "description" in column:
            field = replace(field, description=column["description"] or None)
        fields.append(field)
    return _with_fields(base, fields)


_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_CONFIG = re.compile(r"\{\{-?\s*config\s*\(.*?\)\s*-?\}\}", re.S)
_INCREMENTAL = re.compile(r"\{%-?\s*if\s+is_incremental\(\)\s*-?%\}.*?\{%-?\s*endif\s*-?%\}", re.S)
_RELATION = re.compile(r"\{\{-?\s*(ref|source)\s*\((.*?)\)\s*-?\}\}", re.S)
_THIS = re.compile(r"\{\{-?\s*this\s*-?\}\}")
_TAG = re.compile(r"\{%.*?%\}", re.S)
_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
_QUOTED = re.compile(r"""^\s*(['"])(.*)\1\s*$""", re.S)


def plain_sql(sql: str, *, this: str = "this") -> tuple[str, tuple[str, ...]]:
    """dbt model code as plain SQL: ``ref('m')`` -> ``m``, ``source('s', 't')`` -> ``s.t``.

    Config blocks, comments and ``is_incremental()`` branches are dropped and ``{{ this }}``
    becomes ``this``. Other Jinja is dropped too (tags removed, expressions read as ``null``),
    with a note saying so: pass compiled SQL for exact lineage.
    """
    if not any(mark in sql for mark in ("{{", "{%", "{#")):
        return sql, ()

    def relation(match: re.Match[str]) -> str:
        args = [m.group(2) for part in match.group(2).split(",") if (m := _QUOTED.match(part))]
        if not args:
            return "null"
        return ".".join(args[:2]) if match.group(1) == "source" else args[-1]

    text = _JINJA_COMMENT.sub("", sql)
    text = _CONFIG.sub("", text)
    text = _INCREMENTAL.sub("", text)
    text = _RELATION.sub(relation, text)
    text = _THIS.sub(this, text)
    notes: tuple[str, ...] = ()
    if "{{" in text or "{%" in text:
        text = _EXPRESSION.sub("null", _TAG.sub(" ", text))
        notes = (
            "the SQL holds Jinja beyond ref() and source(): tags were dropped and expressions read as null; "
            "pass the compiled SQL (dbt compile) for exact lineage",
        )
    return text, notes


def _matching_assets(table: str, known: Sequence[str]) -> list[str]:
    if table in known:
        return [table]
    return [k for k in known if k.endswith("." + table)]


def schema_from_sql(
    registry: Registry,
    fqn: str,
    sql: str,
    *,
    contract: Contract,
    dialect: str,
    default_database: str | None = None,
    default_schema: str | None = None,
) -> Proposed:
    """The contract with the output columns of the model's new SQL: removed ones go, new ones come.

    Types cannot be told from SQL: a kept column keeps its contract type and a new
    one is typed ``any``. ``SELECT *`` expands through the contracts of the tables read.
    """
    text, notes = plain_sql(sql, this=fqn)

    def analyze(columns: Mapping[str, Sequence[str]] | None = None) -> QueryAnalysis:
        return analyze_model_sql(
            text,
            dialect=dialect,
            schema=columns,
            default_database=default_database,
            default_schema=default_schema,
            name=fqn,
        )

    analysis = analyze()
    if not analysis.outputs_complete and analysis.lineage.ok:
        known = [a.fqn for a in registry.assets()]
        columns: dict[str, list[str]] = {}
        for table in analysis.lineage.tables:
            found = _matching_assets(table, known)
            upstream = registry.current_contract(found[0]) if len(found) == 1 else None
            if upstream is not None:
                columns[table] = [f.name for f in upstream.schema.fields]
        if columns:
            analysis = analyze(columns)
    lineage = analysis.lineage
    if not lineage.ok or not analysis.outputs_complete or not lineage.outputs:
        reason = "; ".join(lineage.warnings) or "the SQL selects no columns"
        raise AgentInputError(
            f"arguments.sql: cannot tell the output columns of {fqn} ({reason}). Fix the SQL, pass the "
            "compiled SQL, or pass columns instead"
        )
    outputs = list(dict.fromkeys(name for name, _ in lineage.outputs))
    old = {normalize_name(f.name): f for f in contract.schema.fields}
    fields = [old[name] if name in old else Field(name, ANY) for name in outputs]
    removed = [name for name in old if name not in outputs]
    added = [name for name in outputs if name not in old]
    inferred = {
        "output_columns": outputs,
        "columns_removed": removed,
        "columns_added": added,
        "tables_read": sorted(lineage.tables),
    }
    warnings = (
        *notes,
        *lineage.warnings,
        f"types are not read from SQL: kept columns keep their {contract.version} contract types"
        + (f", new columns ({', '.join(added)}) are typed any" if added else "")
        + "; to check a type change, pass columns with data_type",
    )
    return Proposed(_with_fields(contract.schema, fields), "sql", inferred, tuple(warnings))


def proposed_schema(
    registry: Registry,
    fqn: str,
    *,
    schema: Mapping[str, Any] | None = None,
    columns: Sequence[Mapping[str, Any]] | None = None,
    sql: str | None = None,
    dialect: str | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
) -> Proposed:
    """The schema the arguments propose for ``fqn``: exactly one of ``schema``, ``columns``, ``sql``."""
    options = (("schema", schema), ("columns", columns), ("sql", sql))
    given = [name for name, value in options if value is not None]
    if len(given) != 1:
        raise AgentInputError(
            "pass exactly one of schema (a JSON Schema document), columns (a list of {name, data_type}) "
            "or sql (the model's new SQL)" + (f"; got {' and '.join(given)}" if given else "")
        )
    contract = registry.current_contract(fqn)
    if schema is not None:
        document = read_json_schema(schema, source="arguments.schema")
        kept = contract.schema.source_format if contract is not None else document.source_format
        if kept == document.source_format:
            return Proposed(document, "schema")
        mismatch = (
            f"the contract of {fqn} is a {kept} schema: a JSON Schema document also differs from it in "
            "nullability, tests and settings; to change only columns, pass columns instead"
        )
        return Proposed(document, "schema", warnings=(mismatch,))
    chosen = _dialect(registry, fqn, dialect, contract)
    if columns is not None:
        return Proposed(schema_from_columns(columns, contract=contract, dialect=chosen), "columns")
    assert sql is not None
    if contract is None:
        raise AgentInputError(
            f"arguments.sql: {fqn} has no published contract to compare the SQL with; describe its first "
            "contract with columns (name and data_type) or a JSON Schema document"
        )
    if chosen is None:
        raise AgentInputError(
            f"arguments.dialect: {fqn} has no dialect on record; pass the SQL's dialect "
            "(duckdb, snowflake, bigquery...)"
        )
    return schema_from_sql(
        registry,
        fqn,
        sql,
        contract=contract,
        dialect=chosen,
        default_database=default_database,
        default_schema=default_schema,
    )


# --- check_impact ---------------------------------------------------------------------------------


def _severities(report: gate.ImpactReport) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for judged in report.warnings:
        found[(judged.change.kind.value, judged.change.path)] = "warning"
    for judged in report.breaking:
        found[(judged.change.kind.value, judged.change.path)] = "breaking"
    for broken in report.contract_breaks:
        found[(broken.change.kind.value, broken.change.path)] = "breaking"
    return found


def _alternative(report: gate.ImpactReport) -> str | None:
    """A way around the first breaking change that needs no proposal."""
    for judged in report.breaking:
        column = judged.change.column
        if column is None:
            continue
        if judged.change.kind is ChangeKind.FIELD_REMOVED:
            return f"or keep {column} (deprecate it) until its readers have moved off it"
        if judged.change.kind in (ChangeKind.TYPE_CHANGED, ChangeKind.TYPE_NARROWED):
            return f"or add the new type as a new column next to {column} instead of changing {column}"
    return None


def _impact_steps(report: gate.ImpactReport) -> list[str]:
    proposal = report.proposal
    steps: list[str]
    if report.decision is gate.Decision.BLOCKED and not report.awaiting:
        steps = list(report.messages)
    elif report.decision is gate.Decision.BLOCKED and proposal is None:
        steps = [
            f"open a proposal with open_proposal (same arguments): {', '.join(report.awaiting)} must "
            "acknowledge it before it publishes"
        ]
        if alternative := _alternative(report):
            steps.append(alternative)
    elif report.decision is gate.Decision.BLOCKED and proposal is not None:
        steps = [
            f"ask {', '.join(report.awaiting)} to acknowledge {proposal.id} "
            f"(acknowledge with proposal_id={proposal.id} and their team)",
            f"follow it with proposal_status(proposal_id={proposal.id})",
        ]
    elif not report.changes and report.current_version is not None:
        steps = [f"nothing to publish: the schema is the published {report.current_version}"]
    elif proposal is not None and proposal.status is ProposalStatus.APPROVED:
        steps = [f"every affected team approved {proposal.id}: publish with open_proposal (proposal_id)"]
    elif report.decision is gate.Decision.NOTIFY:
        steps = [f"publish with open_proposal: it goes ahead and {', '.join(report.affected_teams)} are told"]
    else:
        steps = [f"safe: open_proposal publishes it directly as {report.next_version}"]
    if any("another proposal" in m for m in report.messages):
        steps.append(f"another proposal is open on {report.asset}: see proposal_status(asset={report.asset})")
    return steps


def _impact_summary(report: gate.ImpactReport) -> str:
    head = report.messages[0] if report.messages else report.decision.value
    if not report.affected:
        return f"{report.decision.value}: {head}"
    readers = len(report.affected)
    teams = report.affected_teams
    return (
        f"{report.decision.value}: {len(report.changes)} change(s) to {report.asset}, "
        f"{len(report.breaking) + len(report.contract_breaks)} breaking; {readers} reader(s) in "
        f"{len(teams)} team(s) ({', '.join(teams)}) read what changes. {head}"
    )


def impact_answer(report: gate.ImpactReport, proposed: Proposed | None = None, *, limit: int) -> Answer:
    """The short answer of a check: what changes, who reads it, whether it is safe, what to do next."""
    severities = _severities(report)
    changes, more_changes = _cap(
        [_change(c, severities.get((c.kind.value, c.path), "info")) for c in report.changes], limit
    )
    readers, more_readers = _cap([_reader(a) for a in report.affected], limit)
    breaks, more_breaks = _cap(
        [
            {
                "team": b.consumer.team,
                "consumer": b.consumer.consumer,
                "column": b.change.column,
                "target_column": b.target_column,
                "message": b.message,
            }
            for b in report.contract_breaks
        ],
        limit,
    )
    columns = sorted({c.column for c in report.changes if c.column is not None})
    return {
        "asset": report.asset,
        "safe": report.safe_to_publish,
        "decision": report.decision.value,
        "summary": _impact_summary(report),
        "mode": report.mode.value,
        "current_version": report.current_version,
        "next_version": report.next_version,
        "change_class": report.change_class,
        "columns_changed": _lines(columns, limit),
        "changes": changes,
        "contract_breaks": breaks,
        "readers": readers,
        "teams": list(report.affected_teams),
        "awaiting": list(report.awaiting),
        "owner_team": report.owner_team,
        "proposal": _proposal_brief(report.proposal) if report.proposal else None,
        "given_as": proposed.given_as if proposed else None,
        "inferred": _capped_inferred(proposed.inferred, limit) if proposed and proposed.inferred else None,
        "warnings": _lines(proposed.warnings, limit) if proposed else [],
        "messages": list(report.messages),
        "next_steps": _impact_steps(report),
        "more": {"changes": more_changes, "readers": more_readers, "contract_breaks": more_breaks},
    }


def _capped_inferred(inferred: Answer, limit: int) -> Answer:
    return {k: _lines(v, limit) if isinstance(v, list) else v for k, v in inferred.items()}


def check_impact(
    registry: Registry,
    asset: str,
    *,
    schema: Mapping[str, Any] | None = None,
    columns: Sequence[Mapping[str, Any]] | None = None,
    sql: str | None = None,
    dialect: str | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    limit: int = DEFAULT_LIMIT,
    settings: gate.GateSettings | None = None,
) -> Answer:
    """What publishing the proposed schema (or the model's new SQL) of ``asset`` would change and break.

    Read-only. Exactly one of ``schema`` (a JSON Schema document), ``columns``
    (``[{name, data_type?, nullable?, description?}]``, typed in ``dialect``) or ``sql``.
    """
    fqn = resolve_asset(registry, asset, must_exist=False)
    proposed = proposed_schema(
        registry,
        fqn,
        schema=schema,
        columns=columns,
        sql=sql,
        dialect=dialect,
        default_database=default_database,
        default_schema=default_schema,
    )
    if registry.get_asset(fqn) is None:
        new = f"{fqn} is not a registered asset yet: publishing creates it"
        proposed = replace(proposed, warnings=(new, *proposed.warnings))
    report = gate.check_impact(registry, fqn, proposed.schema, settings=settings)
    return impact_answer(report, proposed, limit=limit)


# --- who_reads ------------------------------------------------------------------------------------


def who_reads(
    registry: Registry,
    asset: str,
    *,
    column: str | None = None,
    transitive: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> Answer:
    """The registered consumers of ``asset`` (of ``column`` only, when given); ``transitive`` adds
    the consumers downstream, through the models that pass the columns on."""
    fqn = resolve_asset(registry, asset)
    name = normalize_name(column) if column else None
    warnings: list[str] = []
    contract = registry.current_contract(fqn)
    if name and contract is not None and contract.schema.field(name) is None:
        warnings.append(
            f"{fqn} {contract.version} has no column {name!r} (columns: "
            f"{_names(list(contract.schema.names))}); only consumers reading every column are listed"
        )
    direct = [r for r in registry.registrations(fqn) if not r.retired and r.reads(name)]
    found = [_registration(r, name) for r in sorted(direct, key=lambda r: (r.team, r.consumer))]
    if transitive:
        change = (
            Change(ChangeKind.FIELD_REMOVED, name, "", column=name)
            if name
            else Change(ChangeKind.ASSET_REMOVED, "", "")
        )
        found += [_reader(a) for a in affected_consumers(fqn, [change], registry.registrations) if a.depth]
    readers, more = _cap(found, limit)
    teams = sorted({r["team"] for r in found})
    target = f"{fqn}.{name}" if name else fqn
    owner = registry.get_asset(fqn)
    summary = (
        f"{len(found)} consumer(s) in {len(teams)} team(s) read {target}: {', '.join(teams)}"
        if found
        else f"no registered consumer reads {target}"
    )
    return {
        "asset": fqn,
        "column": name,
        "summary": summary,
        "owner_team": owner.owner_team if owner else None,
        "current_version": contract.version if contract else None,
        "readers": readers,
        "teams": teams,
        "total": len(found),
        "warnings": warnings,
        "more": {"readers": more},
    }


# --- register_query -------------------------------------------------------------------------------


_FROM_OR_JOIN = re.compile(r"\b(?:from|join)\s+([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,2})", re.I)


def _named_tables(sql: str) -> set[str]:
    """Names after FROM / JOIN: the last resort for SQL that does not parse at all."""
    return {_fqn(name) for name in _FROM_OR_JOIN.findall(sql)}


def _read_evidence(lineage: QueryLineage, table: str, columns: Iterable[str]) -> tuple[str, ...]:
    clauses = {ref.column: found for ref, found in lineage.reads if ref.table == table}
    lines = []
    for column in sorted(columns):
        names = sorted(c.value.replace("_", " ") for c in clauses.get(column, ()))
        lines.append(f"{column}: {', '.join(names) or 'select'}")
    return tuple(lines)


def _flows(lineage: QueryLineage, table: str) -> tuple[ColumnFlow, ...]:
    direct = dict(lineage.direct)
    flows = {
        ColumnFlow(ref.column, target, direct.get(target) == ref)
        for target, refs in lineage.outputs
        for ref in refs
        if ref.table == table
    }
    return tuple(sorted(flows, key=lambda f: (f.source, f.target)))


def register_query(
    registry: Registry,
    sql: str,
    *,
    dialect: str,
    consumer: str,
    team: str,
    consumer_kind: str = ConsumerKind.OTHER.value,
    produces: str | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    replace_previous: bool = False,
    dry_run: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> Answer:
    """Register ``team``'s ``consumer`` as reading the tables and columns ``sql`` reads.

    Fail-safe: SQL that cannot be analyzed registers every table that can still be
    found as read in full, with a warning. A table is matched to a registered asset
    by its full name or a unique suffix; an unknown one is registered under its own name.
    """
    made = resolve_asset(registry, produces, must_exist=False, argument="produces") if produces else None
    text, notes = plain_sql(sql, this=made or "this")
    lineage = analyze_query(
        text, dialect=dialect, default_database=default_database, default_schema=default_schema, name=consumer
    )
    warnings = [*notes, *lineage.warnings]
    tables = sorted(t for t in lineage.tables if t != made)
    if not tables and not lineage.ok:
        tables = sorted(t for t in _named_tables(text) if t != made)
        all_columns = frozenset(tables)
        lineage = replace(lineage, tables=all_columns, all_columns=all_columns)
        if tables:
            warnings.append(f"tables named after FROM / JOIN, each read in full: {_names(tables)}")
    if not tables:
        raise AgentInputError(
            "arguments.sql: no table found in the SQL"
            + (f" ({'; '.join(lineage.warnings)})" if lineage.warnings else "")
            + "; pass a query that reads at least one table"
        )
    known = [a.fqn for a in registry.assets()]
    registrations: list[Registration] = []
    for table in tables:
        targets = _matching_assets(table, known)
        if not targets:
            warnings.append(
                f"{table} is not a registered asset: registered under that name, which matches only if its "
                "producer publishes it so (qualify the table or pass default_database / default_schema)"
            )
            targets = [table]
        elif len(targets) > 1:
            warnings.append(f"{table} matches {_names(targets)}: registered on each (qualify it to narrow)")
        columns = lineage.columns_read(table)
        for fqn in targets:
            registrations.append(
                Registration(
                    asset_fqn=fqn,
                    team=team,
                    consumer=consumer,
                    consumer_kind=ConsumerKind(consumer_kind),
                    columns=columns,
                    source=RegistrationSource.EXPLICIT,
                    evidence=_read_evidence(lineage, table, columns or ()),
                    consumer_asset=made,
                    flows=_flows(lineage, table) if made else (),
                )
            )
    outcomes = ["would register" if dry_run else registry.register(reg).value for reg in registrations]
    retired: list[str] = []
    if replace_previous:
        reading = {reg.asset_fqn for reg in registrations}
        for old in registry.registrations(team=team, consumer=consumer):
            if old.asset_fqn not in reading and not old.retired:
                if not dry_run:
                    registry.retire(old.asset_fqn, team, consumer)
                retired.append(old.asset_fqn)
    rows = [
        {
            "asset": reg.asset_fqn,
            "columns": sorted(reg.columns) if reg.columns is not None else [],
            "all_columns": reg.columns is None,
            "outcome": outcome,
            "evidence": _lines(reg.evidence, EVIDENCE_LINES),
        }
        for reg, outcome in zip(registrations, outcomes, strict=True)
    ]
    shown, more = _cap(rows, limit)
    verb = "would register" if dry_run else "registered"
    assets = sorted({reg.asset_fqn for reg in registrations})
    return {
        "consumer": consumer,
        "team": team,
        "kind": ConsumerKind(consumer_kind).value,
        "produces": made,
        "summary": f"{verb} {team}/{consumer} as reading {len(assets)} asset(s): {_names(assets, limit)}",
        "analyzed": lineage.ok,
        "dry_run": dry_run,
        "registered": shown,
        "retired": _lines(sorted(retired), limit),
        "warnings": _lines(warnings, limit),
        "more": {"registered": more},
    }


# --- proposals ------------------------------------------------------------------------------------


def _proposal_steps(p: Proposal) -> list[str]:
    if p.status is ProposalStatus.PENDING:
        steps = [
            f"waiting for {', '.join(p.awaiting)}: each acknowledges with acknowledge "
            f"(proposal_id={p.id}, team=<team>) or `tessctl ack {p.id} --team <team>`"
        ]
        for ack in p.acknowledgments:
            if ack.response is AckResponse.BLOCKED:
                why = f" ({ack.note})" if ack.note else ""
                steps.append(f"{ack.team} answered blocked{why}: settle it with them before it can publish")
        return steps
    if p.status is ProposalStatus.APPROVED:
        return [f"every affected team approved: publish it with open_proposal (proposal_id={p.id})"]
    if p.status in (ProposalStatus.PUBLISHED, ProposalStatus.FORCED):
        return [f"nothing to do: published as {p.published_version}"]
    return [f"closed ({p.status.value}): open a new proposal with open_proposal if the change is still due"]


def proposal_answer(p: Proposal, *, limit: int) -> Answer:
    """A proposal in short: state, who still has to answer, what changes, who reads it, what next."""
    changes, more_changes = _cap([_change(c, None) for c in p.changes], limit)
    readers, more_readers = _cap([_reader(a) for a in p.affected], limit)
    if p.status is ProposalStatus.PENDING:
        state = f"waiting for {', '.join(p.awaiting)}"
    elif p.status is ProposalStatus.APPROVED:
        state = "approved by every affected team, not published yet"
    else:
        state = p.status.value + (f" as {p.published_version}" if p.published_version else "")
    return {
        "id": p.id,
        "asset": p.asset_fqn,
        "status": p.status.value,
        "summary": f"proposal {p.id} on {p.asset_fqn}: {state}",
        "base_version": p.base_version,
        "published_version": p.published_version,
        "proposed_by": p.proposed_by,
        "proposed_at": p.proposed_at,
        "affected_teams": list(p.affected_teams),
        "awaiting": list(p.awaiting),
        "acknowledgments": [
            {"team": a.team, "response": a.response.value, "note": a.note, "by": a.by, "at": a.at}
            for a in p.acknowledgments
        ],
        "changes": changes,
        "readers": readers,
        "reason": p.reason,
        "next_steps": _proposal_steps(p),
        "more": {"changes": more_changes, "readers": more_readers},
    }


def open_proposal(
    registry: Registry,
    asset: str | None = None,
    *,
    schema: Mapping[str, Any] | None = None,
    columns: Sequence[Mapping[str, Any]] | None = None,
    sql: str | None = None,
    proposal_id: str | None = None,
    dialect: str | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    owner_team: str | None = None,
    by: str | None = None,
    limit: int = DEFAULT_LIMIT,
    settings: gate.GateSettings | None = None,
) -> Answer:
    """Publish through the gate: a safe change publishes, a breaking one opens (or finds) its proposal.

    ``proposal_id`` instead of a schema publishes that proposal's schema, once every
    affected team approved it. ``action``: published | unchanged | proposal_opened | proposal_pending.
    """
    if proposal_id is not None:
        if schema is not None or columns is not None or sql is not None:
            raise AgentInputError(
                "arguments.proposal_id: publishes that proposal's own schema; drop schema, columns and sql"
            )
        existing = registry.get_proposal(proposal_id)
        fqn = existing.asset_fqn
        if asset is not None and resolve_asset(registry, asset) != fqn:
            raise AgentInputError(f"arguments.asset: proposal {proposal_id} is on {fqn}, not {asset!r}")
        proposed = Proposed(existing.schema, "proposal")
    elif asset is None:
        raise AgentInputError("arguments.asset: missing; name the asset (or pass proposal_id)")
    else:
        fqn = resolve_asset(registry, asset, must_exist=False)
        proposed = proposed_schema(
            registry,
            fqn,
            schema=schema,
            columns=columns,
            sql=sql,
            dialect=dialect,
            default_database=default_database,
            default_schema=default_schema,
        )
    result = gate.publish(registry, fqn, proposed.schema, owner_team=owner_team, by=by, settings=settings)
    impact = impact_answer(result.report, proposed, limit=limit)
    proposal = result.proposal
    version = result.contract.version if result.contract else None
    if result.action == "published":
        summary = f"published {fqn} {version}"
        steps = [f"done: {version} is the current contract of {fqn}"]
    elif result.action == "unchanged":
        summary = f"unchanged: {fqn} already publishes this schema as {result.report.current_version}"
        steps = ["nothing to publish"]
    else:
        assert proposal is not None
        opened = "opened" if result.action == "proposal_opened" else "is already open:"
        summary = f"blocked: proposal {proposal.id} {opened} waiting for {', '.join(proposal.awaiting)}"
        steps = [
            *_proposal_steps(proposal),
            f"once approved, publish it with open_proposal (proposal_id={proposal.id})",
        ]
    return {
        "asset": fqn,
        "action": result.action,
        "version": version,
        "summary": summary,
        "proposal": _proposal_brief(proposal) if proposal else None,
        "awaiting": list(proposal.awaiting) if proposal else [],
        "teams": impact["teams"],
        "columns_changed": impact["columns_changed"],
        "changes": impact["changes"],
        "readers": impact["readers"],
        "given_as": impact["given_as"],
        "inferred": impact["inferred"],
        "warnings": impact["warnings"],
        "next_steps": steps,
        "more": impact["more"],
    }


def acknowledge(
    registry: Registry,
    proposal_id: str,
    *,
    team: str,
    response: str = AckResponse.APPROVED.value,
    note: str | None = None,
    by: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Answer:
    """Record ``team``'s answer to a proposal; the answer is the proposal's state afterwards."""
    p = gate.acknowledge(registry, proposal_id, team, response, note=note, by=by)
    answer = proposal_answer(p, limit=limit)
    answer["acknowledged"] = {"team": team, "response": AckResponse(response).value, "note": note}
    return answer


def proposal_status(
    registry: Registry,
    *,
    proposal_id: str | None = None,
    asset: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Answer:
    """A proposal's state, by id or as the newest (preferably open) proposal on ``asset``."""
    if (proposal_id is None) == (asset is None):
        raise AgentInputError("pass exactly one of proposal_id or asset")
    if proposal_id is not None:
        return proposal_answer(registry.get_proposal(proposal_id), limit=limit)
    assert asset is not None
    fqn = resolve_asset(registry, asset)
    found = registry.proposals(fqn)
    if not found:
        raise NotFoundError(f"no proposal on {fqn}; check_impact tells whether a change to it needs one")
    still_open = [p for p in found if p.status in gate.OPEN]
    return proposal_answer((still_open or found)[-1], limit=limit)


# --- the operations, their argument schemas and exit codes ------------------------------------------

Settings = gate.GateSettings | None


@dataclass(frozen=True, slots=True)
class Operation:
    """One agent operation: its name, what it is for, its arguments' JSON Schema, how to run it."""

    name: str
    description: str
    input_schema: Mapping[str, Any]
    run: Callable[[Registry, dict[str, Any], Settings], Answer]
    exit_code: Callable[[Answer], int] = lambda _: EXIT_DONE


def _proposal_exit(answer: Answer) -> int:
    done = {ProposalStatus.APPROVED.value, ProposalStatus.PUBLISHED.value, ProposalStatus.FORCED.value}
    return EXIT_DONE if answer["status"] in done else EXIT_BLOCKED


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "check_impact",
            "Before changing a table's columns or a model's SQL: which columns change, who reads them "
            "(teams, consumers, evidence), whether it is safe to publish, and what to do next. Give the "
            "asset and one of: schema (JSON Schema), columns ([{name, data_type}] + dialect), or sql (the "
            "model's new SQL). Read-only.",
            CHECK_IMPACT_INPUT,
            lambda registry, args, settings: check_impact(registry, **args, settings=settings),
            lambda answer: EXIT_DONE if answer["safe"] else EXIT_BLOCKED,
        ),
        Operation(
            "who_reads",
            "Who reads a table, or one column of it: teams, consumers, the columns they read and the "
            "evidence. transitive=true adds consumers downstream. Read-only.",
            WHO_READS_INPUT,
            lambda registry, args, _: who_reads(registry, **args),
        ),
        Operation(
            "register_query",
            "After writing a query that reads warehouse tables: register which tables and columns it reads "
            "(from its SQL), so that producers learn of it before they break it. Unparseable SQL registers "
            "the tables it names as read in full, with a warning.",
            REGISTER_QUERY_INPUT,
            lambda registry, args, _: register_query(registry, **args),
        ),
        Operation(
            "open_proposal",
            "Publish a schema change through the gate: a safe change publishes a new version; a breaking "
            "one opens a proposal the affected teams must acknowledge. Same schema arguments as "
            "check_impact, or proposal_id to publish an approved proposal.",
            OPEN_PROPOSAL_INPUT,
            lambda registry, args, settings: open_proposal(registry, **args, settings=settings),
            lambda answer: EXIT_BLOCKED if answer["action"].startswith("proposal") else EXIT_DONE,
        ),
        Operation(
            "acknowledge",
            "Answer a proposal for an affected team: approved, migrating or blocked (with a note). Once "
            "every affected team approved, the proposal can publish.",
            ACKNOWLEDGE_INPUT,
            lambda registry, args, _: acknowledge(registry, **args),
        ),
        Operation(
            "proposal_status",
            "A proposal's state: status, who still has to acknowledge, the changes and who reads them. "
            "By proposal_id, or the newest proposal on an asset. Read-only.",
            PROPOSAL_STATUS_INPUT,
            lambda registry, args, _: proposal_status(registry, **args),
            _proposal_exit,
        ),
    )
}


def _where(error: ValidationError) -> str:
    return "arguments" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def _explain(error: ValidationError) -> str:
    where = _where(error)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    properties = schema.get("properties", {})
    instance = error.instance
    if error.validator == "required" and isinstance(instance, Mapping):
        missing = [name for name in schema.get("required", ()) if name not in instance]
        described = []
        for name in missing:
            about = properties.get(name, {}).get("description")
            described.append(f"{name} ({about})" if about else name)
        return f"{where}: missing {', '.join(described)}"
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        unknown = sorted(name for name in instance if name not in properties)
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(properties), 1)
            hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
        return f"{where}: unknown argument(s) {', '.join(hints)}; allowed: {', '.join(properties)}"
    if error.validator == "enum":
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        return f"{where}: {instance!r} is not one of {', '.join(map(str, allowed))}"
    if error.validator == "type":
        return f"{where}: expected {error.validator_value}, got {type(instance).__name__} {instance!r}"[:300]
    return f"{where}: {error.message}"[:300]


def validate_arguments(operation: Operation, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """``arguments`` checked against the operation's JSON Schema; every problem in one ``AgentInputError``."""
    given = dict(arguments or {})
    validator = Draft202012Validator(operation.input_schema)
    errors = sorted(validator.iter_errors(given), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        problems = "; ".join(dict.fromkeys(_explain(e) for e in errors))
        raise AgentInputError(f"{operation.name}: {problems}")
    return given


def call(
    registry: Registry,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    settings: gate.GateSettings | None = None,
) -> Answer:
    """Run operation ``name`` with JSON ``arguments``: validated first, then answered."""
    operation = OPERATIONS.get(name)
    if operation is None:
        close = difflib.get_close_matches(name, OPERATIONS, 1)
        raise AgentInputError(
            f"unknown operation {name!r}"
            + (f" (did you mean {close[0]}?)" if close else "")
            + f"; the operations are: {', '.join(OPERATIONS)}"
        )
    return operation.run(registry, validate_arguments(operation, arguments), settings)


def exit_code(name: str, answer: Answer) -> int:
    """0 safe or done, 1 blocked (see each operation), for a successful answer of operation ``name``."""
    return OPERATIONS[name].exit_code(answer)


_ERROR_KINDS: tuple[tuple[type[TesseraError], str, int], ...] = (
    (AgentInputError, "invalid_input", EXIT_BAD_INPUT),
    (SchemaError, "invalid_input", EXIT_BAD_INPUT),
    (UnknownDialectError, "invalid_input", EXIT_BAD_INPUT),
    (NotFoundError, "not_found", EXIT_BAD_INPUT),
    (RegistryUnavailableError, "registry_unavailable", EXIT_BAD_INPUT),
    (ConflictError, "conflict", EXIT_BLOCKED),
    (InvalidStateError, "invalid_state", EXIT_BLOCKED),
)


def error_answer(error: TesseraError) -> Answer:
    """``{"error", "kind", "exit_code"}`` for a failed operation; the message says what to fix."""
    for kind, label, code in _ERROR_KINDS:
        if isinstance(error, kind):
            return {"error": str(error), "kind": label, "exit_code": code}
    return {"error": str(error), "kind": "error", "exit_code": EXIT_BAD_INPUT}


__all__ = [
    "DEFAULT_LIMIT",
    "EXIT_BAD_INPUT",
    "EXIT_BLOCKED",
    "EXIT_DONE",
    "OPERATIONS",
    "AgentInputError",
    "Operation",
    "Proposed",
    "acknowledge",
    "call",
    "check_impact",
    "error_answer",
    "exit_code",
    "impact_answer",
    "open_proposal",
    "plain_sql",
    "proposal_answer",
    "proposal_status",
    "proposed_schema",
    "register_query",
    "resolve_asset",
    "schema_from_columns",
    "schema_from_sql",
    "validate_arguments",
    "who_reads",
]
