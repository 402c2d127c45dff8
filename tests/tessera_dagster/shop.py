"""A two-asset shop for the tests: ``orders`` (platform, contracted) feeds ``revenue`` (analytics)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dagster import (
    AssetKey,
    ExecuteInProcessResult,
    TableColumn,
    TableColumnConstraints,
    TableColumnDep,
    TableColumnLineage,
    TableSchema,
    asset,
)

from tessera_dagster import build_contract_checks

ORDERS = AssetKey("orders")
REVENUE = AssetKey("revenue")
COLUMNS = (("order_id", "integer"), ("amount", "decimal(18,2)"), ("note", "varchar"))


def table(columns: Sequence[tuple[str, str]]) -> TableSchema:
    return TableSchema(
        [
            TableColumn(name, kind, constraints=TableColumnConstraints(nullable=name != "order_id"))
            for name, kind in columns
        ]
    )


def shop(columns: Sequence[tuple[str, str]] = COLUMNS) -> list[Any]:
    """``orders`` declares ``columns``; ``revenue`` reads ``orders.amount`` only."""

    @asset(key=ORDERS, owners=["team:platform"], metadata={"dagster/column_schema": table(columns)})
    def orders() -> None: ...

    @asset(
        key=REVENUE,
        deps=[ORDERS],
        owners=["team:analytics"],
        metadata={
            "dagster/column_lineage": TableColumnLineage({"total": [TableColumnDep(ORDERS, "amount")]})
        },
    )
    def revenue() -> None: ...

    return [orders, revenue, *build_contract_checks([orders])]


def materialized(result: ExecuteInProcessResult) -> set[AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def evaluation(result: ExecuteInProcessResult, key: AssetKey = ORDERS) -> Any:
    (found,) = [e for e in result.get_asset_check_evaluations() if e.asset_key == key]
    return found


def meta(evaluation: Any, key: str) -> Any:
    value = evaluation.metadata[key]
    return getattr(value, "value", value)
