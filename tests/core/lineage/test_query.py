"""One query's column lineage: hand-checked expectations on tricky SQL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera_core.errors import UnknownDialectError
from tessera_core.lineage.query import (
    Clause,
    ColumnRef,
    QueryLineage,
    analyze_model_sql,
    analyze_query,
)

ORDERS = "shop.raw.orders"
CUSTOMERS = "shop.raw.customers"
SCHEMA = {
    ORDERS: ["id", "customer_id", "amount", "status", "created_at"],
    CUSTOMERS: {"id": "int", "name": "varchar", "region": "varchar"},
}


def ref(table: str, column: str) -> ColumnRef:
    return ColumnRef(table, column)


def outputs(lineage: QueryLineage) -> dict[str, set[ColumnRef]]:
    return {name: set(refs) for name, refs in lineage.outputs}


def reads(lineage: QueryLineage) -> dict[ColumnRef, set[Clause]]:
    return {column: set(clauses) for column, clauses in lineage.reads}


def duckdb(sql: str, **options: object) -> QueryLineage:
    return analyze_query(sql, dialect="duckdb", **options)  # type: ignore[arg-type]


# -- SELECT * -------------------------------------------------------------------------------------


def test_star_through_ctes_expands_with_known_schema() -> None:
    lineage = duckdb(
        "with a as (select * from shop.raw.orders), b as (select * from a) select * from b", schema=SCHEMA
    )
    assert [name for name, _ in lineage.outputs] == ["id", "customer_id", "amount", "status", "created_at"]
    assert dict(lineage.direct)["amount"] == ref(ORDERS, "amount")
    assert lineage.all_columns == frozenset()
    assert lineage.columns_read(ORDERS) == frozenset(SCHEMA[ORDERS])
    assert lineage.ok and lineage.warnings == ()


def test_star_over_unknown_table_reaching_output_reads_it_in_full() -> None:
    lineage = duckdb("with a as (select * from shop.raw.orders) select * from a")
    assert lineage.outputs == ()
    assert lineage.all_columns == {ORDERS}
    assert lineage.columns_read(ORDERS) is None
    assert any("SELECT *" in w and ORDERS in w for w in lineage.warnings)
    assert lineage.ok


def test_star_over_unknown_table_resolves_named_columns_through_the_cte() -> None:
    lineage = duckdb("with a as (select * from shop.raw.orders) select id, amount * 2 as doubled from a")
    assert outputs(lineage) == {"id": {ref(ORDERS, "id")}, "doubled": {ref(ORDERS, "amount")}}
    assert dict(lineage.direct) == {"id": ref(ORDERS, "id")}
    assert lineage.all_columns == frozenset()
    assert lineage.columns_read(ORDERS) == {"id", "amount"}


def test_star_except_and_replace() -> None:
    lineage = duckdb(
        "select * exclude (status, created_at) replace (amount * 100 as amount) from shop.raw.orders",
        schema=SCHEMA,
    )
    assert outputs(lineage) == {
        "id": {ref(ORDERS, "id")},
        "customer_id": {ref(ORDERS, "customer_id")},
        "amount": {ref(ORDERS, "amount")},
    }
    assert "amount" not in dict(lineage.direct)


def test_qualified_star_expands_one_source() -> None:
    lineage = duckdb(
        "select c.*, o.amount from shop.raw.orders o join shop.raw.customers c on o.customer_id = c.id",
        schema=SCHEMA,
    )
    assert [name for name, _ in lineage.outputs] == ["id", "name", "region", "amount"]
    assert outputs(lineage)["id"] == {ref(CUSTOMERS, "id")}


# -- joins ----------------------------------------------------------------------------------------


def test_join_on_keys_are_read_in_join() -> None:
    lineage = duckdb(
        "select o.id, c.name from shop.raw.orders o join shop.raw.customers c on o.customer_id = c.id"
    )
    assert reads(lineage) == {
        ref(ORDERS, "id"): {Clause.SELECT},
        ref(ORDERS, "customer_id"): {Clause.JOIN},
        ref(CUSTOMERS, "id"): {Clause.JOIN},
        ref(CUSTOMERS, "name"): {Clause.SELECT},
    }


def test_join_using_reads_the_key_on_both_sides() -> None:
    lineage = duckdb(
        "select o.id, c.name from shop.raw.orders o join shop.raw.customers c using (customer_id)"
    )
    found = reads(lineage)
    assert found[ref(ORDERS, "customer_id")] == {Clause.JOIN}
    assert found[ref(CUSTOMERS, "customer_id")] == {Clause.JOIN}


def test_unqualified_column_is_placed_by_schema() -> None:
    lineage = duckdb(
        "select name, amount from shop.raw.orders o join shop.raw.customers c on o.customer_id = c.id",
        schema=SCHEMA,
    )
    assert outputs(lineage) == {"name": {ref(CUSTOMERS, "name")}, "amount": {ref(ORDERS, "amount")}}
    assert lineage.warnings == ()


# -- windows, aggregates, filters -----------------------------------------------------------------


def test_window_partition_and_order_are_window_reads_and_feed_the_output() -> None:
    lineage = duckdb(
        "select id, row_number() over (partition by customer_id order by created_at) as rn, "
        "sum(amount) over (partition by customer_id) as total from shop.raw.orders"
    )
    assert outputs(lineage)["rn"] == {ref(ORDERS, "customer_id"), ref(ORDERS, "created_at")}
    assert outputs(lineage)["total"] == {ref(ORDERS, "amount"), ref(ORDERS, "customer_id")}
    found = reads(lineage)
    assert found[ref(ORDERS, "customer_id")] == {Clause.WINDOW}
    assert found[ref(ORDERS, "created_at")] == {Clause.WINDOW}
    assert found[ref(ORDERS, "amount")] == {Clause.SELECT}


def test_named_window_clause() -> None:
    lineage = duckdb(
        "select id, rank() over w as r from shop.raw.orders window w as (partition by status order by amount)"
    )
    found = reads(lineage)
    assert found[ref(ORDERS, "status")] == {Clause.WINDOW}
    assert found[ref(ORDERS, "amount")] == {Clause.WINDOW}


def test_group_by_having_and_where() -> None:
    lineage = duckdb(
        "select customer_id, sum(amount) as total from shop.raw.orders where status = 'paid' "
        "group by 1 having max(created_at) > date '2024-01-01'"
    )
    assert reads(lineage) == {
        ref(ORDERS, "customer_id"): {Clause.SELECT, Clause.GROUP_BY},
        ref(ORDERS, "amount"): {Clause.SELECT},
        ref(ORDERS, "status"): {Clause.WHERE},
        ref(ORDERS, "created_at"): {Clause.HAVING},
    }
    assert outputs(lineage)["total"] == {ref(ORDERS, "amount")}
    assert dict(lineage.direct) == {"customer_id": ref(ORDERS, "customer_id")}


def test_qualify_reads_its_columns_and_window_spec() -> None:
    lineage = duckdb(
        "select id, region from shop.raw.customers "
        "qualify region <> 'x' and row_number() over (partition by id order by name) = 1"
    )
    found = reads(lineage)
    assert found[ref(CUSTOMERS, "region")] == {Clause.SELECT, Clause.QUALIFY}
    assert found[ref(CUSTOMERS, "id")] == {Clause.SELECT, Clause.WINDOW}
    assert found[ref(CUSTOMERS, "name")] == {Clause.WINDOW}


def test_order_by_alias_reads_the_aliased_expression() -> None:
    lineage = duckdb("select amount * 2 as doubled from shop.raw.orders order by doubled, status")
    found = reads(lineage)
    assert found[ref(ORDERS, "amount")] == {Clause.SELECT, Clause.ORDER_BY}
    assert found[ref(ORDERS, "status")] == {Clause.ORDER_BY}


def test_column_used_only_as_cte_filter_is_not_a_select_read() -> None:
    lineage = duckdb(
        "with f as (select id, status from shop.raw.orders) select id from f where status = 'paid'"
    )
    assert reads(lineage)[ref(ORDERS, "status")] == {Clause.WHERE}
    assert reads(lineage)[ref(ORDERS, "id")] == {Clause.SELECT}


# -- set operations and subqueries ----------------------------------------------------------------


def test_union_matches_columns_by_position() -> None:
    lineage = duckdb(
        "select id, amount from shop.raw.orders "
        "union all select id, cast(region as int) from shop.raw.customers"
    )
    assert outputs(lineage) == {
        "id": {ref(ORDERS, "id"), ref(CUSTOMERS, "id")},
        "amount": {ref(ORDERS, "amount"), ref(CUSTOMERS, "region")},
    }
    assert lineage.direct == ()


def test_union_by_name_matches_columns_by_name() -> None:
    lineage = duckdb(
        "select id, amount from shop.raw.orders union all by name select amount, id from shop.raw.orders"
    )
    assert outputs(lineage)["amount"] == {ref(ORDERS, "amount")}


def test_union_branch_over_unknown_star_reads_that_table_in_full() -> None:
    lineage = duckdb("select id, amount from shop.raw.orders union all select * from shop.raw.refunds")
    assert lineage.all_columns == {"shop.raw.refunds"}
    assert lineage.columns_read(ORDERS) == {"id", "amount"}
    assert any("shop.raw.refunds" in w for w in lineage.warnings)


def test_recursive_cte_reads_its_base_table() -> None:
    lineage = analyze_query(
        "with recursive tree as (select id, parent_id from shop.raw.nodes where parent_id is null "
        "union all select n.id, n.parent_id from shop.raw.nodes n join tree t on n.parent_id = t.id) "
        "select id from tree",
        dialect="postgres",
    )
    assert lineage.ok
    assert outputs(lineage) == {"id": {ref("shop.raw.nodes", "id")}}
    assert reads(lineage)[ref("shop.raw.nodes", "parent_id")] >= {Clause.WHERE, Clause.JOIN}


def test_nested_derived_tables_and_in_subquery() -> None:
    lineage = duckdb(
        "select x.id from (select id from (select id, name from shop.raw.customers) as inner_q "
        "where name is not null) as x where x.id in (select customer_id from shop.raw.orders)"
    )
    assert outputs(lineage) == {"id": {ref(CUSTOMERS, "id")}}
    assert dict(lineage.direct) == {"id": ref(CUSTOMERS, "id")}
    found = reads(lineage)
    assert found[ref(CUSTOMERS, "name")] == {Clause.WHERE}
    assert found[ref(CUSTOMERS, "id")] == {Clause.SELECT, Clause.WHERE}
    assert found[ref(ORDERS, "customer_id")] == {Clause.WHERE}


def test_correlated_exists_reads_its_filter_not_its_select_list() -> None:
    lineage = duckdb(
        "select c.id from shop.raw.customers c where exists "
        "(select * from shop.raw.orders o where o.customer_id = c.id and o.status = 'open')",
        schema=SCHEMA,
    )
    found = reads(lineage)
    assert found[ref(CUSTOMERS, "id")] == {Clause.SELECT, Clause.WHERE}
    assert found[ref(ORDERS, "customer_id")] == {Clause.WHERE}
    assert ref(ORDERS, "amount") not in found


def test_scalar_subquery_feeds_its_output() -> None:
    lineage = duckdb("select id, (select max(amount) from shop.raw.orders) as top from shop.raw.customers")
    assert outputs(lineage)["top"] == {ref(ORDERS, "amount")}


def test_unaliased_derived_tables_stay_apart() -> None:
    lineage = duckdb("select * from (select id from shop.raw.orders), (select name from shop.raw.customers)")
    assert outputs(lineage) == {"id": {ref(ORDERS, "id")}, "name": {ref(CUSTOMERS, "name")}}


def test_semi_join_right_side_is_visible_in_its_on_clause_only() -> None:
    lineage = duckdb(
        "select id from shop.raw.customers c semi join shop.raw.orders o on o.customer_id = c.id"
    )
    assert outputs(lineage) == {"id": {ref(CUSTOMERS, "id")}}
    assert reads(lineage)[ref(ORDERS, "customer_id")] == {Clause.JOIN}
    assert lineage.warnings == ()


def test_bigquery_unnest_alias_reads_the_array_column() -> None:
    lineage = analyze_query(
        "select o.id, item from `p.d.orders` o, unnest(o.items) as item", dialect="bigquery"
    )
    assert outputs(lineage) == {"id": {ref("p.d.orders", "id")}, "item": {ref("p.d.orders", "items")}}
    assert reads(lineage)[ref("p.d.orders", "items")] == {Clause.SELECT, Clause.JOIN}


# -- dbt ephemeral models -------------------------------------------------------------------------


def test_ephemeral_cte_chain_reads_the_real_upstream() -> None:
    lineage = duckdb(
        "with __dbt__cte__eph_a as (select id, amount from shop.raw.orders), "
        "__dbt__cte__eph_b as (select id, amount * 2 as amount2 from __dbt__cte__eph_a) "
        "select * from __dbt__cte__eph_b"
    )
    assert lineage.tables == {ORDERS}
    assert outputs(lineage) == {"id": {ref(ORDERS, "id")}, "amount2": {ref(ORDERS, "amount")}}
    assert dict(lineage.direct) == {"id": ref(ORDERS, "id")}


def test_ephemeral_sql_is_inlined_when_not_injected() -> None:
    analysis = analyze_model_sql(
        "select id, total from __dbt__cte__eph_b",
        dialect="duckdb",
        ephemerals={
            "__dbt__cte__eph_b": "select id, sum(amount) as total from __dbt__cte__eph_a group by id",
            "__dbt__cte__eph_a": "select * from shop.raw.orders where status = 'paid'",
        },
    )
    lineage = analysis.lineage
    assert lineage.tables == {ORDERS}
    assert outputs(lineage) == {"id": {ref(ORDERS, "id")}, "total": {ref(ORDERS, "amount")}}
    assert reads(lineage)[ref(ORDERS, "status")] == {Clause.WHERE}
    assert analysis.outputs_complete


# -- identifiers and dialects ---------------------------------------------------------------------


def test_quoted_mixed_case_names_keep_their_case() -> None:
    lineage = analyze_query(
        'select "CustomerId", "orderTotal" as total, Status from "Sales"."Orders"', dialect="postgres"
    )
    assert outputs(lineage) == {
        "CustomerId": {ref("Sales.Orders", "CustomerId")},
        "total": {ref("Sales.Orders", "orderTotal")},
        "status": {ref("Sales.Orders", "status")},
    }


def test_snowflake_folds_unquoted_and_quoted_upper_case_alike() -> None:
    lineage = analyze_query(
        'select ORDER_ID, "AMOUNT", "Amount" from DB.PUBLIC."ORDERS"',
        dialect="snowflake",
        schema={"db.public.orders": ["order_id", "amount", "Amount"]},
    )
    assert lineage.tables == {"db.public.orders"}
    assert outputs(lineage) == {
        "order_id": {ref("db.public.orders", "order_id")},
        "amount": {ref("db.public.orders", "amount")},
        "Amount": {ref("db.public.orders", "Amount")},
    }
    assert lineage.warnings == ()


def test_bigquery_backtick_project_dataset_table() -> None:
    lineage = analyze_query(
        "select o.order_id, sum(o.amount) as total from `my-project.sales.orders` as o group by o.order_id",
        dialect="bigquery",
    )
    table = "my-project.sales.orders"
    assert lineage.tables == {table}
    assert outputs(lineage) == {"order_id": {ref(table, "order_id")}, "total": {ref(table, "amount")}}


def test_defaults_fill_unqualified_table_names() -> None:
    lineage = analyze_query(
        "select id from orders join main.customers using (id)",
        dialect="postgres",
        default_database="Analytics",
        default_schema="public",
    )
    assert lineage.tables == {"analytics.public.orders", "analytics.main.customers"}


def test_schema_key_matches_a_less_qualified_table_name() -> None:
    lineage = duckdb("select * from orders", schema={"analytics.main.orders": ["id", "amount"]})
    assert outputs(lineage) == {
        "id": {ref("analytics.main.orders", "id")},
        "amount": {ref("analytics.main.orders", "amount")},
    }


def test_create_table_as_and_insert_select_read_only_their_query() -> None:
    lineage = analyze_query(
        "create table mart.daily as select status, count(*) as n from raw.orders group by status;\n"
        "insert into mart.log select id from raw.customers",
        dialect="postgres",
    )
    assert lineage.tables == {"raw.orders", "raw.customers"}
    assert reads(lineage)[ref("raw.orders", "status")] == {Clause.SELECT, Clause.GROUP_BY}
    assert [name for name, _ in lineage.outputs] == ["id"]


def test_dialect_difference_in_parsing_is_respected() -> None:
    # `ilike` and `::` casts are Postgres/DuckDB syntax; Snowflake's `:` path access is its own.
    postgres = analyze_query("select a::int as a from t where b ilike 'x%'", dialect="postgres")
    snowflake = analyze_query("select v:customer.id::int as cid from t", dialect="snowflake")
    assert reads(postgres) == {ref("t", "a"): {Clause.SELECT}, ref("t", "b"): {Clause.WHERE}}
    assert outputs(snowflake) == {"cid": {ref("t", "v")}}


# -- failures -------------------------------------------------------------------------------------


def test_parse_failure_falls_back_and_names_the_model() -> None:
    lineage = duckdb("select a, from shop.raw.orders where ((", name="model.shop.broken")
    assert not lineage.ok
    assert lineage.tables == {ORDERS}
    assert lineage.all_columns == {ORDERS}
    assert lineage.columns_read(ORDERS) is None
    assert "model.shop.broken" in lineage.warnings[0]


def test_unparseable_text_falls_back_to_nothing() -> None:
    lineage = duckdb("{{ ref('orders') }} ) (", name="model.shop.jinja")
    assert not lineage.ok
    assert lineage.outputs == ()
    assert "model.shop.jinja" in lineage.warnings[0]


def test_unknown_dialect_is_an_error_naming_it() -> None:
    with pytest.raises(UnknownDialectError, match="nosuchsql"):
        analyze_query("select 1", dialect="nosuchsql", name="model.shop.x")


# -- a property -----------------------------------------------------------------------------------


@given(
    picked=st.lists(st.sampled_from(SCHEMA[ORDERS]), min_size=1, max_size=5, unique=True),
    depth=st.integers(min_value=0, max_value=4),
)
def test_named_columns_through_any_star_cte_chain_are_direct_copies(picked: list[str], depth: int) -> None:
    ctes = [f"c{i} as (select * from {'shop.raw.orders' if i == 0 else f'c{i - 1}'})" for i in range(depth)]
    source = f"c{depth - 1}" if depth else "shop.raw.orders"
    with_ = f"with {', '.join(ctes)} " if ctes else ""
    for schema in (SCHEMA, None):
        lineage = duckdb(f"{with_}select {', '.join(picked)} from {source}", schema=schema)
        assert dict(lineage.direct) == {column: ref(ORDERS, column) for column in picked}
        assert lineage.columns_read(ORDERS) == set(picked)
