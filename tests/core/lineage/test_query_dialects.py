"""Hand-written SQL per warehouse dialect: what each query reads, checked by hand.

Snowflake, BigQuery, Postgres and DuckDB differ in how names fold, how tables are
spelled and in syntax of their own. test_query.py holds the basic cases; these are
the rest. Where a construct hides which columns it reads (a whole-row reference,
a star inside a function, DuckDB's COLUMNS or PIVOT), the table is read in full.
"""

from __future__ import annotations

from tessera_core.lineage.query import Clause, ColumnRef, QueryLineage, analyze_model_sql, analyze_query

ORDERS_COLUMNS = ["order_id", "customer_id", "amount", "status", "created_at"]


def ref(table: str, column: str) -> ColumnRef:
    return ColumnRef(table, column)


def outputs(lineage: QueryLineage) -> dict[str, set[ColumnRef]]:
    return {name: set(refs) for name, refs in lineage.outputs}


def reads(lineage: QueryLineage) -> dict[ColumnRef, set[Clause]]:
    return {column: set(clauses) for column, clauses in lineage.reads}


# -- Snowflake: unquoted names fold to upper case, quoted ones keep theirs ------------------------------

SF_ORDERS = "analytics.public.orders"
SF_SCHEMA = {SF_ORDERS: ORDERS_COLUMNS}


def snowflake(sql: str, **options: object) -> QueryLineage:
    return analyze_query(sql, dialect="snowflake", **options)  # type: ignore[arg-type]


def test_snowflake_one_table_spelled_quoted_upper_and_unquoted_mixed_case() -> None:
    lineage = snowflake(
        'select a.Order_ID, b."AMOUNT" from "ANALYTICS"."PUBLIC"."ORDERS" a '
        "join Analytics.Public.Orders b on a.ORDER_ID = b.order_id",
        schema=SF_SCHEMA,
    )
    assert lineage.tables == {SF_ORDERS}
    assert outputs(lineage) == {
        "order_id": {ref(SF_ORDERS, "order_id")},
        "amount": {ref(SF_ORDERS, "amount")},
    }
    assert reads(lineage)[ref(SF_ORDERS, "order_id")] == {Clause.SELECT, Clause.JOIN}
    assert lineage.warnings == ()


def test_snowflake_quoted_mixed_case_column_is_not_the_unquoted_name() -> None:
    # "CustomerId" is its own column; customerid means CUSTOMERID, which this table does not have.
    lineage = snowflake(
        'select "CustomerId", customerid from db.crm.accounts', schema={"db.crm.accounts": ["CustomerId"]}
    )
    assert reads(lineage) == {
        ref("db.crm.accounts", "CustomerId"): {Clause.SELECT},
        ref("db.crm.accounts", "customerid"): {Clause.SELECT},
    }
    assert any("customerid is not a known column" in w for w in lineage.warnings)


def test_snowflake_lateral_flatten_reads_the_array_it_flattens() -> None:
    lineage = snowflake(
        "select o.order_id, f.value:sku::string as sku "
        "from analytics.public.orders o, lateral flatten(input => o.items) f"
    )
    assert outputs(lineage) == {"order_id": {ref(SF_ORDERS, "order_id")}, "sku": {ref(SF_ORDERS, "items")}}
    assert reads(lineage)[ref(SF_ORDERS, "items")] == {Clause.SELECT, Clause.JOIN}


def test_snowflake_qualified_star_exclude_with_qualify() -> None:
    lineage = snowflake(
        "select t.* exclude (amount) from analytics.public.orders t "
        "qualify row_number() over (partition by customer_id order by created_at desc) = 1",
        schema=SF_SCHEMA,
    )
    assert [name for name, _ in lineage.outputs] == ["order_id", "customer_id", "status", "created_at"]
    found = reads(lineage)
    assert ref(SF_ORDERS, "amount") not in found
    assert found[ref(SF_ORDERS, "customer_id")] == {Clause.SELECT, Clause.WINDOW}
    assert found[ref(SF_ORDERS, "created_at")] == {Clause.SELECT, Clause.WINDOW}


# -- BigQuery: backticks, project.dataset.table, STRUCT fields, case-blind columns ----------------------

BQ_ORDERS = "proj.sales.orders"
BQ_SCHEMA = {BQ_ORDERS: ["order_id", "customer_id", "address", "items", "amount"]}


def bigquery(sql: str, **options: object) -> QueryLineage:
    return analyze_query(sql, dialect="bigquery", **options)  # type: ignore[arg-type]


def test_bigquery_table_quoted_whole_by_part_or_not_is_one_table() -> None:
    for table in ("`proj.sales.orders`", "`proj`.`sales`.`orders`", "proj.sales.orders"):
        assert bigquery(f"select order_id from {table}").tables == {BQ_ORDERS}, table


def test_bigquery_struct_field_access_reads_the_struct_column() -> None:
    lineage = bigquery(
        "select o.order_id, o.address.city as city, address.zip as zip from `proj.sales.orders` o",
        schema=BQ_SCHEMA,
    )
    assert outputs(lineage) == {
        "order_id": {ref(BQ_ORDERS, "order_id")},
        "city": {ref(BQ_ORDERS, "address")},
        "zip": {ref(BQ_ORDERS, "address")},
    }
    assert lineage.columns_read(BQ_ORDERS) == frozenset({"order_id", "address"})
    assert lineage.warnings == ()


def test_bigquery_struct_fields_of_an_unnested_array_read_the_array() -> None:
    lineage = bigquery(
        "select o.customer_id, item.sku, sum(item.qty) as qty "
        "from `proj.sales.orders` o, unnest(o.items) as item group by 1, 2"
    )
    assert outputs(lineage) == {
        "customer_id": {ref(BQ_ORDERS, "customer_id")},
        "sku": {ref(BQ_ORDERS, "items")},
        "qty": {ref(BQ_ORDERS, "items")},
    }
    assert reads(lineage)[ref(BQ_ORDERS, "items")] == {Clause.SELECT, Clause.JOIN, Clause.GROUP_BY}


def test_bigquery_star_except_and_replace() -> None:
    lineage = bigquery(
        "select * except (address, items) replace (round(amount, 2) as amount) from `proj.sales.orders`",
        schema=BQ_SCHEMA,
    )
    assert [name for name, _ in lineage.outputs] == ["order_id", "customer_id", "amount"]
    assert lineage.columns_read(BQ_ORDERS) == frozenset({"order_id", "customer_id", "amount"})
    assert "amount" not in dict(lineage.direct)


def test_bigquery_column_names_match_whatever_their_case() -> None:
    lineage = bigquery("select `Order_ID`, AMOUNT from `proj.sales.orders`", schema=BQ_SCHEMA)
    assert lineage.columns_read(BQ_ORDERS) == frozenset({"order_id", "amount"})
    assert outputs(lineage)["Order_ID"] == {ref(BQ_ORDERS, "order_id")}
    assert lineage.warnings == ()


def test_bigquery_whole_row_to_json_reads_the_table_in_full() -> None:
    lineage = bigquery("select to_json_string(o) as payload from `proj.sales.orders` o", schema=BQ_SCHEMA)
    assert lineage.columns_read(BQ_ORDERS) is None
    assert outputs(lineage)["payload"] == {ref(BQ_ORDERS, c) for c in BQ_SCHEMA[BQ_ORDERS]}


# -- Postgres: quoted identifiers keep their case, :: casts, JSON operators -----------------------------

PG = {"default_database": "shop", "default_schema": "public"}


def postgres(sql: str, **options: object) -> QueryLineage:
    return analyze_query(sql, dialect="postgres", **PG, **options)  # type: ignore[arg-type]


def test_postgres_quoted_and_unquoted_relations_are_different_tables() -> None:
    lineage = postgres('select o.id, p.id as legacy_id from "Orders" o join orders p on p.id = o."LegacyId"')
    assert lineage.tables == {"shop.public.Orders", "shop.public.orders"}
    assert reads(lineage)[ref("shop.public.Orders", "LegacyId")] == {Clause.JOIN}


def test_postgres_unquoted_name_does_not_match_a_quoted_mixed_case_column() -> None:
    # Postgres folds CustomerId to customerid, which "CustomerId" is not (the query would fail).
    lineage = postgres("select CustomerId from accounts", schema={"shop.public.accounts": ["CustomerId"]})
    assert lineage.columns_read("shop.public.accounts") == frozenset({"customerid"})
    assert any("customerid is not a known column" in w for w in lineage.warnings)


def test_postgres_casts_and_json_operators_read_the_column_they_apply_to() -> None:
    lineage = postgres(
        "select (payload->>'sku')::int as sku, amount::numeric(10, 2)::text as amount_text, "
        "payload #>> '{a,b}' as ab from events where (payload->'flags')::jsonb ? 'test'"
    )
    events = "shop.public.events"
    assert outputs(lineage) == {
        "sku": {ref(events, "payload")},
        "amount_text": {ref(events, "amount")},
        "ab": {ref(events, "payload")},
    }
    assert reads(lineage)[ref(events, "payload")] == {Clause.SELECT, Clause.WHERE}


def test_postgres_lateral_subquery_correlates_with_the_outer_row() -> None:
    lineage = postgres(
        "select c.id, l.total from customers c cross join lateral "
        "(select sum(o.amount) as total from orders o where o.customer_id = c.id) l"
    )
    assert outputs(lineage) == {
        "id": {ref("shop.public.customers", "id")},
        "total": {ref("shop.public.orders", "amount")},
    }
    found = reads(lineage)
    assert found[ref("shop.public.customers", "id")] == {Clause.SELECT, Clause.WHERE}
    assert found[ref("shop.public.orders", "customer_id")] == {Clause.WHERE}


def test_postgres_distinct_on_and_aggregate_filter() -> None:
    lineage = postgres(
        "select distinct on (customer_id) customer_id, count(*) filter (where status = 'paid') as paid "
        "from orders group by customer_id, created_at order by customer_id, created_at desc"
    )
    orders = "shop.public.orders"
    assert outputs(lineage) == {"customer_id": {ref(orders, "customer_id")}, "paid": {ref(orders, "status")}}
    found = reads(lineage)
    assert found[ref(orders, "customer_id")] == {Clause.SELECT, Clause.GROUP_BY, Clause.ORDER_BY}
    assert found[ref(orders, "created_at")] == {Clause.GROUP_BY, Clause.ORDER_BY}


def test_postgres_whole_row_references_read_the_table_in_full() -> None:
    schema = {"shop.public.orders": ["id", "amount"]}
    for sql in (
        "select row_to_json(o.*) as doc from orders o",
        "select row_to_json(o) as doc from orders o",
        "select count(o.*) as doc from orders o",
    ):
        lineage = postgres(sql, schema=schema)
        assert lineage.columns_read("shop.public.orders") is None, sql
        assert outputs(lineage)["doc"] == {
            ref("shop.public.orders", "id"),
            ref("shop.public.orders", "amount"),
        }


# -- DuckDB: EXCLUDE / REPLACE, QUALIFY, GROUP BY ALL, COLUMNS, PIVOT, case-blind names -----------------

DB_ORDERS = "db.main.orders"
DB_CUSTOMERS = "db.main.customers"
DB_SCHEMA = {DB_ORDERS: ORDERS_COLUMNS, DB_CUSTOMERS: ["customer_id", "name", "Region"]}


def duckdb(sql: str, **options: object) -> QueryLineage:
    return analyze_query(sql, dialect="duckdb", **options)  # type: ignore[arg-type]


def test_duckdb_qualified_star_exclude_in_a_join() -> None:
    lineage = duckdb(
        "select o.* exclude (status, created_at), c.name from db.main.orders o "
        "join db.main.customers c on o.customer_id = c.customer_id",
        schema=DB_SCHEMA,
    )
    assert [name for name, _ in lineage.outputs] == ["order_id", "customer_id", "amount", "name"]
    assert lineage.columns_read(DB_ORDERS) == frozenset({"order_id", "customer_id", "amount"})
    assert reads(lineage)[ref(DB_CUSTOMERS, "customer_id")] == {Clause.JOIN}


def test_duckdb_exclude_and_replace_over_unknown_columns_read_the_table_in_full() -> None:
    for sql in (
        "select * exclude (status) from db.main.orders",
        "select * replace (amount / 100 as amount) from db.main.orders",
    ):
        analysis = analyze_model_sql(sql, dialect="duckdb")
        assert analysis.lineage.columns_read(DB_ORDERS) is None, sql
        assert not analysis.outputs_complete, sql


def test_duckdb_qualify_on_a_select_alias_reads_what_the_alias_computes() -> None:
    lineage = duckdb(
        "select order_id, amount * 2 as doubled from db.main.orders qualify doubled > 10", schema=DB_SCHEMA
    )
    assert reads(lineage) == {
        ref(DB_ORDERS, "order_id"): {Clause.SELECT},
        ref(DB_ORDERS, "amount"): {Clause.SELECT, Clause.QUALIFY},
    }


def test_duckdb_from_first_with_group_by_all() -> None:
    lineage = duckdb(
        "from db.main.orders select customer_id, sum(amount) as total where status = 'paid' "
        "group by all order by all",
        schema=DB_SCHEMA,
    )
    assert outputs(lineage) == {
        "customer_id": {ref(DB_ORDERS, "customer_id")},
        "total": {ref(DB_ORDERS, "amount")},
    }
    assert lineage.columns_read(DB_ORDERS) == frozenset({"customer_id", "amount", "status"})


def test_duckdb_count_star_reads_no_column() -> None:
    lineage = duckdb("select count(*) as n from db.main.orders", schema=DB_SCHEMA)
    assert lineage.tables == {DB_ORDERS}
    assert lineage.columns_read(DB_ORDERS) == frozenset()
    assert outputs(lineage) == {"n": set()}


def test_duckdb_star_inside_a_function_reads_the_table_in_full() -> None:
    for sql in (
        "select hash(o.*) as h from db.main.orders o",
        "select struct_pack(*) as h from db.main.orders",
    ):
        lineage = duckdb(sql, schema=DB_SCHEMA)
        assert lineage.columns_read(DB_ORDERS) is None, sql
        assert outputs(lineage)["h"] == {ref(DB_ORDERS, c) for c in ORDERS_COLUMNS}, sql


def test_duckdb_columns_expression_reads_the_table_in_full_and_leaves_outputs_open() -> None:
    analysis = analyze_model_sql(
        "select columns('^c.*') from db.main.orders", dialect="duckdb", schema=DB_SCHEMA
    )
    assert analysis.lineage.columns_read(DB_ORDERS) is None
    assert not analysis.outputs_complete
    nested = duckdb(
        "with picked as (select columns('^c.*') from db.main.orders) select customer_id from picked",
        schema=DB_SCHEMA,
    )
    assert outputs(nested) == {"customer_id": {ref(DB_ORDERS, "customer_id")}}
    assert nested.columns_read(DB_ORDERS) is None


def test_duckdb_pivot_statement_and_pivot_cte_read_the_table_in_full() -> None:
    statement = analyze_model_sql(
        "pivot db.main.orders on status using sum(amount) group by customer_id",
        dialect="duckdb",
        schema=DB_SCHEMA,
    )
    assert statement.lineage.tables == {DB_ORDERS}
    assert statement.lineage.columns_read(DB_ORDERS) is None
    assert not statement.outputs_complete
    in_cte = duckdb(
        "with p as (pivot db.main.orders on status using sum(amount) group by customer_id) "
        "select customer_id from p"
    )
    assert in_cte.tables == {DB_ORDERS}
    assert in_cte.columns_read(DB_ORDERS) is None


def test_duckdb_natural_join_reads_the_shared_columns_as_join_keys() -> None:
    lineage = duckdb("select name from db.main.orders natural join db.main.customers", schema=DB_SCHEMA)
    assert reads(lineage) == {
        ref(DB_CUSTOMERS, "name"): {Clause.SELECT},
        ref(DB_ORDERS, "customer_id"): {Clause.JOIN},
        ref(DB_CUSTOMERS, "customer_id"): {Clause.JOIN},
    }
    assert lineage.warnings == ()


def test_duckdb_natural_join_over_unknown_columns_reads_both_in_full() -> None:
    lineage = duckdb("select name from db.main.orders natural join db.main.customers")
    assert lineage.all_columns == {DB_ORDERS, DB_CUSTOMERS}


def test_duckdb_column_names_match_whatever_their_case() -> None:
    lineage = duckdb(
        'with c as (select "CUSTOMER_ID", region from db.main.customers) select customer_id, "REGION" from c',
        schema=DB_SCHEMA,
    )
    assert outputs(lineage) == {
        "customer_id": {ref(DB_CUSTOMERS, "customer_id")},
        "REGION": {ref(DB_CUSTOMERS, "Region")},
    }
    assert lineage.columns_read(DB_CUSTOMERS) == frozenset({"customer_id", "Region"})
    assert lineage.warnings == ()


def test_duckdb_struct_field_paths_read_the_struct_column() -> None:
    lineage = duckdb(
        "select s.payload.customer.id as cid, payload.customer.name as cname from db.main.events s"
    )
    assert outputs(lineage) == {
        "cid": {ref("db.main.events", "payload")},
        "cname": {ref("db.main.events", "payload")},
    }
    assert lineage.warnings == ()
