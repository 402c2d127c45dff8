"""``tessera-dbt check``, the CI gate: exit codes, every report format, slim CI and live source contracts.

One module story on one copy of example_project/, built and synced once:

1. nothing changed: ``check`` passes;
2. the production manifest is kept as ``--state``; fct_orders drops a column nobody reads, and
   ``check --select state:modified+`` looks only at fct_orders and its children;
3. dim_customers.customer_id becomes varchar: ``check`` blocks (JSON and JUnit from the CLI, the other
   formats rendered from the same check);
4. the ingestion tool drops raw.events.occurred_at in the warehouse: ``check --catalog`` blocks the source.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest

from tessera_core import open_registry
from tessera_dbt.artifacts import load_project
from tessera_dbt.check import CheckResult, check_project
from tessera_dbt.cli import render_check

from .conftest import (
    DIM,
    build_and_sync,
    cli,
    copy_example,
    drop_fct_gift_card_amount,
    node_names,
    retype_dim_customer_id,
    settings_for,
)

pytestmark = pytest.mark.slow

DIM_UID = "model.jaffle_contracts.dim_customers"
SOURCE_UID = "source.jaffle_contracts.raw.events"


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data


@dataclass(frozen=True)
class Story:
    clean: Run
    slim: Run
    blocked: Run
    junit_file: str
    junit_exit: int
    result: CheckResult  # the check behind `blocked`, for the renderers
    source: Run


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, module_registry_spec: str) -> Story:
    work = tmp_path_factory.mktemp("check")
    project = copy_example(work)
    settings = settings_for(project, module_registry_spec)
    build_and_sync(settings, catalog=True)

    def check(*args: str) -> Run:
        result = cli(settings, "check", *args)
        return Run(result.exit_code, result.stdout)

    clean = check()
    state = work / "prod"
    state.mkdir()
    shutil.copy(project / "target" / "manifest.json", state / "manifest.json")

    drop_fct_gift_card_amount(project)
    slim = check("--select", "state:modified+", "--state", str(state), "--format", "json")

    retype_dim_customer_id(project)
    blocked = check("--format", "json")
    result = check_project(open_registry(settings.registry), load_project(settings, catalog=False))
    junit_path = work / "tessera.xml"
    junit = check("--format", "junit", "--output", str(junit_path))

    import duckdb

    with duckdb.connect(str(project / "target" / "jaffle_contracts.duckdb")) as con:
        con.execute("alter table raw.events drop column occurred_at")
    source = check("--catalog", "--format", "json")
    return Story(clean, slim, blocked, junit_path.read_text(), junit.exit_code, result, source)


def _check_of(run: Run, unique_id: str) -> dict[str, Any]:
    found = [c for c in run.json()["checks"] if c["unique_id"] == unique_id]
    assert len(found) == 1, f"{unique_id} not checked: {run.stdout[:400]}"
    return found[0]


def test_check_exits_0_when_nothing_changed(story: Story) -> None:
    # seeds declare no columns: without --catalog they are not compared (9 models and the source are)
    assert story.clean.exit_code == 0
    assert "No contract changes in 10 contracted nodes." in story.clean.stdout


def test_slim_ci_checks_only_the_modified_model_and_its_children(story: Story) -> None:
    assert story.slim.exit_code == 0
    checked = node_names([c["unique_id"] for c in story.slim.json()["checks"]])
    assert checked == {"fct_orders", "rpt_customer_revenue", "rpt_daily_orders", "ml_customer_features"}


def test_slim_ci_reports_the_unread_column_drop_as_passing(story: Story) -> None:
    fct = _check_of(story.slim, "model.jaffle_contracts.fct_orders")
    assert fct["decision"] == "pass"
    assert [(c["kind"], c["path"]) for c in fct["changes"]] == [("field_removed", "gift_card_amount")]
    assert fct["proposal"] is None


def test_check_exits_1_when_a_breaking_change_is_not_acknowledged(story: Story) -> None:
    assert story.blocked.exit_code == 1
    assert story.blocked.json()["blocked"] == [DIM_UID]


def test_json_report_names_the_teams_consumers_and_columns_affected(story: Story) -> None:
    dim = _check_of(story.blocked, DIM_UID)
    assert dim["file"] == "models/marts/platform/dim_customers.sql"
    assert dim["affected_teams"] == ["analytics", "ml"]
    direct = {(a["team"], a["consumer"]): a["columns"] for a in dim["affected_consumers"] if a["depth"] == 0}
    assert direct == {
        ("analytics", "rpt_customer_revenue"): ["customer_id"],
        ("ml", "ml_customer_features"): ["customer_id"],
    }
    assert [(b["kind"], b["path"]) for b in dim["breaking_changes"]] == [("type_changed", "customer_id")]


def test_text_report_lists_the_blocked_model_and_a_summary(story: Story) -> None:
    text = render_check(story.result, "text")
    assert f"BLOCKED  {DIM}" in text
    assert "rpt_customer_revenue" in text
    assert "ml_customer_features" in text
    assert text.rstrip().endswith("1 blocked, 2 changed, 10 checked")


def test_markdown_report_is_a_pull_request_comment(story: Story) -> None:
    markdown = render_check(story.result, "markdown")
    assert markdown.startswith("## Tessera contract check\n")
    assert "**1 of 2 changed assets are blocked**" in markdown
    assert f"| ⛔ | `{DIM}` | backward | 1.0.0 → 2.0.0 |" in markdown
    assert "| analytics | `rpt_customer_revenue` | `customer_id` |" in markdown


def test_github_annotations_attach_the_error_to_the_model_file(story: Story) -> None:
    lines = render_check(story.result, "github").splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith(
        f"::error file=models/marts/platform/dim_customers.sql,title=Tessera: {DIM} blocked::"
    )
    assert "analytics, ml" in errors[0]
    assert all(line.startswith(("::error", "::warning")) for line in lines)


def test_junit_report_counts_the_blocked_model_as_a_failure(story: Story) -> None:
    assert story.junit_exit == 1
    suite = ET.fromstring(story.junit_file).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("10", "1")
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == [DIM]


def test_check_with_catalog_blocks_a_source_column_dropped_upstream(story: Story) -> None:
    assert story.source.exit_code == 1
    source = _check_of(story.source, SOURCE_UID)
    assert source["live"] is True
    assert source["decision"] == "blocked"
    assert [(c["kind"], c["path"]) for c in source["breaking_changes"]] == [("field_removed", "occurred_at")]


def test_source_report_names_the_models_and_teams_that_read_it(story: Story) -> None:
    source = _check_of(story.source, SOURCE_UID)
    reached = {(a["team"], a["consumer"], a["depth"]) for a in source["affected_consumers"]}
    assert reached == {
        ("platform", "stg_events", 0),
        ("platform", "dim_customers", 1),
        ("ml", "ml_customer_features", 2),
    }
    assert "ml" in source["awaiting"]
