"""One setting picks the server; an unreachable server blocks the gate unless fail-open is set."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tessera_core import gate
from tessera_core.gate import Decision, GateSettings
from tessera_core.registry import Registry, open_registry
from tessera_core.registry.http import DEFAULT_STORE, HttpRegistry

from .conftest import API_KEY
from .loopback import Loopback
from .samples import DIM, V1


def test_a_server_url_selects_the_http_backend(
    server: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    registry = open_registry(server.url, api_key=API_KEY)
    assert isinstance(registry, HttpRegistry) and isinstance(registry, Registry)
    assert gate.publish(registry, DIM, V1, owner_team="platform").action == "published"
    assert (tmp_path / DEFAULT_STORE).is_file()


def test_an_unreachable_server_fails_closed_and_open_only_when_asked(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = HttpRegistry(f"http://127.0.0.1:{port}", retries=1, backoff=0.0, store_path=tmp_path / "side.db")
    closed = gate.check_impact(down, DIM, V1)
    assert closed.decision is Decision.BLOCKED and "fail closed" in closed.messages[0]
    assert "GET /api/v1/assets" in closed.messages[0]
    opened = gate.check_impact(down, DIM, V1, settings=GateSettings(fail_open=True))
    assert opened.decision is Decision.NOTIFY and "fail-open" in opened.messages[0]
