"""Fixtures shared by every test package.

``registry_spec`` is the one setting that picks the registry backend for adapter tests
(the value of TESSERA_REGISTRY): a fresh SQLite file by default, or, with
``TESSERA_TEST_BACKEND=http``, the URL of a Tessera server on loopback (the test
server of tests/core/registry_http, which answers in the recorded shapes).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

@pytest.fixture
def registry_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """What TESSERA_REGISTRY holds for this test: a fresh registry of the selected backend."""
    if os.environ.get("TESSERA_TEST_BACKEND", "sqlite") != "http":
        yield str(tmp_path / "tessera" / "registry.db")
        return
    sys.path.insert(0, str(Path(__file__).parent / "core"))
    from registry_http.loopback import running
    from registry_http.tessera_fake import FakeTessera

    # like the recorded server (AUTH_DISABLED=true): no key needed, so every client in the test connects
    monkeypatch.delenv("TESSERA_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # the client's side store lives in ./.tessera/
    with running(FakeTessera()) as server:
        yield server.url
