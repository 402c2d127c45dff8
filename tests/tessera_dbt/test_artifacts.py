"""A project whose SQL does not compile: a clear error naming the model, exit 2, nothing published."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_core import open_registry
from tessera_dbt.artifacts import DbtCommandError, compile_project
from tessera_dbt.config import DbtSettings

from .conftest import cli, copy_example, edit, settings_for

pytestmark = pytest.mark.slow

BROKEN = "models/marts/analytics/rpt_daily_orders.sql"


@pytest.fixture(scope="module")
def broken_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_example(tmp_path_factory.mktemp("broken"))
    edit(
        project / BROKEN,
        r"from \{\{ ref\('fct_orders'\) \}\}",
        "from {{ ref('fct_orders') }} where {{ no_such_macro() }}",
    )
    return project


@pytest.fixture
def settings(broken_project: Path, registry_spec: str) -> DbtSettings:
    return settings_for(broken_project, registry_spec)


def _nothing_published(registry: str) -> bool:
    if not Path(registry).exists():
        return True
    opened = open_registry(registry)
    return not opened.assets() and not opened.registrations()


def test_compile_error_names_the_model_and_its_file(settings: DbtSettings) -> None:
    with pytest.raises(DbtCommandError) as caught:
        compile_project(settings)
    message = str(caught.value)
    assert "dbt compile failed" in message
    assert f"rpt_daily_orders ({BROKEN})" in message
    assert "no_such_macro" in message


def test_sync_of_a_project_that_does_not_compile_exits_2_and_publishes_nothing(
    settings: DbtSettings,
) -> None:
    result = cli(settings, "sync")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: dbt docs generate failed")
    assert BROKEN in result.stderr
    assert _nothing_published(settings.registry)


def test_gated_build_of_a_project_that_does_not_compile_exits_2_and_builds_nothing(
    settings: DbtSettings,
) -> None:
    result = cli(settings, "build")
    assert result.exit_code == 2
    assert BROKEN in result.stderr
    assert _nothing_published(settings.registry)
    assert not (settings.project_dir / "target" / "run_results.json").exists()


def test_check_of_a_project_that_does_not_compile_exits_2(settings: DbtSettings) -> None:
    result = cli(settings, "check", "--format", "json")
    assert result.exit_code == 2
    assert "rpt_daily_orders" in result.stderr
