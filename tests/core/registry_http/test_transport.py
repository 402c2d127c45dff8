"""Timeouts, retries, unknown outcomes, pagination and errors, against a real loopback server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tessera_core.errors import ConflictError, NotFoundError, RegistryError, RegistryUnavailableError
from tessera_core.registry.http import HttpRegistry
from tessera_core.registry.http_transport import Transport

from .conftest import API_KEY
from .loopback import Loopback, running
from .tessera_fake import FakeTessera


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def transport(server: Loopback, waits: list[float]) -> Transport:
    return Transport(server.url, api_key=API_KEY, timeout=5.0, retries=3, backoff=0.25, sleep=waits.append)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_read_is_retried_on_503_with_exponential_backoff(
    transport: Transport, server: Loopback, waits: list[float]
) -> None:
    server.fail("GET", "/api/v1/teams", status=503, times=2)
    assert transport.get("/api/v1/teams").status == 200
    assert len(server.calls("GET", "/api/v1/teams")) == 3
    assert waits == [0.25, 0.5]


def test_retry_after_is_respected_when_longer_than_the_backoff(
    transport: Transport, server: Loopback, waits: list[float]
) -> None:
    server.fail("GET", "/api/v1/teams", status=429, headers={"Retry-After": "7"})
    assert transport.get("/api/v1/teams").status == 200
    assert waits == [7.0]


def test_a_huge_retry_after_is_capped(transport: Transport, server: Loopback, waits: list[float]) -> None:
    server.fail("GET", "/api/v1/teams", status=503, headers={"Retry-After": "86400"})
    transport.get("/api/v1/teams")
    assert waits == [60.0]


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_a_server_that_stays_down_makes_the_registry_unavailable(
    transport: Transport, server: Loopback, status: int
) -> None:
    server.fail("GET", "/api/v1/teams", status=status, times=10)
    with pytest.raises(RegistryUnavailableError, match=rf"GET /api/v1/teams.*4 attempt.*answered {status}"):
        transport.get("/api/v1/teams")
    assert len(server.calls("GET", "/api/v1/teams")) == 4


def test_a_dropped_connection_on_a_read_is_retried(transport: Transport, server: Loopback) -> None:
    server.fail("GET", "/api/v1/teams", "drop")
    assert transport.get("/api/v1/teams").status == 200
    assert len(server.calls("GET", "/api/v1/teams")) == 2


def test_a_slow_server_times_out_and_the_read_is_retried(server: Loopback) -> None:
    waits: list[float] = []
    slow = Transport(server.url, api_key=API_KEY, timeout=0.2, retries=1, backoff=0.0, sleep=waits.append)
    server.fail("GET", "/api/v1/teams", "slow", delay=0.6, times=2)
    with pytest.raises(RegistryUnavailableError, match="ReadTimeout"):
        slow.get("/api/v1/teams")
    assert len(server.calls("GET", "/api/v1/teams")) == 2


def test_a_500_on_a_read_is_an_error_not_a_retry(transport: Transport, server: Loopback) -> None:
    server.replay("GET", "/api/v1/teams", "register same consumer twice")
    with pytest.raises(RegistryError, match=r"GET /api/v1/teams .* answered 500 INTERNAL_ERROR") as caught:
        transport.get("/api/v1/teams")
    assert not isinstance(caught.value, RegistryUnavailableError)
    assert len(server.calls("GET", "/api/v1/teams")) == 1


def test_a_429_on_a_write_is_retried_blindly(
    transport: Transport, server: Loopback, fake: FakeTessera
) -> None:
    server.fail("POST", "/api/v1/teams", status=429, headers={"Retry-After": "1"})
    reply = transport.write(
        "POST", "/api/v1/teams", body={"name": "ops"}, happened=lambda: pytest.fail("asked")
    )
    assert reply is not None and reply.status == 201
    assert [t["name"] for t in fake.teams.values()] == ["ops"]


def test_a_503_on_a_write_reads_the_state_then_sends_again(
    transport: Transport, server: Loopback, fake: FakeTessera
) -> None:
    server.fail("POST", "/api/v1/teams", status=503)
    checks: list[bool] = []

    def happened() -> bool:
        checks.append(any(t["name"] == "ops" for t in fake.teams.values()))
        return checks[-1]

    reply = transport.write("POST", "/api/v1/teams", body={"name": "ops"}, happened=happened)
    assert reply is not None and reply.status == 201
    assert checks == [False] and len(server.calls("POST", "/api/v1/teams")) == 2


def test_a_write_whose_answer_is_lost_is_not_sent_twice(
    registry: HttpRegistry, server: Loopback, fake: FakeTessera
) -> None:
    server.fail("POST", "/api/v1/teams", "drop_after")
    team = registry.ensure_team("ops")
    assert team.name == "ops" and team.id in fake.teams
    assert len(server.calls("POST", "/api/v1/teams")) == 1 and len(fake.teams) == 1


def test_a_write_that_keeps_failing_says_it_was_not_applied(transport: Transport, server: Loopback) -> None:
    server.fail("POST", "/api/v1/teams", status=502, times=10)
    with pytest.raises(RegistryError, match=r"POST /api/v1/teams .* failed 4 times .* was not applied"):
        transport.write("POST", "/api/v1/teams", body={"name": "ops"}, happened=lambda: False)


def test_an_unknown_outcome_without_a_check_is_not_retried(transport: Transport, server: Loopback) -> None:
    server.fail("POST", "/api/v1/sync/dbt/upload", status=503)
    with pytest.raises(RegistryError, match="outcome is unknown"):
        transport.call("POST", "/api/v1/sync/dbt/upload", body={"manifest": {}})
    assert len(server.calls("POST", "/api/v1/sync/dbt/upload")) == 1


def test_an_unknown_outcome_that_cannot_be_read_back_is_unavailable(
    transport: Transport, server: Loopback
) -> None:
    server.fail("POST", "/api/v1/teams", status=503)

    def down() -> bool:
        raise RegistryUnavailableError("still down")

    with pytest.raises(RegistryUnavailableError, match=r"outcome is unknown .* could not be read back"):
        transport.write("POST", "/api/v1/teams", body={"name": "ops"}, happened=down)


def test_an_unreachable_server_names_the_call_and_is_retried(tmp_path: Path) -> None:
    waits: list[float] = []
    down = Transport(f"http://127.0.0.1:{_closed_port()}", retries=2, backoff=0.1, sleep=waits.append)
    with pytest.raises(
        RegistryUnavailableError, match=r"POST /api/v1/teams: .* could not be reached after 3"
    ):
        down.write("POST", "/api/v1/teams", body={"name": "ops"}, happened=lambda: pytest.fail("asked"))
    assert waits == [0.1, 0.2]


def test_pagination_is_followed_to_the_end(fake: FakeTessera, tmp_path: Path) -> None:
    with running(fake, max_page=2) as server:
        registry = HttpRegistry(server.url, api_key=API_KEY, store_path=tmp_path / "side.db")
        for name in ("a1", "b2", "c3", "d4", "e5"):
            registry.ensure_team(name)
        server.seen.clear()
        assert [t.name for t in registry.teams()] == ["a1", "b2", "c3", "d4", "e5"]
    offsets = [call.query["offset"] for call in server.calls("GET", "/api/v1/teams")]
    assert offsets == ["0", "2", "4"]


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        (
            "duplicate team name",
            ConflictError,
            "409 DUPLICATE_TEAM: Team with name 'platform' already exists",
        ),
        ("get asset missing", NotFoundError, "404 ASSET_NOT_FOUND: Asset not found"),
        ("create asset bad fqn", RegistryError, "422: body.fqn: String should have at least 3 characters"),
        ("acknowledge bad response value", RegistryError, "body.response: Input should be 'approved'"),
        ("acknowledge blocked", RegistryError, "403 UNAUTHORIZED_TEAM: Only registered consumers can"),
    ],
)
def test_refusals_name_the_call_and_the_servers_code(
    transport: Transport, server: Loopback, name: str, error: type[RegistryError], words: str
) -> None:
    server.replay("POST", "/api/v1/anything", name)
    with pytest.raises(error) as caught:
        transport.call("POST", "/api/v1/anything", body={})
    assert str(caught.value).startswith("POST /api/v1/anything on http://127.0.0.1:")
    assert words in str(caught.value)


def test_publishing_before_acknowledgments_is_an_invalid_state(
    transport: Transport, server: Loopback
) -> None:
    from tessera_core.errors import InvalidStateError

    server.replay("POST", "/api/v1/proposals/p/publish", "publish before acks")
    with pytest.raises(InvalidStateError, match="400 PROPOSAL_NOT_PENDING: Cannot publish from proposal"):
        transport.call("POST", "/api/v1/proposals/p/publish", body={})


def test_a_server_that_is_not_tessera_is_named(transport: Transport, server: Loopback) -> None:
    server.fail("GET", "/api/v1/teams", status=200, body=["not", "an", "object"])
    with pytest.raises(RegistryError, match="GET /api/v1/teams answered 200 with list"):
        transport.page("/api/v1/teams", None, 0)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"timeout": 0}, "timeout"),
        ({"retries": -1}, "retries"),
        ({"backoff": -1.0}, "backoff"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(RegistryError, match=words):
        Transport("https://tessera.example.com", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["ftp://tessera.example.com", "tessera.example.com", "https://x.io/?a=1"])
def test_only_plain_http_urls_are_servers(url: str) -> None:
    with pytest.raises(RegistryError):
        Transport(url)


def test_the_api_prefix_in_the_url_is_tolerated() -> None:
    assert Transport("https://tessera.example.com/api/v1/").origin == "https://tessera.example.com"
