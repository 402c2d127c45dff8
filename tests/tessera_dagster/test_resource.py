"""``TesseraResource``: where the registry comes from and what it validates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tessera_core import RegistryUnavailableError
from tessera_dagster import TesseraResource


def test_registry_defaults_to_the_environment(monkeypatch, registry_spec):
    monkeypatch.setenv("TESSERA_REGISTRY", registry_spec)

    with TesseraResource().connect() as registry:
        registry.ensure_team("platform")

    assert registry_spec.startswith("http") or Path(registry_spec).is_file()


def test_registry_defaults_to_the_local_file_without_environment(monkeypatch):
    monkeypatch.delenv("TESSERA_REGISTRY", raising=False)

    assert TesseraResource().registry_spec == str(Path(".tessera") / "registry.db")


def test_explicit_registry_wins_over_the_environment(monkeypatch, registry_spec, tmp_path):
    monkeypatch.setenv("TESSERA_REGISTRY", str(tmp_path / "other.db"))

    assert TesseraResource(registry=registry_spec).registry_spec == registry_spec


def test_unknown_dialect_is_rejected_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown SQL dialect 'postgress'.*\bpostgres\b"):
        TesseraResource(dialect="postgress")


def test_registry_that_cannot_be_created_is_unreachable_and_named(tmp_path):
    (tmp_path / "a_file").write_text("")
    spec = str(tmp_path / "a_file" / "registry.db")
    tessera = TesseraResource(registry=spec)
    expected = re.escape(f"cannot open the Tessera registry {spec}")

    with pytest.raises(RegistryUnavailableError, match=expected), tessera.connect():
        pass


def test_api_key_never_appears_in_errors(tmp_path):
    (tmp_path / "a_file").write_text("")
    tessera = TesseraResource(registry=str(tmp_path / "a_file" / "registry.db"), api_key="s3cret-key")

    with pytest.raises(RegistryUnavailableError) as error, tessera.connect():
        pass

    assert "s3cret-key" not in str(error.value)


def test_writes_made_through_the_resource_notify_the_owner(monkeypatch, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tessera_core import Asset, ConsumerKind, Registration

    events: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            events.append((self.path, self.headers.get("X-Tessera-Event", "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "notify.yml"
        config.write_text(
            f"teams:\n  platform:\n    webhook:\n      url: http://127.0.0.1:{server.server_address[1]}/platform\n"
            "      secret_env: PLATFORM_HOOK_SECRET\n"
        )
        monkeypatch.setenv("PLATFORM_HOOK_SECRET", "s3cret-for-the-test")
        monkeypatch.setenv("TESSERA_NOTIFY_CONFIG", str(config))
        with TesseraResource(registry=str(tmp_path / "registry.db")).connect() as registry:
            registry.ensure_team("platform")
            registry.upsert_asset(Asset("wh.core.orders", "platform"))
            registry.register(
                Registration("wh.core.orders", "growth", "email_domains", ConsumerKind.DAGSTER_ASSET)
            )
    finally:
        server.shutdown()
        server.server_close()
    assert events == [("/platform", "consumer.registered")]
