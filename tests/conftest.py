"""Fixtures shared by every test package.

``registry_spec`` is the one setting that picks the registry backend for adapter tests
(the value of TESSERA_REGISTRY): a fresh SQLite file by default.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def registry_spec(tmp_path: Path) -> str:
    """What TESSERA_REGISTRY would hold for this test: a fresh embedded registry."""
    return str(tmp_path / "tessera" / "registry.db")
