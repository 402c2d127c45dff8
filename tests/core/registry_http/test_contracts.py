"""Publishing and reading contracts: what is sent, what the server keeps, how its verdict is bridged."""

from __future__ import annotations

import logging
import re

import pytest

from tessera_core import gate
from tessera_core.errors import ConflictError, NotFoundError, RegistryError
from tessera_core.registry.base import CompatibilityMode
from tessera_core.registry.http import GATE_REASON, HttpRegistry

from .loopback import Loopback
from .samples import ADDITIVE, DIM, RETYPED, V1
from .tessera_fake import FakeTessera

NO_EMAIL = V1.with_fields([f for f in V1.fields if f.name != "email_domain"])


def _publishes(server: Loopback) -> list[dict[str, str]]:
    return [call.query for call in server.calls("POST", r"/api/v1/assets/[^/]+/publish")]


def test_the_first_contract_keeps_the_whole_schema_beside_its_json_schema(
    registry: HttpRegistry, fake: FakeTessera
) -> None:
    contract = gate.publish(registry, DIM, V1, owner_team="platform").contract
    assert contract is not None and contract.schema == V1 and contract.id in fake.contracts
    document = fake.contracts[contract.id]["schema_def"]
    assert list(document["properties"]) == ["customer_id", "name", "email_domain", "ltv"]
    assert document["x-tessera"]["schema"] == V1.to_dict()
    assert document["x-tessera"]["contract"] == {"change_class": "initial"}


def test_a_publish_the_gate_allowed_goes_out_with_force_and_the_gates_reason(
    published: HttpRegistry, server: Loopback
) -> None:
    gate.publish(published, DIM, ADDITIVE)
    query = _publishes(server)[-1]
    assert (query["force"], query["force_reason"]) == ("true", GATE_REASON)
    (call,) = [c for c in server.calls("POST", r"/api/v1/assets/[^/]+/publish") if c.query is query]
    assert call.body["version"] == "1.1.0" and call.body["compatibility_mode"] == "backward"


def test_a_change_the_server_calls_breaking_is_published_over_its_verdict_and_logged(
    published: HttpRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    result = gate.publish(published, DIM, NO_EMAIL)
    assert result.action == "published" and result.contract and result.contract.version == "2.0.0"
    assert "judged wh.core.dim_customers 2.0.0 breaking (Property 'email_domain' was removed)" in caplog.text
    assert published.proposals(DIM) == []


def test_a_callers_forced_reason_is_what_the_server_records(
    published: HttpRegistry, server: Loopback
) -> None:
    contract = published.publish_contract(
        DIM,
        RETYPED,
        "2.0.0",
        change_class="major",
        expected_current="1.0.0",
        forced_reason="incident INC-7 fix",
    )
    assert (
        contract.forced_reason == "incident INC-7 fix"
        and _publishes(server)[-1]["force_reason"] == "incident INC-7 fix"
    )


def test_a_transitive_mode_is_sent_as_its_base_mode(published: HttpRegistry, server: Loopback) -> None:
    gate.publish(published, DIM, V1, mode=CompatibilityMode.FORWARD_TRANSITIVE)
    published.publish_contract(DIM, NO_EMAIL, "1.0.1", change_class="patch", expected_current="1.0.0")
    assert server.calls("POST", r"/api/v1/assets/[^/]+/publish")[-1].body["compatibility_mode"] == "forward"


def test_a_taken_version_or_a_moved_current_conflicts_before_anything_is_sent(
    published: HttpRegistry, server: Loopback
) -> None:
    before = len(_publishes(server))
    with pytest.raises(ConflictError, match=r"1.0.0 of wh.core.dim_customers is already published"):
        published.publish_contract(DIM, ADDITIVE, "1.0.0", change_class="minor", expected_current="1.0.0")
    with pytest.raises(ConflictError, match=r"expected the current version to be 0.9.0 but it is 1.0.0"):
        published.publish_contract(DIM, ADDITIVE, "1.1.0", change_class="minor", expected_current="0.9.0")
    assert len(_publishes(server)) == before


def test_a_publish_whose_answer_is_lost_is_read_back_not_repeated(
    published: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    server.fail("POST", r"/api/v1/assets/[^/]+/publish", "drop_after")
    contract = published.publish_contract(
        DIM, ADDITIVE, "1.1.0", change_class="minor", expected_current="1.0.0"
    )
    assert contract.version == "1.1.0" and contract.schema == ADDITIVE and contract.change_class == "minor"
    assert [c["version"] for c in fake.contracts.values()] == ["1.0.0", "1.1.0"]


def test_a_publish_refused_with_503_is_sent_again_once_the_state_shows_it_did_not_happen(
    published: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    server.fail("POST", r"/api/v1/assets/[^/]+/publish", status=503)
    published.publish_contract(DIM, ADDITIVE, "1.1.0", change_class="minor", expected_current="1.0.0")
    assert len(_publishes(server)) == 3  # 1.0.0, then 1.1.0 twice
    assert [c["version"] for c in fake.contracts.values()] == ["1.0.0", "1.1.0"]


def test_an_unexpected_publish_answer_is_named(published: HttpRegistry, server: Loopback) -> None:
    server.fail("POST", r"/api/v1/assets/[^/]+/publish", status=200, body={"action": "version.required"})
    with pytest.raises(RegistryError, match=r"answered 'version.required' where a published contract"):
        published.publish_contract(DIM, ADDITIVE, "1.1.0", change_class="minor", expected_current="1.0.0")


def test_publishing_to_an_asset_the_server_does_not_have_says_how_to_create_it(
    registry: HttpRegistry,
) -> None:
    with pytest.raises(
        NotFoundError, match=r"upsert_asset\(Asset\('wh.core.dim_customers', owner_team=...\)\)"
    ):
        registry.publish_contract(DIM, V1, "1.0.0", change_class="initial")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"change_class": "huge"}, "change_class 'huge'"),
        ({"change_class": "major", "forced_reason": "x"}, "forced_reason"),
    ],
)
def test_bad_publish_arguments_are_refused(
    published: HttpRegistry, kwargs: dict[str, str], words: str
) -> None:
    with pytest.raises(RegistryError, match=words):
        published.publish_contract(DIM, RETYPED, "2.0.0", expected_current="1.0.0", **kwargs)  # type: ignore[arg-type]


def test_contracts_other_clients_published_are_read_as_json_schema(
    published: HttpRegistry, fake: FakeTessera
) -> None:
    asset_id, owner = next((a["id"], a["owner_team_id"]) for a in fake.assets.values())
    document = {
        "type": "object",
        "properties": {"customer_id": {"type": "integer"}},
        "required": ["customer_id"],
    }
    fake.act(
        "POST",
        f"/api/v1/assets/{asset_id}/publish",
        {"schema": document},
        published_by=owner,
        force="true",
        force_reason="another client",
    )
    history = published.contract_history(DIM)
    assert [(c.version, c.change_class, c.published_by) for c in history] == [
        ("1.0.0", "initial", None),
        ("2.0.0", "major", "platform"),
    ]
    current = published.current_contract(DIM)
    assert current is not None and current.schema.names == ("customer_id",)
    assert current.schema.source_format == "json_schema" and current.schema.fields[0].required


def test_the_history_is_oldest_first_with_each_change_class(published: HttpRegistry) -> None:
    gate.publish(published, DIM, ADDITIVE, by="ana")
    history = published.contract_history(DIM)
    assert [(c.version, c.change_class, c.published_by) for c in history] == [
        ("1.0.0", "initial", None),
        ("1.1.0", "minor", "ana"),
    ]
    assert [c.schema for c in history] == [V1, ADDITIVE]


def test_logs_name_the_calls_at_debug(published: HttpRegistry, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tessera.registry.http")
    published.current_contract(DIM)
    assert re.search(r"GET /api/v1/assets/[0-9a-f-]+/contracts -> 200", caplog.text)
