"""Whole-project lineage on hand-built Project objects: order, schemas, ephemerals, cache, fallbacks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tessera_core.errors import UnknownDialectError
from tessera_core.lineage.project import ProjectLineage, analyze_project, topological_order
from tessera_core.lineage.refs import Clause
from tessera_core.manifest import DbtColumn, Node, Project

SRC = "source.shop.raw.orders"
STG = "model.shop.stg_orders"
MART = "model.shop.fct_orders"
OTHER = "model.shop.dim_dates"


def source(uid: str, relation: str, columns: tuple[str, ...] = ()) -> Node:
    return Node(
        unique_id=uid,
        resource_type="source",
        name=relation.rsplit(".", 1)[-1],
        package="shop",
        relation=relation,
        columns=tuple(DbtColumn(name=c) for c in columns),
    )


def model(
    uid: str,
    sql: str,
    depends_on: tuple[str, ...],
    *,
    materialized: str = "table",
    columns: tuple[str, ...] = (),
) -> Node:
    name = uid.rsplit(".", 1)[-1]
    return Node(
        unique_id=uid,
        resource_type="model",
        name=name,
        package="shop",
        relation=None if materialized == "ephemeral" else f"analytics.main.{name}",
        compiled_sql=sql,
        materialized=materialized,
        depends_on=depends_on,
        columns=tuple(DbtColumn(name=c) for c in columns),
    )


def project(*nodes: Node, catalog: dict[str, dict[str, str]] | None = None) -> Project:
    return Project(
        project_name="shop",
        adapter_type="duckdb",
        dialect="duckdb",
        schema_version=12,
        nodes={n.unique_id: n for n in nodes},
        catalog=catalog or {},
    )


def shop(stg_sql: str = 'select * from "raw"."shop"."orders"') -> Project:
    """A source with declared columns, a staging model over it, a mart over that, and an unrelated model."""
    return project(
        model(MART, 'select * from "analytics"."main"."stg_orders" where amount > 0', (STG,)),
        model(OTHER, "select current_date as day", ()),
        model(STG, stg_sql, (SRC,)),
        source(SRC, "raw.shop.orders", ("id", "amount", "status")),
    )


def test_models_come_in_topological_order() -> None:
    result = analyze_project(shop())
    order = list(result.models)
    assert order.index(STG) < order.index(MART)
    assert set(order) == {STG, MART, OTHER}


def test_topological_order_puts_cycles_last() -> None:
    nodes = {
        "model.a": model("model.a", "select 1", ("model.b",)),
        "model.b": model("model.b", "select 1", ("model.a",)),
        "model.c": model("model.c", "select 1", ()),
    }
    order, cyclic = topological_order(nodes, nodes)
    assert order == ["model.c", "model.a", "model.b"]
    assert cyclic == ["model.a", "model.b"]


def test_schema_propagates_through_inferred_model_outputs() -> None:
    result = analyze_project(shop())
    mart = result.models[MART]
    assert list(mart.outputs) == ["id", "amount", "status"]
    assert mart.direct["amount"] == (STG, "amount")
    assert mart.columns_read == {STG: frozenset({"id", "amount", "status"})}
    assert mart.clauses[(STG, "amount")] == {Clause.SELECT, Clause.WHERE}
    assert mart.ok and mart.warnings == ()


def test_catalog_columns_win_over_declared_columns() -> None:
    base = shop()
    catalog = {SRC: {"id": "int", "amount": "double", "note": "text"}}
    with_catalog = project(*base.nodes.values(), catalog=catalog)
    stg = analyze_project(with_catalog).models[STG]
    assert list(stg.outputs) == ["id", "amount", "note"]
    assert stg.outputs["note"] == {(SRC, "note")}


def test_unknown_upstream_columns_make_a_star_read_in_full() -> None:
    nodes = project(
        model(STG, 'select * from "raw"."shop"."orders"', (SRC,)),
        source(SRC, "raw.shop.orders"),
    )
    stg = analyze_project(nodes).models[STG]
    assert stg.columns_read == {SRC: None}
    assert stg.outputs == {}
    assert any("raw.shop.orders" in w for w in stg.warnings)


def test_depends_on_always_stands() -> None:
    nodes = project(
        model(MART, 'select id from "analytics"."main"."stg_orders"', (STG, OTHER)),
        model(STG, "select 1 as id", ()),
        model(OTHER, "select 2 as id", ()),
    )
    mart = analyze_project(nodes).models[MART]
    assert mart.upstream == (STG, OTHER)
    assert mart.columns_read[STG] == {"id"}
    assert mart.columns_read[OTHER] is None
    assert any(OTHER in w for w in mart.warnings)


def test_failed_sql_reads_every_column_of_every_dependency() -> None:
    nodes = project(
        model(MART, "select id, from where ((", (STG,)),
        model(STG, "select 1 as id", ()),
    )
    mart = analyze_project(nodes).models[MART]
    assert not mart.ok
    assert mart.upstream == (STG,)
    assert mart.columns_read == {STG: None}
    assert MART in mart.warnings[0]


def test_table_read_but_not_in_depends_on_is_kept_with_a_warning() -> None:
    nodes = project(
        model(
            MART, 'select o.id from "raw"."shop"."orders" o join "raw"."shop"."refunds" r on o.id = r.id', ()
        ),
        source(SRC, "raw.shop.orders", ("id",)),
    )
    mart = analyze_project(nodes).models[MART]
    assert mart.upstream == (SRC, "raw.shop.refunds")
    assert mart.columns_read == {SRC: {"id"}, "raw.shop.refunds": {"id"}}
    assert any(SRC in w and "depends_on" in w for w in mart.warnings)
    assert any("raw.shop.refunds" in w for w in mart.warnings)


def test_ephemeral_models_are_inlined_and_reads_go_to_their_upstream() -> None:
    eph = "model.shop.paid_orders"
    nodes = project(
        model(MART, "select id, amount from __dbt__cte__paid_orders", (eph,)),
        model(
            eph,
            """select * from "raw"."shop"."orders" where status = 'paid'""",
            (SRC,),
            materialized="ephemeral",
        ),
        source(SRC, "raw.shop.orders", ("id", "amount", "status")),
    )
    result = analyze_project(nodes)
    mart = result.models[MART]
    assert mart.upstream == (eph, SRC)
    assert mart.columns_read[SRC] == {"id", "amount", "status"}
    assert mart.clauses[(SRC, "status")] == {Clause.WHERE}
    assert mart.outputs == {"id": {(SRC, "id")}, "amount": {(SRC, "amount")}}
    assert mart.warnings == ()
    assert eph in result.models


def test_relations_map_to_unique_ids() -> None:
    result = analyze_project(shop())
    assert result.relations["analytics.main.stg_orders"] == STG
    assert result.relations["raw.shop.orders"] == SRC


def test_progress_reports_each_model() -> None:
    seen: list[tuple[int, int]] = []
    analyze_project(shop(), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_rerun_hits_the_cache_and_gives_the_same_result(tmp_path: Path) -> None:
    first = analyze_project(shop(), cache_dir=tmp_path)
    second = analyze_project(shop(), cache_dir=tmp_path)
    assert (first.cache_hits, first.cache_misses) == (0, 3)
    assert (second.cache_hits, second.cache_misses) == (3, 0)
    assert second.models == first.models


def test_changed_model_misses_and_so_does_its_downstream_when_its_columns_change(tmp_path: Path) -> None:
    analyze_project(shop(), cache_dir=tmp_path)
    changed = analyze_project(shop('select id, amount from "raw"."shop"."orders"'), cache_dir=tmp_path)
    assert (changed.cache_hits, changed.cache_misses) == (1, 2)
    assert list(changed.models[MART].outputs) == ["id", "amount"]


def test_cache_entries_survive_as_plain_data(tmp_path: Path) -> None:
    analyze_project(shop(), cache_dir=tmp_path)
    result: ProjectLineage = analyze_project(shop(), cache_dir=tmp_path)
    clauses = result.models[MART].clauses[(STG, "amount")]
    assert all(isinstance(c, Clause) for c in clauses)
    assert isinstance(result.models[MART].outputs["id"], frozenset)


def test_unknown_dialect_fails_before_any_model(tmp_path: Path) -> None:
    base = shop()
    wrong = Project(
        project_name="shop", adapter_type="duckdb", dialect="nosuchsql", schema_version=12, nodes=base.nodes
    )
    with pytest.raises(UnknownDialectError, match="nosuchsql"):
        analyze_project(wrong, cache_dir=tmp_path)


def test_model_of_several_statements_keeps_the_last_outputs() -> None:
    nodes = project(
        model(
            MART,
            'create temp table x as select id from "raw"."shop"."orders"; '
            'select id, amount from "raw"."shop"."orders"',
            (SRC,),
        ),
        source(SRC, "raw.shop.orders", ("id", "amount")),
    )
    mart = analyze_project(nodes).models[MART]
    assert mart.outputs == {"id": {(SRC, "id")}, "amount": {(SRC, "amount")}}
    assert mart.columns_read == {SRC: {"id", "amount"}}


def test_unreadable_cache_entries_are_misses(tmp_path: Path) -> None:
    first = analyze_project(shop(), cache_dir=tmp_path)
    with sqlite3.connect(tmp_path / "lineage.sqlite") as db:
        db.execute("UPDATE lineage SET payload = ?", (b"\x00not marshal",))
    again = analyze_project(shop(), cache_dir=tmp_path)
    assert (again.cache_hits, again.cache_misses) == (0, 3)
    assert again.models == first.models


def test_incremental_model_reading_itself_is_not_its_own_upstream() -> None:
    nodes = project(
        model(
            STG,
            'select id, amount from "raw"."shop"."orders" '
            'where id > (select max(id) from "analytics"."main"."stg_orders")',
            (SRC,),
            materialized="incremental",
        ),
        source(SRC, "raw.shop.orders", ("id", "amount")),
    )
    stg = analyze_project(nodes).models[STG]
    assert stg.upstream == (SRC,)
    assert set(stg.columns_read) == {SRC}
    assert stg.warnings == ()


def test_changed_source_columns_reach_the_models_that_star_over_it(tmp_path: Path) -> None:
    analyze_project(shop(), cache_dir=tmp_path)
    base = shop()
    nodes = dict(base.nodes)
    nodes[SRC] = source(SRC, "raw.shop.orders", ("id", "amount", "status", "currency"))
    changed = analyze_project(project(*nodes.values()), cache_dir=tmp_path)
    assert (changed.cache_hits, changed.cache_misses) == (1, 2)
    assert "currency" in changed.models[MART].outputs
