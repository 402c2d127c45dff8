"""The core must import none of dbt-core, Dagster or Airflow: check every module in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import tessera_core

FORBIDDEN = ("dbt", "dagster", "dagster_dbt", "airflow")


def test_no_core_module_imports_an_orchestrator() -> None:
    modules = [m.name for m in pkgutil.walk_packages(tessera_core.__path__, "tessera_core.")]
    assert len(modules) > 10
    probe = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"tessera_core imported {out.stdout.strip()}"
