"""The proposal sensor: a run of the blocked assets once the last affected team acknowledged."""

from __future__ import annotations

from typing import Any

from dagster import AssetKey, Definitions, asset, build_sensor_context, materialize

from tessera_core import acknowledge, open_registry
from tessera_dagster import build_contract_sensor
from tests.tessera_dagster.shop import COLUMNS, ORDERS, REVENUE, evaluation, materialized, meta, shop

NARROWED = (("order_id", "integer"), ("amount", "integer"), ("note", "varchar"))
FORECAST = AssetKey("forecast")


def shop_with_forecast(columns: Any = COLUMNS) -> list[Any]:
    """``shop`` plus ``forecast`` (ml), which reads all of ``orders``."""

    @asset(key=FORECAST, deps=[ORDERS], owners=["team:ml"])
    def forecast() -> None: ...

    return [*shop(columns), forecast]


def tick(assets: list[Any], tessera: Any, instance: Any) -> Any:
    checks = [a for a in assets if getattr(a, "check_specs", None) and not a.keys]
    proposals = build_contract_sensor(checks)
    defs = Definitions(assets=assets, sensors=[proposals], resources={"tessera": tessera})
    context = build_sensor_context(instance=instance, resources={"tessera": tessera}, definitions=defs)
    return proposals.evaluate_tick(context)  # as the daemon evaluates it


def test_sensor_requests_a_run_only_after_the_last_acknowledgment(tessera, instance, registry_spec):
    resources = {"tessera": tessera}
    materialize(shop_with_forecast(), instance=instance, resources=resources)
    blocked = materialize(
        shop_with_forecast(NARROWED), instance=instance, resources=resources, raise_on_error=False
    )
    proposal = meta(evaluation(blocked), "tessera/proposal")
    assert meta(evaluation(blocked), "tessera/awaiting") == ["analytics", "ml"]
    assets = shop_with_forecast(NARROWED)

    before = tick(assets, tessera, instance)
    acknowledge(open_registry(registry_spec), proposal, "analytics")
    after_first = tick(assets, tessera, instance)
    acknowledge(open_registry(registry_spec), proposal, "ml")
    after_last = tick(assets, tessera, instance)

    assert not before.run_requests and f"{proposal} on orders waits for analytics, ml" in before.skip_message
    assert not after_first.run_requests and "waits for ml" in after_first.skip_message
    (request,) = after_last.run_requests
    assert request.run_key == f"tessera-{proposal}"
    assert request.asset_selection == [FORECAST, ORDERS, REVENUE]
    assert request.tags["tessera/proposal"] == proposal


def test_the_requested_run_publishes_and_materializes_what_was_blocked(tessera, instance, registry_spec):
    resources = {"tessera": tessera}
    materialize(shop_with_forecast(), instance=instance, resources=resources)
    blocked = materialize(
        shop_with_forecast(NARROWED), instance=instance, resources=resources, raise_on_error=False
    )
    proposal = meta(evaluation(blocked), "tessera/proposal")
    for team in ("analytics", "ml"):
        acknowledge(open_registry(registry_spec), proposal, team)
    assets = shop_with_forecast(NARROWED)
    (request,) = tick(assets, tessera, instance).run_requests

    result = materialize(assets, instance=instance, resources=resources, selection=request.asset_selection)

    assert evaluation(result).passed and meta(evaluation(result), "tessera/version") == "2.0.0"
    assert materialized(result) == {ORDERS, REVENUE, FORECAST}
    after = tick(assets, tessera, instance)
    assert not after.run_requests and after.skip_message == "no acknowledged proposal to run"
