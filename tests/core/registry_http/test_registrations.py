"""Registrations: details beside the client, teams on the server, consumers kept across versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tessera_core import gate
from tessera_core.gate import Decision
from tessera_core.registry.base import ConsumerKind, RegisterOutcome, Registration
from tessera_core.registry.http import HttpRegistry
from tessera_core.schema.model import Field

from .conftest import API_KEY
from .loopback import Loopback
from .samples import ADDITIVE, DIM, INT, V1
from .tessera_fake import FakeTessera

NO_EMAIL = V1.with_fields([f for f in V1.fields if f.name != "email_domain"])


def _contract(fake: FakeTessera, version: str) -> dict[str, Any]:
    """Contract ``version`` of DIM on the server."""
    (asset_id,) = [a["id"] for a in fake.assets.values() if a["fqn"] == DIM]
    (contract,) = [
        c for c in fake.contracts.values() if c["version"] == version and c["asset_id"] == asset_id
    ]
    return contract


def _registered(fake: FakeTessera, version: str) -> set[str]:
    """Teams registered (active) on ``version`` of DIM."""
    contract = _contract(fake, version)
    return {
        fake.teams[r["consumer_team_id"]]["name"]
        for r in fake.registrations.values()
        if r["contract_id"] == contract["id"] and r["status"] == "active"
    }


def _other_client_registers(fake: FakeTessera, team: str, version: str) -> None:
    team_id = next((t["id"] for t in fake.teams.values() if t["name"] == team), None)
    team_id = team_id or fake.act("POST", "/api/v1/teams", {"name": team})["id"]
    contract = _contract(fake, version)
    fake.act("POST", "/api/v1/registrations", {"consumer_team_id": team_id, "contract_id": contract["id"]})


def _other_client_publishes(fake: FakeTessera, schema_doc: dict[str, object]) -> None:
    asset = next(iter(fake.assets.values()))
    fake.act(
        "POST",
        f"/api/v1/assets/{asset['id']}/publish",
        {"schema": schema_doc},
        published_by=asset["owner_team_id"],
        force="true",
        force_reason="published by another client",
    )


def test_registering_a_consumer_registers_its_team_on_the_current_contract(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    assert _registered(fake, "1.0.0") == {"analytics", "ml"}


def test_every_consumer_is_registered_again_on_the_next_version(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    gate.publish(published, DIM, ADDITIVE)
    assert _registered(fake, "1.1.0") == {"analytics", "ml"}
    impact = published.server_impact(DIM, NO_EMAIL)
    assert {c["team_name"] for c in impact["impacted_consumers"]} == {"analytics", "ml"}


def test_registering_again_sends_nothing_new(published: HttpRegistry, server: Loopback) -> None:
    before = len(server.calls("POST", "/api/v1/registrations"))
    again = Registration(
        DIM, "analytics", "rpt_revenue", ConsumerKind.DBT_MODEL, frozenset({"customer_id", "name"})
    )
    assert published.register(again) is RegisterOutcome.UNCHANGED
    assert len(server.calls("POST", "/api/v1/registrations")) == before


def test_the_servers_500_for_a_duplicate_registration_is_settled_by_reading_back(
    published: HttpRegistry, server: Loopback, fake: FakeTessera, tmp_path: Path
) -> None:
    fresh = HttpRegistry(server.url, api_key=API_KEY, backoff=0.01, store_path=tmp_path / "other.db")
    server.fail(
        "GET",
        r"/api/v1/contracts/[^/]+/registrations",
        status=200,
        body={"results": [], "total": 0, "limit": 100, "offset": 0},
    )
    outcome = fresh.register(Registration(DIM, "analytics", "dash", columns=frozenset({"name"})))
    assert outcome is RegisterOutcome.ADDED
    assert len(server.calls("POST", "/api/v1/registrations")) == 3  # analytics, ml, then the duplicate (500)
    assert len(fake.registrations) == 2


def test_a_consumer_registered_before_the_first_contract_is_registered_when_it_publishes(
    registry: HttpRegistry, fake: FakeTessera
) -> None:
    registry.register(Registration(DIM, "analytics", "rpt_revenue", columns=frozenset({"name"})))
    assert fake.registrations == {}
    gate.publish(registry, DIM, V1, owner_team="platform")
    assert _registered(fake, "1.0.0") == {"analytics"}


def test_a_team_registered_only_on_the_server_reads_every_column(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    _other_client_registers(fake, "finance", "1.0.0")
    (finance,) = published.registrations(DIM, team="finance")
    assert (finance.consumer, finance.columns) == ("server:finance", None)
    assert "registered on the Tessera server (version 1.0.0)" in finance.evidence[0]
    report = gate.check_impact(published, DIM, NO_EMAIL)  # email_domain: read by nobody we know of
    assert report.decision is Decision.BLOCKED and report.awaiting == ("finance",)


def test_consumers_on_an_older_version_still_count_after_another_client_publishes(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    _other_client_registers(fake, "finance", "1.0.0")
    _other_client_publishes(fake, {"type": "object", "properties": {"customer_id": {"type": "integer"}}})
    assert _registered(fake, "2.0.0") == set()  # the server forgot them
    keys = {r.key for r in published.registrations(DIM)}
    assert keys == {
        (DIM, "analytics", "rpt_revenue"),
        (DIM, "ml", "features"),
        (DIM, "finance", "server:finance"),
    }


def test_a_refused_re_registration_is_logged_and_the_team_still_counts(
    published: HttpRegistry, server: Loopback, fake: FakeTessera, caplog: pytest.LogCaptureFixture
) -> None:
    server.replay("POST", "/api/v1/registrations", "acknowledge blocked")  # a 403 UNAUTHORIZED_TEAM
    gate.publish(published, DIM, ADDITIVE)
    assert _registered(fake, "1.1.0") == {"ml"}
    assert "could not register analytics" in caplog.text and "still count" in caplog.text
    name_as_int = ADDITIVE.with_fields([*ADDITIVE.fields[:1], Field("name", INT), *ADDITIVE.fields[2:]])
    assert gate.check_impact(published, DIM, name_as_int).awaiting == ("analytics",)


def test_retiring_a_teams_last_consumer_sets_its_server_registrations_inactive(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    published.register(Registration(DIM, "ml", "scoring", columns=frozenset({"ltv"})))
    gate.publish(published, DIM, ADDITIVE)
    assert published.retire(DIM, "ml", "features") is True
    assert "ml" in _registered(fake, "1.1.0")  # scoring still reads it
    assert published.retire(DIM, "ml", "scoring") is True
    assert "ml" not in _registered(fake, "1.0.0") | _registered(fake, "1.1.0")
    assert {r.team for r in published.registrations(DIM)} == {"analytics"}


def test_registering_a_retired_team_again_reactivates_its_server_registration(
    published: HttpRegistry, fake: FakeTessera, server: Loopback
) -> None:
    published.retire(DIM, "ml", "features")
    assert (
        published.register(Registration(DIM, "ml", "features", columns=frozenset({"ltv"})))
        is RegisterOutcome.CHANGED
    )
    assert "ml" in _registered(fake, "1.0.0")
    assert server.calls("PATCH", "/api/v1/registrations/[^/]+")[-1].body == {"status": "active"}


def test_a_server_only_registration_can_be_retired(published: HttpRegistry, fake: FakeTessera) -> None:
    _other_client_registers(fake, "finance", "1.0.0")
    assert published.retire(DIM, "finance", "server:finance") is True
    assert published.registrations(DIM, team="finance") == []
    assert published.retire(DIM, "finance", "nobody") is False


def test_all_registrations_span_every_asset(published: HttpRegistry, fake: FakeTessera) -> None:
    gate.publish(published, "wh.core.orders", V1, owner_team="platform")
    published.register(Registration("wh.core.orders", "ml", "orders_features"))
    _other_client_registers(fake, "finance", "1.0.0")
    keys = {r.key for r in published.registrations()}
    assert {(DIM, "finance", "server:finance"), ("wh.core.orders", "ml", "orders_features")} <= keys
    assert {r.key for r in published.registrations(consumer="server:finance")} == {
        (DIM, "finance", "server:finance")
    }


def test_a_registration_marked_retired_is_refused(published: HttpRegistry) -> None:
    from tessera_core.errors import RegistryError

    with pytest.raises(RegistryError, match="marked retired"):
        published.register(Registration(DIM, "ml", "x", retired=True))
    with pytest.raises(RegistryError, match="consumer kind"):
        published.register(Registration(DIM, "ml", "x", consumer_kind="robot"))  # type: ignore[arg-type]
