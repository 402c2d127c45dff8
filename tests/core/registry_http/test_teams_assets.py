"""Teams and assets on the server: find-or-create, what the server keeps, what it refuses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tessera_core.errors import RegistryError
from tessera_core.registry.base import Asset, CompatibilityMode
from tessera_core.registry.http import HttpRegistry

from .loopback import Loopback
from .samples import DIM
from .tessera_fake import FakeTessera


def test_ensure_team_creates_once_then_finds(
    registry: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    first = registry.ensure_team("platform")
    again = registry.ensure_team("platform")
    assert first == again and first.id in fake.teams
    assert len(server.calls("POST", "/api/v1/teams")) == 1


def test_a_team_created_meanwhile_is_found_after_the_409(
    registry: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    fake.act("POST", "/api/v1/teams", {"name": "platform"})
    server.fail(
        "GET", "/api/v1/teams", status=200, body={"results": [], "total": 0, "limit": 100, "offset": 0}
    )
    team = registry.ensure_team("platform")  # the first lookup misses it, the create answers 409
    assert team.name == "platform" and team.id in fake.teams and len(fake.teams) == 1


def test_team_names_are_matched_exactly_not_as_a_pattern(registry: HttpRegistry, fake: FakeTessera) -> None:
    fake.act("POST", "/api/v1/teams", {"name": "platform-data"})
    team = registry.ensure_team("platform")
    assert team.name == "platform" and {t.name for t in registry.teams()} == {"platform", "platform-data"}


def test_an_empty_team_name_is_refused(registry: HttpRegistry) -> None:
    with pytest.raises(RegistryError, match="team name"):
        registry.ensure_team(" ")


def test_a_new_asset_keeps_mode_kind_dialect_and_metadata(registry: HttpRegistry, fake: FakeTessera) -> None:
    wanted = Asset(DIM, "platform", CompatibilityMode.FULL_TRANSITIVE, "model", "duckdb", {"tier": 1})
    stored = registry.upsert_asset(wanted)
    assert (
        stored == replace(wanted, id=stored.id)
        and stored.metadata == {"tier": 1}
        and stored.id in fake.assets
    )
    row = fake.assets[stored.id]
    assert (
        row["resource_type"] == "model"
        and row["metadata"]["tessera"]["compatibility_mode"] == "full_transitive"
    )
    found = registry.get_asset(DIM)
    assert found == stored and found is not None and found.metadata == {"tier": 1}


def test_an_update_changes_only_what_differs_and_keeps_foreign_metadata(
    registry: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    stored = registry.upsert_asset(Asset(DIM, "platform"))
    assert stored.id is not None
    fake.assets[stored.id]["metadata"]["owner_slack"] = "#data"
    registry.upsert_asset(Asset(DIM, "platform"))
    assert server.calls("PATCH") == []
    changed = registry.upsert_asset(Asset(DIM, "analytics", CompatibilityMode.NONE, "source"))
    assert (changed.owner_team, changed.compatibility_mode, changed.kind) == (
        "analytics",
        CompatibilityMode.NONE,
        "source",
    )
    (patch,) = server.calls("PATCH")
    assert set(patch.body) == {"metadata", "owner_team_id", "resource_type"}
    assert fake.assets[stored.id]["metadata"]["owner_slack"] == "#data"


def test_an_asset_without_owner_is_parked_under_unowned(
    registry: HttpRegistry, server: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    created = registry.upsert_asset(Asset(DIM))
    assert created.owner_team == "unowned"
    assert "unowned" in {t.name for t in registry.teams()}
    assert len(server.calls("POST", "/api/v1/assets")) == 1
    assert any("has no owner team" in r.getMessage() for r in caplog.records)


def test_an_fqn_the_server_refuses_names_the_field(registry: HttpRegistry) -> None:
    with pytest.raises(
        RegistryError, match=r"POST /api/v1/assets .* 422: body.fqn: String should have at least 3"
    ):
        registry.upsert_asset(Asset("x", "platform"))


def test_metadata_that_is_not_json_is_refused_before_any_call(
    registry: HttpRegistry, server: Loopback
) -> None:
    with pytest.raises(RegistryError, match="not JSON-serializable"):
        registry.upsert_asset(Asset(DIM, "platform", metadata={"when": object()}))
    assert server.seen == []


def test_assets_of_other_clients_read_with_defaults(registry: HttpRegistry, fake: FakeTessera) -> None:
    team = registry.ensure_team("platform")
    fake.act(
        "POST", "/api/v1/assets", {"fqn": "wh.raw.orders", "owner_team_id": team.id, "resource_type": "seed"}
    )
    (asset,) = registry.assets()
    assert (asset.fqn, asset.owner_team, asset.kind, asset.compatibility_mode) == (
        "wh.raw.orders",
        "platform",
        "seed",
        CompatibilityMode.BACKWARD,
    )


def test_a_missing_asset_is_none(registry: HttpRegistry) -> None:
    assert registry.get_asset(DIM) is None and registry.current_contract(DIM) is None
    assert (
        registry.contract_history(DIM) == [] and registry.proposals(DIM) == [] and registry.audit(DIM) == []
    )
