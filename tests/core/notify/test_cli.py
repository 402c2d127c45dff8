"""``tessctl notify --flush`` and ``tessctl notify status`` on a real registry and receiver."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from tessera_core.cli import main
from tessera_core.registry.sqlite import SqliteRegistry

from .conftest import AFFECTED, DROP_STATUS, ORDERS, SECRETS, V2
from .receiver import Receiver


def config_file(tmp_path: Path, receiver: Receiver, *, max_attempts: int = 5) -> Path:
    path = tmp_path / "notify.yml"
    path.write_text(
        "teams:\n"
        "  marketing:\n"
        f"    webhook: {{url: '{receiver.url}/hooks/marketing', secret_env: MARKETING_SECRET}}\n"
        "  finance:\n"
        f"    webhook: {{url: '{receiver.url}/hooks/finance', secret_env: FINANCE_SECRET}}\n"
        f"delivery: {{max_attempts: {max_attempts}}}\n"
    )
    return path


def run(db_path: Path, *args: str) -> Result:
    env = {
        "TESSERA_REGISTRY": str(db_path),
        "MARKETING_SECRET": SECRETS["marketing"],
        "FINANCE_SECRET": SECRETS["finance"],
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_flush_delivers_and_prints_json(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver, tmp_path: Path
) -> None:
    registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    result = run(db_path, "--json", "notify", "--flush", "--config", str(config_file(tmp_path, receiver)))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert sorted(d["team"] for d in report["delivered"]) == ["finance", "marketing"]
    assert report["ok"] is True
    assert len(receiver.received) == 2


def test_a_dead_delivery_fails_the_flush_and_shows_in_status(
    registry: SqliteRegistry, db_path: Path, receiver: Receiver, tmp_path: Path
) -> None:
    registry.open_proposal(ORDERS, V2, DROP_STATUS, AFFECTED, base_version="1.0.0")
    receiver.answers = [500]
    config = str(config_file(tmp_path, receiver, max_attempts=1))
    flushed = run(db_path, "notify", "--flush", "--config", config)
    assert flushed.exit_code == 1
    assert "delivered 1, retrying 0, dead 1" in flushed.output
    status = run(db_path, "--json", "notify", "status")
    assert status.exit_code == 1
    (dead,) = json.loads(status.output)["dead_deliveries"]
    assert dead["status"] == "dead" and "HTTP 500" in dead["last_error"]


def test_a_server_registry_has_no_outbox(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--registry", "https://tessera.example.com", "--json", "notify", "status"], env={}
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["outbox"] is None


def test_a_missing_config_is_a_usage_error(registry: SqliteRegistry, db_path: Path, tmp_path: Path) -> None:
    result = run(db_path, "notify", "--flush", "--config", str(tmp_path / "absent.yml"))
    assert result.exit_code == 2
    assert "no notify config at" in result.output


def test_notify_alone_asks_for_flush_or_status(registry: SqliteRegistry, db_path: Path) -> None:
    assert run(db_path, "notify").exit_code == 2


def test_flush_after_write_never_raises_on_a_broken_config(tmp_path: Path) -> None:
    from tessera_core import flush_after_write

    broken = tmp_path / "notify.yml"
    broken.write_text("teams: [not, a, mapping")
    registry = tmp_path / "registry.db"
    SqliteRegistry(registry).ensure_team("platform")
    assert flush_after_write(registry, broken) is None
    assert flush_after_write(registry, tmp_path / "missing.yml") is None
    assert flush_after_write("https://tessera.example.com", broken) is None
