"""Fixtures shared by every test package.

``registry_spec`` (per test) and ``module_registry_spec`` (per module, for suites that build a dbt
project once) are the one setting that picks the registry backend for adapter tests (the value of
TESSERA_REGISTRY): a fresh SQLite file by default, or, with ``TESSERA_TEST_BACKEND=http``, the URL of
a Tessera server on loopback (the test server of tests/core/registry_http, which answers in the
recorded shapes).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def registry_backend(folder: Path) -> Iterator[str]:
    if os.environ.get("TESSERA_TEST_BACKEND", "sqlite") != "http":
        yield str(folder / "tessera" / "registry.db")
        return
    sys.path.insert(0, str(Path(__file__).parent / "core"))
    from registry_http.loopback import running
    from registry_http.tessera_fake import FakeTessera

    with pytest.MonkeyPatch.context() as patch:
        # like the recorded server (AUTH_DISABLED=true): no key needed, so every client in the test connects
        patch.delenv("TESSERA_API_KEY", raising=False)
        patch.chdir(folder)  # the client's side store lives in ./.tessera/
        with running(FakeTessera()) as server:
            yield server.url


@pytest.fixture
def registry_spec(tmp_path: Path) -> Iterator[str]:
    """What TESSERA_REGISTRY holds for this test: a fresh registry of the selected backend."""
    with registry_backend(tmp_path) as spec:
        yield spec


@pytest.fixture(scope="module")
def module_registry_spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same, shared by a module."""
    with registry_backend(tmp_path_factory.mktemp("registry")) as spec:
        yield spec
