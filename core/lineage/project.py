"""Column lineage of a whole dbt project: order, schemas, ephemerals, cache, progress, fallbacks.

Models and snapshots with compiled SQL are analyzed in topological order, so each
model is qualified against the columns of what it reads: the catalog's columns,
else the upstream model's own inferred outputs, else its declared columns.
Relations found in the SQL are mapped back to unique ids. ``depends_on`` always
stands: a dependency the SQL does not show is kept and read in full, and a model
whose SQL cannot be analyzed reads every column of every dependency.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from tessera_core.lineage.cache import LineageCache
from tessera_core.lineage.identifiers import get_dialect
from tessera_core.lineage.query import EPHEMERAL_PREFIX, QueryLineage, analyze_model_sql
from tessera_core.lineage.refs import Clause
from tessera_core.manifest import Node, Project

# Bump when the meaning of cached results changes; any edit to the lineage modules or another
# sqlglot version also makes every cached entry miss (see ``_code_version``).
LINEAGE_VERSION = 1
_CODE_MODULES = ("refs.py", "identifiers.py", "resolver.py", "query.py", "project.py")

# GC thresholds while a project runs (see ``_young_collections_only``).
_GC_THRESHOLDS = (50_000, 20, 1_000_000)

_ANALYZED_TYPES = frozenset({"model", "snapshot"})
_CLAUSES = tuple(Clause)
_CLAUSE_SETS = tuple(
    frozenset(c for i, c in enumerate(_CLAUSES) if mask & (1 << i)) for mask in range(1 << len(_CLAUSES))
)
_CLAUSE_MASKS = {clauses: mask for mask, clauses in enumerate(_CLAUSE_SETS)}

ColumnKey = tuple[str, str]  # (upstream unique_id, column)


@dataclass(frozen=True, slots=True)
class ModelLineage:
    """What one model reads, per upstream node and column, and where its outputs come from.

    Upstream keys are unique ids; a relation the SQL reads that is no node of the
    project is keyed by its relation name. ``columns_read[uid] is None`` means
    every column of ``uid``.
    """

    unique_id: str
    upstream: tuple[str, ...]  # depends_on, then tables the SQL reads that it does not list
    columns_read: dict[str, frozenset[str] | None] = field(hash=False)
    clauses: dict[ColumnKey, frozenset[Clause]] = field(hash=False)
    outputs: dict[str, frozenset[ColumnKey]] = field(hash=False)
    direct: dict[str, ColumnKey] = field(hash=False)
    ok: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProjectLineage:
    """Lineage of every analyzed node, in topological order."""

    models: dict[str, ModelLineage] = field(hash=False)  # by unique_id, in topological order
    relations: dict[str, str] = field(hash=False)  # normalized relation -> unique_id
    cache_hits: int = 0
    cache_misses: int = 0


def analyze_project(
    project: Project,
    *,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ProjectLineage:
    """Column lineage of every model and snapshot of ``project`` that has compiled SQL.

    ``cache_dir``: where to keep per-model results between runs (none when ``None``);
    an entry is reused only when the model's SQL, the schemas it was qualified
    with, the dialect and the lineage code are all unchanged. ``progress`` is
    called with ``(done, total)`` after each model.

    While it runs, Python's garbage collector only collects its young
    generations (see ``_young_collections_only``).
    """
    runner = _ProjectRunner(project, cache_dir)
    try:
        with _young_collections_only():
            return runner.run(progress)
    finally:
        runner.close()


@contextmanager
def _young_collections_only() -> Iterator[None]:
    """Raise the GC thresholds for the run; the previous ones are restored after.

    A run allocates millions of small containers (parse trees, results, cache
    payloads). With the default thresholds, collections keep re-walking the whole
    project and every result kept so far, which costs more than the analysis
    itself. Parse trees hold reference cycles (parent links) but die young, so the
    young generations, collected every 50,000 allocations, are enough to free them.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def topological_order(nodes: Mapping[str, Node], selected: Iterable[str]) -> tuple[list[str], list[str]]:
    """``selected`` ordered so that each node follows its ``depends_on``; and the ids left in cycles.

    Ties are broken by unique id, so the order is deterministic. Nodes in a cycle
    come last, by unique id.
    """
    chosen = set(selected)
    indegree = dict.fromkeys(chosen, 0)
    children: dict[str, list[str]] = {uid: [] for uid in chosen}
    for uid in chosen:
        for parent in set(nodes[uid].depends_on):
            if parent in chosen and parent != uid:
                indegree[uid] += 1
                children[parent].append(uid)
    ready = [uid for uid, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        uid = heapq.heappop(ready)
        order.append(uid)
        for child in children[uid]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, child)
    cyclic = sorted(uid for uid, degree in indegree.items() if degree > 0)
    return order + cyclic, cyclic


class _ProjectRunner:
    def __init__(self, project: Project, cache_dir: Path | None) -> None:
        self.project = project
        self.nodes = project.nodes
        self.cache = LineageCache(cache_dir) if cache_dir is not None else None
        # Models, seeds and snapshots win over a source declared on the same table (as in the manifest).
        self.relations: dict[str, str] = {
            node.relation: uid
            for uid, node in sorted(self.nodes.items(), key=lambda item: item[1].resource_type != "source")
            if node.relation
        }
        self.inferred: dict[str, tuple[str, ...]] = {}
        self._fingerprints: dict[str, str] = {}
        self._stated: dict[str, tuple[str, ...] | None] = {}
        self._suffixes: dict[str, str | None] | None = None
        self.hits = 0
        self.misses = 0

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    # -- the run ---------------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None) -> ProjectLineage:
        get_dialect(self.project.dialect)  # an unknown dialect fails before any model, cached or not
        selected = [
            uid
            for uid, node in self.nodes.items()
            if node.resource_type in _ANALYZED_TYPES and node.compiled_sql
        ]
        order, cyclic = topological_order(self.nodes, selected)
        cyclic_set = set(cyclic)
        digest = self._project_digest() if self.cache is not None else ""
        known = self.cache.last_keys(digest) if self.cache is not None else None
        keys: dict[str, str] = {}
        models: dict[str, ModelLineage] = {}
        total = len(order)
        for done, uid in enumerate(order, start=1):
            model = self._model(uid, keys, known)
            if uid in cyclic_set:
                warning = f"model {uid} is part of a depends_on cycle; upstream schemas may be missing"
                model = _with_warning(model, warning)
            models[uid] = model
            if progress is not None:
                progress(done, total)
        if self.cache is not None:
            self.cache.remember_run(digest, keys)
        return ProjectLineage(
            models=models, relations=dict(self.relations), cache_hits=self.hits, cache_misses=self.misses
        )

    def _model(self, uid: str, keys: dict[str, str], known: dict[str, str] | None) -> ModelLineage:
        """One model's lineage: from the cache when its key matches, else analyzed (and cached).

        ``known`` holds the keys of the last run when the project has not changed since,
        so they need not be recomputed. The key used goes into ``keys``.
        """
        node = self.nodes[uid]
        if known is not None and uid in known and self.cache is not None:
            key = known[uid]
            cached = self.cache.get(key)
            if cached is not None and self._still_valid(cached):
                self.hits += 1
                keys[uid] = key
                model, outputs, complete = _decode(uid, cached)
                if complete:
                    self.inferred[uid] = outputs
                return model
        sql = node.compiled_sql or ""
        upstream = self._qualifying_nodes(node)
        closure = self._ephemeral_closure(node)
        ephemerals = {name: self.nodes[e].compiled_sql or "" for name, e in closure.items()}
        key = keys[uid] = self._key(node, sql, upstream, ephemerals)
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None and self._still_valid(cached):
            self.hits += 1
            model, outputs, complete = _decode(uid, cached)
        else:
            self.misses += 1
            database, schema_name = _defaults(node.relation)
            analysis = analyze_model_sql(
                sql,
                dialect=self.project.dialect,
                schema=self._schema(uid, upstream),
                default_database=database,
                default_schema=schema_name,
                name=uid,
                ephemerals=ephemerals,
            )
            model, mapping = self._to_model(node, analysis.lineage, upstream)
            outputs = tuple(name for name, _ in analysis.lineage.outputs)
            complete = analysis.outputs_complete and analysis.lineage.ok
            if self.cache is not None:
                self.cache.put(key, _encode(model, outputs, complete, mapping))
        if complete:
            self.inferred[uid] = outputs
            self._fingerprints.pop(uid, None)
        return model

    # -- schemas ---------------------------------------------------------------------------------

    def _qualifying_nodes(self, node: Node) -> list[str]:
        """The nodes whose columns qualify ``node``'s SQL: depends_on, through ephemerals, and itself."""
        seen: set[str] = set()
        result: list[str] = []
        stack = list(reversed(node.depends_on))
        while stack:
            uid = stack.pop()
            if uid in seen or uid not in self.nodes:
                continue
            seen.add(uid)
            other = self.nodes[uid]
            if other.materialized == "ephemeral":
                stack.extend(reversed(other.depends_on))
            elif other.relation:
                result.append(uid)
        if node.relation and node.unique_id not in seen:
            result.append(node.unique_id)
        return sorted(result)

    def _ephemeral_closure(self, node: Node) -> dict[str, str]:
        """``__dbt__cte__<name>`` -> unique id, for every ephemeral model ``node`` reads, at any depth."""
        found: dict[str, str] = {}
        stack = list(node.depends_on)
        seen: set[str] = set()
        while stack:
            uid = stack.pop()
            if uid in seen or uid not in self.nodes:
                continue
            seen.add(uid)
            other = self.nodes[uid]
            if other.materialized == "ephemeral" and other.compiled_sql:
                found[f"{EPHEMERAL_PREFIX}{other.name}"] = uid
                stack.extend(other.depends_on)
        return found

    def _schema(self, uid: str, upstream: list[str]) -> dict[str, Sequence[str]]:
        """Relation -> columns of every node that qualifies ``uid``'s SQL and has known columns."""
        schema: dict[str, Sequence[str]] = {}
        for other in upstream:
            relation = self.nodes[other].relation
            columns = self._columns(other, inferred=other != uid)
            if relation and columns is not None:
                schema[relation] = columns
        return schema

    def _columns(self, uid: str, *, inferred: bool = True) -> Sequence[str] | None:
        """Catalog columns, else the model's inferred outputs, else its declared columns."""
        if uid not in self._stated:
            self._stated[uid] = self._stated_columns(uid)
        stated = self._stated[uid]
        if inferred and uid in self.inferred and not self.project.catalog.get(uid):
            return self.inferred[uid]
        return stated

    def _stated_columns(self, uid: str) -> tuple[str, ...] | None:
        """Catalog columns, else declared columns, else None."""
        catalog = self.project.catalog.get(uid)
        if catalog:
            return tuple(catalog)
        declared = self.nodes[uid].columns
        if declared:
            return tuple([column.name for column in declared])
        return None

    def _fingerprint(self, uid: str) -> str:
        """The relation and columns ``uid`` contributes to a downstream cache key."""
        cached = self._fingerprints.get(uid)
        if cached is None:
            columns = self._columns(uid)
            listed = "\x1f".join(columns) if columns is not None else "\x00unknown"
            cached = f"{uid}\x1e{self.nodes[uid].relation}\x1e{listed}"
            self._fingerprints[uid] = cached
        return cached

    def _project_digest(self) -> str:
        """Everything any model's cache key depends on, for the whole project at once."""
        digest = hashlib.blake2b(digest_size=20)
        digest.update(f"{_code_version()}\x1d{self.project.dialect}".encode())
        for uid in sorted(self.nodes):
            node = self.nodes[uid]
            stated = self._columns(uid, inferred=False)
            fields = (
                uid,
                node.name,
                node.resource_type,
                node.relation or "",
                node.materialized or "",
                "\x1f".join(node.depends_on),
                "\x1f".join(stated) if stated is not None else "\x00unknown",
                node.compiled_sql or "",
            )
            digest.update("\x1e".join(fields).encode() + b"\x1d")
        return digest.hexdigest()

    def _key(self, node: Node, sql: str, upstream: list[str], ephemerals: Mapping[str, str]) -> str:
        digest = hashlib.blake2b(digest_size=20)
        header = f"{_code_version()}\x1d{self.project.dialect}\x1d{node.unique_id}\x1d{node.relation}"
        digest.update(header.encode())
        digest.update(b"\x1d" + sql.encode())
        for uid in upstream:
            if uid == node.unique_id:
                columns = self._columns(uid, inferred=False)
                digest.update(b"\x1dself\x1e" + "\x1f".join(columns or ("\x00unknown",)).encode())
            else:
                digest.update(b"\x1d" + self._fingerprint(uid).encode())
        for name in sorted(ephemerals):
            digest.update(f"\x1d{name}\x1e{ephemerals[name]}".encode())
        digest.update(b"\x1d" + "\x1f".join(node.depends_on).encode())
        return digest.hexdigest()

    # -- relations -> unique ids -----------------------------------------------------------------

    def _uid_of(self, relation: str) -> str | None:
        uid = self.relations.get(relation)
        if uid is not None:
            return uid
        if self._suffixes is None:
            self._suffixes = {}
            for full, owner in self.relations.items():
                parts = full.split(".")
                for start in range(1, len(parts)):
                    suffix = ".".join(parts[start:])
                    self._suffixes[suffix] = None if suffix in self._suffixes else owner
        return self._suffixes.get(relation)

    def _still_valid(self, payload: object) -> bool:
        """Whether a cached entry can be used: the right shape, and its non-depends_on relations
        still map to the same nodes."""
        if not isinstance(payload, tuple) or len(payload) != _PAYLOAD_FIELDS:
            return False
        mapping = payload[-1]
        return isinstance(mapping, tuple) and all(
            (self._uid_of(relation) or "") == uid for relation, uid in mapping
        )

    def _to_model(
        self, node: Node, lineage: QueryLineage, upstream: list[str]
    ) -> tuple[ModelLineage, tuple[tuple[str, str], ...]]:
        uid = node.unique_id
        warnings = list(lineage.warnings)
        depends_on = [d for d in dict.fromkeys(node.depends_on) if d != uid]
        declared = set(depends_on)
        # Tables read through an inlined ephemeral model are declared by that model's depends_on.
        declared.update(upstream)
        key_of: dict[str, str] = {}
        mapping: list[tuple[str, str]] = []
        extra: list[str] = []
        for relation in sorted(lineage.tables):
            owner = self._uid_of(relation)
            key_of[relation] = owner or relation
            if owner not in declared:
                mapping.append((relation, owner or ""))
            if owner == uid:
                continue
            extra.append(owner or relation)
            if owner is None:
                warnings.append(f"model {uid} reads {relation}, which is no node of this project; kept")
            elif owner not in declared:
                warnings.append(
                    f"model {uid} reads {owner} ({relation}), which is not in its depends_on; kept"
                )
        # One (uid, column) tuple per upstream column, shared by every field: smaller cache payloads
        # (marshal writes repeats as references) and fewer objects when they are loaded again. The
        # resolver hands out one ColumnRef object per column, so object ids are safe keys here.
        keys: dict[int, ColumnKey] = {}
        clauses: dict[ColumnKey, frozenset[Clause]] = {}
        by_table: dict[str, list[str]] = {}
        for ref, found in lineage.reads:
            table, column = ref.table, ref.column
            key = keys[id(ref)] = (key_of[table], column)
            if key[0] != uid:
                clauses[key] = found
            listed = by_table.get(table)
            if listed is None:
                by_table[table] = [column]
            else:
                listed.append(column)
        columns_read: dict[str, frozenset[str] | None] = {}
        for relation, owner in key_of.items():
            if owner == uid:
                continue
            if not lineage.ok or relation in lineage.all_columns:
                columns_read[owner] = None
            else:
                columns_read[owner] = frozenset(by_table.get(relation, ()))
        seen_in_sql = set(columns_read)
        for dependency in depends_on:
            if dependency in seen_in_sql:
                continue
            columns_read[dependency] = None
            other = self.nodes.get(dependency)
            if lineage.ok and other is not None and other.materialized != "ephemeral":
                warnings.append(
                    f"model {uid} depends on {dependency} but its SQL does not read it; "
                    "every column of it is treated as read"
                )
        # (A query of several statements may hold equal refs that are distinct objects.)
        outputs = {
            name: frozenset([keys.get(id(ref)) or (key_of[ref.table], ref.column) for ref in refs])
            for name, refs in lineage.outputs
        }
        direct = {name: keys.get(id(ref)) or (key_of[ref.table], ref.column) for name, ref in lineage.direct}
        model = ModelLineage(
            unique_id=uid,
            upstream=tuple(dict.fromkeys(depends_on + extra)),
            columns_read=columns_read,
            clauses=clauses,
            outputs=outputs,
            direct=direct,
            ok=lineage.ok,
            warnings=tuple(warnings),
        )
        return model, tuple(mapping)


@lru_cache(maxsize=1)
def _code_version() -> str:
    """LINEAGE_VERSION, sqlglot's version and a digest of the lineage modules' source."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{LINEAGE_VERSION}\x1d{metadata.version('sqlglot')}".encode())
    here = Path(__file__).parent
    for module in _CODE_MODULES:
        try:
            digest.update((here / module).read_bytes())
        except OSError:  # installed without sources: the version numbers alone
            digest.update(module.encode())
    return digest.hexdigest()


def _defaults(relation: str | None) -> tuple[str | None, str | None]:
    if not relation:
        return None, None
    parts = relation.split(".")
    if len(parts) >= 3:
        return parts[-3], parts[-2]
    if len(parts) == 2:
        return None, parts[0]
    return None, None


def _with_warning(model: ModelLineage, warning: str) -> ModelLineage:
    return ModelLineage(
        unique_id=model.unique_id,
        upstream=model.upstream,
        columns_read=model.columns_read,
        clauses=model.clauses,
        outputs=model.outputs,
        direct=model.direct,
        ok=model.ok,
        warnings=(*model.warnings, warning),
    )


_PAYLOAD_FIELDS = 10  # the length of the tuple _encode returns


def _encode(
    model: ModelLineage, outputs: tuple[str, ...], complete: bool, mapping: tuple[tuple[str, str], ...]
) -> tuple[object, ...]:
    masks = _CLAUSE_MASKS
    clauses = {key: masks[found] for key, found in model.clauses.items()}
    return (
        model.upstream,
        model.columns_read,
        clauses,
        model.outputs,
        model.direct,
        model.ok,
        model.warnings,
        outputs,
        complete,
        mapping,
    )


def _decode(uid: str, payload: tuple[object, ...]) -> tuple[ModelLineage, tuple[str, ...], bool]:
    (upstream, columns_read, clauses, outputs, direct, ok, warnings, names, complete, _) = payload
    sets = _CLAUSE_SETS
    model = ModelLineage(
        unique_id=uid,
        upstream=upstream,  # type: ignore[arg-type]
        columns_read=columns_read,  # type: ignore[arg-type]
        clauses={key: sets[mask] for key, mask in clauses.items()},  # type: ignore[attr-defined]
        outputs=outputs,  # type: ignore[arg-type]
        direct=direct,  # type: ignore[arg-type]
        ok=bool(ok),
        warnings=warnings,  # type: ignore[arg-type]
    )
    return model, names, bool(complete)  # type: ignore[return-value]
