"""Tessera for Dagster: contracts as blocking asset checks, next to the checks people already have.

``TesseraResource`` points at the registry; ``build_contract_checks`` guards plain assets from their
``dagster/column_schema``; ``TesseraDbtTranslator`` and ``build_dbt_contract_checks`` do the same for
dbt models (with column lineage); ``build_contract_sensor`` re-runs what was blocked once its breaking
change is acknowledged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tessera_dagster.checks import CHECK_NAME as CHECK_NAME
from tessera_dagster.checks import ContractTarget as ContractTarget
from tessera_dagster.checks import build_contract_check as build_contract_check
from tessera_dagster.checks import build_contract_checks as build_contract_checks
from tessera_dagster.resource import TesseraResource as TesseraResource
from tessera_dagster.schema import schema_from_table_schema as schema_from_table_schema
from tessera_dagster.sensor import build_contract_sensor as build_contract_sensor

if TYPE_CHECKING:
    from tessera_dagster.translator import TesseraDbtTranslator as TesseraDbtTranslator
    from tessera_dagster.translator import build_dbt_contract_checks as build_dbt_contract_checks

__all__ = [
    "CHECK_NAME",
    "ContractTarget",
    "TesseraDbtTranslator",
    "TesseraResource",
    "build_contract_check",
    "build_contract_checks",
    "build_contract_sensor",
    "build_dbt_contract_checks",
    "schema_from_table_schema",
]


def __getattr__(name: str) -> Any:
    """The dbt names load dagster-dbt (seconds) only when asked for."""
    if name in ("TesseraDbtTranslator", "build_dbt_contract_checks"):
        from tessera_dagster import translator

        return getattr(translator, name)
    raise AttributeError(f"module 'tessera_dagster' has no attribute {name!r}")
