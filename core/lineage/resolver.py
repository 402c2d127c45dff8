"""Column lineage of one parsed query: a single walk over its sqlglot scopes.

The query must already be canonicalized (``identifiers.canonicalize``). Scopes
come from ``sqlglot.optimizer.scope.traverse_scope`` in post-order, so every
CTE, derived table, set-operation branch and subquery is resolved before the
scope that reads it. Each scope records, per output column, the *targets* it
reads: a physical column (``ColumnRef``) or an output of a child scope. A column
is resolved against the scope's sources the way ``qualify_columns`` would, but
without rewriting the tree, which is what keeps the cost near a bare parse.

After the walk, clauses are pushed from the root down: a physical column is read
in the clauses where the outputs built from it are used (an output that only
feeds a ``WHERE`` upstairs reads its columns in ``WHERE``, not ``SELECT``).
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, ScopeType, traverse_scope

from tessera_core.lineage.identifiers import relation_name
from tessera_core.lineage.refs import Clause, ColumnRef

MAX_WARNINGS = 50

_QUERY, _FUNCTION, _OPAQUE = 0, 1, 2

_CLAUSE_OF_ARG: dict[str, Clause] = {
    "where": Clause.WHERE,
    "prewhere": Clause.WHERE,
    "connect": Clause.WHERE,
    "match": Clause.WHERE,
    "limit": Clause.WHERE,
    "offset": Clause.WHERE,
    "from_": Clause.JOIN,
    "joins": Clause.JOIN,
    "laterals": Clause.JOIN,
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

    __slots__ = ("columns", "label", "order", "refs", "relation")

    def __init__(self, relation: str, order: tuple[str, ...] | None) -> None:
        self.relation = relation
        self.label = relation
        self.order = order
        self.columns = frozenset(order) if order is not None else None
        self.refs: dict[str, ColumnRef] = {}

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
        "index",
        "kind",
        "label",
        "names",
        "opens",
        "starred",
        "subquery",
        "targets",
        "usage",
        "window",
    )

    def __init__(self, kind: int, label: str, *, subquery: bool = False) -> None:
        self.kind = kind
        self.label = label
        self.subquery = subquery
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.targets: list[list[Target]] = []  # what each output reads outside window specs
        self.window: list[list[Target]] = []  # what each output reads in PARTITION BY / ORDER BY
        self.starred: set[int] = set()  # outputs that come from a SELECT *
        self.deps: list[frozenset[ColumnRef]] = []  # physical columns each output derives from
        self.direct: list[ColumnRef | None] = []  # the column each output copies unchanged
        self.usage: list[set[Clause] | None] = []  # where downstream scopes use each output
        self.opens: list[Source] = []  # sources whose columns pass through an unresolved SELECT *
        self.clause_refs: list[tuple[Clause, list[Target]]] = []


Target: TypeAlias = ColumnRef | tuple[_Info, int]
Source: TypeAlias = _Table | _Info
_NO_TARGETS: list[Target] = []  # shared; never appended to


class _Context:
    """The sources one scope can read, in FROM/JOIN order."""

    __slots__ = ("local", "sources", "starred", "using")

    def __init__(self) -> None:
        self.sources: list[tuple[str, Source]] = []
        self.starred: list[tuple[str, Source]] = []
        self.local: dict[str, Source] = {}
        self.using: set[str] = set()


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
    ) -> None:
        self._schema = schema
        self._suffixes: dict[str, str | None] | None = None
        self._default_database = default_database
        self._default_schema = default_schema
        self._label = label
        self._by_expression: dict[int, _Info] = {}
        self._by_scope: dict[int, _Info] = {}
        self._contexts: dict[int, _Context] = {}
        self._tables: dict[str, _Table] = {}
        self._result = Resolution()
        self._seen_warnings: set[str] = set()
        # ColumnRefs are interned per relation (``_Table.ref``), so ids are safe keys here.
        self._singles: dict[int, frozenset[ColumnRef]] = {}
        self._current: exp.Expr | None = None  # the expression of the scope being analyzed
        self._reads: dict[int, tuple[ColumnRef, set[Clause]]] = {}

    # -- entry point -----------------------------------------------------------------------------

    def run(self, query: exp.Expr) -> Resolution:
        scopes = traverse_scope(query)
        if not scopes:
            raise LineageUnsupported(f"{type(query).__name__} is not a query")
        infos: list[_Info] = []
        for scope in scopes:
            info = self._analyze(scope)
            self._by_scope[id(scope)] = info
            self._by_expression[id(scope.expression)] = info
            infos.append(info)
        root = infos[-1]
        self._propagate(infos)
        self._finish(root)
        return self._result

    # -- per scope -------------------------------------------------------------------------------

    def _analyze(self, scope: Scope) -> _Info:
        expression = scope.expression
        self._current = expression
        subquery = scope.scope_type is ScopeType.SUBQUERY
        if isinstance(expression, exp.Select):
            info = _Info(_QUERY, _scope_label(scope), subquery=subquery)
            self._select(scope, expression, info)
        elif isinstance(expression, exp.SetOperation):
            info = _Info(_QUERY, _scope_label(scope), subquery=subquery)
            self._set_operation(scope, expression, info)
        else:
            info = _Info(_FUNCTION, _scope_label(scope), subquery=subquery)
            self._function(scope, expression, info)
        return info

    def _select(self, scope: Scope, select: exp.Select, info: _Info) -> None:
        ctx = self._context(scope)
        for position, projection in enumerate(select.expressions):
            if _is_star(projection):
                self._expand_star(projection, scope, ctx, info)
                continue
            is_alias = type(projection) is exp.Alias
            inner = projection.this if is_alias else projection
            if type(inner) is exp.Column and type(inner.this) is not exp.Star:
                name = projection.alias if is_alias else inner.name
                targets = self._resolve(inner, scope, ctx, info, Clause.SELECT, len(info.names))
                self._add(info, name, targets, _NO_TARGETS, targets[0] if len(targets) == 1 else None)
                continue
            name = projection.alias_or_name or f"_col_{position}"
            targets = []
            window: list[Target] = []
            columns, children = self._scan(projection)
            for column, in_window in columns:
                if in_window:
                    window.extend(self._resolve(column, scope, ctx, info, Clause.WINDOW, len(info.names)))
                else:
                    targets.extend(self._resolve(column, scope, ctx, info, Clause.SELECT, len(info.names)))
            for child, in_window in children:
                (window if in_window else targets).extend(self._outputs_of(child))
            self._add(info, name, targets, window or _NO_TARGETS, None)
        _rename_outputs(scope, info)

        for key, value in select.args.items():
            if value is None or key == "expressions":
                continue
            clause = _CLAUSE_OF_ARG.get(key)
            if clause is None:
                continue
            if key == "joins":
                for join in value:
                    self._join_using(join, ctx, info)
            if key in ("group", "order"):
                value = self._positional(value, info, clause)
            self._clause(value if isinstance(value, list) else [value], scope, ctx, info, clause)

    def _set_operation(self, scope: Scope, operation: exp.SetOperation, info: _Info) -> None:
        branches = [self._by_scope.get(id(s)) for s in scope.set_operation_scopes]
        left = branches[0] if len(branches) == 2 else None
        right = branches[1] if len(branches) == 2 else None
        if left is None or right is None:
            self._warn(f"{self._label}: a set operation could not be resolved; its branches are skipped")
            return
        by_name = bool(operation.args.get("by_name"))
        for position, name in enumerate(left.names):
            targets: list[Target] = [(left, position)]
            other = right.index.get(name) if by_name else (position if position < len(right.names) else None)
            if other is not None:
                targets.append((right, other))
            self._add(info, name, targets, _NO_TARGETS, None)
        for branch in (left, right):
            if branch.opens:
                info.opens.append(branch)
                self._read_in_full(branch, f"a branch of {info.label}")
        _rename_outputs(scope, info)
        ctx = _Context()
        for key in ("order", "limit", "offset"):
            value = operation.args.get(key)
            if value is None:
                continue
            nodes = self._positional(value, info, Clause.ORDER_BY) if key == "order" else [value]
            self._clause(nodes, scope, ctx, info, _CLAUSE_OF_ARG[key])

    def _function(self, scope: Scope, function: exp.Expr, info: _Info) -> None:
        """A table function (UNNEST, LATERAL, VALUES...): every output derives from its arguments."""
        ctx = self._context(scope)
        targets: list[Target] = []
        columns, children = self._scan(function)
        for column, _ in columns:
            targets.extend(self._resolve(column, scope, ctx, info, Clause.JOIN, 0))
        for child, _ in children:
            targets.extend(self._outputs_of(child))
        self._add(info, "*", targets, _NO_TARGETS, None)
        if targets:
            info.clause_refs.append((Clause.JOIN, targets))

    # -- sources ---------------------------------------------------------------------------------

    def _context(self, scope: Scope) -> _Context:
        ctx = self._contexts.get(id(scope))
        if ctx is not None:
            return ctx
        ctx = _Context()
        self._contexts[id(scope)] = ctx
        pairs: list[tuple[str, object]]
        if isinstance(scope.expression, exp.UDTF):
            pairs = list(scope.lateral_sources.items())
            semi: set[str] = set()
        else:
            # A table (or CTE) by its alias; a derived table or table function by its own node,
            # since unaliased ones all share the name "".
            pairs = [
                (name, scope.sources.get(name) if isinstance(node, exp.Table) else node)
                for name, node in scope.references
            ]
            semi = scope.semi_or_anti_join_tables
        for position, (name, node) in enumerate(pairs):
            if not name:
                name = f"#{position}"  # unaliased: not addressable by a qualifier
            if node is None or name in ctx.local:
                continue
            source: Source
            if isinstance(node, exp.Table):
                source = self._table_source(node, name)
            elif isinstance(node, Scope):
                source = self._by_scope.get(id(node)) or _Info(_OPAQUE, name)
            elif isinstance(node, exp.Expr) and id(node) in self._by_expression:
                source = self._by_expression[id(node)]
            else:
                continue
            ctx.sources.append((name, source))
            ctx.local[name] = source
            if name not in semi:
                ctx.starred.append((name, source))
        expression = scope.expression
        if isinstance(expression, exp.Select):
            for join in expression.args.get("joins") or []:
                for identifier in join.args.get("using") or []:
                    ctx.using.add(identifier.name)
        return ctx

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
            source = _Table(relation, tuple(columns) if columns is not None else None)
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

    def _expand_star(self, projection: exp.Expr, scope: Scope, ctx: _Context, info: _Info) -> None:
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
                        self._star_output(info, scope, ctx, column, [ref], ref, replaced)
            elif source.kind == _QUERY:
                for position, column in enumerate(source.names):
                    target = (source, position)
                    if plain and column not in info.index:
                        self._add(info, column, [target], _NO_TARGETS, target, starred=True)
                    elif column not in excluded:
                        self._star_output(info, scope, ctx, column, [target], target, replaced)
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
        scope: Scope,
        ctx: _Context,
        name: str,
        targets: list[Target],
        hint: Target | None,
        replaced: dict[str, exp.Alias],
    ) -> None:
        if name in replaced:
            targets, hint = [], None
            columns, children = self._scan(replaced[name].this)
            for column, _ in columns:
                targets.extend(self._resolve(column, scope, ctx, info, Clause.SELECT, -1))
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

    def _clause(
        self, nodes: list[exp.Expr], scope: Scope, ctx: _Context, info: _Info, clause: Clause
    ) -> None:
        for node in nodes:
            if not isinstance(node, exp.Expr):
                continue
            columns, children = self._scan(node)
            targets: list[Target] = []
            window: list[Target] = []
            for column, in_window in columns:
                if in_window:
                    window.extend(self._resolve(column, scope, ctx, info, Clause.WINDOW, len(info.names)))
                else:
                    targets.extend(self._resolve(column, scope, ctx, info, clause, len(info.names)))
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
            known = [s for s in left if _has(s, column) is True]
            candidates = known[:1] or [s for s in left if _has(s, column) is None]
            for source in candidates:
                targets.extend(self._in_source(source, column, info))
            info.clause_refs.append((Clause.JOIN, targets))

    # -- column resolution -----------------------------------------------------------------------

    def _resolve(
        self, column: exp.Column, scope: Scope, ctx: _Context, info: _Info, clause: Clause, position: int
    ) -> list[Target]:
        name = column.name
        qualifier = column.table
        if not qualifier:
            return self._resolve_unqualified(name, scope, ctx, info, clause, position)
        source = ctx.local.get(qualifier)
        if source is not None:
            return self._in_source(source, name, info)
        database = column.text("db")
        if database and database in ctx.local:
            return self._in_source(ctx.local[database], qualifier, info)
        outer = self._outer_source(scope, qualifier)
        if outer is not None:
            return self._in_source(outer, name, info)
        for _, candidate in ctx.sources:
            if isinstance(candidate, _Table) and candidate.relation.rsplit(".", 1)[-1] == qualifier:
                return self._in_source(candidate, name, info)
        if _has_any(ctx, qualifier):
            return self._resolve_unqualified(qualifier, scope, ctx, info, clause, position)
        self._warn(f"{self._label}: column {qualifier}.{name} names no source of {info.label}; skipped")
        return []

    def _resolve_unqualified(
        self,
        name: str,
        scope: Scope | None,
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
            has = _has(source, name)
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
        if scope is not None:
            outer = self._outer_column(scope, name)
            if outer is not None:
                return self._in_source(outer, name, info)
        if len(sources) == 1 and isinstance(sources[0][1], _Table):
            table = sources[0][1]
            self._warn(f"{self._label}: column {name} is not a known column of {table.relation}")
            return [table.ref(name)]
        if sources:
            self._warn(f"{self._label}: column {name} is not produced by any source of {info.label}; skipped")
        return []

    def _in_source(self, source: Source, name: str, info: _Info) -> list[Target]:
        if isinstance(source, _Table):
            if source.columns is not None and name not in source.columns:
                self._warn(f"{self._label}: column {name} is not a known column of {source.relation}")
            return [source.ref(name)]
        if source.kind == _FUNCTION:
            return [(source, 0)] if source.names else []
        if source.kind == _OPAQUE:
            return []
        position = source.index.get(name)
        if position is not None:
            return [(source, position)]
        targets: list[Target] = []
        for opened in source.opens:
            if _has(opened, name) is not False:
                targets.extend(self._in_source(opened, name, info))
        if not targets and not source.opens:
            self._warn(f"{self._label}: column {name} is not produced by {source.label}; skipped")
        return targets

    def _outer_source(self, scope: Scope, qualifier: str) -> Source | None:
        parent = scope.parent if scope.can_be_correlated else None
        while parent is not None:
            source = self._context(parent).local.get(qualifier)
            if source is not None:
                return source
            parent = parent.parent if parent.can_be_correlated else None
        return None

    def _outer_column(self, scope: Scope, name: str) -> Source | None:
        parent = scope.parent if scope.can_be_correlated else None
        while parent is not None:
            known = [s for _, s in self._context(parent).sources if _has(s, name) is True]
            if len(known) == 1:
                return known[0]
            parent = parent.parent if parent.can_be_correlated else None
        return None

    # -- tree scan -------------------------------------------------------------------------------

    def _scan(self, root: exp.Expr) -> tuple[list[tuple[exp.Column, bool]], list[tuple[_Info, bool]]]:
        """Columns under ``root`` in this scope (flagged when inside a window spec), and child scopes."""
        columns: list[tuple[exp.Column, bool]] = []
        children: list[tuple[_Info, bool]] = []
        by_expression = self._by_expression
        own = self._current
        stack: list[tuple[exp.Expr, bool, frozenset[str]]] = [(root, False, frozenset())]
        while stack:
            node, in_window, bound = stack.pop()
            kind = type(node)
            if kind is exp.Column:
                column = t.cast(exp.Column, node)
                if type(column.this) is not exp.Star and not (
                    bound and not column.table and column.name in bound
                ):
                    columns.append((column, in_window))
                continue
            child = by_expression.get(id(node))
            if child is not None and node is not own:
                # Only value subqueries are read here; derived tables and table functions are
                # sources, and what an EXISTS subquery selects is never read.
                if child.subquery and type(node.parent) is not exp.Exists:
                    children.append((child, in_window))
                continue
            if kind is exp.Window:
                stack.append((node.this, in_window, bound))
                for part in node.args.get("partition_by") or []:
                    stack.append((part, True, bound))
                order = node.args.get("order")
                if order is not None:
                    stack.append((order, True, bound))
                continue
            if kind is exp.Lambda:
                bound = bound | {v.name for v in node.expressions}
            elif kind is exp.Pivot:
                continue
            for value in node.args.values():
                if type(value) is list:
                    for item in value:
                        if isinstance(item, exp.Expr):
                            stack.append((item, in_window, bound))
                elif isinstance(value, exp.Expr):
                    stack.append((value, in_window, bound))
        return columns, children

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

    def _warn(self, message: str) -> None:
        if message in self._seen_warnings:
            return
        self._seen_warnings.add(message)
        warnings = self._result.warnings
        if len(warnings) < MAX_WARNINGS:
            warnings.append(message)
        elif len(warnings) == MAX_WARNINGS:
            warnings.append(f"{self._label}: more warnings were dropped")


def _is_star(projection: exp.Expr) -> bool:
    kind = type(projection)
    return kind is exp.Star or (kind is exp.Column and type(projection.this) is exp.Star)


def _has(source: Source, name: str) -> bool | None:
    """Whether ``source`` outputs ``name``: True, False, or None when its columns are unknown."""
    if isinstance(source, _Table):
        return None if source.columns is None else name in source.columns
    if source.kind != _QUERY:
        return None
    if name in source.index:
        return True
    return None if source.opens else False


def _has_any(ctx: _Context, name: str) -> bool:
    return any(_has(source, name) is not False for _, source in ctx.sources)


def _rename_outputs(scope: Scope, info: _Info) -> None:
    """Apply a column list given by the outer query: ``cte(a, b) AS (...)``, ``(...) AS t(a, b)``."""
    outer = scope.outer_columns
    if not outer:
        return
    for position, name in enumerate(outer[: len(info.names)]):
        info.names[position] = name
    info.index = {}
    for position, name in enumerate(info.names):
        info.index.setdefault(name, position)


def _scope_label(scope: Scope) -> str:
    expression = scope.expression
    if scope.scope_type is ScopeType.ROOT:
        return "the outer query"
    parent = expression.parent
    if scope.scope_type is ScopeType.CTE and isinstance(parent, exp.CTE):
        return f"CTE {parent.alias}"
    if isinstance(parent, exp.Subquery) and parent.alias:
        return f"subquery {parent.alias}"
    return scope.scope_type.name.lower().replace("_", " ")
