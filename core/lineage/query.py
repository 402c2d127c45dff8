"""One query -> the columns it reads, per output column and per clause, in one pass.

``analyze_query`` parses the SQL once, canonicalizes its identifiers in one walk
(``tessera_core.schema.names.normalize_name``, dialect-aware for quoted names),
then resolves it in one more walk over its scopes (``resolver.Resolver``).
It never raises on bad SQL: a query that cannot be parsed or resolved comes back
with ``ok=False``, a warning naming the model, and every table that could still
be found treated as read in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel

from tessera_core.lineage.identifiers import (
    canonical_name,
    canonicalize,
    get_dialect,
    ignores_case,
    relation_name,
)
from tessera_core.lineage.refs import Clause as Clause
from tessera_core.lineage.refs import ColumnRef as ColumnRef
from tessera_core.lineage.resolver import Resolution, Resolver
from tessera_core.schema.names import normalize_name

SchemaInput = Mapping[str, Mapping[str, str] | Sequence[str]]

EPHEMERAL_PREFIX = "__dbt__cte__"


@dataclass(frozen=True, slots=True)
class QueryLineage:
    """What one query reads and how its outputs derive from it."""

    tables: frozenset[str]  # every physical table read
    outputs: tuple[tuple[str, frozenset[ColumnRef]], ...]  # output column -> upstream columns it derives from
    direct: tuple[tuple[str, ColumnRef], ...]  # outputs that are an unchanged copy of one upstream column
    reads: tuple[tuple[ColumnRef, frozenset[Clause]], ...]  # every upstream column read, with its clauses
    all_columns: frozenset[str]  # tables read in full / unknown: treat as reading every column
    warnings: tuple[str, ...]
    ok: bool  # False: parse/qualify failed, fallback applied

    def columns_read(self, table: str) -> frozenset[str] | None:
        """The columns of ``table`` this query reads; ``None`` means every column."""
        if table in self.all_columns:
            return None
        return frozenset(ref.column for ref, _ in self.reads if ref.table == table)


@dataclass(frozen=True, slots=True)
class QueryAnalysis:
    """A ``QueryLineage`` plus whether its outputs are all known (no unresolved ``SELECT *``)."""

    lineage: QueryLineage
    outputs_complete: bool


def analyze_query(
    sql: str,
    *,
    dialect: str,
    schema: SchemaInput | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    name: str | None = None,
) -> QueryLineage:
    """Column lineage of ``sql`` (one or more statements) in ``dialect``.

    ``schema`` maps normalized relation names (``db.schema.table``) to their columns
    (a list of names, or a name -> type mapping), used to expand ``SELECT *`` and to
    place unqualified columns. ``default_database`` / ``default_schema`` fill the
    missing parts of table names. ``name`` (the model) labels the warnings. An
    unknown dialect raises ``UnknownDialectError``; nothing else raises.
    """
    return analyze_model_sql(
        sql,
        dialect=dialect,
        schema=schema,
        default_database=default_database,
        default_schema=default_schema,
        name=name,
    ).lineage


analyze_sql = analyze_query


def analyze_model_sql(
    sql: str,
    *,
    dialect: str,
    schema: SchemaInput | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    name: str | None = None,
    ephemerals: Mapping[str, str] | None = None,
) -> QueryAnalysis:
    """``analyze_query``, plus dbt ephemeral models to inline and whether the outputs are complete.

    ``ephemerals`` maps a CTE name (``__dbt__cte__<model>``) to that model's compiled
    SQL; it is injected as a leading CTE when the query reads the name without
    defining it (compiled code whose ephemeral CTEs were not injected).
    """
    sql_dialect = get_dialect(dialect, model=name)
    label = f"model {name}" if name else "query"
    columns = _columns_by_relation(schema)
    database = normalize_name(default_database) if default_database else None
    schema_name = normalize_name(default_schema) if default_schema else None
    case_blind = ignores_case(sql_dialect)
    try:
        statements = [s for s in sql_dialect.parse(sql) if s is not None]
        result = Resolution()
        for statement in statements:
            canonicalize(statement, sql_dialect)
            query = _query_of(statement)
            if query is None:
                _note_unsupported(statement, result, label, database, schema_name)
                continue
            if ephemerals and EPHEMERAL_PREFIX in sql:
                _inject_ephemerals(query, ephemerals, sql_dialect)
            resolver = Resolver(
                schema=columns,
                default_database=database,
                default_schema=schema_name,
                label=label,
                ignore_case=case_blind,
            )
            _merge(result, resolver.run(query))
    except Exception as error:
        # Parse errors (SqlglotError), statements that are no query (LineageUnsupported), very
        # deep SQL (RecursionError), and resolver bugs alike: never crash, never lose a table.
        return _fallback(sql, sql_dialect, label, error, database, schema_name)
    lineage = QueryLineage(
        tables=frozenset(result.tables),
        outputs=tuple(result.outputs),
        direct=tuple(result.direct),
        reads=tuple((ref, frozenset(clauses)) for _, (ref, clauses) in sorted(result.reads.items())),
        all_columns=frozenset(result.all_columns),
        warnings=tuple(result.warnings),
        ok=result.ok,
    )
    return QueryAnalysis(lineage, result.complete)


def _columns_by_relation(schema: SchemaInput | None) -> dict[str, Sequence[str]]:
    if not schema:
        return {}
    return {
        relation: tuple(columns) if isinstance(columns, Mapping) else columns
        for relation, columns in schema.items()
    }


def _query_of(statement: exp.Expr) -> exp.Expr | None:
    """The query a statement runs: itself, or the SELECT of a CREATE ... AS / INSERT ... SELECT."""
    while isinstance(statement, exp.Subquery) and not statement.args.get("alias"):
        statement = statement.this
    if isinstance(statement, exp.Query):
        return statement
    if isinstance(statement, exp.Pivot):  # DuckDB's PIVOT statement: SELECT * FROM (PIVOT ...)
        return exp.Select(expressions=[exp.Star()], from_=exp.From(this=exp.Subquery(this=statement)))
    if isinstance(statement, (exp.Create, exp.Insert)):
        query = statement.expression
        if isinstance(query, exp.Query):
            with_ = statement.args.get("with_")
            if with_ is not None and not query.args.get("with_"):
                query.set("with_", with_.copy())
            return query
    return None


def _note_unsupported(
    statement: exp.Expr, result: Resolution, label: str, database: str | None, schema: str | None
) -> None:
    """DML other than INSERT ... SELECT: every table it names but writes is read in full."""
    if not isinstance(statement, (exp.Merge, exp.Update, exp.Delete)):
        return
    target = statement.this
    target_id = id(target) if isinstance(target, exp.Table) else None
    tables = _table_names(statement, database, schema, skip=target_id)
    result.tables.update(tables)
    result.all_columns.update(tables)
    result.ok = False
    result.warnings.append(
        f"{label}: {type(statement).__name__.upper()} is not analyzed column by column; "
        "every table it reads is treated as read in full"
    )


def _merge(into: Resolution, other: Resolution) -> None:
    into.tables.update(other.tables)
    into.all_columns.update(other.all_columns)
    for key, (ref, clauses) in other.reads.items():
        existing = into.reads.get(key)
        if existing is None:
            into.reads[key] = (ref, set(clauses))
        else:
            existing[1].update(clauses)
    into.warnings.extend(other.warnings)
    into.outputs = other.outputs
    into.direct = other.direct
    into.complete = other.complete
    into.ok = into.ok and other.ok


def _inject_ephemerals(query: exp.Expr, ephemerals: Mapping[str, str], dialect: Dialect) -> None:
    """Prepend the CTEs of dbt ephemeral models that ``query`` reads but does not define."""
    defined = {cte.alias for cte in query.find_all(exp.CTE)}
    pending = [t.name for t in query.find_all(exp.Table) if t.name.startswith(EPHEMERAL_PREFIX) and not t.db]
    ordered: list[tuple[str, exp.Expr]] = []
    seen = set(defined)
    by_name = {canonical_name(k, quoted=False, dialect=dialect): v for k, v in ephemerals.items()}

    def visit(cte_name: str) -> None:
        if cte_name in seen or cte_name not in by_name:
            return
        seen.add(cte_name)
        parsed = [s for s in dialect.parse(by_name[cte_name]) if s is not None]
        if not parsed:
            return
        body = parsed[0]
        canonicalize(body, dialect)
        inner_defined = {cte.alias for cte in body.find_all(exp.CTE)}
        for table in body.find_all(exp.Table):
            if table.name.startswith(EPHEMERAL_PREFIX) and not table.db and table.name not in inner_defined:
                visit(table.name)
        ordered.append((cte_name, body))

    for cte_name in pending:
        visit(cte_name)
    if not ordered:
        return
    ctes = [exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(n))) for n, body in ordered]
    with_ = query.args.get("with_")
    if with_ is None:
        query.set("with_", exp.With(expressions=ctes))
    else:
        with_.set("expressions", ctes + list(with_.expressions))


def _table_names(
    tree: exp.Expr, database: str | None, schema: str | None, *, skip: int | None = None
) -> set[str]:
    """Names of the physical tables in ``tree``: every ``exp.Table`` that is not a CTE name."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    names: set[str] = set()
    for table in tree.find_all(exp.Table):
        if id(table) == skip or not isinstance(table.this, exp.Identifier):
            continue
        if not table.db and table.name in ctes:
            continue
        names.add(relation_name(table, default_database=database, default_schema=schema))
    return names


def _fallback(
    sql: str, dialect: Dialect, label: str, error: BaseException, database: str | None, schema: str | None
) -> QueryAnalysis:
    """Whatever tables can still be found, each read in full."""
    tables: set[str] = set()
    try:
        for statement in dialect.parse(sql, error_level=ErrorLevel.IGNORE):
            if statement is not None:
                canonicalize(statement, dialect)
                tables |= _table_names(statement, database, schema)
    except Exception:  # the tables are best effort; depends_on still stands in a project
        tables = set()
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    warning = (
        f"{label}: SQL could not be analyzed ({type(error).__name__}: {message[:300]}); "
        f"treating {len(tables)} table(s) it names as read in full"
    )
    frozen = frozenset(tables)
    lineage = QueryLineage(
        tables=frozen,
        outputs=(),
        direct=(),
        reads=(),
        all_columns=frozen,
        warnings=(warning,),
        ok=False,
    )
    return QueryAnalysis(lineage, False)
