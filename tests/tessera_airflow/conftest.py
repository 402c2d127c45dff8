"""A real Airflow for the adapter tests: its own AIRFLOW_HOME, SQLite metadata DB and dags folder.

Airflow reads its configuration when it is first imported, so the environment is set here,
before any test module imports ``airflow``; the metadata DB is migrated once per session.
The DAG files in ``dags/`` are copied into the dags folder (``dag.test()`` syncs that folder
to the DB); each test points the ``tessera_default`` connection at its own registry through
``AIRFLOW_CONN_TESSERA_DEFAULT`` and passes its inputs as DAG params.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if "airflow" in sys.modules:  # configured already: the settings below would be ignored
    raise RuntimeError("tests/tessera_airflow must be imported before anything imports airflow")

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="tessera-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, True)
DAGS_FOLDER = AIRFLOW_HOME / "dags"
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }
)
HERE = Path(__file__).parent
EXAMPLE_DAG = HERE.parents[1] / "example_project" / "dags" / "jaffle_contracts.py"
TIMINGS: dict[str, float] = {}
RUNS: list[tuple[str, float]] = []


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The migrated metadata DB (``airflow db migrate`` on an empty SQLite file), once per session."""
    started = time.monotonic()
    shutil.copytree(HERE / "dags", DAGS_FOLDER, dirs_exist_ok=True)
    # Linked, not copied: the example DAG finds its dbt project next to its real location.
    (DAGS_FOLDER / EXAMPLE_DAG.name).symlink_to(EXAMPLE_DAG)
    from airflow.utils import db

    db.upgradedb()
    TIMINGS["airflow db migrate"] = time.monotonic() - started
    return AIRFLOW_HOME


@pytest.fixture
def tessera_conn(monkeypatch: pytest.MonkeyPatch, registry_spec: str) -> str:
    """``tessera_default`` in the JSON form of AIRFLOW_CONN_TESSERA_DEFAULT, on this test's registry."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_TESSERA_DEFAULT",
        json.dumps({"conn_type": "tessera", "extra": {"registry": registry_spec}}),
    )
    return registry_spec


@pytest.fixture(scope="session")
def dag_bag(airflow_db: Path) -> Any:
    """Every DAG in the dags folder, parsed once; a DAG file that fails to import fails the tests."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors, bag.import_errors
    return bag


@dataclass(frozen=True)
class Run:
    """A finished ``dag.test()`` run: the DagRun state and every task instance's state."""

    dag_id: str
    run_id: str
    state: str
    states: dict[str, str]
    tries: dict[str, int]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            query = XComModel.get_many(run_id=self.run_id, dag_ids=self.dag_id, task_ids=task_id, key=key)
            row = session.scalars(query).first()
            return XComModel.deserialize_value(row) if row is not None else None


def run_dag(dag: Any, *, mark_success: str | None = None, **params: Any) -> Run:
    """``dag.test()`` with ``params`` as the run's conf; ``dag.test()`` never raises when a task fails.

    ``mark_success``: a regex of task ids marked successful without running (tasks that need a
    warehouse this test environment does not have).
    """
    started = time.monotonic()
    dag_run = dag.test(run_conf=params, mark_success_pattern=mark_success)
    elapsed = time.monotonic() - started
    TIMINGS["dag.test() runs"] = TIMINGS.get("dag.test() runs", 0.0) + elapsed
    RUNS.append((dag.dag_id, elapsed))
    instances = dag_run.get_task_instances()
    return Run(
        dag_id=dag.dag_id,
        run_id=dag_run.run_id,
        state=str(dag_run.state),
        states={ti.task_id: str(ti.state) for ti in instances},
        tries={ti.task_id: ti.try_number for ti in instances},
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.write_sep("-", "Airflow timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f}s")
        for dag_id, seconds in RUNS:
            terminalreporter.write_line(f"  dag.test({dag_id}): {seconds:.1f}s")


def metadata_rows(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of Airflow's metadata DB, read with plain SQLite (safe from another thread)."""
    with sqlite3.connect(AIRFLOW_HOME / "airflow.db", timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def when(
    condition: Callable[[], bool], action: Callable[[], None], *, within: float = 60.0
) -> threading.Thread:
    """In a background thread: wait until ``condition()`` holds, then run ``action()`` once.

    ``dag.test()`` blocks the test, so this is how something happens *while* a DAG runs
    (a team acknowledges after the sensor went to sleep). ``thread.done`` says whether it ran.
    """

    def watch() -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if condition():
                action()
                thread.done = True  # type: ignore[attr-defined]
                return
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.done = False  # type: ignore[attr-defined]
    thread.start()
    return thread
