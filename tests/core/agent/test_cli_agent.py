"""``tessctl agent ...`` with click's CliRunner on a real SQLite registry: JSON answers and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from tessera_core import agent
from tessera_core.cli import main
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import DIM

BREAKING = ["--column", "customer_id:varchar", "--column", "name", "--column", "email", "--column", "ltv"]


def tessctl(registry: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--registry", str(registry), "agent", *args], input=stdin)


def answer_of(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_breaking_change_exits_1_with_the_same_answer_as_the_tool(registry_path: Path) -> None:
    result = tessctl(registry_path, "check-impact", "--asset", DIM, *BREAKING, "--json")
    assert result.exit_code == 1
    answer = answer_of(result)
    assert answer["decision"] == "blocked" and answer["teams"] == ["analytics", "finance", "ml"]
    with SqliteRegistry(registry_path) as registry:
        columns = [{"name": "customer_id", "data_type": "varchar"}, {"name": "name"}, {"name": "email"}]
        same = agent.call(registry, "check_impact", {"asset": DIM, "columns": [*columns, {"name": "ltv"}]})
    assert answer == same


def test_a_safe_change_exits_0(registry_path: Path) -> None:
    columns = ["--column", "customer_id", "--column", "name", "--column", "email", "--column", "ltv"]
    result = tessctl(
        registry_path, "check-impact", "--asset", DIM, *columns, "--column", "tier:int", "--json"
    )
    assert result.exit_code == 0 and answer_of(result)["next_version"] == "1.1.0"


def test_model_sql_from_stdin(registry_path: Path) -> None:
    sql = "select id as customer_id, full_name as name, email from {{ ref('stg_customers') }}"
    result = tessctl(registry_path, "check-impact", "--asset", DIM, "--sql-file", "-", "--json", stdin=sql)
    assert result.exit_code == 1 and answer_of(result)["inferred"]["columns_removed"] == ["ltv"]


def test_bad_input_exits_2_with_a_json_error(registry_path: Path) -> None:
    result = tessctl(registry_path, "check-impact", "--asset", DIM, "--json")
    assert result.exit_code == 2
    assert answer_of(result) == {
        "error": "pass exactly one of schema (a JSON Schema document), columns (a list of {name, data_type}) "
        "or sql (the model's new SQL)",
        "kind": "invalid_input",
        "exit_code": 2,
    }


def test_the_global_json_flag_is_honoured(registry_path: Path) -> None:
    result = CliRunner().invoke(main, ["--registry", str(registry_path), "--json", "agent", "who-reads", DIM])
    assert result.exit_code == 0 and answer_of(result)["total"] == 2


def test_who_reads_prints_readers_for_a_terminal(registry_path: Path) -> None:
    result = tessctl(registry_path, "who-reads", "dim_customers", "--column", "ltv")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "1 consumer(s) in 1 team(s) read wh.core.dim_customers.ltv: ml",
        "  reader  ml/features reads wh.core.dim_customers: ltv",
    ]


def test_register_query_reads_the_sql_from_a_file(registry_path: Path, tmp_path: Path) -> None:
    query = tmp_path / "vip.sql"
    query.write_text("select customer_id from wh.core.dim_customers where ltv > 10", encoding="utf-8")
    result = tessctl(
        registry_path,
        "register-query",
        "--sql-file",
        str(query),
        "--dialect",
        "duckdb",
        "--consumer",
        "vip",
        "--team",
        "crm",
        "--json",
    )
    assert result.exit_code == 0
    assert answer_of(result)["registered"][0]["columns"] == ["customer_id", "ltv"]


def test_proposal_workflow_exit_codes(registry_path: Path) -> None:
    opened = tessctl(registry_path, "open-proposal", "--asset", DIM, *BREAKING, "--json")
    assert opened.exit_code == 1
    pid = answer_of(opened)["proposal"]["id"]
    assert tessctl(registry_path, "proposal-status", pid, "--json").exit_code == 1
    for team in ("analytics", "finance", "ml"):
        assert tessctl(registry_path, "acknowledge", pid, "--team", team, "--json").exit_code == 0
    assert tessctl(registry_path, "proposal-status", pid, "--json").exit_code == 0
    published = tessctl(registry_path, "open-proposal", "--proposal-id", pid, "--json")
    assert published.exit_code == 0 and answer_of(published)["version"] == "2.0.0"


def test_acknowledging_for_a_team_that_is_not_affected_exits_1(registry_path: Path) -> None:
    pid = answer_of(tessctl(registry_path, "open-proposal", "--asset", DIM, *BREAKING, "--json"))["proposal"][
        "id"
    ]
    result = tessctl(registry_path, "acknowledge", pid, "--team", "sales", "--json")
    assert result.exit_code == 1 and answer_of(result)["kind"] == "invalid_state"


def test_call_takes_the_tool_arguments_as_json(registry_path: Path) -> None:
    arguments = json.dumps({"asset": DIM, "column": "name"})
    result = tessctl(registry_path, "call", "who_reads", "--json", stdin=arguments)
    assert result.exit_code == 0 and [r["consumer"] for r in answer_of(result)["readers"]] == ["rpt_revenue"]


def test_call_with_arguments_that_are_not_json_exits_2(registry_path: Path) -> None:
    result = tessctl(registry_path, "call", "who_reads", "--json", stdin="asset: dim")
    assert result.exit_code == 2 and "not JSON" in answer_of(result)["error"]


def test_tools_lists_the_operations_and_their_schemas(registry_path: Path) -> None:
    listed = json.loads(tessctl(registry_path, "tools").stdout)
    assert [t["name"] for t in listed] == list(agent.OPERATIONS)
    assert listed[0]["input_schema"]["required"] == ["asset"]
