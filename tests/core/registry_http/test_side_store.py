"""The side store: what the server has no field for, per server, in one SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_core.errors import RegistryError
from tessera_core.registry.base import RegisterOutcome, Registration
from tessera_core.registry.http_store import SideStore


def test_two_servers_share_a_file_without_mixing(tmp_path: Path) -> None:
    here = SideStore(tmp_path / "side.db", scope="https://a.example.com")
    there = SideStore(tmp_path / "side.db", scope="https://b.example.com")
    assert here.register(Registration("wh.x.y", "ml", "f")) is RegisterOutcome.ADDED
    assert [r.key for r in here.registrations()] == [("wh.x.y", "ml", "f")]
    assert there.registrations() == []


def test_notes_merge_one_level_deep(tmp_path: Path) -> None:
    store = SideStore(tmp_path / "side.db", scope="https://a.example.com")
    store.annotate("proposal", "p1", {"acks": {"ml": {"response": "approved"}}, "reason": "a"})
    note = store.annotate("proposal", "p1", {"acks": {"bi": {"response": "migrating"}}, "reason": "b"})
    assert note == {"acks": {"ml": {"response": "approved"}, "bi": {"response": "migrating"}}, "reason": "b"}
    assert store.note("proposal", "p1") == note and store.note("contract", "p1") == {}


def test_a_file_that_is_not_a_side_store_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "side.db"
    bad.write_text("not a database, just text that is long enough to be read as a header" * 20)
    with pytest.raises(RegistryError, match=f"{bad} cannot be used as the side store"):
        SideStore(bad, scope="https://a.example.com")
