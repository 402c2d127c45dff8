"""The gate inside plain ``dbt run``: dbt_tessera's plugin hook, driven through dbt's own dbtRunner.

The team of this story only installs the package and turns the gate on in ``dbt_project.yml``
(``vars.tessera.gate: true``, with the registry path); it never calls ``tessera-dbt``:

1. ``dbt build`` with the gate on and an empty registry passes; the project is synced;
2. dim_customers.customer_id becomes varchar: ``dbt run`` stops before any node (or hook) runs,
   names the teams, models and columns, and opens the proposal;
3. commands that do not build (``dbt compile``) are not gated, and a run whose selection leaves the
   blocked model out goes ahead; the tessera-dbt wrapper's ``--exclude-blocked`` is not stopped by it;
4. analytics and ml acknowledge: ``dbt run`` builds the change;
5. another breaking change goes through with ``TESSERA_DBT_GATE=0``, and with the gate not configured.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from tessera_core import Decision, ProposalStatus, Registry, acknowledge, open_registry
from tessera_dbt.artifacts import load_project
from tessera_dbt.check import check_project
from tessera_dbt.config import load_settings
from tessera_dbt.publish import sync_project
from tessera_dbt.runner import RunOutcome, run_gated

from .conftest import (
    DIM,
    DIM_SQL,
    PLATFORM_YML,
    REPO,
    copy_example,
    edit,
    retype_dim_customer_id,
    warehouse_columns,
)

DIM_UID = "model.jaffle_contracts.dim_customers"


@dataclass(frozen=True)
class Dbt:
    result: dbtRunnerResult
    started: tuple[str, ...]  # unique_ids of the nodes (and hooks) that started

    @property
    def error(self) -> str:
        return str(self.result.exception or "")


@dataclass(frozen=True)
class Story:
    registry: Registry
    first: Dbt
    blocked: Dbt
    after_blocked: dict[str, str]
    compile: Dbt
    selected: Dbt
    wrapper: RunOutcome
    after_ack: Dbt
    after_ack_columns: dict[str, str]
    switched_off: Dbt
    switched_off_decision: Decision
    not_configured: Dbt


def _discoverable(patch: pytest.MonkeyPatch, where: Path) -> None:
    """dbt finds plugins with pkgutil.iter_modules(), which does not see setuptools' editable finder;
    put dbt_tessera on sys.path as a regular installation would."""
    if "dbt_tessera" in {m.name for m in pkgutil.iter_modules()}:
        return
    where.mkdir()
    (where / "dbt_tessera").symlink_to(REPO / "dbt_tessera", target_is_directory=True)
    patch.syspath_prepend(str(where))


def _dbt(project: Path, *args: str) -> Dbt:
    started: list[str] = []

    def on_event(event: Any) -> None:
        if event.info.name == "NodeStart":
            started.append(event.data.node_info.unique_id)

    result = dbtRunner(callbacks=[on_event]).invoke(
        [*args, "--project-dir", str(project), "--profiles-dir", str(project)]
    )
    return Dbt(result, tuple(started))


def _set_vars(project: Path, **tessera: object) -> None:
    text = (project / "dbt_project.yml").read_text().split("\nvars:\n")[0]
    lines = "".join(f"    {key}: {value}\n" for key, value in tessera.items())
    (project / "dbt_project.yml").write_text(f"{text}\nvars:\n  tessera:\n{lines}")


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, module_registry_spec: str) -> Iterator[Story]:
    work = tmp_path_factory.mktemp("plugin")
    project = copy_example(work)
    registry_path = module_registry_spec
    _set_vars(project, gate="true", registry=registry_path)
    with pytest.MonkeyPatch.context() as patch:
        _discoverable(patch, work / "site")
        settings = load_settings(project, env={})
        registry = open_registry(settings.registry)
        first = _dbt(project, "build", "--quiet")
        sync_project(registry, load_project(settings, catalog=False))

        retype_dim_customer_id(project)
        blocked = _dbt(project, "run", "--quiet")
        after_blocked = warehouse_columns(project, "dim_customers")
        compiled = _dbt(project, "compile", "--quiet")
        selected = _dbt(project, "run", "--select", "stg_orders", "--quiet")
        wrapper = run_gated(settings, command="run", exclude_blocked=True, extra_args=["--quiet"])

        proposal = registry.proposals(DIM, status=ProposalStatus.PENDING)[-1]
        for team in ("analytics", "ml"):
            acknowledge(registry, proposal.id, team)
        after_ack = _dbt(project, "run", "--select", "dim_customers", "--quiet")
        after_ack_columns = warehouse_columns(project, "dim_customers")

        # another breaking change: dim_customers drops customer_name, which analytics reads
        edit(
            project / DIM_SQL,
            r"\n    customers\.first_name \|\| ' ' \|\| customers\.last_name as customer_name,",
            "",
        )
        edit(project / PLATFORM_YML, r"      - name: customer_name\n(?:        .*\n)+?(?=      - name)", "")
        patch.setenv("TESSERA_DBT_GATE", "0")
        switched_off = _dbt(project, "run", "--select", "dim_customers", "--quiet")
        patch.delenv("TESSERA_DBT_GATE")
        parsed = load_project(settings, catalog=False)
        decision = check_project(registry, parsed, selected=[DIM_UID]).checks[0].report.decision
        _set_vars(project, registry=registry_path)  # the gate not mentioned: off
        not_configured = _dbt(project, "run", "--select", "dim_customers", "--quiet")
        yield Story(
            registry,
            first,
            blocked,
            after_blocked,
            compiled,
            selected,
            wrapper,
            after_ack,
            after_ack_columns,
            switched_off,
            decision,
            not_configured,
        )


@pytest.mark.slow
def test_gate_passes_a_build_when_nothing_is_published_yet(story: Story) -> None:
    assert story.first.result.success, story.first.error
    assert "model.jaffle_contracts.dim_customers" in story.first.started


@pytest.mark.slow
def test_gate_aborts_dbt_run_before_anything_runs(story: Story) -> None:
    assert not story.blocked.result.success
    assert story.blocked.started == ()  # no model, no on-run-start hook
    assert story.after_blocked["customer_id"] == "INTEGER"


@pytest.mark.slow
def test_gate_error_names_the_model_teams_consumers_and_column(story: Story) -> None:
    error = story.blocked.error
    assert "get_manifest_artifacts: tessera: 9 contract(s) checked, 1 blocked" in error
    assert f"BLOCKED  {DIM}" in error
    assert "customer_id: int -> text" in error
    for name in ("analytics", "ml", "rpt_customer_revenue", "ml_customer_features"):
        assert name in error


@pytest.mark.slow
def test_gate_opens_the_proposal_the_teams_acknowledge(story: Story) -> None:
    proposals = story.registry.proposals(DIM)
    assert len(proposals) == 1
    assert proposals[0].affected_teams == ("analytics", "ml")
    assert f"tessctl ack {proposals[0].id} --team <team>" in story.blocked.error


@pytest.mark.slow
def test_commands_that_do_not_build_are_not_gated(story: Story) -> None:
    assert story.compile.result.success, story.compile.error


@pytest.mark.slow
def test_gate_checks_only_what_the_selection_runs(story: Story) -> None:
    assert story.selected.result.success, story.selected.error
    assert story.selected.started == ("model.jaffle_contracts.stg_orders",)


@pytest.mark.slow
def test_wrapper_excluding_blocked_models_is_not_stopped_by_the_hook(story: Story) -> None:
    assert story.wrapper.exit_code == 0, story.wrapper.error
    assert story.wrapper.excluded == ("dim_customers+",)


@pytest.mark.slow
def test_dbt_run_goes_ahead_after_acknowledgment(story: Story) -> None:
    assert story.after_ack.result.success, story.after_ack.error
    assert story.after_ack.started[-1] == DIM_UID
    assert story.after_ack_columns["customer_id"] == "VARCHAR"


@pytest.mark.slow
def test_tessera_dbt_gate_0_turns_the_gate_off(story: Story) -> None:
    assert story.switched_off_decision is Decision.BLOCKED  # the gate would have stopped it
    assert story.switched_off.result.success, story.switched_off.error
    assert DIM_UID in story.switched_off.started


@pytest.mark.slow
def test_gate_is_off_unless_turned_on(story: Story) -> None:
    assert story.not_configured.result.success, story.not_configured.error
    assert DIM_UID in story.not_configured.started


def test_importing_the_plugin_module_stays_cheap() -> None:
    """dbt imports every installed dbt_* module on every invocation: no registry, lineage or gate code."""
    code = (
        "import sys, dbt_tessera\n"
        "heavy = [m for m in ('tessera_core.gate', 'tessera_core.registry', 'tessera_core.lineage',"
        " 'tessera_dbt.check', 'tessera_dbt.runner', 'sqlglot') if m in sys.modules]\n"
        "print(dbt_tessera.plugins[0].__name__, heavy)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "TesseraGate []"
