"""The check and publish operators in a real DAG run: check >> build >> publish."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tessera_core import (
    ConsumerKind,
    Registration,
    Registry,
    Schema,
    acknowledge,
    open_registry,
    publish,
    read_schema_file,
)

from ..conftest import run_dag

ASSET = "wh.core.customers"


def schema_file(folder: Path, *names: str) -> Path:
    """A JSON Schema with ``customer_id`` (required integer) and the given string properties."""
    properties: dict[str, Any] = {"customer_id": {"type": "integer"}}
    properties.update({name: {"type": ["string", "null"]} for name in names})
    path = folder / "customers.schema.json"
    path.write_text(json.dumps({"type": "object", "properties": properties, "required": ["customer_id"]}))
    return path


def read_schema(path: Path) -> Schema:
    return next(iter(read_schema_file(path).values()))


@pytest.fixture
def registry(tessera_conn: str, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """v1 of the customers contract (the one ``schema_file(..., "name", "email")`` reads as),
    and analytics reading ``name``."""
    reg = open_registry(tessera_conn)
    v1 = read_schema(schema_file(tmp_path_factory.mktemp("v1"), "name", "email"))
    assert publish(reg, ASSET, v1, owner_team="platform").action == "published"
    reg.ensure_team("analytics")
    reg.register(
        Registration(ASSET, "analytics", "rpt_customers", ConsumerKind.DBT_MODEL, frozenset({"name"}))
    )
    return reg


def test_breaking_unacknowledged_change_fails_the_check_and_the_build_never_runs(
    dag_bag: Any, registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proposed = schema_file(tmp_path, "email")  # drops "name", which analytics reads
    run = run_dag(dag_bag.dags["tessera_gate"], asset=ASSET, schema_path=str(proposed))
    assert run.state == "failed"
    assert run.states == {"check": "failed", "build": "upstream_failed", "publish": "upstream_failed"}
    report = run.xcom("check", "tessera_report")
    assert (report["decision"], report["awaiting"]) == ("blocked", ["analytics"])
    assert [c["path"] for c in report["breaking_changes"]] == ["name"]
    out = capsys.readouterr().out
    assert "Tessera contract check failed for wh.core.customers" in out
    assert "analytics  rpt_customers" in out
    assert registry.current_contract(ASSET).version == "1.0.0"  # type: ignore[union-attr]


def test_acknowledged_change_passes_builds_and_publishes(
    dag_bag: Any, registry: Registry, tmp_path: Path
) -> None:
    proposed = schema_file(tmp_path, "email")
    opened = publish(registry, ASSET, read_schema(proposed), by="platform")
    assert opened.action == "proposal_opened" and opened.proposal is not None
    acknowledge(registry, opened.proposal.id, "analytics", note="we read email instead")

    run = run_dag(dag_bag.dags["tessera_gate"], asset=ASSET, schema_path=str(proposed))
    assert run.state == "success"
    assert run.states == {"check": "success", "build": "success", "publish": "success"}
    assert run.xcom("check")["decision"] == "pass"
    published = run.xcom("publish")
    assert (published["action"], published["version"]) == ("published", "2.0.0")
    current = registry.current_contract(ASSET)
    assert current is not None and current.version == "2.0.0" and current.proposal_id == opened.proposal.id


def test_additive_change_passes_and_publishes_a_minor_version(
    dag_bag: Any, registry: Registry, tmp_path: Path
) -> None:
    proposed = schema_file(tmp_path, "name", "email", "segment")
    run = run_dag(dag_bag.dags["tessera_gate"], asset=ASSET, schema_path=str(proposed))
    assert run.states == {"check": "success", "build": "success", "publish": "success"}
    assert run.xcom("publish")["version"] == "1.1.0"


def test_unreachable_registry_fails_the_check_closed(
    dag_bag: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    spec = str(blocker / "registry.db")
    monkeypatch.setenv(
        "AIRFLOW_CONN_TESSERA_DEFAULT", json.dumps({"conn_type": "tessera", "extra": {"registry": spec}})
    )
    run = run_dag(dag_bag.dags["tessera_gate"], asset=ASSET, schema_path=str(schema_file(tmp_path, "name")))
    assert run.states == {"check": "failed", "build": "upstream_failed", "publish": "upstream_failed"}
    report = run.xcom("check", "tessera_report")
    assert report["decision"] == "blocked"
    assert report["messages"][0].startswith("registry unreachable (connection 'tessera_default': cannot open")
    out = capsys.readouterr().out
    assert "Tessera contract check could not run for wh.core.customers" in out
    assert "blocked (fail closed). Fix the connection" in out


def test_fail_open_connection_passes_the_check_but_publishing_still_fails(
    dag_bag: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    spec = quote(str(blocker / "registry.db"), safe="")
    monkeypatch.setenv("AIRFLOW_CONN_TESSERA_DEFAULT", f"tessera://?registry={spec}&fail_open=true")
    run = run_dag(dag_bag.dags["tessera_gate"], asset=ASSET, schema_path=str(schema_file(tmp_path, "name")))
    assert run.states == {"check": "success", "build": "success", "publish": "failed"}
    assert run.xcom("check")["decision"] == "notify_only"


def test_breaking_publish_opens_one_proposal_and_fails_only_when_asked_to(
    dag_bag: Any, registry: Registry, tmp_path: Path
) -> None:
    proposed = schema_file(tmp_path, "email")
    run = run_dag(dag_bag.dags["tessera_publish"], asset=ASSET, schema_path=str(proposed))
    assert run.states == {"publish": "success", "publish_strict": "failed"}
    actions = {run.xcom("publish")["action"], run.xcom("publish_strict", "tessera_report")["action"]}
    assert actions == {"proposal_opened", "proposal_pending"}
    [pending] = registry.proposals(ASSET)
    assert pending.affected_teams == ("analytics",)
    assert registry.current_contract(ASSET).version == "1.0.0"  # type: ignore[union-attr]
