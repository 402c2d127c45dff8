"""The MCP server: the agent operations (``tessera_core.agent``) as tools, over stdio.

Run ``tessera-mcp`` (or ``python -m tessera_core.mcp_server``). The registry is
``TESSERA_REGISTRY`` (a SQLite path or a Tessera server URL; default
``.tessera/registry.db``), with ``TESSERA_API_KEY`` for a server. Each tool takes
the JSON arguments its input schema lists and answers with the operation's dict
as structured content (and the same JSON as text). A failed call answers
``is_error`` with ``{"error", "kind", "exit_code"}``: the message names the
argument at fault and what to do about it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

from tessera_core import agent
from tessera_core.errors import TesseraError
from tessera_core.gate import GateSettings
from tessera_core.registry import DEFAULT_PATH, open_registry
from tessera_core.registry.base import Registry

log = logging.getLogger("tessera.mcp")

NAME = "tessera"
INSTRUCTIONS = (
    "Tessera knows who reads which table and column. Before you change a model's columns or SQL, call "
    "check_impact; if it is not safe, open_proposal and let the affected teams acknowledge. After you "
    "write a query that reads warehouse tables, call register_query. who_reads answers who depends on a "
    "table or a column; proposal_status follows a proposal."
)


def tools() -> list[types.Tool]:
    """One MCP tool per agent operation, with the operation's JSON Schema as its input schema."""
    return [
        types.Tool(name=op.name, description=op.description, input_schema=dict(op.input_schema))
        for op in agent.OPERATIONS.values()
    ]


def _result(answer: dict[str, Any], *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(answer, default=str))],
        structured_content=answer,
        is_error=error,
    )


def build_server(
    registry: Callable[[], Registry], *, settings: GateSettings | None = None, version: str = ""
) -> Server[Any]:
    """A server whose tools run the agent operations on ``registry()`` (called once, on first use)."""
    opened: list[Registry] = []

    def current() -> Registry:
        if not opened:
            opened.append(registry())
        return opened[0]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools())

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            answer = agent.call(current(), params.name, params.arguments, settings=settings)
        except TesseraError as exc:
            return _result(agent.error_answer(exc), error=True)
        except Exception as exc:  # a bug must reach the agent as an answer, not kill the session
            log.exception("tessera: tool %s failed", params.name)
            failure = {
                "error": f"{params.name} failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug in "
                "tessera, please report it with the arguments",
                "kind": "internal",
                "exit_code": agent.EXIT_BAD_INPUT,
            }
            return _result(failure, error=True)
        return _result(answer)

    return Server(
        NAME,
        version=version,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve(server: Server[Any]) -> None:
    """Serve ``server`` over this process's stdin and stdout until the client hangs up."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tessera-integrations")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return ""


def main() -> None:
    """Entry point of ``tessera-mcp``: the registry from ``TESSERA_REGISTRY``, stdio transport."""
    spec = os.environ.get("TESSERA_REGISTRY") or str(DEFAULT_PATH)
    api_key = os.environ.get("TESSERA_API_KEY")
    server = build_server(lambda: open_registry(spec, api_key=api_key), version=_version())
    anyio.run(serve, server)


if __name__ == "__main__":  # pragma: no cover
    main()
