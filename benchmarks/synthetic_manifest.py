"""Deterministic synthetic dbt projects (manifest v12 JSON) with realistic compiled SQL.

A project has raw sources, staging models (the ``source -> renamed`` CTE pattern,
casts and renames), intermediate models (CTE chains with joins, filters and
``row_number()`` de-duplication), aggregates (GROUP BY / HAVING), unions of
same-shaped models, marts (windows, CASE, ``SELECT *`` over a CTE) and a few
ephemeral models inlined as ``__dbt__cte__<name>`` CTEs, the way dbt compiles
them. Every model has 20-60 columns; some sources and models declare their
columns, others do not (so ``SELECT *`` is sometimes unresolvable).

    python benchmarks/synthetic_manifest.py --models 5000 --out /tmp/manifest.json
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = "synthetic"
DATABASE = "analytics"
RAW_DATABASE = "raw"

_WORDS = (
    "id",
    "account",
    "customer",
    "order",
    "item",
    "product",
    "store",
    "region",
    "channel",
    "campaign",
    "status",
    "amount",
    "price",
    "quantity",
    "discount",
    "tax",
    "currency",
    "created",
    "updated",
    "shipped",
    "delivered",
    "cancelled",
    "email",
    "phone",
    "city",
    "country",
    "segment",
    "tier",
    "score",
    "rank",
    "source",
    "medium",
    "device",
    "session",
    "event",
    "revenue",
    "cost",
    "margin",
    "category",
    "brand",
    "supplier",
    "warehouse",
    "carrier",
    "payment",
    "method",
    "balance",
    "credit",
    "debit",
    "note",
    "flag",
)
_TYPES = ("integer", "bigint", "varchar", "double", "date", "timestamp", "boolean", "decimal(18,2)")
_MATERIALIZED = ("view", "table", "incremental", "table", "view")


@dataclass
class _Relation:
    unique_id: str
    name: str
    relation: str  # as it appears in compiled SQL: "db"."schema"."name"
    columns: list[str]
    types: dict[str, str]
    key: str  # a join key column
    declared: bool  # columns listed in the manifest


def generate_manifest(models: int, *, seed: int = 7) -> dict[str, Any]:
    """A manifest dict (dbt schema v12 shape) with ``models`` models; same seed, same manifest."""
    return _Generator(models, random.Random(seed)).build()


class _Generator:
    def __init__(self, models: int, rng: random.Random) -> None:
        self.count = models
        self.rng = rng
        self.sources: list[_Relation] = []
        self.models: list[_Relation] = []
        self.ephemerals: list[_Relation] = []
        self.manifest_nodes: dict[str, Any] = {}
        self.manifest_sources: dict[str, Any] = {}
        self.ephemeral_sql: dict[str, str] = {}

    # -- building blocks -------------------------------------------------------------------------

    def _columns(self, low: int = 20, high: int = 60) -> list[str]:
        count = self.rng.randint(low, high)
        names: list[str] = []
        seen: set[str] = set()
        while len(names) < count:
            first, second = self.rng.choice(_WORDS), self.rng.choice(_WORDS)
            name = f"{first}_{second}" if first != second else f"{first}_{len(names)}"
            if name not in seen:
                seen.add(name)
                names.append(name)
        return names

    def _span(self, low: int, high: int, available: int) -> int:
        """A random count in ``[low, high]``, capped at ``available``."""
        return self.rng.randint(min(low, available), min(high, available))

    def _types(self, columns: list[str]) -> dict[str, str]:
        return {c: self.rng.choice(_TYPES) for c in columns}

    def _pick_upstream(self, count: int) -> list[_Relation]:
        pool = self.models[-400:] if len(self.models) > 20 else self.models + self.sources
        pool = pool + self.ephemerals[-10:]
        picked: list[_Relation] = []
        for _ in range(count * 3):
            candidate = self.rng.choice(pool)
            if candidate not in picked:
                picked.append(candidate)
            if len(picked) == count:
                break
        return picked

    # -- the project -----------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        source_count = max(5, self.count // 8)
        for index in range(source_count):
            self._add_source(index)
        kinds = ["staging"] * 30 + ["intermediate"] * 30 + ["aggregate"] * 15 + ["union"] * 7 + ["mart"] * 15
        kinds += ["ephemeral"] * 3
        staged = 0
        for index in range(self.count):
            kind = (
                "staging" if staged < source_count // 2 and index < source_count else self.rng.choice(kinds)
            )
            if kind != "staging" and len(self.models) < 5:
                kind = "staging"
            if kind == "staging":
                staged += 1
            getattr(self, f"_{kind}")(index)
        return {
            "metadata": {
                "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                "dbt_version": "1.11.0",
                "generated_at": "2025-01-01T00:00:00Z",
                "invocation_id": "00000000-0000-0000-0000-000000000000",
                "env": {},
                "project_name": PROJECT,
                "project_id": "0" * 32,
                "adapter_type": "duckdb",
            },
            "nodes": self.manifest_nodes,
            "sources": self.manifest_sources,
            "macros": {},
            "docs": {},
            "exposures": {},
            "metrics": {},
            "groups": {},
            "selectors": {},
            "disabled": {},
            "parent_map": {},
            "child_map": {},
            "group_map": {},
            "saved_queries": {},
            "semantic_models": {},
            "unit_tests": {},
        }

    def _add_source(self, index: int) -> None:
        schema = f"raw_{index % 7}"
        name = f"table_{index}"
        columns = ["id", *self._columns()]
        relation = _Relation(
            unique_id=f"source.{PROJECT}.{schema}.{name}",
            name=name,
            relation=f'"{RAW_DATABASE}"."{schema}"."{name}"',
            columns=columns,
            types=self._types(columns),
            key="id",
            declared=self.rng.random() < 0.8,
        )
        self.sources.append(relation)
        self.manifest_sources[relation.unique_id] = {
            "unique_id": relation.unique_id,
            "resource_type": "source",
            "name": name,
            "source_name": schema,
            "package_name": PROJECT,
            "database": RAW_DATABASE,
            "schema": schema,
            "identifier": name,
            "relation_name": relation.relation,
            "path": "models/sources.yml",
            "original_file_path": "models/sources.yml",
            "fqn": [PROJECT, schema, name],
            "columns": _columns_json(relation) if relation.declared else {},
            "meta": {},
            "config": {"enabled": True},
            "tags": [],
            "loaded_at_field": None,
            "freshness": None,
        }

    def _add_model(
        self,
        index: int,
        prefix: str,
        columns: list[str],
        sql: str,
        upstream: list[_Relation],
        *,
        key: str,
        materialized: str | None = None,
        types: dict[str, str] | None = None,
    ) -> _Relation:
        name = f"{prefix}_{index}"
        schema = {
            "stg": "staging",
            "int": "intermediate",
            "agg": "marts",
            "fct": "marts",
            "uni": "intermediate",
        }
        schema_name = schema.get(prefix, "ephemeral")
        materialized = materialized or self.rng.choice(_MATERIALIZED)
        ephemeral = materialized == "ephemeral"
        relation = _Relation(
            unique_id=f"model.{PROJECT}.{name}",
            name=name,
            relation="" if ephemeral else f'"{DATABASE}"."{schema_name}"."{name}"',
            columns=columns,
            types=types or {c: "varchar" for c in columns},
            key=key,
            declared=self.rng.random() < 0.5,
        )
        depends = [u.unique_id for u in upstream]
        compiled, extra = self._inline_ephemerals(sql, upstream)
        self.manifest_nodes[relation.unique_id] = {
            "unique_id": relation.unique_id,
            "resource_type": "model",
            "name": name,
            "package_name": PROJECT,
            "database": DATABASE,
            "schema": schema_name,
            "alias": name,
            "relation_name": None if ephemeral else relation.relation,
            "language": "sql",
            "raw_code": "-- jinja source omitted",
            "compiled": True,
            "compiled_code": compiled,
            "extra_ctes_injected": True,
            "extra_ctes": extra,
            "path": f"{schema_name}/{name}.sql",
            "original_file_path": f"models/{schema_name}/{name}.sql",
            "fqn": [PROJECT, schema_name, name],
            "config": {
                "enabled": True,
                "materialized": materialized,
                "meta": {},
                "contract": {"enforced": False},
                "access": "protected",
            },
            "depends_on": {"nodes": depends, "macros": []},
            "refs": [
                {"name": u.name, "package": None, "version": None}
                for u in upstream
                if "model." in u.unique_id
            ],
            "sources": [],
            "columns": _columns_json(relation) if relation.declared else {},
            "meta": {},
            "tags": [],
            "contract": {"enforced": False, "alias_types": True},
            "access": "protected",
            "group": None,
            "version": None,
            "latest_version": None,
            "deprecation_date": None,
            "checksum": {"name": "sha256", "checksum": f"{index:064x}"},
        }
        if ephemeral:
            self.ephemerals.append(relation)
            self.ephemeral_sql[relation.name] = compiled
        else:
            self.models.append(relation)
        return relation

    def _inline_ephemerals(self, sql: str, upstream: list[_Relation]) -> tuple[str, list[dict[str, str]]]:
        """Inline ephemeral upstreams as leading ``__dbt__cte__`` CTEs, like dbt's compiled code."""
        used = [u for u in upstream if u.relation == ""]
        if not used:
            return sql, []
        ctes = [f"__dbt__cte__{u.name} as (\n{self.ephemeral_sql[u.name]}\n)" for u in used]
        extra = [{"id": u.unique_id, "sql": f" __dbt__cte__{u.name} as (...)"} for u in used]
        if sql.lstrip().lower().startswith("with "):
            return "with " + ",\n".join(ctes) + ",\n" + sql.lstrip()[5:], extra
        return "with " + ",\n".join(ctes) + "\n" + sql, extra

    @staticmethod
    def _ref(relation: _Relation) -> str:
        return relation.relation or f"__dbt__cte__{relation.name}"

    # -- model kinds -----------------------------------------------------------------------------

    def _staging(self, index: int) -> None:
        source = self.sources[index % len(self.sources)] if index < len(self.sources) else None
        source = source or self.rng.choice(self.sources)
        renamed: list[str] = []
        outputs: list[str] = []
        for column in source.columns:
            target = column if self.rng.random() < 0.6 else f"{column}_value"
            kind = source.types[column]
            roll = self.rng.random()
            if column == "id":
                expression, target = "cast(id as bigint)", f"{source.name}_id"
            elif roll < 0.15:
                expression = f"cast({column} as {kind})"
            elif roll < 0.22 and kind == "varchar":
                expression = f"lower(trim({column}))"
            elif roll < 0.27:
                expression = f"coalesce({column}, {_default(kind)})"
            else:
                expression = column
            renamed.append(
                f"        {expression} as {target}" if expression != target else f"        {target}"
            )
            outputs.append(target)
        where = "\n    where id is not null" if self.rng.random() < 0.5 else ""
        sql = (
            f"with source as (\n    select * from {source.relation}\n),\n\nrenamed as (\n    select\n"
            + ",\n".join(renamed)
            + f"\n    from source{where}\n)\n\nselect * from renamed"
        )
        self._add_model(index, "stg", outputs, sql, [source], key=f"{source.name}_id")

    def _intermediate(self, index: int) -> None:
        picked = self._pick_upstream(2)
        left = picked[0]
        right = picked[1] if len(picked) > 1 else self.rng.choice(self.sources)
        left_cols = self.rng.sample(left.columns, self._span(20, 40, len(left.columns)))
        right_cols = [
            c for c in self.rng.sample(right.columns, min(len(right.columns), 12)) if c not in left_cols
        ]
        left_cols = [c for c in left_cols if c != left.key]
        selected = [f"l.{c}" for c in left_cols] + [f"r.{c} as r_{c}" for c in right_cols]
        outputs = [left.key, *left_cols, *(f"r_{c}" for c in right_cols)]
        filter_column = self.rng.choice(left_cols) if left_cols else left.key
        sql = (
            f"with left_side as (\n    select * from {self._ref(left)}\n),\n\n"
            f"right_side as (\n    select * from {self._ref(right)}\n),\n\n"
            f"joined as (\n    select\n        l.{left.key},\n        "
            + ",\n        ".join(selected)
            + f",\n        row_number() over (partition by l.{left.key} order by l.{filter_column} desc)"
            " as rn\n    from left_side as l\n    left join right_side as r\n"
            f"        on l.{left.key} = r.{right.key}\n"
            f"    where l.{filter_column} is not null\n),\n\n"
            f"final as (\n    select * from joined where rn = 1\n)\n\n"
            "select\n    " + ",\n    ".join(outputs) + "\nfrom final"
        )
        materialized = "ephemeral" if self.rng.random() < 0.03 else None
        self._add_model(index, "int", outputs, sql, [left, right], key=left.key, materialized=materialized)

    def _aggregate(self, index: int) -> None:
        (base,) = self._pick_upstream(1)
        dims = self.rng.sample(base.columns, min(4, len(base.columns)))
        measures = [c for c in base.columns if c not in dims][: self.rng.randint(16, 40)]
        parts = [*dims]
        outputs = [*dims]
        for column in measures:
            function = self.rng.choice(("sum", "avg", "max", "min", "count"))
            parts.append(f"{function}({column}) as {function}_{column}")
            outputs.append(f"{function}_{column}")
        parts.append("count(*) as row_count")
        outputs.append("row_count")
        group = (
            ", ".join(str(i + 1) for i in range(len(dims))) if self.rng.random() < 0.5 else ", ".join(dims)
        )
        sql = (
            f"with base as (\n    select * from {self._ref(base)}\n    where {dims[0]} is not null\n)\n\n"
            "select\n    " + ",\n    ".join(parts) + f"\nfrom base\ngroup by {group}\nhaving count(*) > 0"
        )
        self._add_model(index, "agg", outputs, sql, [base], key=dims[0])

    def _union(self, index: int) -> None:
        parts = self._pick_upstream(self.rng.randint(2, 3))
        common = [c for c in parts[0].columns if all(c in p.columns for p in parts[1:])]
        if len(common) < 20:
            self._aggregate(index)
            return
        columns = common[:40]
        branches = [
            "select\n    "
            + ",\n    ".join(columns)
            + f",\n    '{p.name}' as source_model\nfrom {self._ref(p)}"
            for p in parts
        ]
        sql = "\n\nunion all\n\n".join(branches)
        self._add_model(index, "uni", [*columns, "source_model"], sql, parts, key=columns[0])

    def _mart(self, index: int) -> None:
        (base,) = self._pick_upstream(1)
        keep = base.columns[: self._span(16, 46, len(base.columns))]
        numeric = keep[-1]
        extra = [
            f"sum({numeric}) over (partition by {keep[0]} order by {keep[1]} "
            "rows between unbounded preceding and current row) as running_total",
            f"lag({keep[1]}) over (partition by {keep[0]} order by {keep[1]}) as previous_value",
            f"case when {keep[2]} is null then 'unknown' else cast({keep[2]} as varchar) end"
            f" as {keep[2]}_label",
            f"coalesce({keep[3]}, {keep[4]}) as first_present",
        ]
        outputs = [*keep, "running_total", "previous_value", f"{keep[2]}_label", "first_present"]
        sql = (
            "with base as (\n    select\n        "
            + ",\n        ".join(keep)
            + f"\n    from {self._ref(base)}\n),\n\n"
            "enriched as (\n    select\n        *,\n        "
            + ",\n        ".join(extra)
            + "\n    from base\n)\n\n"
            "select * from enriched\n"
            f"qualify row_number() over (partition by {keep[0]} order by {keep[1]}) <= 100"
        )
        self._add_model(index, "fct", outputs, sql, [base], key=keep[0])

    def _ephemeral(self, index: int) -> None:
        (base,) = self._pick_upstream(1)
        keep = base.columns[: self._span(20, 50, len(base.columns))]
        sql = "select\n    " + ",\n    ".join(keep) + f"\nfrom {self._ref(base)}\nwhere {keep[0]} is not null"
        self._add_model(index, "eph", keep, sql, [base], key=keep[0], materialized="ephemeral")


def _default(kind: str) -> str:
    if kind in ("varchar",):
        return "''"
    if kind in ("date", "timestamp"):
        return "current_date"
    if kind == "boolean":
        return "false"
    return "0"


def _columns_json(relation: _Relation) -> dict[str, Any]:
    return {
        column: {
            "name": column,
            "description": "",
            "meta": {},
            "data_type": relation.types.get(column),
            "constraints": [],
            "quote": None,
            "tags": [],
        }
        for column in relation.columns
    }


def write_manifest(models: int, path: Path, *, seed: int = 7) -> Path:
    """Write ``generate_manifest(models, seed=seed)`` to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(generate_manifest(models, seed=seed)))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_manifest(args.models, args.out, seed=args.seed)
    print(f"wrote {args.out} ({args.models} models, seed {args.seed})")


if __name__ == "__main__":
    main()
