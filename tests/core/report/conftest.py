"""Reports made once per test session by the real gate on real SQLite registries."""

from __future__ import annotations

import pytest

from tessera_core.gate import ImpactReport

from .samples import crowded_report, customer_check, customer_report


@pytest.fixture(scope="session")
def customers(tmp_path_factory: pytest.TempPathFactory) -> ImpactReport:
    """dim_customers.customer_id integer -> varchar with a proposal open: ml approved, analytics not."""
    return customer_report(tmp_path_factory.mktemp("customers") / "registry.db")


@pytest.fixture(scope="session")
def customers_unproposed(tmp_path_factory: pytest.TempPathFactory) -> ImpactReport:
    """The same change, checked before any proposal exists."""
    return customer_check(tmp_path_factory.mktemp("check") / "registry.db")


@pytest.fixture(scope="session")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> ImpactReport:
    """customer_id removed under 10 teams x 8 models x 1 dashboard each (160 consumers)."""
    return crowded_report(tmp_path_factory.mktemp("crowded") / "registry.db")
