"""Every Python package in the repository is listed in pyproject.toml, so a built wheel has all of them."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "tessera_core": "core",
    "tessera_dbt": "tessera_dbt",
    "tessera_dagster": "tessera_dagster",
    "tessera_airflow": "tessera_airflow",
    "dbt_tessera": "dbt_tessera",
}


def test_every_package_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for name, folder in SOURCES.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([name, *rel.parts]))
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - found == set(), "these are listed but do not exist"


def test_console_commands_do_not_collide_with_the_tessera_server() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "tessera" not in scripts
