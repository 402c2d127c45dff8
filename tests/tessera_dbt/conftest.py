"""Shared pieces for the dbt adapter tests: a copy of example_project/ per module, real dbt on DuckDB.

Each module copies the project to a temporary folder and builds it (at most) once, so target/,
.tessera/ and the DuckDB file never land in the repository; the environment variables that would
point dbt or Tessera elsewhere are removed for the module.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tessera_core import open_registry
from tessera_dbt.artifacts import compile_project, invoke, load_project
from tessera_dbt.cli import main as cli_main
from tessera_dbt.config import DbtSettings, load_settings
from tessera_dbt.publish import ProjectSync, sync_project

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example_project"
NOT_DBT = shutil.ignore_patterns(
    "target", "logs", "dbt_packages", ".tessera", "*.duckdb", "dags", "dagster_defs", "__pycache__"
)
PLATFORM_YML = "models/marts/platform/_platform.yml"
DIM_SQL = "models/marts/platform/dim_customers.sql"
FCT_SQL = "models/marts/platform/fct_orders.sql"
DIM = "jaffle_contracts.main.dim_customers"
FCT = "jaffle_contracts.main.fct_orders"
ENV = (
    "TESSERA_EXAMPLE_DB",
    "TESSERA_REGISTRY",
    "TESSERA_DBT_GATE",
    "TESSERA_FAIL_OPEN",
    "TESSERA_API_KEY",
    "DBT_PROFILES_DIR",
)


@pytest.fixture(scope="module", autouse=True)
def clean_env() -> Iterator[pytest.MonkeyPatch]:
    """No TESSERA_* or DBT_PROFILES_DIR from the caller's shell for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV:
            patch.delenv(name, raising=False)
        yield patch


def copy_example(dest: Path) -> Path:
    project = dest / "example_project"
    shutil.copytree(EXAMPLE, project, ignore=NOT_DBT)
    return project


def settings_for(project: Path, registry: str) -> DbtSettings:
    return load_settings(project, registry=registry, env={})


def edit(path: Path, old: str, new: str, *, count: int = 1) -> None:
    """Replace the regex ``old`` exactly ``count`` times (a test edit that silently missed would lie)."""
    text, n = re.subn(old, new, path.read_text(), count=count)
    assert n == count, f"edit of {path.name} did not apply: {old!r}"
    path.write_text(text)


def retype_dim_customer_id(project: Path) -> None:
    """The breaking change of the story: dim_customers.customer_id integer -> varchar (SQL and yml)."""
    edit(
        project / DIM_SQL,
        r"cast\(customers\.customer_id as integer\)",
        "cast(customers.customer_id as varchar)",
    )
    edit(
        project / PLATFORM_YML,
        r"(- name: customer_id\n(?:        .*\n)*?        data_type: )integer",
        r"\1varchar",
    )


def drop_fct_gift_card_amount(project: Path) -> None:
    """A change nobody reads: fct_orders loses gift_card_amount (SQL and yml)."""
    edit(
        project / FCT_SQL,
        r"\n    cast\(coalesce\(payments\.gift_card_amount, 0\) as decimal\(18, 2\)\) as gift_card_amount,",
        "",
    )
    edit(project / PLATFORM_YML, r"      - name: gift_card_amount\n        data_type: decimal\(18,2\)\n", "")


def build_and_sync(settings: DbtSettings, *, catalog: bool = False) -> ProjectSync:
    """``dbt build`` (which compiles every node), then sync contracts and consumers from its manifest;
    ``catalog``: with the warehouse's types too (``dbt docs generate``), as ``tessera-dbt sync`` does."""
    invoke(settings, ["build", "--quiet"])
    project = compile_project(settings, catalog=True) if catalog else load_project(settings, catalog=False)
    return sync_project(open_registry(settings.registry), project)


def cli(settings: DbtSettings, *args: str) -> Result:
    """``tessera-dbt --project-dir ... --registry ... <args>`` in this process."""
    base = ["--project-dir", str(settings.project_dir), "--registry", settings.registry]
    return CliRunner().invoke(cli_main, [*base, *args], catch_exceptions=False)


def warehouse_columns(project: Path, table: str, *, schema: str = "main") -> dict[str, str]:
    """Column name -> DuckDB type of a relation in the project's warehouse, as built."""
    import duckdb

    with duckdb.connect(str(project / "target" / "jaffle_contracts.duckdb")) as con:
        rows = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def node_names(unique_ids: Sequence[str]) -> set[str]:
    return {uid.split(".")[-1] for uid in unique_ids}
