"""Lineage -> registrations, kept in step by re-running the sync (real lineage, real SQLite registry)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tessera_core.lineage.project import analyze_project
from tessera_core.manifest import DbtColumn, Node, Project
from tessera_core.registry.base import ConsumerKind, Registration, RegistrationSource
from tessera_core.registry.sqlite import SqliteRegistry
from tessera_core.sync import assets_from_project, registrations_from_lineage, sync_registrations

RAW = "source.shop.raw.customers"
STG = "model.shop.stg_customers"
DIM = "model.shop.dim_customers"


def cols(*names: str) -> tuple[DbtColumn, ...]:
    return tuple(DbtColumn(n) for n in names)


def project(
    dim_sql: str = "select id, name from wh.main.stg_customers where id > 0", *, with_dim: bool = True
) -> Project:
    nodes = {
        RAW: Node(
            RAW,
            "source",
            "customers",
            "shop",
            "wh.raw.customers",
            columns=cols("id", "name", "email"),
            owner_team="platform",
        ),
        STG: Node(
            STG,
            "model",
            "stg_customers",
            "shop",
            "wh.main.stg_customers",
            compiled_sql="select id, name, email from wh.raw.customers",
            depends_on=(RAW,),
            columns=cols("id", "name", "email"),
            owner_team="platform",
            tessera={"consumers": [{"team": "finance", "consumer": "ledger", "columns": ["email"]}]},
        ),
        "exposure.shop.board": Node(
            "exposure.shop.board",
            "exposure",
            "board",
            "shop",
            None,
            depends_on=(DIM,) if with_dim else (STG,),
            owner_team="exec",
            tessera={"columns": {"dim_customers": ["name"]}},
        ),
    }
    if with_dim:
        nodes[DIM] = Node(
            DIM,
            "model",
            "dim_customers",
            "shop",
            "wh.main.dim_customers",
            compiled_sql=dim_sql,
            depends_on=(STG,),
            columns=cols("id", "name"),
            owner_team="analytics",
        )
    return Project("shop", "duckdb", "duckdb", 12, nodes)


def sync(registry: SqliteRegistry, proj: Project):  # type: ignore[no-untyped-def]
    regs = registrations_from_lineage(proj, analyze_project(proj))
    return sync_registrations(registry, regs, assets=assets_from_project(proj))


def by_consumer(registry: SqliteRegistry, fqn: str) -> dict[str, Registration]:
    return {r.consumer: r for r in registry.registrations(fqn)}


def test_models_exposures_and_declarations_become_registrations(tmp_path: Path) -> None:
    registry = SqliteRegistry(tmp_path / "r.db")
    report = sync(registry, project())
    assert len(report.added) == 4
    stg = by_consumer(registry, "wh.main.stg_customers")
    assert stg["dim_customers"].columns == frozenset({"id", "name"})  # id read in WHERE too
    assert (
        stg["dim_customers"].team == "analytics"
        and stg["dim_customers"].consumer_kind is ConsumerKind.DBT_MODEL
    )
    assert stg["dim_customers"].consumer_asset == "wh.main.dim_customers"
    assert {(f.source, f.target, f.direct) for f in stg["dim_customers"].flows} == {
        ("id", "id", True),
        ("name", "name", True),
    }
    assert any(e.startswith("id: ") and "where" in e for e in stg["dim_customers"].evidence)
    assert stg["ledger"].source is RegistrationSource.EXPLICIT and stg["ledger"].columns == frozenset(
        {"email"}
    )
    raw = by_consumer(registry, "wh.raw.customers")
    assert raw["stg_customers"].columns == frozenset({"id", "name", "email"})
    dim = by_consumer(registry, "wh.main.dim_customers")
    assert dim["board"].consumer_kind is ConsumerKind.EXPOSURE and dim["board"].columns == frozenset({"name"})
    assert {a.fqn for a in report.assets} == {
        "wh.raw.customers",
        "wh.main.stg_customers",
        "wh.main.dim_customers",
    }


def test_resync_is_idempotent(tmp_path: Path) -> None:
    registry = SqliteRegistry(tmp_path / "r.db")
    sync(registry, project())
    again = sync(registry, project())
    assert (again.added, again.changed, again.retired, again.unchanged) == ((), (), (), 4)


def test_resync_updates_column_scopes(tmp_path: Path) -> None:
    registry = SqliteRegistry(tmp_path / "r.db")
    sync(registry, project())
    report = sync(registry, project("select id from wh.main.stg_customers"))
    assert [r.consumer for r in report.changed] == ["dim_customers"]
    assert by_consumer(registry, "wh.main.stg_customers")["dim_customers"].columns == frozenset({"id"})


def test_resync_retires_inferred_but_never_explicit(tmp_path: Path) -> None:
    registry = SqliteRegistry(tmp_path / "r.db")
    sync(registry, project())
    registry.register(Registration("wh.main.dim_customers", "ops", "pager", ConsumerKind.OTHER))
    report = sync(registry, project(with_dim=False))
    retired = {(r.asset_fqn, r.consumer) for r in report.retired}
    assert ("wh.main.stg_customers", "dim_customers") in retired
    assert ("wh.main.dim_customers", "board") in retired
    assert "pager" in by_consumer(registry, "wh.main.dim_customers")


def test_sql_that_does_not_parse_reads_everything_and_keeps_the_dependency(tmp_path: Path) -> None:
    registry = SqliteRegistry(tmp_path / "r.db")
    proj = project()
    broken = replace(proj.nodes[DIM], compiled_sql="select id,, from where")
    proj = replace(proj, nodes={**proj.nodes, DIM: broken})
    lineage = analyze_project(proj)
    assert not lineage.models[DIM].ok and lineage.models[DIM].warnings
    sync_registrations(registry, registrations_from_lineage(proj, lineage))
    reg = by_consumer(registry, "wh.main.stg_customers")["dim_customers"]
    assert reg.columns is None  # fail safe: treated as reading every column


def test_a_model_without_compiled_sql_keeps_its_dependencies_reading_everything(tmp_path: Path) -> None:
    registry = SqliteRegistry(tmp_path / "r.db")
    sync(registry, project())
    proj = project()
    parse_only = replace(proj, nodes={**proj.nodes, DIM: replace(proj.nodes[DIM], compiled_sql=None)})
    report = sync(registry, parse_only)
    assert report.retired == ()
    reg = by_consumer(registry, "wh.main.stg_customers")["dim_customers"]
    assert reg.columns is None and "no compiled SQL" in reg.evidence[0]
