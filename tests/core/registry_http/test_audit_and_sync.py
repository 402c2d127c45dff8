"""The server's audit log, its impact verdict and its dbt sync endpoints."""

from __future__ import annotations

import pytest

from tessera_core import gate
from tessera_core.errors import RegistryError
from tessera_core.registry.http import HttpRegistry

from .loopback import Loopback
from .samples import DIM, RETYPED, V1
from .tessera_fake import RECORDED

MANIFEST = RECORDED["dbt diff with breaking change"]["request"]["manifest"]


def test_the_audit_log_reads_oldest_first_with_sequence_numbers(published: HttpRegistry) -> None:
    events = published.audit()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].action == "team.created" and events[0].details["name"] == "platform"
    published_events = [e for e in events if e.action == "contract.published"]
    assert published_events and published_events[0].actor == "platform"


def test_the_audit_log_of_one_asset_leaves_the_others_out(published: HttpRegistry) -> None:
    gate.publish(published, "wh.core.orders", V1, owner_team="platform")
    pid = gate.publish(published, DIM, RETYPED).proposal.id  # type: ignore[union-attr]
    events = published.audit(DIM)
    ids = {e.details["entity_id"] for e in events}
    assert pid in ids and {e.action for e in events} >= {
        "asset.created",
        "contract.published",
        "proposal.created",
    }
    orders = published.audit("wh.core.orders")
    assert not ids & {e.details["entity_id"] for e in orders}


def test_a_limit_keeps_the_newest_events(published: HttpRegistry) -> None:
    everything = published.audit()
    assert published.audit(limit=3) == everything[-3:]
    assert published.audit(limit=0) == []
    with pytest.raises(RegistryError, match="audit limit"):
        published.audit(limit=-1)


def test_the_servers_own_impact_verdict_is_available(published: HttpRegistry) -> None:
    verdict = published.server_impact(DIM, RETYPED)
    assert verdict["safe_to_publish"] is False and verdict["change_type"] == "major"
    assert {c["team_name"] for c in verdict["impacted_consumers"]} == {"analytics", "ml"}


def test_dbt_diff_and_impact_answer_the_servers_report(published: HttpRegistry, server: Loopback) -> None:
    diff = published.dbt_diff(MANIFEST)
    assert diff == RECORDED["dbt diff with breaking change"]["response"]
    impact = published.dbt_impact(MANIFEST, owner_team="platform")
    assert impact["breaking_changes_count"] == 1
    (call,) = server.calls("POST", "/api/v1/sync/dbt/impact")
    assert call.body["owner_team_id"] == published.ensure_team("platform").id


def test_dbt_upload_returns_the_report_even_for_a_partial_success(published: HttpRegistry) -> None:
    assert published.dbt_upload(MANIFEST, owner_team="platform")["status"] == "success"
    partial = published.dbt_upload(MANIFEST, owner_team="platform", conflict_mode="overwrite")
    assert partial["status"] == "partial_success" and partial["proposals"]["created"] == 1


def test_a_500_on_a_dbt_upload_is_an_unknown_outcome_and_not_sent_again(
    published: HttpRegistry, server: Loopback
) -> None:
    with pytest.raises(
        RegistryError, match=r"POST /api/v1/sync/dbt/upload .* outcome is unknown .* 500 INTERNAL_ERROR"
    ):
        published.dbt_upload({"nodes": "oops"}, owner_team="platform")
    assert len(server.calls("POST", "/api/v1/sync/dbt/upload")) == 1
