"""The agent operations on a real SQLite registry: arguments in, short JSON-ready answers out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tessera_core import agent, gate
from tessera_core.agent import AgentInputError
from tessera_core.errors import ConflictError, InvalidStateError, NotFoundError, SchemaError
from tessera_core.registry.base import ProposalStatus, Registration
from tessera_core.registry.sqlite import SqliteRegistry
from tessera_core.schema.jsonschema import read_json_schema

from .conftest import DIM, DIM_V1, SNAPSHOT

DIM_COLUMNS = [{"name": "customer_id"}, {"name": "name"}, {"name": "email"}, {"name": "ltv"}]
CUSTOMER_ID_AS_TEXT = [{"name": "customer_id", "data_type": "varchar"}, *DIM_COLUMNS[1:]]
DIM_SQL_WITHOUT_LTV = """
{{ config(materialized='table') }}
select c.id as customer_id, c.full_name as name, c.email
from {{ ref('stg_customers') }} as c
"""


def call(registry: SqliteRegistry, name: str, **arguments: Any) -> dict[str, Any]:
    answer = agent.call(registry, name, arguments)
    json.dumps(answer)  # every answer is plain JSON
    return answer


def readers(answer: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {(r["team"], r["consumer"], r["depth"]) for r in answer["readers"]}


# --- check_impact ---------------------------------------------------------------------------------


def test_type_change_is_blocked_and_names_every_reader_to_the_dashboard(registry: SqliteRegistry) -> None:
    answer = call(registry, "check_impact", asset=DIM, columns=CUSTOMER_ID_AS_TEXT)
    assert answer["safe"] is False and answer["decision"] == "blocked"
    assert answer["columns_changed"] == ["customer_id"]
    assert answer["changes"][0]["kind"] == "type_changed" and answer["changes"][0]["severity"] == "breaking"
    assert readers(answer) == {
        ("analytics", "rpt_revenue", 0),
        ("ml", "features", 0),
        ("finance", "exec_dashboard", 1),
    }
    assert answer["awaiting"] == ["analytics", "finance", "ml"]
    assert "open_proposal" in answer["next_steps"][0]
    assert agent.exit_code("check_impact", answer) == agent.EXIT_BLOCKED


def test_added_column_is_safe_and_publishes_a_minor_version(registry: SqliteRegistry) -> None:
    proposed = [*DIM_COLUMNS, {"name": "segment", "data_type": "varchar"}]
    answer = call(registry, "check_impact", asset=DIM, columns=proposed)
    assert answer["safe"] is True and answer["next_version"] == "1.1.0" and answer["readers"] == []
    assert agent.exit_code("check_impact", answer) == agent.EXIT_DONE


def test_columns_without_types_keep_the_contract_types_and_tests(registry: SqliteRegistry) -> None:
    answer = call(registry, "check_impact", asset="dim_customers", columns=DIM_COLUMNS)
    assert answer["asset"] == DIM and answer["changes"] == [] and answer["safe"] is True
    assert answer["next_steps"] == ["nothing to publish: the schema is the published 1.0.0"]


def test_model_sql_that_drops_a_column_reaches_only_its_reader(registry: SqliteRegistry) -> None:
    answer = call(registry, "check_impact", asset=DIM, sql=DIM_SQL_WITHOUT_LTV)
    assert answer["inferred"]["columns_removed"] == ["ltv"] and answer["inferred"]["columns_added"] == []
    assert answer["columns_changed"] == ["ltv"]
    assert readers(answer) == {("ml", "features", 0)}
    assert answer["readers"][0]["evidence"] == ["ltv: select"]
    assert answer["given_as"] == "sql" and not answer["safe"]


def test_model_sql_with_a_new_column_types_it_any_and_says_so(registry: SqliteRegistry) -> None:
    sql = "select id as customer_id, full_name as name, email, lifetime_value as ltv, 1 as tier from stg"
    answer = call(registry, "check_impact", asset=DIM, sql=sql)
    assert answer["inferred"]["columns_added"] == ["tier"] and answer["safe"] is True
    assert any("tier" in w and "any" in w for w in answer["warnings"])


def test_select_star_expands_through_the_upstream_contract(registry: SqliteRegistry) -> None:
    answer = call(registry, "check_impact", asset=SNAPSHOT, sql="select * from {{ ref('stg_customers') }}")
    assert answer["inferred"]["output_columns"] == ["id", "full_name", "lifetime_value"]
    assert answer["inferred"]["columns_removed"] == ["email"]


def test_sql_whose_outputs_cannot_be_told_is_bad_input(registry: SqliteRegistry) -> None:
    with pytest.raises(AgentInputError, match=r"arguments\.sql: cannot tell the output columns"):
        call(registry, "check_impact", asset=DIM, sql="select * from nowhere_known")


def test_json_schema_document_is_checked_against_a_json_schema_contract(registry: SqliteRegistry) -> None:
    topic = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
        "required": ["order_id", "amount"],
    }
    gate.publish(registry, "events.orders", read_json_schema(topic))
    registry.register(Registration("events.orders", "billing", "invoicer", columns=frozenset({"amount"})))
    narrower = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
    answer = call(registry, "check_impact", asset="events.orders", schema=narrower)
    assert answer["safe"] is False and readers(answer) == {("billing", "invoicer", 0)}


def test_a_json_schema_document_for_a_dbt_contract_warns_to_pass_columns(registry: SqliteRegistry) -> None:
    document = {
        "type": "object",
        "properties": {name: {"type": "string"} for name in ("customer_id", "name")},
    }
    answer = call(registry, "check_impact", asset=DIM, schema=document)
    assert answer["warnings"] == [
        f"the contract of {DIM} is a dbt schema: a JSON Schema document also differs from it in nullability, "
        "tests and settings; to change only columns, pass columns instead"
    ]


def test_exactly_one_way_of_proposing_a_schema(registry: SqliteRegistry) -> None:
    with pytest.raises(AgentInputError, match="exactly one of schema"):
        call(registry, "check_impact", asset=DIM)
    with pytest.raises(AgentInputError, match="got columns and sql"):
        call(registry, "check_impact", asset=DIM, columns=DIM_COLUMNS, sql="select 1 as a")


def test_an_unreadable_data_type_names_the_column(registry: SqliteRegistry) -> None:
    with pytest.raises(SchemaError, match=r"arguments\.columns\[1\] at column name"):
        bad = [DIM_COLUMNS[0], {"name": "name", "data_type": "(("}]
        call(registry, "check_impact", asset=DIM, columns=bad)


def test_lists_are_capped_and_the_rest_counted(registry: SqliteRegistry) -> None:
    answer = call(registry, "check_impact", asset=DIM, columns=CUSTOMER_ID_AS_TEXT, limit=1)
    assert len(answer["readers"]) == 1 and answer["more"]["readers"] == 2


# --- who_reads ------------------------------------------------------------------------------------


def test_who_reads_a_column_lists_its_direct_readers(registry: SqliteRegistry) -> None:
    answer = call(registry, "who_reads", asset=DIM, column="LTV")
    assert answer["column"] == "ltv" and readers(answer) == {("ml", "features", 0)}
    assert answer["readers"][0]["evidence"] == ["ltv: select"] and answer["owner_team"] == "platform"


def test_who_reads_transitive_follows_the_column_downstream(registry: SqliteRegistry) -> None:
    answer = call(registry, "who_reads", asset=DIM, column="customer_id", transitive=True)
    assert ("finance", "exec_dashboard", 1) in readers(answer) and answer["total"] == 3


def test_who_reads_an_unknown_asset_suggests_the_close_one(registry: SqliteRegistry) -> None:
    with pytest.raises(AgentInputError, match=r"did you mean wh\.core\.dim_customers,"):
        call(registry, "who_reads", asset="wh.core.dim_customer")


def test_an_ambiguous_short_name_asks_for_the_full_one(registry: SqliteRegistry) -> None:
    gate.publish(registry, "wh.staging.dim_customers", DIM_V1)
    with pytest.raises(AgentInputError, match="matches several assets"):
        call(registry, "who_reads", asset="dim_customers")


# --- register_query -------------------------------------------------------------------------------


def test_register_query_records_columns_and_clauses(registry: SqliteRegistry) -> None:
    sql = "select c.customer_id, count(*) from dim_customers c where c.ltv > 100 group by c.customer_id"
    answer = call(registry, "register_query", sql=sql, dialect="duckdb", consumer="churn_nb", team="growth")
    assert answer["registered"] == [
        {
            "asset": DIM,
            "columns": ["customer_id", "ltv"],
            "all_columns": False,
            "outcome": "added",
            "evidence": ["customer_id: group by, select", "ltv: where"],
        }
    ]
    (stored,) = registry.registrations(DIM, consumer="churn_nb")
    assert stored.team == "growth" and stored.columns == frozenset({"customer_id", "ltv"})


def test_unparseable_sql_registers_the_tables_it_names_as_read_in_full(registry: SqliteRegistry) -> None:
    sql = "select a, from wh.core.dim_customers join (( wh.core.stg_customers on"
    answer = call(registry, "register_query", sql=sql, dialect="duckdb", consumer="broken", team="growth")
    assert answer["analyzed"] is False and answer["warnings"]
    assert {r["asset"] for r in answer["registered"]} == {DIM, "wh.core.stg_customers"}
    assert all(r["all_columns"] for r in answer["registered"])
    assert registry.registrations(DIM, consumer="broken")[0].columns is None


def test_dry_run_registers_nothing(registry: SqliteRegistry) -> None:
    answer = call(
        registry,
        "register_query",
        sql="select ltv from dim_customers",
        dialect="duckdb",
        consumer="nb",
        team="growth",
        dry_run=True,
    )
    assert answer["registered"][0]["outcome"] == "would register"
    assert registry.registrations(DIM, consumer="nb") == []


def test_replace_previous_retires_tables_no_longer_read(registry: SqliteRegistry) -> None:
    base = {"dialect": "duckdb", "consumer": "nb", "team": "growth"}
    call(registry, "register_query", sql="select ltv from dim_customers", **base)
    sql = "select id from stg_customers"
    answer = call(registry, "register_query", sql=sql, replace_previous=True, **base)
    assert answer["retired"] == [DIM]
    assert registry.registrations(DIM, consumer="nb") == []


def test_a_query_that_reads_no_table_is_bad_input(registry: SqliteRegistry) -> None:
    with pytest.raises(AgentInputError, match="no table found"):
        call(registry, "register_query", sql="select 1", dialect="duckdb", consumer="c", team="t")


# --- proposals ------------------------------------------------------------------------------------


def test_breaking_change_goes_through_a_proposal_to_publication(registry: SqliteRegistry) -> None:
    opened = call(registry, "open_proposal", asset=DIM, columns=CUSTOMER_ID_AS_TEXT, by="agent")
    assert opened["action"] == "proposal_opened" and opened["version"] is None
    assert agent.exit_code("open_proposal", opened) == agent.EXIT_BLOCKED
    pid = opened["proposal"]["id"]
    for team in ("analytics", "finance", "ml"):
        acked = call(registry, "acknowledge", proposal_id=pid, team=team, note=f"{team} is ready")
    assert acked["status"] == "approved" and acked["awaiting"] == []
    assert "open_proposal" in acked["next_steps"][0]
    published = call(registry, "open_proposal", proposal_id=pid)
    assert published["action"] == "published" and published["version"] == "2.0.0"
    assert registry.get_proposal(pid).status is ProposalStatus.PUBLISHED


def test_a_first_contract_publishes_from_columns(registry: SqliteRegistry) -> None:
    columns = [{"name": "order_id", "data_type": "bigint"}, {"name": "amount", "data_type": "decimal(18,2)"}]
    answer = call(
        registry,
        "open_proposal",
        asset="wh.core.orders",
        columns=columns,
        dialect="duckdb",
        owner_team="shop",
    )
    assert answer["action"] == "published" and answer["version"] == "1.0.0"
    contract = registry.current_contract("wh.core.orders")
    assert contract is not None and contract.schema.names == ("order_id", "amount")


def test_a_second_breaking_change_while_one_is_open_conflicts(registry: SqliteRegistry) -> None:
    call(registry, "open_proposal", asset=DIM, columns=CUSTOMER_ID_AS_TEXT)
    with pytest.raises(ConflictError) as caught:
        call(registry, "open_proposal", asset=DIM, columns=DIM_COLUMNS[:3])
    answer = agent.error_answer(caught.value)
    assert answer["kind"] == "conflict" and answer["exit_code"] == agent.EXIT_BLOCKED
    assert "withdraw it" in answer["error"]


def test_proposing_the_same_change_again_finds_the_open_proposal(registry: SqliteRegistry) -> None:
    first = call(registry, "open_proposal", asset=DIM, columns=CUSTOMER_ID_AS_TEXT)
    again = call(registry, "check_impact", asset=DIM, columns=CUSTOMER_ID_AS_TEXT)
    assert again["proposal"]["id"] == first["proposal"]["id"]
    assert again["next_steps"][0].startswith("ask analytics, finance, ml to acknowledge")


def test_acknowledge_answers_with_who_is_still_awaited(registry: SqliteRegistry) -> None:
    pid = call(registry, "open_proposal", asset=DIM, columns=CUSTOMER_ID_AS_TEXT)["proposal"]["id"]
    answer = call(registry, "acknowledge", proposal_id=pid, team="ml", response="blocked", note="pins int")
    assert answer["awaiting"] == ["analytics", "finance", "ml"]
    assert answer["acknowledged"] == {"team": "ml", "response": "blocked", "note": "pins int"}
    assert any("ml answered blocked (pins int)" in step for step in answer["next_steps"])


def test_proposal_status_by_asset_reads_the_open_proposal(registry: SqliteRegistry) -> None:
    pid = call(registry, "open_proposal", asset=DIM, columns=CUSTOMER_ID_AS_TEXT)["proposal"]["id"]
    call(registry, "acknowledge", proposal_id=pid, team="analytics")
    answer = call(registry, "proposal_status", asset="dim_customers")
    assert answer["id"] == pid and answer["status"] == "pending" and answer["awaiting"] == ["finance", "ml"]
    assert agent.exit_code("proposal_status", answer) == agent.EXIT_BLOCKED


def test_a_team_that_is_not_affected_cannot_acknowledge(registry: SqliteRegistry) -> None:
    pid = call(registry, "open_proposal", asset=DIM, columns=CUSTOMER_ID_AS_TEXT)["proposal"]["id"]
    with pytest.raises(InvalidStateError) as caught:
        call(registry, "acknowledge", proposal_id=pid, team="sales")
    assert agent.error_answer(caught.value) == {
        "error": str(caught.value),
        "kind": "invalid_state",
        "exit_code": agent.EXIT_BLOCKED,
    }


def test_an_unknown_proposal_is_not_found(registry: SqliteRegistry) -> None:
    with pytest.raises(NotFoundError) as caught:
        call(registry, "proposal_status", proposal_id="P-00000000")
    assert agent.error_answer(caught.value)["exit_code"] == agent.EXIT_BAD_INPUT


# --- arguments ------------------------------------------------------------------------------------


def test_every_input_schema_is_a_json_schema_object() -> None:
    for operation in agent.OPERATIONS.values():
        Draft202012Validator.check_schema(operation.input_schema)
        assert operation.input_schema["type"] == "object"


def test_a_misspelt_argument_is_named_with_its_likely_fix(registry: SqliteRegistry) -> None:
    with pytest.raises(AgentInputError, match=r"unknown argument\(s\) colums \(did you mean columns\?\)"):
        call(registry, "check_impact", asset=DIM, colums=DIM_COLUMNS)


def test_every_problem_is_reported_at_once(registry: SqliteRegistry) -> None:
    with pytest.raises(AgentInputError) as caught:
        agent.call(registry, "acknowledge", {"proposal_id": 7, "response": "yes"})
    message = str(caught.value)
    assert "missing team (The affected team that answers)" in message
    assert "arguments.proposal_id: expected string, got int 7" in message
    assert "arguments.response: 'yes' is not one of approved, migrating, blocked" in message


def test_an_unknown_operation_lists_the_operations(registry: SqliteRegistry) -> None:
    with pytest.raises(AgentInputError, match=r"\(did you mean who_reads\?\); the operations are: check_"):
        agent.call(registry, "who_read", {})


# --- dbt model code -------------------------------------------------------------------------------


def test_plain_sql_resolves_refs_sources_and_drops_incremental_branches() -> None:
    sql = (
        "{{ config(materialized='incremental') }}\n"
        "select o.id from {{ ref('shop', 'orders', v=2) }} o\n"
        "join {{ source('raw', 'payments') }} p on p.o = o.id\n"
        "{% if is_incremental() %} where o.at > (select max(at) from {{ this }}) {% endif %}"
    )
    text, notes = agent.plain_sql(sql, this="wh.marts.orders")
    assert " ".join(text.split()) == "select o.id from orders o join raw.payments p on p.o = o.id"
    assert notes == ()


def test_plain_sql_reads_other_jinja_as_null_and_says_so() -> None:
    text, notes = agent.plain_sql("select {{ var('x') }} as x from t")
    assert text == "select null as x from t" and "compiled SQL" in notes[0]


@given(st.text(alphabet=st.characters(blacklist_characters="{")))
def test_sql_without_jinja_is_left_as_it_is(sql: str) -> None:
    assert agent.plain_sql(sql) == (sql, ())
