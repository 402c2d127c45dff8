"""Blocking contract checks on plain Dagster assets, run through ``dagster.materialize``."""

from __future__ import annotations

from dagster import AssetKey, DagsterInstance, MaterializeResult, asset, materialize

from tessera_core import ConsumerKind, ProposalStatus, acknowledge, open_registry
from tessera_dagster import CHECK_NAME, TesseraResource, build_contract_checks
from tests.tessera_dagster.shop import COLUMNS, ORDERS, REVENUE, evaluation, materialized, meta, shop, table

NARROWED = (("order_id", "integer"), ("amount", "integer"), ("note", "varchar"))  # amount loses its scale


def run(assets: list[object], tessera: TesseraResource, instance: DagsterInstance):  # type: ignore[no-untyped-def]
    return materialize(assets, instance=instance, resources={"tessera": tessera}, raise_on_error=False)


def test_first_materialization_publishes_the_initial_contract(tessera, instance, registry_spec):
    result = run(shop(), tessera, instance)

    check = evaluation(result)
    assert (check.check_name, check.passed) == (CHECK_NAME, True)
    assert meta(check, "tessera/action") == "published"
    assert meta(check, "tessera/version") == "1.0.0"
    assert materialized(result) == {ORDERS, REVENUE}
    contract = open_registry(registry_spec).current_contract("orders")
    assert contract is not None and contract.schema.names == ("order_id", "amount", "note")


def test_compatible_change_passes_and_publishes_a_minor_version(tessera, instance, registry_spec):
    run(shop(), tessera, instance)

    result = run(shop([*COLUMNS, ("channel", "varchar")]), tessera, instance)

    check = evaluation(result)
    assert check.passed and meta(check, "tessera/decision") == "pass"
    assert meta(check, "tessera/version") == "1.1.0"
    assert materialized(result) == {ORDERS, REVENUE}
    assert open_registry(registry_spec).current_contract("orders").version == "1.1.0"  # type: ignore[union-attr]


def test_breaking_change_fails_and_the_downstream_asset_does_not_materialize(
    tessera, instance, registry_spec
):
    run(shop(), tessera, instance)

    result = run(shop(NARROWED), tessera, instance)

    check = evaluation(result)
    assert not check.passed
    assert meta(check, "tessera/decision") == "blocked"
    assert meta(check, "tessera/action") == "proposal_opened"
    assert [c["path"] for c in meta(check, "tessera/breaking_changes")] == ["amount"]
    assert meta(check, "tessera/affected_consumers") == [
        {"team": "analytics", "consumer": "revenue", "columns": ["amount"], "depth": 0}
    ]
    assert meta(check, "tessera/awaiting") == ["analytics"]
    assert meta(check, "tessera/acknowledgments") == []
    assert materialized(result) == {ORDERS}  # orders itself ran; the check stopped revenue
    assert result.get_failed_step_keys() == {"orders_tessera_contract"}
    logs = [e.user_message for e in instance.all_logs(result.run_id) if e.step_key == "revenue"]
    assert any("Dependencies for step revenue failed: ['orders_tessera_contract']" in m for m in logs)
    registry = open_registry(registry_spec)
    assert registry.current_contract("orders").version == "1.0.0"  # type: ignore[union-attr]
    (proposal,) = registry.proposals("orders", status=ProposalStatus.PENDING)
    assert meta(check, "tessera/proposal") == proposal.id


def test_acknowledged_breaking_change_passes_and_publishes(tessera, instance, registry_spec):
    run(shop(), tessera, instance)
    blocked = run(shop(NARROWED), tessera, instance)
    acknowledge(open_registry(registry_spec), meta(evaluation(blocked), "tessera/proposal"), "analytics")

    result = run(shop(NARROWED), tessera, instance)

    check = evaluation(result)
    assert check.passed and meta(check, "tessera/action") == "published"
    assert meta(check, "tessera/version") == "2.0.0"
    assert [a["team"] for a in meta(check, "tessera/acknowledgments")] == ["analytics"]
    assert meta(check, "tessera/awaiting") == []
    assert materialized(result) == {ORDERS, REVENUE}
    assert open_registry(registry_spec).current_contract("orders").version == "2.0.0"  # type: ignore[union-attr]


def test_breaking_change_to_a_column_nobody_reads_passes(tessera, instance):
    run(shop(), tessera, instance)

    result = run(
        shop([("order_id", "integer"), ("amount", "decimal(18,2)")]), tessera, instance
    )  # note dropped

    check = evaluation(result)
    assert check.passed and meta(check, "tessera/version") == "2.0.0"
    assert materialized(result) == {ORDERS, REVENUE}


def test_downstream_assets_are_registered_as_consumers_of_the_columns_they_read(
    tessera, instance, registry_spec
):
    run(shop(), tessera, instance)

    (registration,) = open_registry(registry_spec).registrations("orders")
    assert (registration.team, registration.consumer) == ("analytics", "revenue")
    assert registration.consumer_kind is ConsumerKind.DAGSTER_ASSET
    assert registration.columns == frozenset({"amount"})


def test_schema_returned_with_the_materialization_is_the_one_checked(tessera, instance, registry_spec):
    emitted = {"columns": COLUMNS}

    @asset(key=ORDERS, owners=["team:platform"])
    def orders() -> MaterializeResult:
        return MaterializeResult(metadata={"dagster/column_schema": table(emitted["columns"])})

    assets = [orders, *build_contract_checks([orders])]
    run(assets, tessera, instance)
    emitted["columns"] = [*COLUMNS, ("channel", "varchar")]

    result = run(assets, tessera, instance)

    assert evaluation(result).passed
    contract = open_registry(registry_spec).current_contract("orders")
    assert contract is not None and contract.schema.names[-1] == "channel"


def test_table_name_metadata_names_the_registry_asset(tessera, instance, registry_spec):
    @asset(metadata={"dagster/table_name": "Shop.Main.Orders", "dagster/column_schema": table(COLUMNS)})
    def orders() -> None: ...

    result = run([orders, *build_contract_checks([orders])], tessera, instance)

    assert meta(evaluation(result, AssetKey("orders")), "tessera/asset") == "shop.main.orders"
    assert open_registry(registry_spec).current_contract("shop.main.orders") is not None


def test_asset_without_a_column_schema_fails_and_says_what_to_add(tessera, instance):
    @asset(key=ORDERS)
    def orders() -> None: ...

    result = run([orders, *build_contract_checks([orders])], tessera, instance)

    check = evaluation(result)
    assert not check.passed
    assert "orders has no dagster/column_schema metadata" in check.description


def test_unreadable_column_type_fails_naming_the_column(tessera, instance):
    result = run(shop([("order_id", "integer"), ("amount", "decimal(18,")]), tessera, instance)

    check = evaluation(result)
    assert not check.passed
    assert "column amount" in check.description and "decimal(18," in check.description
    assert materialized(result) == {ORDERS}


def test_unreachable_registry_fails_closed(instance, unreachable):
    tessera = TesseraResource(registry=unreachable, api_key="s3cret-key")

    result = run(shop(), tessera, instance)

    check = evaluation(result)
    assert not check.passed
    assert "registry unreachable" in check.description and "blocked (fail closed)" in check.description
    assert "fail_open=True" in check.description and unreachable in check.description
    assert "s3cret-key" not in check.description
    assert materialized(result) == {ORDERS}


def test_unreachable_registry_passes_with_a_warning_when_fail_open(instance, unreachable):
    tessera = TesseraResource(registry=unreachable, fail_open=True)

    result = run(shop(), tessera, instance)

    check = evaluation(result)
    assert check.passed
    assert meta(check, "tessera/decision") == "notify_only"
    assert "passed unchecked because fail_open is set" in check.description
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30]
    assert any("orders passed unchecked (fail_open)" in m for m in warnings)
    assert materialized(result) == {ORDERS, REVENUE}
