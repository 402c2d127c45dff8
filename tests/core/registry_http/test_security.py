"""The API key goes only into the Authorization header to the configured server; TLS is verified."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from tessera_core import gate
from tessera_core.errors import RegistryError, RegistryUnavailableError
from tessera_core.registry.http import HttpRegistry

from .conftest import API_KEY
from .loopback import Loopback, running
from .samples import DIM, RETYPED, V1, seed
from .tessera_fake import FakeTessera


def test_every_request_carries_the_key_as_a_bearer_header(published: HttpRegistry, server: Loopback) -> None:
    assert server.seen
    assert {s.headers.get("authorization") for s in server.seen} == {f"Bearer {API_KEY}"}
    assert not any(
        API_KEY in s.path or API_KEY in str(s.query) or API_KEY in str(s.body) for s in server.seen
    )


def test_the_key_never_reaches_a_log_line_or_an_error(
    registry: HttpRegistry, server: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.fail("GET", "/api/v1/teams", status=503, headers={"Retry-After": "0"})
    server.fail("POST", "/api/v1/registrations", "drop_after")
    seed(registry)
    gate.publish(registry, DIM, RETYPED)
    server.fail("GET", "/api/v1/assets", status=503, times=10)
    with pytest.raises(RegistryUnavailableError) as down:
        registry.get_asset(DIM)
    assert "retrying" in caplog.text and "GET /api/v1/assets" in caplog.text
    assert API_KEY not in caplog.text and API_KEY not in str(down.value) and API_KEY not in repr(registry)


def test_a_key_the_server_echoes_back_is_masked(registry: HttpRegistry, server: Loopback) -> None:
    server.fail(
        "GET", "/api/v1/teams", status=400, body={"error": {"code": "BAD_KEY", "message": f"bad {API_KEY}"}}
    )
    with pytest.raises(RegistryError) as caught:
        registry.teams()
    assert API_KEY not in str(caught.value) and "bad ***" in str(caught.value)


def test_a_wrong_key_says_where_the_key_comes_from_without_showing_it(
    server: Loopback, tmp_path: Path
) -> None:
    wrong = "tk_live_wrong_0000"
    registry = HttpRegistry(server.url, api_key=wrong, retries=0, store_path=tmp_path / "side.db")
    with pytest.raises(RegistryError, match=r"401 UNAUTHORIZED.*TESSERA_API_KEY") as caught:
        registry.teams()
    assert wrong not in str(caught.value)


def test_redirects_are_not_followed_so_the_key_stays_home(
    registry: HttpRegistry, server: Loopback, tmp_path: Path
) -> None:
    with running(FakeTessera()) as elsewhere:
        server.fail("GET", "/api/v1/teams", status=307, headers={"Location": f"{elsewhere.url}/api/v1/teams"})
        with pytest.raises(RegistryError, match=r"GET /api/v1/teams .* answered 307"):
            registry.teams()
        assert elsewhere.seen == []


def test_credentials_in_the_url_are_refused_without_repeating_them(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="carries credentials") as caught:
        HttpRegistry("https://bot:s3cr3t-pw@tessera.example.com", store_path=tmp_path / "side.db")
    assert "s3cr3t-pw" not in str(caught.value)


def test_a_key_spanning_lines_is_refused_without_repeating_it(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="spans lines") as caught:
        HttpRegistry(
            "https://tessera.example.com", api_key="tk_live_abc\r\nX-Evil: 1", store_path=tmp_path / "s.db"
        )
    assert "tk_live_abc" not in str(caught.value)


def test_plain_http_to_a_remote_server_with_a_key_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    HttpRegistry("http://tessera.example.com", api_key=API_KEY, store_path=tmp_path / "side.db")
    assert "plain http" in caplog.text and API_KEY not in caplog.text


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_is_verified_by_default(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    with running(FakeTessera(), tls=certificate) as server:
        assert server.url.startswith("https://")
        strict = HttpRegistry(server.url, retries=0, store_path=tmp_path / "side.db")
        with pytest.raises(RegistryUnavailableError, match="SSL"):
            strict.teams()
        trusting = HttpRegistry(server.url, verify=str(certificate[0]), store_path=tmp_path / "side.db")
        gate.publish(trusting, DIM, V1, owner_team="platform")
        assert [t.name for t in trusting.teams()] == ["platform"]
