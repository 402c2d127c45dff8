"""Real SQLite registries in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_samples import ORDERS, V1

from tessera_core.registry.sqlite import SqliteRegistry


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "registry.db"


@pytest.fixture
def registry(db_path: Path) -> Iterator[SqliteRegistry]:
    with SqliteRegistry(db_path) as reg:
        yield reg


@pytest.fixture
def published(registry: SqliteRegistry) -> SqliteRegistry:
    """A registry where ORDERS has contract 1.0.0 (schema V1), owned by team core."""
    registry.ensure_team("core")
    registry.publish_contract(ORDERS, V1, "1.0.0", change_class="initial", published_by="alice")
    return registry
