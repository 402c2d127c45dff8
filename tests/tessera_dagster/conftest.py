"""Real Dagster in process: an ephemeral instance, a resource on the test's SQLite registry, and a
registry URL that nothing answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance

from tessera_dagster import TesseraResource


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as dagster_instance:
        yield dagster_instance


@pytest.fixture
def tessera(registry_spec: str) -> TesseraResource:
    return TesseraResource(registry=registry_spec)


@pytest.fixture
def unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Tessera server URL on a local port nothing listens on (the client's side store goes to tmp)."""
    monkeypatch.chdir(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
