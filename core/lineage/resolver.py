"""Column lineage of one parsed query: a single walk over its scopes.

The query must already be canonicalized (``identifiers.canonicalize``). The walk
builds the scopes as it meets them, the way ``sqlglot.optimizer.scope`` defines
them (CTEs, derived tables, set-operation branches, subqueries, table
functions), and resolves each child scope before the scope that reads it. Each
scope records, per output column, the *targets* it reads: a physical column
(``ColumnRef``) or an output of a child scope. A column is resolved against the
scope's sources the way ``qualify_columns`` would, but without rewriting the
tree and without a second walk, which is what keeps the cost near a bare parse.

After the walk, clauses are pushed from the root down: a physical column is read
in the clauses where the outputs built from it are used (an output that only
feeds a ``WHERE`` upstairs reads its columns in ``WHERE``, not ``SELECT``).

When unsure, it reads more, never fewer: what a construct reads as a whole (a
whole-row reference, a star inside an expression, DuckDB's ``COLUMNS(...)`` and
``PIVOT``, a ``NATURAL JOIN`` over unknown columns) is read in full, and a column
no known schema lists is read from every table whose known columns (often only
the declared ones) may be incomplete.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from sqlglot import exp

from tessera_core.lineage.identifiers import relation_name
from tessera_core.lineage.refs import Clause, ColumnRef

MAX_WARNINGS = 50

_QUERY, _FUNCTION, _OPAQUE = 0, 1, 2

# SELECT arguments scanned as one clause; FROM / JOIN / LATERAL are sources, read separately.
_CLAUSE_OF_ARG: dict[str, Clause] = {
    "where": Clause.WHERE,
    "prewhere": Clause.WHERE,
    "connect": Clause.WHERE,
    "match": Clause.WHERE,
    "limit": Clause.WHERE,
    "offset": Clause.WHERE,
    "group": Clause.GROUP_BY,
    "distinct": Clause.GROUP_BY,
    "distribute": Clause.GROUP_BY,
    "having": Clause.HAVING,
    "qualify": Clause.QUALIFY,
    "windows": Clause.WINDOW,
    "order": Clause.ORDER_BY,
    "sort": Clause.ORDER_BY,
    "cluster": Clause.ORDER_BY,
}
_SELECT_ONLY = frozenset({Clause.SELECT})
_WINDOW_ONLY = frozenset({Clause.WINDOW})


class LineageUnsupported(Exception):
    """The statement is not a query this resolver can walk."""


class _Table:
    """A physical relation used as a source."""

    __slots__ = ("columns", "folded", "ignore_case", "label", "order", "refs", "relation")

    def __init__(self, relation: str, order: tuple[str, ...] | None, *, ignore_case: bool = False) -> None:
        self.relation = relation
        self.label = relation
        self.order = order
        self.columns = frozenset(order) if order is not None else None
        self.ignore_case = ignore_case  # the warehouse matches column names whatever their case
        self.folded: dict[str, str] | None = None  # lower-cased name -> the schema's spelling, when needed
        self.refs: dict[str, ColumnRef] = {}

    def spelling(self, name: str) -> str | None:
        """The known column ``name`` means: itself, or (ignoring case) the schema's spelling of it."""
        columns = self.columns
        if columns is None or name in columns:
            return name
        if not self.ignore_case:
            return None
        folded = self.folded
        if folded is None:
            folded = self.folded = {column.lower(): column for column in reversed(self.order or ())}
        return folded.get(name.lower())

    def ref(self, column: str) -> ColumnRef:
        ref = self.refs.get(column)
        if ref is None:
            ref = self.refs[column] = ColumnRef(self.relation, column)
        return ref


class _Info:
    """What one scope produces: its output columns and the targets each one reads."""

    __slots__ = (
        "clause_refs",
        "deps",
        "direct",
        "expanded",
        "folded",
        "index",
        "kind",
        "label",
        "names",
        "opens",
        "starred",
        "targets",
        "usage",
        "window",
    )

    def __init__(self, kind: int, label: str) -> None:
        self.kind = kind
        self.label = label
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.folded: dict[str, int] | None = None  # lower-cased name -> position, built when first needed
        self.targets: list[list[Target]] = []  # what each output reads outside window specs
        self.window: list[list[Target]] = []  # what each output reads in PARTITION BY / ORDER BY
        self.starred: set[int] = set()  # outputs that come from a SELECT *
        self.deps: list[frozenset[ColumnRef]] = []  # physical columns each output derives from
        self.direct: list[ColumnRef | None] = []  # the column each output copies unchanged
        self.usage: list[set[Clause] | None] = []  # where downstream scopes use each output
        self.opens: list[Source] = []  # sources whose columns pass through an unresolved SELECT *
        self.expanded: list[Source] = []  # sources a SELECT * expanded from their known columns
        self.clause_refs: list[tuple[Clause, list[Target]]] = []


Target: TypeAlias = ColumnRef | tuple[_Info, int]
Source: TypeAlias = _Table | _Info
_NO_TARGETS: list[Target] = []  # shared; never appended to
_NO_NAMES: frozenset[str] = frozenset()
# Nodes _scan_into treats apart: window specs, lambdas, EXISTS, pivots, queries (subqueries), COUNT
# (whose `*` reads no column), and stars inside expressions (`HASH(*)`, DuckDB's `COLUMNS(...)`).
_SPECIAL_NODES = frozenset(
    {
        exp.Window,
        exp.Lambda,
        exp.Exists,
        exp.Pivot,
        exp.Select,
        exp.Union,
        exp.Intersect,
        exp.Except,
        exp.Count,
        exp.Star,
        exp.Columns,
    }
)


class _Context:
    """The sources one SELECT can read, in FROM/JOIN order, and what encloses it."""

    __slots__ = ("ctes", "joins", "local", "outer", "sources", "starred", "using")

    def __init__(self, ctes: dict[str, _Info], outer: _Context | None) -> None:
        self.ctes = ctes  # CTEs visible here, by name
        self.outer = outer  # the SELECT a correlated subquery may reach into
        self.sources: list[tuple[str, Source]] = []
        self.starred: list[tuple[str, Source]] = []  # what * covers: not the right side of SEMI/ANTI
        self.local: dict[str, Source] = {}
        self.using: set[str] = set()
        self.joins: list[exp.Join] = []


@dataclass(slots=True)
class Resolution:
    """The raw result of one query, before it is frozen into a ``QueryLineage``."""

    tables: set[str] = field(default_factory=set)
    outputs: list[tuple[str, frozenset[ColumnRef]]] = field(default_factory=list)
    direct: list[tuple[str, ColumnRef]] = field(default_factory=list)
    reads: dict[tuple[str, str], tuple[ColumnRef, set[Clause]]] = field(default_factory=dict)
    all_columns: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    complete: bool = True
    ok: bool = True


class Resolver:
    """Resolves one canonicalized query; use once."""

    def __init__(
        self,
        *,
        schema: Mapping[str, Sequence[str]],
        default_database: str | None,
        default_schema: str | None,
        label: str,
        ignore_case: bool = False,
    ) -> None:
        self._schema = schema
        self._ignore_case = ignore_case  # column names match whatever their case (DuckDB, BigQuery, ...)
        self._suffixes: dict[str, str | None] | None = None
        self._default_database = default_database
        self._default_schema = default_schema
        self._label = label
        self._infos: list[_Info] = []  # every scope, children before the scopes that read them
        self._tables: dict[str, _Table] = {}
        self._result = Resolution()
        self._seen_warnings: set[str] = set()
        # ColumnRefs are interned per relation (``_Table.ref``), so ids are safe keys here.
        self._singles: dict[int, frozenset[ColumnRef]] = {}
        self._reads: dict[int, tuple[ColumnRef, set[Clause]]] = {}

    # -- entry point -----------------------------------------------------------------------------

    def run(self, query: exp.Expr) -> Resolution:
        if not isinstance(query, exp.Query):
            raise LineageUnsupported(f"{type(query).__name__} is not a query")
        root = self._query(query, {}, None, label="the outer query")
        self._propagate(self._infos)
        self._finish(root)
        return self._result

    # -- scopes ----------------------------------------------------------------------------------

    def _query(
        self,
        node: exp.Expr,
        ctes: dict[str, _Info],
        outer: _Context | None,
        *,
        label: str,
        columns: Sequence[str] = (),
    ) -> _Info:
        """Resolve one query scope (and, first, every scope inside it)."""
        while type(node) is exp.Subquery:
            node = node.this
        if isinstance(node, exp.Select):
            info = _Info(_QUERY, label)
            self._select(node, self._with(node, ctes, outer), outer, info)
        elif isinstance(node, exp.SetOperation):
            info = _Info(_QUERY, label)
            self._set_operation(node, self._with(node, ctes, outer), outer, info)
        elif isinstance(node, exp.Pivot):
            return self._pivot(node, _Context(ctes, outer), label)
        else:
            return self._function(node, _Context(ctes, outer), label)
        if columns:
            _rename(info, columns)
        self._infos.append(info)
        return info

    def _with(self, node: exp.Expr, ctes: dict[str, _Info], outer: _Context | None) -> dict[str, _Info]:
        """The CTEs visible in ``node``'s body: the enclosing ones plus its own WITH, in order."""
        with_ = node.args.get("with_")
        if not with_:
            return ctes
        visible = dict(ctes)
        recursive = bool(with_.args.get("recursive"))
        for cte in with_.expressions:
            name = cte.alias
            if recursive:
                visible[name] = _Info(_OPAQUE, f"CTE {name}")  # what its recursive branch reads of itself
            visible[name] = self._query(
                cte.this, visible, outer, label=f"CTE {name}", columns=cte.alias_column_names
            )
        return visible

    def _select(
        self, select: exp.Select, ctes: dict[str, _Info], outer: _Context | None, info: _Info
    ) -> None:
        ctx = _Context(ctes, outer)
        from_ = select.args.get("from_")
        if from_ is not None:
            self._source(from_.this, ctx, semi=False)
        for join in select.args.get("joins") or []:
            ctx.joins.append(join)
            self._source(join.this, ctx, semi=join.is_semi_or_anti_join)
        for lateral in select.args.get("laterals") or []:
            self._source(lateral, ctx, semi=False)
        for join in ctx.joins:
            for identifier in join.args.get("using") or []:
                ctx.using.add(identifier.name)
            if join.text("method").upper() == "NATURAL":
                self._join_natural(join, ctx, info)

        column_type, alias_type, star_type = exp.Column, exp.Alias, exp.Star
        local = ctx.local
        for position, projection in enumerate(select.expressions):
            kind = type(projection)
            if kind is star_type or (kind is column_type and type(projection.this) is star_type):
                self._expand_star(projection, ctx, info)
                continue
            inner = projection.this if kind is alias_type else projection
            if type(inner) is column_type and type(inner.this) is not star_type:
                column_name = inner.name
                name = projection.alias if kind is alias_type else column_name
                qualifier = inner.table
                source = local.get(qualifier) if qualifier else None
                if source is not None:
                    targets = self._in_source(source, column_name, info)  # the common `t.col`
                else:
                    targets = self._resolve(inner, ctx, info, Clause.SELECT, len(info.names))
                self._add(info, name, targets, _NO_TARGETS, targets[0] if len(targets) == 1 else None)
                continue
            name = projection.alias_or_name or f"_col_{position}"
            targets = []
            window: list[Target] = []
            columns, children = self._scan(projection, ctx)
            for column, in_window in columns:
                if in_window:
                    window.extend(self._resolve(column, ctx, info, Clause.WINDOW, len(info.names)))
                else:
                    targets.extend(self._resolve(column, ctx, info, Clause.SELECT, len(info.names)))
            for child, in_window in children:
                (window if in_window else targets).extend(self._outputs_of(child))
            self._add(info, name, targets, window or _NO_TARGETS, None)

        for join in ctx.joins:
            self._join_using(join, ctx, info)
            rest = [v for k, v in join.args.items() if k not in ("this", "using") and isinstance(v, exp.Expr)]
            self._clause(rest, ctx, info, Clause.JOIN)
        for key, value in select.args.items():
            if value is None:
                continue
            clause = _CLAUSE_OF_ARG.get(key)
            if clause is None:
                continue
            if key in ("group", "order"):
                value = self._positional(value, info, clause)
            self._clause(value if isinstance(value, list) else [value], ctx, info, clause)

    def _set_operation(
        self, operation: exp.SetOperation, ctes: dict[str, _Info], outer: _Context | None, info: _Info
    ) -> None:
        # A chain `a UNION b UNION c` nests to the left; walk it without recursion.
        chain = [operation]
        node = operation.this
        while isinstance(node, exp.SetOperation) and not node.args.get("with_"):
            chain.append(node)
            node = node.this
        branch = f"a branch of {info.label}"
        left = self._query(node, ctes, outer, label=branch)
        for current in reversed(chain):
            right = self._query(current.expression, ctes, outer, label=branch)
            combined = info if current is operation else _Info(_QUERY, info.label)
            self._combine(current, left, right, combined, _Context(ctes, outer))
            if combined is not info:
                self._infos.append(combined)
            left = combined

    def _combine(
        self, operation: exp.SetOperation, left: _Info, right: _Info, info: _Info, ctx: _Context
    ) -> None:
        """Outputs of ``left <op> right``: by position, or by name for ``UNION BY NAME``."""
        by_name = bool(operation.args.get("by_name"))
        for position, name in enumerate(left.names):
            targets: list[Target] = [(left, position)]
            if by_name:
                other = self._position(right, name)
            else:
                other = position if position < len(right.names) else None
            if other is not None:
                targets.append((right, other))
            self._add(info, name, targets, _NO_TARGETS, None)
        for branch in (left, right):
            if branch.opens:
                info.opens.append(branch)
                self._read_in_full(branch, f"a branch of {info.label}")
        for key in ("order", "limit", "offset"):
            value = operation.args.get(key)
            if value is not None:
                nodes = self._positional(value, info, Clause.ORDER_BY) if key == "order" else [value]
                self._clause(nodes, ctx, info, _CLAUSE_OF_ARG[key])

    def _function(self, node: exp.Expr, ctx: _Context, label: str) -> _Info:
        """A table function (UNNEST, FLATTEN, EXPLODE, VALUES...): every output derives from its arguments."""
        info = _Info(_FUNCTION, label)
        targets: list[Target] = []
        columns, children = self._scan(node, ctx)
        for column, _ in columns:
            targets.extend(self._resolve(column, ctx, info, Clause.JOIN, 0))
        for child, _ in children:
            targets.extend(self._outputs_of(child))
        self._add(info, "*", targets, _NO_TARGETS, None)
        if targets:
            info.clause_refs.append((Clause.JOIN, targets))
        self._infos.append(info)
        return info

    def _pivot(self, node: exp.Pivot, ctx: _Context, label: str) -> _Info:
        """DuckDB's ``PIVOT t ON ...`` / ``UNPIVOT`` as a query: its columns come from data, so what it
        pivots is read in full and its outputs are unknown."""
        info = _Info(_FUNCTION, label)
        inner = _Context(ctx.ctes, ctx.outer)
        self._source(node.this, inner, semi=False)
        targets = [t for _, source in inner.sources for t in self._whole(source, label)]
        self._add(info, "*", targets, _NO_TARGETS, None)
        self._infos.append(info)
        return info

    # -- sources ---------------------------------------------------------------------------------

    def _source(self, node: exp.Expr, ctx: _Context, *, semi: bool) -> None:
        """Register one FROM / JOIN / LATERAL item of a SELECT (and any joins nested in it)."""
        if isinstance(node, exp.Final):
            node = node.this
        name = node.alias_or_name
        source: Source | None = None
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                source = self._function(node.this, ctx, f"table function {name}")
            elif not node.args.get("db") and node.name in ctx.ctes:
                source = ctx.ctes[node.name]
            else:
                source = self._table_source(node, name)
        elif isinstance(node, exp.Subquery):
            inner = node.this
            if isinstance(inner, exp.Query):
                label = f"subquery {name}" if name else "a derived table"
                source = self._query(inner, ctx.ctes, ctx.outer, label=label, columns=node.alias_column_names)
            elif isinstance(inner, exp.Pivot):
                source = self._pivot(inner, ctx, f"the PIVOT {name}" if name else "a PIVOT")
            else:
                self._source(inner, ctx, semi=semi)  # a parenthesized join: (a JOIN b ON ...)
            if node.args.get("pivots"):
                self._warn(f"{self._label}: a pivoted subquery is not resolved column by column")
        elif isinstance(node, exp.Lateral) and isinstance(node.this, exp.Subquery):
            label = f"subquery {name}" if name else "a lateral subquery"
            source = self._query(node.this.this, ctx.ctes, ctx, label=label, columns=node.alias_column_names)
        elif isinstance(node, exp.UDTF):
            if not name:
                alias = node.args.get("alias")
                names = alias.columns if isinstance(alias, exp.TableAlias) else []
                name = names[0].name if len(names) == 1 else ""
            source = self._function(node, ctx, f"table function {name or type(node).__name__.lower()}")
        if source is not None:
            if not name or name in ctx.local:
                name = f"#{len(ctx.sources)}"  # unaliased or repeated: not addressable by a qualifier
            ctx.sources.append((name, source))
            ctx.local[name] = source
            if not semi:
                ctx.starred.append((name, source))
        for join in node.args.get("joins") or []:
            ctx.joins.append(join)
            self._source(join.this, ctx, semi=join.is_semi_or_anti_join)

    def _table_source(self, table: exp.Table, name: str) -> Source:
        if not isinstance(table.this, exp.Identifier):
            info = _Info(_FUNCTION, name)
            self._add(info, "*", _NO_TARGETS, _NO_TARGETS, None)
            return info
        relation = relation_name(
            table, default_database=self._default_database, default_schema=self._default_schema
        )
        relation = self._schema_key(relation)
        self._result.tables.add(relation)
        if table.args.get("pivots"):
            self._result.all_columns.add(relation)
            self._warn(f"{self._label}: {relation} is pivoted; it is treated as read in full")
            return _Table(relation, None)
        source = self._tables.get(relation)
        if source is None:
            columns = self._schema.get(relation)
            order = tuple(columns) if columns is not None else None
            source = _Table(relation, order, ignore_case=self._ignore_case)
            self._tables[relation] = source
        return source

    def _schema_key(self, relation: str) -> str:
        """``relation`` itself, or the one schema relation it is a dotted suffix of."""
        if relation in self._schema or not self._schema:
            return relation
        if self._suffixes is None:
            self._suffixes = {}
            for key in self._schema:
                parts = key.split(".")
                for start in range(1, len(parts)):
                    suffix = ".".join(parts[start:])
                    self._suffixes[suffix] = None if suffix in self._suffixes else key
        return self._suffixes.get(relation) or relation

    # -- stars -----------------------------------------------------------------------------------

    def _expand_star(self, projection: exp.Expr, ctx: _Context, info: _Info) -> None:
        star = projection if isinstance(projection, exp.Star) else projection.this
        qualifier = projection.table if isinstance(projection, exp.Column) else ""
        excluded = {column.name for column in star.args.get("except_") or []}
        replaced = {alias.alias: alias for alias in star.args.get("replace") or []}
        if star.args.get("rename"):
            self._warn(f"{self._label}: SELECT * RENAME is not resolved; renamed columns keep their names")
        chosen = [(n, s) for n, s in ctx.starred if not qualifier or n == qualifier]
        if qualifier and not chosen:
            self._warn(f"{self._label}: {qualifier}.* names no source of {info.label}")
        plain = not excluded and not replaced
        for source_name, source in chosen:
            if _known_names(source) is not None:
                info.expanded.append(source)
            if plain and self._expand_all(info, source):
                if isinstance(source, _Info) and source.opens:
                    info.opens.append(source)
                continue
            if isinstance(source, _Table):
                if source.order is None:
                    info.opens.append(source)
                    continue
                for column in source.order:
                    ref = source.ref(column)
                    if plain and column not in info.index:
                        self._add(info, column, [ref], _NO_TARGETS, ref, starred=True)
                    elif column not in excluded:
                        self._star_output(info, ctx, column, [ref], ref, replaced)
            elif source.kind == _QUERY:
                for position, column in enumerate(source.names):
                    target = (source, position)
                    if plain and column not in info.index:
                        self._add(info, column, [target], _NO_TARGETS, target, starred=True)
                    elif column not in excluded:
                        self._star_output(info, ctx, column, [target], target, replaced)
                if source.opens:
                    info.opens.append(source)
            else:
                info.opens.append(source)
            if excluded and info.opens and info.opens[-1] is source:
                self._warn(f"{self._label}: * EXCLUDE over {source_name}, whose columns are unknown")

    def _expand_all(self, info: _Info, source: Source) -> bool:
        """Append every known column of ``source`` at once; False when names clash (go one by one)."""
        if isinstance(source, _Table):
            if source.order is None:
                return False
            names: Sequence[str] = source.order
        elif source.kind == _QUERY:
            names = source.names
        else:
            return False
        index = info.index
        base = len(info.names)
        if len(set(names)) != len(names) or any(name in index for name in names):
            return False
        count = len(names)
        for offset, name in enumerate(names):
            index[name] = base + offset
        info.names.extend(names)
        info.window.extend([_NO_TARGETS] * count)
        info.usage.extend([None] * count)
        info.starred.update(range(base, base + count))
        if isinstance(source, _Table):
            refs = [source.ref(name) for name in names]
            singles = self._singles
            info.targets.extend([ref] for ref in refs)
            for ref in refs:
                single = singles.get(id(ref))
                if single is None:
                    single = singles[id(ref)] = frozenset((ref,))
                info.deps.append(single)
            info.direct.extend(refs)
        else:
            info.targets.extend([(source, position)] for position in range(count))
            info.deps.extend(source.deps)
            info.direct.extend(source.direct)
        return True

    def _star_output(
        self,
        info: _Info,
        ctx: _Context,
        name: str,
        targets: list[Target],
        hint: Target | None,
        replaced: dict[str, exp.Alias],
    ) -> None:
        if name in replaced:
            targets, hint = [], None
            columns, children = self._scan(replaced[name].this, ctx)
            for column, _ in columns:
                targets.extend(self._resolve(column, ctx, info, Clause.SELECT, -1))
            for child, _ in children:
                targets.extend(self._outputs_of(child))
        existing = info.index.get(name)
        if existing is not None and name in ctx.using:
            merged = info.targets[existing] + targets
            info.targets[existing] = merged
            info.deps[existing] = self._union(info, merged, info.window[existing], existing)
            info.direct[existing] = None
            return
        self._add(info, name, targets, _NO_TARGETS, hint, starred=name not in replaced)

    # -- clauses ---------------------------------------------------------------------------------

    def _clause(self, nodes: list[exp.Expr], ctx: _Context, info: _Info, clause: Clause) -> None:
        for node in nodes:
            if not isinstance(node, exp.Expr):
                continue
            columns, children = self._scan(node, ctx)
            targets: list[Target] = []
            window: list[Target] = []
            for column, in_window in columns:
                if in_window:
                    window.extend(self._resolve(column, ctx, info, Clause.WINDOW, len(info.names)))
                else:
                    targets.extend(self._resolve(column, ctx, info, clause, len(info.names)))
            for child, in_window in children:
                (window if in_window else targets).extend(self._outputs_of(child))
            if targets:
                info.clause_refs.append((clause, targets))
            if window:
                info.clause_refs.append((Clause.WINDOW, window))

    def _positional(self, node: exp.Expr, info: _Info, clause: Clause) -> list[exp.Expr]:
        """Record ``GROUP BY 1`` / ``ORDER BY 2``; return what is left to scan."""
        rest: list[exp.Expr] = []
        for key, value in node.args.items():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if not isinstance(item, exp.Expr):
                    continue
                target = item.this if type(item) is exp.Ordered else item
                if key == "expressions" and type(target) is exp.Literal and target.is_int:
                    position = int(target.name) - 1
                    if 0 <= position < len(info.names):
                        info.clause_refs.append((clause, [(info, position)]))
                    continue
                rest.append(item)
        return rest

    def _join_natural(self, join: exp.Join, ctx: _Context, info: _Info) -> None:
        """NATURAL JOIN: the keys are the names both sides share; unknown columns read both in full."""
        right_name = join.this.alias_or_name
        right = ctx.local.get(right_name)
        if right is None:
            return
        left: list[Source] = []
        for name, source in ctx.sources:
            if name == right_name:
                break
            left.append(source)
        right_names = _known_names(right)
        left_names = [(source, _known_names(source)) for source in left]
        targets: list[Target] = []
        if right_names is None or any(names is None for _, names in left_names):
            where = f"the NATURAL JOIN of {right.label} in {info.label}"
            for source in (*left, right):
                targets.extend(self._whole(source, where))
        else:
            for column in right_names:
                owner = next((s for s, names in left_names if names and column in names), None)
                if owner is not None:
                    ctx.using.add(column)
                    targets.extend(self._in_source(owner, column, info))
                    targets.extend(self._in_source(right, column, info))
        if targets:
            info.clause_refs.append((Clause.JOIN, targets))

    def _join_using(self, join: exp.Join, ctx: _Context, info: _Info) -> None:
        using = join.args.get("using")
        if not using:
            return
        right_name = join.this.alias_or_name
        right = ctx.local.get(right_name)
        left = []
        for name, source in ctx.sources:
            if name == right_name:
                break
            left.append(source)
        for identifier in using:
            column = identifier.name
            targets: list[Target] = []
            if right is not None:
                targets.extend(self._in_source(right, column, info))
            known = [s for s in left if self._has(s, column) is True]
            candidates = known[:1] or [s for s in left if self._has(s, column) is None]
            for source in candidates:
                targets.extend(self._in_source(source, column, info))
            info.clause_refs.append((Clause.JOIN, targets))

    # -- column resolution -----------------------------------------------------------------------

    def _resolve(
        self, node: exp.Expr, ctx: _Context, info: _Info, clause: Clause, position: int
    ) -> list[Target]:
        if type(node) is not exp.Column or type(node.this) is exp.Star:
            return self._whole_rows(node, ctx, info, clause)
        column = node
        name = column.name
        qualifier = column.table
        if not qualifier:
            return self._resolve_unqualified(name, ctx, info, clause, position)
        source = ctx.local.get(qualifier)
        if source is not None:
            return self._in_source(source, name, info)
        # More parts: `t.struct_col.field` (a source, then a column) or `struct_col.field.subfield`.
        parts = [part for part in (column.text("catalog"), column.text("db")) if part]
        parts.append(qualifier)
        for index, part in enumerate(parts[:-1]):
            if part in ctx.local:
                return self._in_source(ctx.local[part], parts[index + 1], info)
        outer = self._outer_source(ctx, qualifier)
        if outer is not None:
            return self._in_source(outer, name, info)
        for _, candidate in ctx.sources:
            if isinstance(candidate, _Table) and candidate.relation.rsplit(".", 1)[-1] == qualifier:
                return self._in_source(candidate, name, info)
        if self._has_any(ctx, parts[0]):
            return self._resolve_unqualified(parts[0], ctx, info, clause, position)
        self._warn(f"{self._label}: column {'.'.join(parts)}.{name} names no source of {info.label}; skipped")
        return []

    def _resolve_unqualified(
        self,
        name: str,
        ctx: _Context,
        info: _Info,
        clause: Clause,
        position: int,
    ) -> list[Target]:
        if clause is Clause.ORDER_BY and name in info.index:
            return [(info, info.index[name])]
        aliased = ctx.local.get(name)
        if isinstance(aliased, _Info) and aliased.kind == _FUNCTION:
            return [(aliased, 0)]  # BigQuery: `FROM t, UNNEST(t.items) AS item SELECT item`
        # The right side of a SEMI / ANTI join is visible in its ON clause only.
        sources = ctx.sources if clause is Clause.JOIN else ctx.starred
        known: list[Source] = []
        unknown: list[Source] = []
        for _, source in sources:
            has = self._has(source, name)
            if has:
                known.append(source)
            elif has is None:
                unknown.append(source)
        if len(known) == 1:
            return self._in_source(known[0], name, info)
        if known:
            if name not in ctx.using:
                self._warn(f"{self._label}: column {name} is ambiguous in {info.label}; read from each match")
            return [t for s in known for t in self._in_source(s, name, info)]
        row = ctx.local.get(name)
        if row is not None:  # `to_json(o)`, `SELECT o FROM orders o`: the source's whole row
            return self._whole(row, f"the whole row {name} in {info.label}")
        alias = info.index.get(name)
        if alias is not None and (clause is not Clause.SELECT or alias < position):
            return [(info, alias)]
        if len(unknown) == 1:
            return self._in_source(unknown[0], name, info)
        if unknown:
            if name not in ctx.using:
                labels = ", ".join(s.label for s in unknown)
                self._warn(
                    f"{self._label}: column {name} in {info.label} could come from {labels} "
                    "(columns unknown); read from each"
                )
            return [t for s in unknown for t in self._in_source(s, name, info)]
        outer = self._outer_column(ctx, name)
        if outer is not None:
            return self._in_source(outer, name, info)
        if len(sources) == 1 and isinstance(sources[0][1], _Table):
            table = sources[0][1]
            self._warn(f"{self._label}: column {name} is not a known column of {table.relation}")
            return [table.ref(name)]
        guessed = [target for _, source in sources for target in self._unplaced(source, name)]
        if guessed:
            self._warn(
                f"{self._label}: column {name} is not a known column of any source of {info.label}; "
                "read from each table whose known columns may be incomplete"
            )
        elif sources:
            self._warn(f"{self._label}: column {name} is not produced by any source of {info.label}; skipped")
        return guessed

    def _in_source(self, source: Source, name: str, info: _Info) -> list[Target]:
        if isinstance(source, _Table):
            columns = source.columns
            if columns is not None and name not in columns:
                spelled = source.spelling(name)
                if spelled is None:
                    self._warn(f"{self._label}: column {name} is not a known column of {source.relation}")
                else:
                    name = spelled
            return [source.ref(name)]
        if source.kind == _FUNCTION:
            return [(source, 0)] if source.names else []
        if source.kind == _OPAQUE:
            return []
        position = source.index.get(name)
        if position is None and self._ignore_case:
            position = self._position(source, name)
        if position is not None:
            return [(source, position)]
        targets: list[Target] = []
        for opened in source.opens:
            if self._has(opened, name) is not False:
                targets.extend(self._in_source(opened, name, info))
        if not targets and not source.opens:
            targets = self._unplaced(source, name)
            if targets:
                self._warn(
                    f"{self._label}: column {name} is not a known output of {source.label}; "
                    "read from each table whose known columns may be incomplete"
                )
            else:
                self._warn(f"{self._label}: column {name} is not produced by {source.label}; skipped")
        return targets

    def _unplaced(self, source: Source, name: str) -> list[Target]:
        """Where a column no known column matches may still come from: a table whose known columns
        (declared in YAML, often only some) are incomplete, also behind a ``SELECT *`` that expanded them."""
        if isinstance(source, _Table):
            return [source.ref(name)]
        if source.kind == _QUERY:
            return [target for expanded in source.expanded for target in self._unplaced(expanded, name)]
        return []

    def _whole_rows(self, node: exp.Expr, ctx: _Context, info: _Info, clause: Clause) -> list[Target]:
        """A star inside an expression: ``HASH(t.*)``, ``STRUCT_PACK(*)``, DuckDB's ``COLUMNS(...)``.

        Every column of the sources it covers is read. DuckDB's ``COLUMNS(...)`` in a
        SELECT list also yields columns whose names are unknown here, so that scope's
        outputs stay open over those sources, like an unresolved ``SELECT *``.
        """
        qualifier = node.table if type(node) is exp.Column else ""
        if qualifier:
            found = ctx.local.get(qualifier) or self._outer_source(ctx, qualifier)
            chosen = [found] if found is not None else []
            if found is None:
                self._warn(f"{self._label}: {qualifier}.* names no source of {info.label}; skipped")
        else:
            chosen = [source for _, source in ctx.starred]
        if type(node) is exp.Columns and clause is Clause.SELECT:
            info.opens.extend(source for source in chosen if source not in info.opens)
        what = "COLUMNS(...)" if type(node) is exp.Columns else f"{qualifier}.*" if qualifier else "*"
        return [t for source in chosen for t in self._whole(source, f"{what} in {info.label}")]

    def _whole(self, source: Source, where: str) -> list[Target]:
        """Every column of ``source``, read as one value by ``where``; a table is then read in full."""
        if isinstance(source, _Table):
            if source.relation not in self._result.all_columns:
                self._result.all_columns.add(source.relation)
                self._warn(
                    f"{self._label}: {where} reads every column of {source.relation}, "
                    "which is treated as read in full"
                )
            return [source.ref(column) for column in source.order or ()]
        if source.kind == _QUERY:
            if source.opens:
                self._read_in_full(source, where)
            for expanded in source.expanded:  # a SELECT * passes the whole row of what it expanded
                self._whole(expanded, where)
            return [(source, position) for position in range(len(source.names))]
        return [(source, 0)] if source.names else []

    @staticmethod
    def _outer_source(ctx: _Context, qualifier: str) -> Source | None:
        """The source called ``qualifier`` in an enclosing SELECT (a correlated reference)."""
        outer = ctx.outer
        while outer is not None:
            source = outer.local.get(qualifier)
            if source is not None:
                return source
            outer = outer.outer
        return None

    def _outer_column(self, ctx: _Context, name: str) -> Source | None:
        """The one source of an enclosing SELECT known to have column ``name``."""
        outer = ctx.outer
        while outer is not None:
            known = [s for _, s in outer.sources if self._has(s, name) is True]
            if len(known) == 1:
                return known[0]
            outer = outer.outer
        return None

    # -- tree scan -------------------------------------------------------------------------------

    def _scan(
        self, root: exp.Expr, ctx: _Context
    ) -> tuple[list[tuple[exp.Expr, bool]], list[tuple[_Info, bool]]]:
        """Columns under ``root`` (flagged when inside a window spec), and the subqueries read there.

        The columns include the stars inside expressions (``t.*``, a bare ``*``, DuckDB's
        ``COLUMNS(...)``), which ``_resolve`` reads as whole rows; the ``*`` of ``COUNT(*)``
        reads nothing. A subquery met here is resolved on the spot, with ``ctx`` as the
        SELECT it may correlate with. What an EXISTS subquery selects is never read. The
        tree may be detached (no parent links): the walk only ever looks down.
        """
        columns: list[tuple[exp.Expr, bool]] = []
        children: list[tuple[_Info, bool]] = []
        self._scan_into(root, ctx, False, _NO_NAMES, columns, children)
        return columns, children

    def _scan_into(
        self,
        root: exp.Expr,
        ctx: _Context,
        in_window: bool,
        bound: frozenset[str],
        columns: list[tuple[exp.Expr, bool]],
        children: list[tuple[_Info, bool]],
    ) -> None:
        column_type, star_type, expr = exp.Column, exp.Star, exp.Expr
        special = _SPECIAL_NODES
        stack = [root]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is column_type:
                column = t.cast(exp.Column, node)
                if not (bound and not column.table and column.name in bound):
                    columns.append((column, in_window))
                continue
            if kind in special:
                if kind is star_type or kind is exp.Columns:
                    columns.append((node, in_window))
                elif kind is exp.Count:
                    for key, value in node.args.items():
                        if isinstance(value, expr) and not (key == "this" and type(value) is star_type):
                            stack.append(value)
                elif kind is exp.Window:
                    self._scan_into(node.this, ctx, in_window, bound, columns, children)
                    for part in node.args.get("partition_by") or []:
                        self._scan_into(part, ctx, True, bound, columns, children)
                    order = node.args.get("order")
                    if order is not None:
                        self._scan_into(order, ctx, True, bound, columns, children)
                elif kind is exp.Lambda:
                    names = bound | {v.name for v in node.expressions}
                    self._scan_into(node.this, ctx, in_window, names, columns, children)
                elif kind is exp.Exists:
                    inner = node.this
                    while type(inner) is exp.Subquery:
                        inner = inner.this
                    if isinstance(inner, exp.Query):
                        self._query(inner, ctx.ctes, ctx, label="an EXISTS subquery")
                    else:
                        stack.append(inner)
                elif kind is not exp.Pivot:  # a query in a value position: a subquery
                    child = self._query(node, ctx.ctes, ctx, label="a subquery")
                    children.append((child, in_window))
                continue
            for value in node.args.values():
                if type(value) is list:
                    stack.extend([item for item in value if isinstance(item, expr)])
                elif isinstance(value, expr):
                    stack.append(value)

    def _outputs_of(self, child: _Info) -> list[Target]:
        """Every output of a value subquery (``x IN (SELECT ...)``, a scalar subquery)."""
        if child.opens:
            self._read_in_full(child, f"a subquery of {self._label}")
        return [(child, position) for position in range(len(child.names))]

    # -- results ---------------------------------------------------------------------------------

    def _add(
        self,
        info: _Info,
        name: str,
        targets: list[Target],
        window: list[Target],
        hint: Target | None,
        *,
        starred: bool = False,
    ) -> None:
        """Append one output; child scopes and earlier outputs are resolved, so deps are final."""
        position = len(info.names)
        if name not in info.index:
            info.index[name] = position
        info.names.append(name)
        info.targets.append(targets)
        info.window.append(window)
        info.usage.append(None)
        if starred:
            info.starred.add(position)
        deps: frozenset[ColumnRef] | None = None
        if not window and len(targets) == 1:
            target = targets[0]
            if isinstance(target, ColumnRef):
                deps = self._singles.get(id(target))
                if deps is None:
                    deps = self._singles[id(target)] = frozenset((target,))
            else:
                other, index = target
                if other is not info or index < position:
                    deps = other.deps[index]
        info.deps.append(deps if deps is not None else self._union(info, targets, window, position))
        direct = None
        if isinstance(hint, ColumnRef):
            direct = hint
        elif hint is not None:
            other, index = hint
            if other is not info or index < position:
                direct = other.direct[index]
        info.direct.append(direct)

    @staticmethod
    def _union(
        info: _Info, targets: list[Target], window: list[Target], position: int
    ) -> frozenset[ColumnRef]:
        refs: set[ColumnRef] = set()
        for group in (targets, window):
            for target in group:
                if isinstance(target, ColumnRef):
                    refs.add(target)
                    continue
                other, index = target
                if other is not info or index < position:
                    refs.update(other.deps[index])
        return frozenset(refs)

    def _propagate(self, infos: list[_Info]) -> None:
        """Push clauses from the root down to the physical columns."""
        reads = self._reads
        root = infos[-1]

        def mark(target: Target, clauses: set[Clause] | frozenset[Clause]) -> None:
            if isinstance(target, ColumnRef):
                existing = reads.get(id(target))
                if existing is None:
                    reads[id(target)] = (target, set(clauses))
                else:
                    existing[1].update(clauses)
                return
            other, index = target
            usage = other.usage[index]
            if usage is None:
                other.usage[index] = set(clauses)
            else:
                usage.update(clauses)

        for info in reversed(infos):
            # What the parents use of this scope is final now. An output nobody uses downstream is
            # still read by its SELECT list (the query fails without the column), unless a SELECT *
            # produced it. References from the scope's own clauses come on top.
            usages = info.usage
            for position, usage in enumerate(usages):
                if usage is None and (info is root or position not in info.starred):
                    usages[position] = set(_SELECT_ONLY)
            for clause, targets in info.clause_refs:
                single = frozenset((clause,))
                for target in targets:
                    mark(target, single)
            all_targets = info.targets
            for position in range(len(info.names) - 1, -1, -1):
                usage = usages[position]
                if not usage:
                    continue
                for target in all_targets[position]:
                    if isinstance(target, ColumnRef):
                        entry = reads.get(id(target))
                        if entry is None:
                            reads[id(target)] = (target, set(usage))
                        else:
                            entry[1].update(usage)
                        continue
                    other, index = target
                    found = other.usage[index]
                    if found is None:
                        other.usage[index] = set(usage)
                    else:
                        found.update(usage)
                for target in info.window[position]:
                    mark(target, _WINDOW_ONLY)

    def _finish(self, root: _Info) -> None:
        result = self._result
        result.reads = {(ref.table, ref.column): (ref, clauses) for ref, clauses in self._reads.values()}
        merged: dict[str, set[ColumnRef]] = {}
        direct: dict[str, ColumnRef | None] = {}
        for position, name in enumerate(root.names):
            deps = root.deps[position]
            if name in merged:
                merged[name].update(deps)
                direct[name] = None
            else:
                merged[name] = set(deps)
                direct[name] = root.direct[position]
        result.outputs = [(name, frozenset(refs)) for name, refs in merged.items()]
        result.direct = [(name, ref) for name, ref in direct.items() if ref is not None]
        if root.opens:
            result.complete = False
            for source in root.opens:
                self._read_in_full(source, "the query's output")

    def _read_in_full(self, source: Source, where: str) -> None:
        if isinstance(source, _Table):
            if source.relation not in self._result.all_columns:
                self._result.all_columns.add(source.relation)
                self._warn(
                    f"{self._label}: SELECT * over {source.relation} reaches {where} and its columns are "
                    "unknown (no schema): those outputs are unknown and the table is treated as read in full"
                )
            return
        for opened in source.opens:
            if opened is not source:
                self._read_in_full(opened, where)

    def _has(self, source: Source, name: str) -> bool | None:
        """Whether ``source`` outputs ``name``: True, False, or None when its columns are unknown."""
        if isinstance(source, _Table):
            columns = source.columns
            if columns is None:
                return None
            return name in columns or (source.ignore_case and source.spelling(name) is not None)
        if source.kind != _QUERY:
            return None
        if name in source.index or (self._ignore_case and self._position(source, name) is not None):
            return True
        return None if source.opens else False

    def _has_any(self, ctx: _Context, name: str) -> bool:
        return any(self._has(source, name) is not False for _, source in ctx.sources)

    def _position(self, info: _Info, name: str) -> int | None:
        """Where ``info`` outputs ``name`` (ignoring case where the dialect does), or None."""
        position = info.index.get(name)
        if position is not None or not self._ignore_case:
            return position
        folded = info.folded
        if folded is None:
            folded = info.folded = {}
            for key, value in info.index.items():
                folded.setdefault(key.lower(), value)
        return folded.get(name.lower())

    def _warn(self, message: str) -> None:
        if message in self._seen_warnings:
            return
        self._seen_warnings.add(message)
        warnings = self._result.warnings
        if len(warnings) < MAX_WARNINGS:
            warnings.append(message)
        elif len(warnings) == MAX_WARNINGS:
            warnings.append(f"{self._label}: more warnings were dropped")


def _known_names(source: Source) -> Sequence[str] | None:
    """Every column ``source`` outputs, or None when they are not all known."""
    if isinstance(source, _Table):
        return source.order
    if source.kind == _QUERY and not source.opens:
        return source.names
    return None


def _rename(info: _Info, names: Sequence[str]) -> None:
    """Apply a column list given by the outer query: ``cte(a, b) AS (...)``, ``(...) AS t(a, b)``."""
    for position, name in enumerate(names[: len(info.names)]):
        info.names[position] = name
    info.index = {}
    for position, name in enumerate(info.names):
        info.index.setdefault(name, position)
