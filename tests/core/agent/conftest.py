"""A real SQLite registry with contracts and consumers, the way an agent would find it.

``wh.core.dim_customers`` (owned by platform, duckdb) is read by analytics'
``rpt_revenue`` (customer_id, name; it produces ``wh.marts.revenue``, where
customer_id lands unchanged) and by ml's ``features`` (customer_id, ltv); finance's
``exec_dashboard`` reads ``wh.marts.revenue.customer_id``. ``wh.core.stg_customers``
and ``wh.core.customers_snapshot`` have contracts too; nobody reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tessera_core import gate
from tessera_core.registry.base import ColumnFlow, ConsumerKind, Registration
from tessera_core.registry.sqlite import SqliteRegistry
from tessera_core.schema.model import Field, Schema, guarantee
from tessera_core.schema.types import parse_data_type

DIM = "wh.core.dim_customers"
REVENUE = "wh.marts.revenue"
STG = "wh.core.stg_customers"
SNAPSHOT = "wh.core.customers_snapshot"


def columns(*spec: tuple[str, str]) -> tuple[Field, ...]:
    return tuple(Field(name, parse_data_type(data_type, dialect="duckdb")) for name, data_type in spec)


DIM_V1 = Schema(
    fields=columns(("customer_id", "integer"), ("name", "varchar"), ("email", "varchar"), ("ltv", "bigint")),
    guarantees=(guarantee("not_null", "customer_id"), guarantee("unique", "customer_id")),
    source_format="dbt",
    dialect="duckdb",
    contract_enforced=True,
)
STG_V1 = Schema(
    fields=columns(("id", "integer"), ("full_name", "varchar"), ("lifetime_value", "bigint")),
    source_format="dbt",
    dialect="duckdb",
)
SNAPSHOT_V1 = Schema(
    fields=columns(
        ("id", "integer"), ("full_name", "varchar"), ("email", "varchar"), ("lifetime_value", "bigint")
    ),
    source_format="dbt",
    dialect="duckdb",
)


def prepare(path: Path) -> None:
    """Publish the contracts and register the consumers into a new registry at ``path``."""
    with SqliteRegistry(path) as registry:
        gate.publish(registry, DIM, DIM_V1, owner_team="platform", kind="model")
        gate.publish(registry, STG, STG_V1, owner_team="platform", kind="model")
        gate.publish(registry, SNAPSHOT, SNAPSHOT_V1, owner_team="platform", kind="model")
        registry.register(
            Registration(
                DIM,
                "analytics",
                "rpt_revenue",
                ConsumerKind.DBT_MODEL,
                frozenset({"customer_id", "name"}),
                evidence=("customer_id: join, select", "name: select"),
                consumer_asset=REVENUE,
                flows=(ColumnFlow("customer_id", "customer_id", direct=True),),
            )
        )
        registry.register(
            Registration(
                DIM,
                "ml",
                "features",
                ConsumerKind.DBT_MODEL,
                frozenset({"customer_id", "ltv"}),
                evidence=("customer_id: select", "ltv: select"),
            )
        )
        registry.register(
            Registration(
                REVENUE, "finance", "exec_dashboard", ConsumerKind.EXPOSURE, frozenset({"customer_id"})
            )
        )


@pytest.fixture(scope="session")
def prepare_registry() -> Callable[[Path], None]:
    return prepare


@pytest.fixture
def registry_path(tmp_path: Path) -> Path:
    path = tmp_path / "tessera" / "registry.db"
    path.parent.mkdir()
    prepare(path)
    return path


@pytest.fixture
def registry(registry_path: Path) -> Iterator[SqliteRegistry]:
    with SqliteRegistry(registry_path) as reg:
        yield reg
