"""A Tessera server on loopback (the recorded shapes) and an ``HttpRegistry`` talking to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera_core.registry.http import HttpRegistry

from .loopback import Loopback, running
from .samples import seed
from .tessera_fake import FakeTessera

API_KEY = "tk_live_9f8e7d6c5b4a3f2e1d0c"


@pytest.fixture
def fake() -> FakeTessera:
    return FakeTessera(api_key=API_KEY)


@pytest.fixture
def server(fake: FakeTessera) -> Iterator[Loopback]:
    with running(fake) as loop:
        yield loop


@pytest.fixture
def registry(server: Loopback, tmp_path: Path) -> Iterator[HttpRegistry]:
    with HttpRegistry(
        server.url, api_key=API_KEY, timeout=5.0, retries=3, backoff=0.01, store_path=tmp_path / "side.db"
    ) as reg:
        yield reg


@pytest.fixture
def published(registry: HttpRegistry) -> HttpRegistry:
    return seed(registry)
