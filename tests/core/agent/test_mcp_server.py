"""The MCP server driven by the SDK's own client over a real stdio session.

One agent session per module (starting the server costs seconds): the server runs
as ``python -m tessera_core.mcp_server`` with ``TESSERA_REGISTRY`` pointing at a
prepared SQLite registry; the session checks a breaking change, sees who it breaks,
opens a proposal, acknowledges it, reads its state, registers a query and makes
two mistakes. Each test reads one behaviour off that transcript.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters

from tessera_core import agent
from tessera_core.registry.base import AckResponse
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import DIM

CUSTOMER_ID_AS_TEXT = [
    {"name": "customer_id", "data_type": "varchar"},
    {"name": "name"},
    {"name": "email"},
    {"name": "ltv"},
]
QUERY = "select c.customer_id, c.email from dim_customers c where c.ltv > 1000"


@dataclass(frozen=True)
class Transcript:
    registry: Path
    tools: list[types.Tool]
    results: dict[str, types.CallToolResult]

    def answer(self, step: str) -> dict[str, Any]:
        result = self.results[step]
        assert isinstance(result.structured_content, dict)
        return result.structured_content


async def agent_session(registry: Path) -> Transcript:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "tessera_core.mcp_server"],
        env={"TESSERA_REGISTRY": str(registry)},
        cwd=str(registry.parent),
    )
    results: dict[str, types.CallToolResult] = {}
    async with Client(server, read_timeout_seconds=120) as client:
        tools = (await client.list_tools()).tools
        results["check"] = await client.call_tool(
            "check_impact", {"asset": "dim_customers", "columns": CUSTOMER_ID_AS_TEXT}
        )
        results["who_reads"] = await client.call_tool(
            "who_reads", {"asset": DIM, "column": "customer_id", "transitive": True}
        )
        results["open"] = await client.call_tool(
            "open_proposal", {"asset": DIM, "columns": CUSTOMER_ID_AS_TEXT, "by": "coding-agent"}
        )
        opened = results["open"].structured_content
        assert isinstance(opened, dict), results["open"]
        pid = opened["proposal"]["id"]
        results["ack"] = await client.call_tool(
            "acknowledge", {"proposal_id": pid, "team": "analytics", "note": "dashboards migrated"}
        )
        results["status"] = await client.call_tool("proposal_status", {"proposal_id": pid})
        results["register"] = await client.call_tool(
            "register_query", {"sql": QUERY, "dialect": "duckdb", "consumer": "vip_list", "team": "crm"}
        )
        misspelt = {"asset": DIM, "colums": CUSTOMER_ID_AS_TEXT}
        results["typo"] = await client.call_tool("check_impact", misspelt)
        results["unknown_tool"] = await client.call_tool("drop_table", {"asset": DIM})
    return Transcript(registry, tools, results)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, prepare_registry: Callable[[Path], None]) -> Transcript:
    path = tmp_path_factory.mktemp("mcp") / "registry.db"
    prepare_registry(path)
    return anyio.run(agent_session, path)


def test_lists_one_tool_per_operation_with_its_input_schema(session: Transcript) -> None:
    assert [t.name for t in session.tools] == list(agent.OPERATIONS)
    by_name = {t.name: t for t in session.tools}
    assert by_name["check_impact"].input_schema == agent.OPERATIONS["check_impact"].input_schema
    assert all(t.description for t in session.tools)


def test_a_breaking_change_is_unsafe_and_says_who_it_breaks(session: Transcript) -> None:
    answer = session.answer("check")
    assert not session.results["check"].is_error
    assert answer["safe"] is False and answer["columns_changed"] == ["customer_id"]
    assert {(r["team"], r["consumer"]) for r in answer["readers"]} == {
        ("analytics", "rpt_revenue"),
        ("ml", "features"),
        ("finance", "exec_dashboard"),
    }
    assert "open_proposal" in answer["next_steps"][0]


def test_text_content_is_the_same_answer_as_json(session: Transcript) -> None:
    (content,) = session.results["check"].content
    assert isinstance(content, types.TextContent)
    assert json.loads(content.text) == session.answer("check")


def test_who_reads_follows_the_column_to_the_dashboard(session: Transcript) -> None:
    answer = session.answer("who_reads")
    downstream = [r for r in answer["readers"] if r["depth"] == 1]
    assert [(r["team"], r["consumer"], r["reads"]) for r in downstream] == [
        ("finance", "exec_dashboard", "wh.marts.revenue")
    ]


def test_opening_the_proposal_names_who_must_acknowledge(session: Transcript) -> None:
    answer = session.answer("open")
    assert answer["action"] == "proposal_opened" and answer["proposal"]["id"].startswith("P-")
    assert answer["awaiting"] == ["analytics", "finance", "ml"]


def test_acknowledging_is_recorded_in_the_registry(session: Transcript) -> None:
    answer = session.answer("ack")
    assert answer["awaiting"] == ["finance", "ml"]
    with SqliteRegistry(session.registry) as registry:
        ack = registry.get_proposal(answer["id"]).ack_of("analytics")
    assert ack is not None and ack.response is AckResponse.APPROVED and ack.note == "dashboards migrated"


def test_proposal_status_reads_the_pending_state(session: Transcript) -> None:
    answer = session.answer("status")
    assert answer["status"] == "pending" and answer["awaiting"] == ["finance", "ml"]
    assert [a["team"] for a in answer["acknowledgments"]] == ["analytics"]
    assert answer["proposed_by"] == "coding-agent"


def test_register_query_stores_the_columns_read(session: Transcript) -> None:
    assert session.answer("register")["registered"][0]["columns"] == ["customer_id", "email", "ltv"]
    with SqliteRegistry(session.registry) as registry:
        (stored,) = registry.registrations(DIM, consumer="vip_list")
    assert stored.team == "crm" and stored.columns == frozenset({"customer_id", "email", "ltv"})


def test_invalid_input_is_a_tool_error_that_says_what_to_fix(session: Transcript) -> None:
    result = session.results["typo"]
    assert result.is_error
    assert session.answer("typo")["kind"] == "invalid_input"
    assert "colums (did you mean columns?)" in session.answer("typo")["error"]


def test_an_unknown_tool_is_a_tool_error_listing_the_tools(session: Transcript) -> None:
    assert session.results["unknown_tool"].is_error
    assert "the operations are: check_impact, who_reads" in session.answer("unknown_tool")["error"]
