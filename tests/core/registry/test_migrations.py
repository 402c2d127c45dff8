"""The migration runner, proven on real files with test-only migrations from ``migration_fixtures/``.

The fixtures are numbered at test time (the next number after the packaged
ones), so the tests keep working when the package gains migrations.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from registry_samples import ORDERS, V1

from tessera_core.errors import RegistryError
from tessera_core.registry import migrations
from tessera_core.registry.base import Asset, Registration
from tessera_core.registry.sqlite import SqliteRegistry

FIXTURES = Path(__file__).parent / "migration_fixtures"
PACKAGED = migrations.packaged()


def release(tmp_path: Path, *later: str) -> Path:
    """A migrations folder: the packaged files, then the named fixtures as the next numbers."""
    folder = tmp_path / "-".join(("release", *later))
    folder.mkdir()
    for migration in PACKAGED:
        (folder / f"{migration.number:04d}_{migration.name}.sql").write_text(migration.sql)
    for number, name in enumerate(later, start=len(PACKAGED) + 1):
        (folder / f"{number:04d}_{name}.sql").write_text((FIXTURES / f"{name}.sql").read_text())
    return folder


def recorded(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()


def test_packaged_migrations_are_numbered_from_one() -> None:
    assert [m.number for m in PACKAGED] == list(range(1, len(PACKAGED) + 1))
    assert PACKAGED[0].name == "initial"


def test_a_new_file_records_every_packaged_migration(db_path: Path) -> None:
    with SqliteRegistry(db_path):
        pass
    assert recorded(db_path) == [(m.number, m.name) for m in PACKAGED]


def test_reopening_applies_nothing(db_path: Path) -> None:
    with SqliteRegistry(db_path):
        pass
    with sqlite3.connect(db_path, isolation_level=None) as raw:
        assert migrations.apply(raw, PACKAGED, label=str(db_path)) == ()


def test_data_written_before_a_later_migration_survives_it(tmp_path: Path, db_path: Path) -> None:
    with SqliteRegistry(db_path) as old:
        old.upsert_asset(Asset(ORDERS, "core", metadata={"tier": "gold"}))
        old.publish_contract(ORDERS, V1, "1.0.0", change_class="initial")
        old.register(Registration(ORDERS, "finance", "fct_revenue", columns=frozenset({"status"})))
        events = old.audit()

    with SqliteRegistry(db_path, migrations_dir=release(tmp_path, "asset_tier")) as new:
        assert new.current_contract(ORDERS).schema == V1  # type: ignore[union-attr]
        assert new.get_asset(ORDERS).metadata == {"tier": "gold"}  # type: ignore[union-attr]
        assert [r.columns for r in new.registrations(ORDERS)] == [frozenset({"status"})]
        assert new.audit()[: len(events)] == events
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT tier FROM assets").fetchall() == [("bronze",)]
        assert raw.execute("SELECT note FROM asset_notes").fetchall() == [("migrated; kept",)]
    assert recorded(db_path)[-1] == (len(PACKAGED) + 1, "asset_tier")


def test_a_file_from_a_newer_version_is_refused_with_upgrade_advice(tmp_path: Path, db_path: Path) -> None:
    with SqliteRegistry(db_path, migrations_dir=release(tmp_path, "asset_tier")):
        pass
    newer = len(PACKAGED) + 1
    with pytest.raises(
        RegistryError, match=rf"newer version .* migration\(s\) {newer} .*Upgrade tessera-integrations"
    ):
        SqliteRegistry(db_path)
    assert [number for number, _ in recorded(db_path)] == list(range(1, newer + 1))


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path, db_path: Path) -> None:
    with SqliteRegistry(db_path) as old:
        old.ensure_team("core")
    with pytest.raises(RegistryError, match=r"half_done\.sql failed .* statement 2 .*no such table"):
        SqliteRegistry(db_path, migrations_dir=release(tmp_path, "half_done"))
    assert recorded(db_path) == [(m.number, m.name) for m in PACKAGED]
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
    with SqliteRegistry(db_path) as again:
        assert [t.name for t in again.teams()] == ["core"]


def test_statements_keep_trigger_bodies_and_quoted_semicolons_whole(tmp_path: Path) -> None:
    later = migrations.load(release(tmp_path, "asset_tier"))[-1]
    parts = migrations.statements(later)
    assert len(parts) == 3
    assert parts[-1].endswith("'migrated; kept' FROM assets;")
    triggers = [s for s in migrations.statements(PACKAGED[0]) if "CREATE TRIGGER" in s]
    assert len(triggers) == 2 and all(s.rstrip().endswith("END;") for s in triggers)


def test_an_unterminated_statement_is_refused(tmp_path: Path) -> None:
    bad = migrations.Migration(
        2, "oops", "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER)\n", "0002_oops.sql"
    )
    with pytest.raises(RegistryError, match=r"0002_oops\.sql ends with an unterminated statement"):
        migrations.statements(bad)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["0001_initial.sql", "0003_later.sql"], "has number 3 but 2 was expected"),
        (["0001_initial.sql", "0001_again.sql"], "has number 1 but 2 was expected"),
        (["0001_initial.sql", "2_later.sql"], "2_later.sql .* is not named NNNN_short_name.sql"),
    ],
)
def test_badly_numbered_folders_are_refused(tmp_path: Path, names: list[str], message: str) -> None:
    for name in names:
        (tmp_path / name).write_text("SELECT 1;\n")
    with pytest.raises(RegistryError, match=message):
        migrations.load(tmp_path)


def test_a_different_migration_under_a_known_number_is_refused(tmp_path: Path, db_path: Path) -> None:
    with SqliteRegistry(db_path, migrations_dir=release(tmp_path, "asset_tier")):
        pass
    other = release(tmp_path, "half_done")
    with pytest.raises(RegistryError, match=rf"recorded migration {len(PACKAGED) + 1} as 'asset_tier'"):
        SqliteRegistry(db_path, migrations_dir=other)


def test_simultaneous_first_opens_migrate_once(db_path: Path) -> None:
    failures: list[BaseException] = []

    def open_it() -> None:
        try:
            SqliteRegistry(db_path).close()
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert recorded(db_path) == [(m.number, m.name) for m in PACKAGED]
