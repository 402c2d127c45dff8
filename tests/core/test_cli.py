"""tessctl end to end on a real SQLite registry: exit codes, JSON output, the workflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tessera_core.cli import main

ASSET = "warehouse.analytics.dim_customers"
V1 = {
    "type": "object",
    "properties": {
        "customer_id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
    },
    "required": ["customer_id", "email"],
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TESSERA_REGISTRY": str(tmp_path / "registry.db")}


def write(tmp_path: Path, name: str, doc: dict[str, object]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_publish_register_check_ack_publish(tmp_path: Path, env: dict[str, str]) -> None:
    v1 = write(tmp_path, "v1.json", V1)
    first = run(env, "--json", "publish", v1, "--asset", ASSET, "--owner", "platform")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["version"] == "1.0.0"

    assert (
        run(
            env,
            "register",
            "--asset",
            ASSET,
            "--team",
            "analytics",
            "--consumer",
            "rpt",
            "--columns",
            "customer_id,name",
        ).exit_code
        == 0
    )
    assert (
        run(
            env, "register", "--asset", ASSET, "--team", "ml", "--consumer", "features", "--columns", "email"
        ).exit_code
        == 0
    )

    breaking = dict(
        V1,
        properties={
            "customer_id": {"type": "string"},
            "email": {"type": "string"},
            "name": {"type": "string"},
        },
    )
    v2 = write(tmp_path, "v2.json", breaking)
    checked = run(env, "--json", "check", v2, "--asset", ASSET)
    assert checked.exit_code == 1
    report = json.loads(checked.output)
    assert report["decision"] == "blocked" and report["awaiting"] == ["analytics"]
    assert report["affected_consumers"][0]["columns"] == ["customer_id"]

    opened = run(env, "--json", "publish", v2, "--asset", ASSET)
    assert opened.exit_code == 1
    pid = json.loads(opened.output)["proposal"]["id"]

    listed = json.loads(run(env, "--json", "proposals", "list", "--status", "pending").output)
    assert [p["id"] for p in listed] == [pid]
    acked = run(env, "--json", "ack", pid, "--team", "analytics", "--note", "migrated")
    assert acked.exit_code == 0 and json.loads(acked.output)["status"] == "approved"

    done = run(env, "--json", "publish", v2, "--asset", ASSET)
    assert done.exit_code == 0 and json.loads(done.output)["version"] == "2.0.0"
    history = json.loads(run(env, "--json", "history", ASSET).output)
    assert [c["version"] for c in history["contracts"]] == ["1.0.0", "2.0.0"]


def test_consumers_filters_by_column(tmp_path: Path, env: dict[str, str]) -> None:
    run(env, "publish", write(tmp_path, "v1.json", V1), "--asset", ASSET)
    run(env, "register", "--asset", ASSET, "--team", "analytics", "--consumer", "rpt", "--columns", "name")
    run(env, "register", "--asset", ASSET, "--team", "ml", "--consumer", "features")
    out = json.loads(run(env, "--json", "consumers", ASSET, "--column", "email").output)
    assert [c["team"] for c in out["consumers"]] == ["ml"]  # analytics reads only name; ml reads everything
    assert out["consumers"][0]["columns"] is None


def test_text_output_is_a_readable_table(tmp_path: Path, env: dict[str, str]) -> None:
    run(env, "publish", write(tmp_path, "v1.json", V1), "--asset", ASSET)
    run(env, "register", "--asset", ASSET, "--team", "analytics", "--consumer", "rpt", "--columns", "name")
    out = run(env, "consumers", ASSET).output
    assert out.splitlines()[0].split() == ["team", "consumer", "kind", "columns", "source"]
    assert "analytics" in out and "rpt" in out


def test_malformed_schema_is_exit_2_naming_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "object", "properties": ')
    result = run(env, "--json", "check", str(bad), "--asset", ASSET)
    assert result.exit_code == 2
    assert "bad.json" in json.loads(result.output)["error"]


def test_unknown_proposal_is_exit_2(env: dict[str, str]) -> None:
    result = run(env, "ack", "P-00000000", "--team", "analytics")
    assert result.exit_code == 2


def test_usage_error_is_exit_2(env: dict[str, str]) -> None:
    assert run(env, "check").exit_code == 2


def test_force_needs_a_long_enough_reason(tmp_path: Path, env: dict[str, str]) -> None:
    run(env, "publish", write(tmp_path, "v1.json", V1), "--asset", ASSET, "--owner", "platform")
    run(env, "register", "--asset", ASSET, "--team", "analytics", "--consumer", "rpt")
    v2 = write(tmp_path, "v2.json", dict(V1, properties={"customer_id": {"type": "integer"}}))
    pid = json.loads(run(env, "--json", "publish", v2, "--asset", ASSET).output)["proposal"]["id"]
    assert run(env, "force", pid, "--reason", "hotfix").exit_code == 2
    forced = run(env, "--json", "force", pid, "--reason", "incident INC-1234 hotfix")
    assert forced.exit_code == 0 and json.loads(forced.output)["version"] == "2.0.0"
    audit = json.loads(run(env, "--json", "audit", ASSET).output)
    assert any("force" in e["action"] for e in audit)
