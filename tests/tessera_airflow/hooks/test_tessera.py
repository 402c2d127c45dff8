"""The ``tessera`` connection: URI and JSON forms from AIRFLOW_CONN_*, and opening the registry."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from tessera_airflow.hooks.tessera import RegistryTarget, TesseraHook
from tessera_core import RegistryUnavailableError, TesseraError


def use_connection(monkeypatch: pytest.MonkeyPatch, value: str, conn_id: str = "tessera_default") -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)


def test_json_form_names_a_sqlite_registry(monkeypatch: pytest.MonkeyPatch, registry_spec: str) -> None:
    use_connection(monkeypatch, json.dumps({"conn_type": "tessera", "extra": {"registry": registry_spec}}))
    target = TesseraHook().target
    assert target == RegistryTarget("tessera_default", registry_spec, None, False)


def test_uri_form_carries_path_and_fail_open_in_the_query(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "reg.db"
    use_connection(monkeypatch, f"tessera://?registry={quote(str(path), safe='')}&fail_open=true")
    target = TesseraHook().target
    assert (target.spec, target.fail_open) == (str(path), True)
    assert TesseraHook().settings.fail_open is True


def test_uri_form_with_host_builds_an_https_url_and_takes_the_key_from_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_connection(monkeypatch, "tessera://:s3cret@tessera.example.com:8443/api")
    target = TesseraHook().target
    assert (target.spec, target.api_key) == ("https://tessera.example.com:8443/api", "s3cret")


def test_host_with_a_scheme_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(
        monkeypatch, json.dumps({"conn_type": "tessera", "host": "http://localhost", "port": 8000})
    )
    assert TesseraHook().target.spec == "http://localhost:8000"


def test_extra_registry_wins_over_host(monkeypatch: pytest.MonkeyPatch, registry_spec: str) -> None:
    use_connection(
        monkeypatch,
        json.dumps(
            {"conn_type": "tessera", "host": "tessera.example.com", "extra": {"registry": registry_spec}}
        ),
    )
    assert TesseraHook().target.spec == registry_spec


def test_other_connection_id(monkeypatch: pytest.MonkeyPatch, registry_spec: str) -> None:
    use_connection(
        monkeypatch, json.dumps({"conn_type": "tessera", "extra": {"registry": registry_spec}}), "prod"
    )
    assert TesseraHook("prod").target.conn_id == "prod"


def test_hook_argument_overrides_the_connections_fail_open(
    monkeypatch: pytest.MonkeyPatch, registry_spec: str
) -> None:
    extra = {"registry": registry_spec, "fail_open": True}
    use_connection(monkeypatch, json.dumps({"conn_type": "tessera", "extra": extra}))
    assert TesseraHook(fail_open=False).settings.fail_open is False


def test_connection_without_registry_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch, json.dumps({"conn_type": "tessera"}))
    with pytest.raises(TesseraError, match="'tessera_default' names no Tessera registry: set its host"):
        _ = TesseraHook().target


def test_fail_open_that_is_not_a_boolean_is_an_error(
    monkeypatch: pytest.MonkeyPatch, registry_spec: str
) -> None:
    extra = {"registry": registry_spec, "fail_open": "maybe"}
    use_connection(monkeypatch, json.dumps({"conn_type": "tessera", "extra": extra}))
    with pytest.raises(TesseraError, match="fail_open='maybe' is not a boolean"):
        _ = TesseraHook().target


def test_form_prefixed_extras_are_read(monkeypatch: pytest.MonkeyPatch, registry_spec: str) -> None:
    extra = {"extra__tessera__registry": registry_spec, "extra__tessera__fail_open": "false"}
    use_connection(monkeypatch, json.dumps({"conn_type": "tessera", "extra": extra}))
    assert TesseraHook().target.spec == registry_spec


def test_get_conn_opens_the_sqlite_registry(monkeypatch: pytest.MonkeyPatch, registry_spec: str) -> None:
    use_connection(monkeypatch, json.dumps({"conn_type": "tessera", "extra": {"registry": registry_spec}}))
    hook = TesseraHook()
    hook.get_conn().ensure_team("platform")
    hook.close()
    assert registry_spec.startswith("http") or Path(registry_spec).is_file()
    assert hook.test_connection() == (True, f"connected to {registry_spec} (0 assets)")


def test_registry_that_cannot_be_opened_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the registry's folder should be")
    spec = str(blocker / "registry.db")
    use_connection(monkeypatch, json.dumps({"conn_type": "tessera", "extra": {"registry": spec}}))
    with pytest.raises(
        RegistryUnavailableError, match=f"'tessera_default': cannot open the Tessera registry {spec}"
    ):
        TesseraHook().get_conn()
    ok, message = TesseraHook().test_connection()
    assert not ok and "fix the connection's host or extra.registry" in message
