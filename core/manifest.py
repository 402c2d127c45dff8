"""dbt manifest (schemas v7-v12) and catalog reader. No dbt import: plain JSON.

``load_manifest`` turns ``target/manifest.json`` (and optionally ``catalog.json``)
into a ``Project``: models, sources, seeds, snapshots and exposures reduced to
what Tessera needs, with their generic tests attached.

Memory: manifests of large projects reach hundreds of MB, most of it macros,
docs, test SQL and config noise. The file is decoded with msgspec into typed
structs that name only the keys read here, so everything else is skipped while
scanning and never becomes a Python object. Peak memory is about the size of
the file plus the kept nodes, instead of several times the file size.
"""

from __future__ import annotations

import gc
import heapq
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import msgspec

from tessera_core.errors import ManifestError, UnknownDialectError
from tessera_core.schema.names import normalize_name, relation_fqn

OLDEST_SCHEMA = 7
NEWEST_SCHEMA = 12
# The dbt release that first wrote each manifest schema.
_DBT_RELEASE = {7: "1.3", 8: "1.4", 9: "1.5", 10: "1.6", 11: "1.7", 12: "1.8"}

# Resource types kept as nodes, and the ones a node can read from.
KEPT_TYPES = frozenset({"model", "source", "seed", "snapshot", "exposure"})
_READABLE_PREFIXES = ("model.", "source.", "seed.", "snapshot.")
# Adapters whose warehouse folds unquoted identifiers to upper case.
_UPPER_FOLDING_ADAPTERS = frozenset({"snowflake", "oracle", "exasol", "db2"})


@dataclass(frozen=True, slots=True)
class DbtColumn:
    name: str  # normalized (tessera_core.schema.names.normalize_name, quoted when quote: true)
    data_type: str | None = None
    description: str | None = None
    constraints: tuple[dict[str, Any], ...] = ()  # as in the manifest: {"type": "not_null", ...}
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class DbtTest:
    """A generic data test attached to a node: not_null, unique, accepted_values, relationships, ..."""

    kind: str  # test_metadata.name, e.g. "not_null", "accepted_values"; "dbt_utils.expression_is_true"
    column: str | None  # normalized column name, None for model-level tests
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)  # without "model"
    unique_id: str = ""
    severity: str = "error"  # "error" | "warn", lower case


@dataclass(frozen=True, slots=True)
class Node:
    """A model, source, seed, snapshot or exposure, reduced to what Tessera needs."""

    unique_id: str  # model.shop.stg_orders, source.shop.raw.orders, exposure.shop.weekly_kpis
    resource_type: str  # model | source | seed | snapshot | exposure
    name: str
    package: str
    relation: str | None  # normalized "database.schema.identifier"; None for ephemeral models and exposures
    compiled_sql: str | None = None  # compiled_code (v7+), compiled_sql (older writers)
    raw_sql: str | None = None
    materialized: str | None = None  # table, view, incremental, ephemeral, ...
    depends_on: tuple[str, ...] = ()  # unique_ids of nodes it reads (models, sources, seeds, snapshots)
    columns: tuple[DbtColumn, ...] = ()
    contract_enforced: bool = False
    constraints: tuple[dict[str, Any], ...] = ()  # model-level constraints
    access: str | None = None  # public | protected | private
    group: str | None = None
    version: str | None = None
    latest_version: str | None = None
    deprecation_date: str | None = None
    owner_team: str | None = None  # meta.tessera.owner_team > group owner (name) > meta.owner > None
    tessera: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)  # meta.tessera
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    tests: tuple[DbtTest, ...] = ()
    original_file_path: str | None = None
    exposure_type: str | None = None  # dashboard, ml, application, ... (exposures only)
    owner_email: str | None = None  # the exposure owner's email; for grouped nodes, the group owner's
    source_name: str | None = (
        None  # sources only: the ``sources:`` entry, e.g. "raw" in source.shop.raw.orders
    )
    description: str | None = None

    def column(self, name: str) -> DbtColumn | None:
        """The column with this normalized name, if the manifest documents it."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Project:
    """A whole compiled dbt project."""

    project_name: str
    adapter_type: str  # metadata.adapter_type, e.g. "duckdb", "snowflake"
    dialect: str  # the sqlglot dialect for adapter_type
    schema_version: int  # 7..12
    nodes: dict[str, Node]  # by unique_id
    catalog: dict[str, dict[str, str]] = field(default_factory=dict)  # unique_id -> {column: warehouse type}
    path: Path | None = None
    dbt_version: str | None = None  # metadata.dbt_version of the writer
    _children: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _by_relation: dict[str, str] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        children: dict[str, list[str]] = {}
        for uid in sorted(self.nodes):
            for parent in self.nodes[uid].depends_on:
                children.setdefault(parent, []).append(uid)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})
        by_relation: dict[str, str] = {}
        # Models, seeds and snapshots win over a source declared on the same table.
        for uid in sorted(self.nodes, key=lambda u: (self.nodes[u].resource_type == "source", u)):
            relation = self.nodes[uid].relation
            if relation is not None:
                by_relation.setdefault(relation, uid)
        object.__setattr__(self, "_by_relation", by_relation)

    def node_by_relation(self, relation: str) -> Node | None:
        """The node stored at ``relation`` (any quoting or case), or None.

        A partly qualified name (``schema.table``, ``table``) matches when exactly
        one node's relation ends with it.
        """
        try:
            wanted = canonical_relation(relation, adapter_type=self.adapter_type)
        except ValueError:
            return None
        uid = self._by_relation.get(wanted)
        if uid is None:
            suffix = "." + wanted
            found = [u for r, u in self._by_relation.items() if r.endswith(suffix)]
            if len(found) != 1:
                return None
            uid = found[0]
        return self.nodes[uid]

    def children(self, unique_id: str) -> tuple[str, ...]:
        """The unique_ids of the nodes (exposures included) that read ``unique_id``, sorted."""
        return self._children.get(unique_id, ())

    def topological_order(self) -> list[str]:
        """Every node, parents before children; ties broken by unique_id so the order is stable."""
        pending = {
            uid: sum(1 for p in set(node.depends_on) if p in self.nodes) for uid, node in self.nodes.items()
        }
        ready = [uid for uid, count in pending.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            uid = heapq.heappop(ready)
            order.append(uid)
            for child in self._children.get(uid, ()):
                pending[child] -= 1
                if pending[child] == 0:
                    heapq.heappush(ready, child)
        if len(order) < len(self.nodes):
            cycle = self._find_cycle({uid for uid, count in pending.items() if count > 0})
            where = f"manifest {self.path}" if self.path else f"project {self.project_name}"
            raise ManifestError(
                f"{where} has a dependency cycle: {' -> '.join(cycle)}; "
                "break it by removing one of these ref()/source() calls"
            )
        return order

    def _find_cycle(self, stuck: set[str]) -> list[str]:
        # Every stuck node has a stuck parent, so walking up parents must come back on itself.
        path: list[str] = []
        seen: dict[str, int] = {}
        uid = min(stuck)
        while uid not in seen:
            seen[uid] = len(path)
            path.append(uid)
            uid = min(p for p in self.nodes[uid].depends_on if p in stuck)
        cycle = path[seen[uid] :]
        cycle.reverse()  # parents first: a -> b means b reads a
        start = cycle.index(min(cycle))
        cycle = cycle[start:] + cycle[:start]
        return [*cycle, cycle[0]]


def load_manifest(
    path: str | Path, *, catalog: str | Path | None = None, dialect: str | None = None
) -> Project:
    """Read a dbt ``manifest.json`` (schema v7-v12) and, optionally, its ``catalog.json``.

    ``path`` (and ``catalog``) may also be the directory holding the file, e.g. ``target/``.
    ``dialect`` (default: the one of ``metadata.adapter_type``) is the sqlglot dialect of the SQL,
    for adapters sqlglot does not know. Raises ``ManifestError`` naming the file and what is wrong.
    """
    from tessera_core.dialects import check_dialect, dialect_for_adapter

    manifest_path = _resolve(Path(path), "manifest.json")
    with _gc_paused():  # millions of short-lived containers: collections would only slow decoding down
        data = _read_bytes(manifest_path)
        _probe(manifest_path, data, expected="manifest")
        # Nodes stay undecoded slices of ``data`` until they are read one at a time, so besides the
        # file and the result only one node's decoded fields exist at any moment.
        sections = _decode(manifest_path, data, _Sections)
        meta = sections.metadata
        version = _manifest_version(manifest_path, meta)
        adapter_type = meta.adapter_type
        if not adapter_type:
            raise ManifestError(
                f"{manifest_path}: metadata.adapter_type is missing, so the SQL dialect is unknown; "
                "regenerate the manifest with `dbt parse` against a configured profile"
            )
        if dialect is not None:
            sql_dialect = check_dialect(dialect)
        else:
            try:
                sql_dialect = dialect_for_adapter(adapter_type)
            except UnknownDialectError as exc:
                raise UnknownDialectError(f"{manifest_path}: {exc}") from None
        builder = _NodeBuilder(manifest_path, adapter_type, _group_owners(sections.groups))
        for section in ("nodes", "sources", "exposures"):
            for uid, blob in getattr(sections, section).items():
                builder.add(uid, _decode_item(manifest_path, section, uid, blob))
        nodes = builder.finish()
        del sections, data, builder
        columns = (
            _read_catalog(_resolve(Path(catalog), "catalog.json"), nodes, adapter_type, manifest_path)
            if catalog is not None
            else {}
        )
    return Project(
        project_name=meta.project_name or _main_package(nodes.values()) or manifest_path.parent.name,
        adapter_type=adapter_type,
        dialect=sql_dialect,
        schema_version=version,
        nodes=nodes,
        catalog=columns,
        path=manifest_path,
        dbt_version=meta.dbt_version,
    )


def canonical_relation(text: str, *, adapter_type: str | None = None) -> str:
    """``"DB"."Sch"."t"`` / ``db.sch.t`` / ``[db].[sch].[t]`` -> the canonical ``database.schema.identifier``.

    Unquoted parts fold to lower case; quoted parts keep their case, except that
    on warehouses that fold unquoted names to upper case (Snowflake, Oracle, ...)
    a quoted all-upper-case part means the same as the unquoted name.
    Raises ``ValueError`` on an unbalanced quote or an empty part.
    """
    return ".".join(
        _identifier(part, quoted=quoted, adapter_type=adapter_type) for part, quoted in _split_relation(text)
    )


def _identifier(name: str, *, quoted: bool, adapter_type: str | None) -> str:
    if quoted and name == name.upper() and (adapter_type or "").lower() in _UPPER_FOLDING_ADAPTERS:
        quoted = False  # "ORDERS" on Snowflake is the unquoted orders
    return normalize_name(name, quoted=quoted)


# --- the decoded shapes: only the keys read here ------------------------------------------------------

_Json = dict[str, Any]


class _Metadata(msgspec.Struct, gc=False):
    dbt_schema_version: str | None = None
    dbt_version: str | None = None
    adapter_type: str | None = None
    project_name: str | None = None


class _Envelope(msgspec.Struct, gc=False):
    metadata: Any = None


class _Enforced(msgspec.Struct, gc=False):
    enforced: bool | None = None


class _Config(msgspec.Struct, gc=False):
    materialized: str | None = None
    meta: _Json | None = None
    contract: _Enforced | None = None
    group: str | None = None
    access: str | None = None
    severity: str | None = None


class _Column(msgspec.Struct, gc=False):
    name: str | None = None
    data_type: str | None = None
    description: str | None = None
    meta: _Json | None = None
    constraints: list[_Json] | None = None
    quote: bool | None = None


class _DependsOn(msgspec.Struct, gc=False):
    nodes: list[str] = []


class _TestMetadata(msgspec.Struct, gc=False):
    name: str
    kwargs: _Json | None = None
    namespace: str | None = None


class _Owner(msgspec.Struct, gc=False):
    name: str | None = None
    email: str | None = None


class _Group(msgspec.Struct, gc=False):
    name: str
    package_name: str | None = None
    owner: _Owner | None = None


_Version = str | int | float | None


class _Item(msgspec.Struct, gc=False):
    """Any entry of ``nodes``, ``sources`` or ``exposures``."""

    resource_type: str
    name: str
    package_name: str | None = None
    original_file_path: str | None = None
    description: str | None = None
    database: str | None = None
    schema: str | None = None
    alias: str | None = None
    identifier: str | None = None
    relation_name: str | None = None
    source_name: str | None = None
    compiled_code: str | None = None
    compiled_sql: str | None = None
    raw_code: str | None = None
    raw_sql: str | None = None
    config: _Config | None = None
    meta: _Json | None = None
    source_meta: _Json | None = None
    depends_on: _DependsOn | None = None
    columns: dict[str, _Column] | None = None
    contract: _Enforced | None = None
    constraints: list[_Json] | None = None
    access: str | None = None
    group: str | None = None
    version: _Version = None
    latest_version: _Version = None
    is_latest_version: bool | None = None
    deprecation_date: str | None = None
    test_metadata: _TestMetadata | None = None
    column_name: str | None = None
    attached_node: str | None = None
    type: str | None = None
    owner: _Owner | None = None


class _Sections(msgspec.Struct, gc=False):
    metadata: _Metadata
    nodes: dict[str, msgspec.Raw] = {}
    sources: dict[str, msgspec.Raw] = {}
    exposures: dict[str, msgspec.Raw] = {}
    groups: dict[str, _Group] | None = None


class _CatalogColumn(msgspec.Struct, gc=False):
    type: str | None = None
    name: str | None = None


class _CatalogTable(msgspec.Struct, gc=False):
    columns: dict[str, _CatalogColumn] = {}


class _Catalog(msgspec.Struct, gc=False):
    metadata: _Metadata
    nodes: dict[str, _CatalogTable] = {}
    sources: dict[str, _CatalogTable] = {}


# --- reading files ----------------------------------------------------------------------------------


def _resolve(path: Path, default_name: str) -> Path:
    if path.is_dir():
        path = path / default_name
    if not path.is_file():
        command = "dbt parse` or `dbt compile" if default_name == "manifest.json" else "dbt docs generate"
        raise ManifestError(f"{path}: no such file; run `{command}` first (it writes target/{default_name})")
    return path


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise ManifestError(f"{path}: the file is empty; regenerate it with dbt")
    return data


_T = TypeVar("_T")


def _decode(path: Path, data: bytes, kind: type[_T]) -> _T:
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as exc:
        raise ManifestError(
            f"{path}: {exc}; this is not the shape dbt writes: regenerate the file with dbt"
        ) from None
    except msgspec.DecodeError as exc:
        raise ManifestError(f"{path}: {_json_error(data, str(exc))}") from None


def _json_error(data: bytes, message: str) -> str:
    """msgspec reports a byte offset; people want a line and column."""
    found = re.search(r"\(byte (\d+)\)", message)
    offset = int(found.group(1)) if found else len(data)
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[data.rfind(b"\n", 0, offset) + 1 : offset].decode("utf-8", "replace")) + 1
    reason = re.sub(r"\s*\(byte \d+\)", "", message)
    if not found:
        reason = f"{reason} (is the file cut short?)"
    return f"invalid JSON at line {line}, column {column}: {reason}"


def _artifact_kind(schema_url: str) -> str | None:
    """``https://schemas.getdbt.com/dbt/catalog/v1.json`` -> ``catalog``."""
    found = re.search(r"/dbt/([a-z_-]+)/v\d+\.json$", schema_url)
    return found.group(1) if found else None


_FILE_OF_KIND = {
    "catalog": "catalog.json (from dbt docs generate)",
    "run-results": "run_results.json",
    "sources": "sources.json (from dbt source freshness)",
    "manifest": "manifest.json",
}


def _probe(path: Path, data: bytes, *, expected: str) -> str:
    """Check the document is a dbt artifact of the expected kind; return its schema URL."""
    try:
        metadata = msgspec.json.decode(data, type=_Envelope).metadata
    except msgspec.ValidationError:  # JSON, but not an object
        raise ManifestError(f"{path}: is not a dbt {expected}: the document is not a JSON object") from None
    except msgspec.DecodeError as exc:
        raise ManifestError(f"{path}: {_json_error(data, str(exc))}") from None
    schema_url = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    if not isinstance(schema_url, str):
        raise ManifestError(
            f"{path}: has no metadata.dbt_schema_version, so it is not a dbt {expected}; "
            f"pass the {expected}.json that dbt writes in target/"
        )
    kind = _artifact_kind(schema_url)
    if kind is None:
        raise ManifestError(
            f"{path}: unknown metadata.dbt_schema_version {schema_url!r}; expected a dbt {expected} "
            f"(https://schemas.getdbt.com/dbt/{expected}/vN.json)"
        )
    if kind != expected:
        what = _FILE_OF_KIND.get(kind, f"dbt {kind} artifact")
        raise ManifestError(f"{path}: is a {what}, not a {expected}; pass target/{expected}.json instead")
    return schema_url


def _decode_item(path: Path, section: str, uid: str, blob: msgspec.Raw) -> _Item:
    try:
        return msgspec.json.decode(blob, type=_Item)
    except msgspec.ValidationError as exc:
        where = str(exc).replace("`$", f"`$.{section}[{uid!r}]")
        raise ManifestError(
            f"{path}: {where}; this is not the shape dbt writes: regenerate the manifest"
        ) from None


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _manifest_version(path: Path, meta: _Metadata) -> int:
    found = re.search(r"/v(\d+)\.json$", meta.dbt_schema_version or "")
    if found is None:
        raise ManifestError(
            f"{path}: unknown manifest schema {meta.dbt_schema_version!r}; "
            f"expected https://schemas.getdbt.com/dbt/manifest/v{OLDEST_SCHEMA}.json to v{NEWEST_SCHEMA}.json"
        )
    version = int(found.group(1))
    if version < OLDEST_SCHEMA:
        raise ManifestError(
            f"{path}: schema v{version} is older than the v{OLDEST_SCHEMA} this reads: "
            f"re-run `dbt parse` with dbt >= {_DBT_RELEASE[OLDEST_SCHEMA]}"
        )
    if version > NEWEST_SCHEMA:
        raise ManifestError(
            f"{path}: schema v{version} is newer than the v{NEWEST_SCHEMA} this reads: "
            "upgrade tessera-integrations, or write the manifest with an older dbt"
        )
    return version


# --- building nodes ---------------------------------------------------------------------------------


def _text(value: _Version) -> str | None:
    """Model versions are strings or numbers in the manifest: 2 -> "2", "1.5" -> "1.5"."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _group_owners(groups: dict[str, _Group] | None) -> dict[tuple[str | None, str], _Owner]:
    owners: dict[tuple[str | None, str], _Owner] = {}
    for group in (groups or {}).values():
        if group.owner is not None:
            owners[(group.package_name, group.name)] = group.owner
            owners.setdefault((None, group.name), group.owner)
    return owners


def _merged_meta(*layers: _Json | None) -> dict[str, Any]:
    """Later layers win; ``tessera`` mappings merge key by key."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key == "tessera" and isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


class _PendingTest(NamedTuple):
    """A generic test, kept until every node it may be attached to has been built."""

    unique_id: str
    kind: str
    column_name: str | None
    kwargs: dict[str, Any]
    severity: str
    attached_node: str | None
    parents: tuple[str, ...]
    call: str  # the "model" kwarg: {{ get_where_subquery(ref('orders')) }}


class _NodeBuilder:
    """Turns manifest entries, one at a time, into nodes with their tests attached."""

    def __init__(self, path: Path, adapter_type: str, groups: dict[tuple[str | None, str], _Owner]) -> None:
        self.path = path
        self.adapter_type = adapter_type
        self.groups = groups
        self.nodes: dict[str, Node] = {}
        self.tests: list[_PendingTest] = []
        self.quoted_columns: dict[str, set[str]] = {}  # unique_id -> column keys declared with quote: true
        # v9 flags the latest version on each model instead of naming it: (package, name) -> version
        self.latest: dict[tuple[str, str], str] = {}

    def add(self, uid: str, item: _Item) -> None:
        if item.resource_type in KEPT_TYPES:
            node = self.node(uid, item)
            self.nodes[uid] = node
            quoted = {key for key, col in (item.columns or {}).items() if col.quote}
            if quoted:
                self.quoted_columns[uid] = quoted
            if item.is_latest_version and node.version is not None:  # v9 spelling of latest_version
                self.latest[(node.package, node.name)] = node.version
        elif item.resource_type == "test" and item.test_metadata is not None:  # singular tests have none
            meta = item.test_metadata
            kwargs = meta.kwargs or {}
            namespaced = meta.namespace not in (None, "", "dbt")
            self.tests.append(
                _PendingTest(
                    unique_id=uid,
                    kind=f"{meta.namespace}.{meta.name}" if namespaced else meta.name,
                    column_name=item.column_name,
                    kwargs={k: v for k, v in kwargs.items() if k != "model"},
                    severity=((item.config.severity if item.config else None) or "error").lower(),
                    attached_node=item.attached_node,
                    parents=_readable(item.depends_on.nodes if item.depends_on else ()),
                    call=str(kwargs.get("model", "")),
                )
            )

    def finish(self) -> dict[str, Node]:
        """Every node by unique_id, sorted, with v9 latest versions filled in and tests attached."""
        nodes = self.nodes
        for uid, node in nodes.items():
            if node.version is not None and node.latest_version is None:
                latest = self.latest.get((node.package, node.name))
                if latest is not None:
                    nodes[uid] = replace(node, latest_version=latest)
        by_node: dict[str, list[DbtTest]] = {}
        for test in self.tests:
            target = self._tested_node(test)
            if target is None:
                continue
            column = None
            if test.column_name:
                quoted = test.column_name in self.quoted_columns.get(target, ())
                column = _identifier(test.column_name, quoted=quoted, adapter_type=self.adapter_type)
            by_node.setdefault(target, []).append(
                DbtTest(test.kind, column, test.kwargs, unique_id=test.unique_id, severity=test.severity)
            )
        for uid, tests in by_node.items():
            tests.sort(key=lambda t: (t.column or "", t.kind, t.unique_id))
            nodes[uid] = replace(nodes[uid], tests=tuple(tests))
        return dict(sorted(nodes.items()))

    def _tested_node(self, test: _PendingTest) -> str | None:
        if test.attached_node:
            return test.attached_node if test.attached_node in self.nodes else None
        if len(test.parents) == 1:
            return test.parents[0] if test.parents[0] in self.nodes else None
        # Older manifests, and tests on sources: the tested node is the one the "model" kwarg names.
        for parent in test.parents:
            node = self.nodes.get(parent)
            if node is not None and _is_called(node, test.call):
                return parent
        return None

    def node(self, uid: str, item: _Item) -> Node:
        config = item.config or _Config()
        kind = item.resource_type
        meta = _merged_meta(item.source_meta, item.meta, config.meta)
        tessera = meta.get("tessera") or {}
        if not isinstance(tessera, dict):
            raise ManifestError(
                f"{self.path}: meta.tessera of {uid} must be a mapping, got {type(tessera).__name__}; "
                "fix it in the YAML where the node is declared"
            )
        group = config.group or item.group
        group_owner = self._group_owner(item.package_name, group)
        is_exposure = kind == "exposure"
        materialized = None if kind in ("source", "exposure") else config.materialized
        version = _text(item.version)
        latest = _text(item.latest_version)
        enforced = bool(
            (item.contract and item.contract.enforced) or (config.contract and config.contract.enforced)
        )
        return Node(
            unique_id=uid,
            resource_type=kind,
            name=item.name,
            package=item.package_name or "",
            relation=None if is_exposure or materialized == "ephemeral" else self._relation(uid, item),
            compiled_sql=item.compiled_code if item.compiled_code is not None else item.compiled_sql,
            raw_sql=item.raw_code if item.raw_code is not None else item.raw_sql,
            materialized=materialized,
            depends_on=_readable(item.depends_on.nodes if item.depends_on else ()),
            columns=tuple(self._column(key, col) for key, col in (item.columns or {}).items()),
            contract_enforced=enforced,
            constraints=tuple(item.constraints or ()),
            access=config.access or item.access,
            group=group,
            version=version,
            latest_version=latest,
            deprecation_date=item.deprecation_date,
            owner_team=self._owner_team(uid, tessera, group_owner, item.owner if is_exposure else None, meta),
            tessera=tessera,
            meta=meta,
            original_file_path=item.original_file_path,
            exposure_type=item.type if is_exposure else None,
            owner_email=(item.owner.email if is_exposure and item.owner else None)
            or (group_owner.email if group_owner else None),
            source_name=item.source_name if kind == "source" else None,
            description=item.description or None,
        )

    def _group_owner(self, package: str | None, group: str | None) -> _Owner | None:
        if group is None:
            return None
        return self.groups.get((package, group)) or self.groups.get((None, group))

    def _owner_team(
        self,
        uid: str,
        tessera: Mapping[str, Any],
        group_owner: _Owner | None,
        exposure_owner: _Owner | None,
        meta: Mapping[str, Any],
    ) -> str | None:
        declared = tessera.get("owner_team")
        if declared is not None and not isinstance(declared, str):
            raise ManifestError(
                f"{self.path}: meta.tessera.owner_team of {uid} must be a team name (a string), "
                f"got {declared!r}"
            )
        if declared:
            return declared
        for owner in (group_owner, exposure_owner):
            if owner is not None and owner.name:
                return owner.name
        plain = meta.get("owner")
        if isinstance(plain, dict):
            plain = plain.get("name")
        return plain if isinstance(plain, str) and plain else None

    def _relation(self, uid: str, item: _Item) -> str | None:
        if item.relation_name:
            try:
                return canonical_relation(item.relation_name, adapter_type=self.adapter_type)
            except ValueError as exc:
                raise ManifestError(
                    f"{self.path}: relation_name {item.relation_name!r} of {uid} cannot be read: {exc}"
                ) from None
        identifier = item.identifier if item.resource_type == "source" else item.alias
        identifier = identifier or item.name
        return relation_fqn(item.database, item.schema, identifier)

    def _column(self, key: str, col: _Column) -> DbtColumn:
        name = col.name or key
        return DbtColumn(
            name=_identifier(name, quoted=bool(col.quote), adapter_type=self.adapter_type),
            data_type=col.data_type,
            description=col.description or None,
            constraints=tuple(col.constraints or ()),
            meta=col.meta or {},
        )


def _is_called(node: Node, call: str) -> bool:
    """Does ``{{ get_where_subquery(ref('orders', v=2)) }}`` name this node?"""
    q = r"""\s*['"]"""
    if node.resource_type == "source":
        pattern = rf"source\({q}{re.escape(node.source_name or '')}['\"]\s*,{q}{re.escape(node.name)}['\"]"
    else:
        pattern = rf"ref\((?:{q}[^'\"]*['\"]\s*,)?{q}{re.escape(node.name)}['\"]"
    found = re.search(pattern, call)
    if found is None:
        return False
    wanted = re.search(r"\b(?:version|v)\s*=\s*['\"]?([^'\")\s]+)", call[found.end() :])
    return wanted is None or node.version is None or wanted.group(1) == node.version


def _readable(parents: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in parents if p.startswith(_READABLE_PREFIXES)))


def _main_package(nodes: Iterable[Node]) -> str | None:
    """Manifests before v11 do not name the root project: take the package with the most models."""
    counts: dict[str, int] = {}
    for node in nodes:
        if node.resource_type == "model" and node.package:
            counts[node.package] = counts.get(node.package, 0) + 1
    return min(counts, key=lambda p: (-counts[p], p)) if counts else None


def _split_relation(text: str) -> list[tuple[str, bool]]:
    """Split on dots outside quotes; ``""`` (or ` `` `, ``]]``) inside quotes is a literal quote."""
    closers = {'"': '"', "`": "`", "[": "]"}
    parts: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] in closers:
            close = closers[text[i]]
            i += 1
            chunk: list[str] = []
            while True:
                end = text.find(close, i)
                if end < 0:
                    raise ValueError(f"unbalanced quote in {text!r}")
                chunk.append(text[i:end])
                if end + 1 < n and text[end + 1] == close:
                    chunk.append(close)
                    i = end + 2
                    continue
                i = end + 1
                break
            part, quoted = "".join(chunk), True
        else:
            end = text.find(".", i)
            end = n if end < 0 else end
            part, quoted = text[i:end].strip(), False
            i = end
        if not part:
            raise ValueError(f"empty name in {text!r}")
        parts.append((part, quoted))
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return parts
        if text[i] != ".":
            raise ValueError(f"unexpected {text[i]!r} in {text!r}")
        i += 1


# --- catalog ----------------------------------------------------------------------------------------


def _read_catalog(
    path: Path, nodes: Mapping[str, Node], adapter_type: str, manifest_path: Path
) -> dict[str, dict[str, str]]:
    """``catalog.json`` -> {unique_id: {normalized column: warehouse type}} for the manifest's nodes."""
    data = _read_bytes(path)
    _probe(path, data, expected="catalog")
    catalog = _decode(path, data, _Catalog)
    del data
    tables = {**catalog.nodes, **catalog.sources}
    known = sorted(uid for uid in tables if uid in nodes)
    if tables and not known:
        raise ManifestError(
            f"{path}: describes none of the nodes of {manifest_path} (its first is {min(tables)}); "
            "it comes from another project: run `dbt docs generate` in the project that wrote the manifest"
        )
    out: dict[str, dict[str, str]] = {}
    for uid in known:
        declared = {c.name for c in nodes[uid].columns}
        columns: dict[str, str] = {}
        for key, col in tables[uid].columns.items():
            name = col.name or key
            quoted = name in declared and name != name.lower()  # the manifest kept its case: quote: true
            if col.type is not None:
                columns[_identifier(name, quoted=quoted, adapter_type=adapter_type)] = col.type
        out[uid] = columns
    return out
