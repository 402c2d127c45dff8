"""The SQLite registry, one behaviour per test, on real files."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_samples import DROP_STATUS, ORDERS, V1, V2, V2_OTHER, affected, orders_schema

from tessera_core.errors import ConflictError, InvalidStateError, NotFoundError, RegistryError
from tessera_core.registry.base import (
    AckResponse,
    Asset,
    ColumnFlow,
    CompatibilityMode,
    ConsumerKind,
    DependencyType,
    ProposalStatus,
    RegisterOutcome,
    Registration,
    RegistrationSource,
    Registry,
)
from tessera_core.registry.sqlite import AuditAction, SqliteRegistry
from tessera_core.schema.model import Family, Field, Schema, Type, guarantee

FORCE_REASON = "quarterly PII cleanup, approved by data council"


def actions(reg: SqliteRegistry, fqn: str | None = None) -> list[str]:
    return [event.action for event in reg.audit(fqn)]


def reading(team: str, consumer: str, *columns: str, **options: object) -> Registration:
    return Registration(ORDERS, team, consumer, columns=frozenset(columns) if columns else None, **options)  # type: ignore[arg-type]


# opening and closing


def test_implements_the_registry_protocol(registry: SqliteRegistry) -> None:
    assert isinstance(registry, Registry)


def test_creates_the_file_and_its_folder_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "registry.db"
    with SqliteRegistry(path):
        pass
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_data_survives_reopening(db_path: Path) -> None:
    with SqliteRegistry(db_path) as reg:
        reg.publish_contract(ORDERS, V1, "1.0.0", change_class="initial")
    with SqliteRegistry(db_path) as reg:
        current = reg.current_contract(ORDERS)
    assert current is not None and current.schema == V1


def test_closed_registry_refuses_calls(db_path: Path) -> None:
    with SqliteRegistry(db_path) as reg:
        pass
    with pytest.raises(RegistryError, match="is closed"):
        reg.teams()


def test_memory_path_is_refused() -> None:
    with pytest.raises(RegistryError, match="needs a file path"):
        SqliteRegistry(":memory:")


def test_a_file_that_is_not_sqlite_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(RegistryError, match=re.escape(str(path))):
        SqliteRegistry(path)


def test_foreign_keys_are_enforced_on_the_registry_connections(registry: SqliteRegistry) -> None:
    registry.upsert_asset(Asset(ORDERS, "core"))
    with pytest.raises(RegistryError, match="FOREIGN KEY"), registry._write() as conn:
        conn.execute("UPDATE assets SET owner_team = 'nobody'")
    assert registry.get_asset(ORDERS).owner_team == "core"  # type: ignore[union-attr]


# teams and assets


def test_ensure_team_is_idempotent(registry: SqliteRegistry) -> None:
    first = registry.ensure_team("core")
    second = registry.ensure_team("core")
    assert first == second and first.id is not None
    assert registry.teams() == [first]
    assert actions(registry).count(AuditAction.TEAM_CREATED) == 1


def test_ensure_team_refuses_a_blank_name(registry: SqliteRegistry) -> None:
    with pytest.raises(RegistryError, match="team name must be a non-empty string"):
        registry.ensure_team("  ")


def test_upsert_asset_creates_it_with_every_attribute(registry: SqliteRegistry) -> None:
    asset = Asset(ORDERS, "core", CompatibilityMode.FULL, "model", "duckdb", {"tags": ["pii"], "tier": 1})
    stored = registry.upsert_asset(asset)
    assert stored == registry.get_asset(ORDERS)
    assert (stored.owner_team, stored.compatibility_mode, stored.kind, stored.dialect) == (
        "core",
        CompatibilityMode.FULL,
        "model",
        "duckdb",
    )
    assert stored.metadata == {"tags": ["pii"], "tier": 1}
    assert [t.name for t in registry.teams()] == ["core"]


def test_upsert_asset_updates_owner_mode_kind_dialect_and_metadata(registry: SqliteRegistry) -> None:
    registry.upsert_asset(Asset(ORDERS, "core", metadata={"tier": 1}))
    updated = registry.upsert_asset(
        Asset(ORDERS, "finance", CompatibilityMode.NONE, "seed", "snowflake", {"tier": 2})
    )
    assert updated.id == registry.get_asset(ORDERS).id  # type: ignore[union-attr]
    assert (
        updated.owner_team,
        updated.compatibility_mode,
        updated.kind,
        updated.dialect,
        updated.metadata,
    ) == (
        "finance",
        CompatibilityMode.NONE,
        "seed",
        "snowflake",
        {"tier": 2},
    )
    event = registry.audit(ORDERS)[-1]
    assert event.action == AuditAction.ASSET_UPDATED
    assert event.details["owner_team"] == ["core", "finance"]
    assert event.details["metadata"] == [{"tier": 1}, {"tier": 2}]


def test_upsert_asset_without_change_writes_no_audit_event(registry: SqliteRegistry) -> None:
    registry.upsert_asset(Asset(ORDERS, "core"))
    before = len(registry.audit())
    registry.upsert_asset(Asset(ORDERS, "core"))
    assert len(registry.audit()) == before


def test_upsert_asset_refuses_metadata_that_is_not_json(registry: SqliteRegistry) -> None:
    with pytest.raises(RegistryError, match=f"metadata of asset {ORDERS} is not JSON-serializable"):
        registry.upsert_asset(Asset(ORDERS, metadata={"when": object()}))
    assert registry.get_asset(ORDERS) is None


def test_upsert_asset_refuses_an_unknown_compatibility_mode(registry: SqliteRegistry) -> None:
    with pytest.raises(RegistryError, match="'sideways', which is not one of: backward"):
        registry.upsert_asset(Asset(ORDERS, compatibility_mode="sideways"))  # type: ignore[arg-type]


def test_assets_are_listed_by_fqn_and_unknown_is_none(registry: SqliteRegistry) -> None:
    registry.upsert_asset(Asset("b.s.t"))
    registry.upsert_asset(Asset("a.s.t"))
    assert [a.fqn for a in registry.assets()] == ["a.s.t", "b.s.t"]
    assert registry.get_asset("c.s.t") is None


# contracts


def test_first_publish_expects_no_current_contract(registry: SqliteRegistry) -> None:
    contract = registry.publish_contract(ORDERS, V1, "1.0.0", change_class="initial", published_by="alice")
    assert contract == registry.current_contract(ORDERS)
    assert (contract.version, contract.schema, contract.published_by) == ("1.0.0", V1, "alice")
    assert contract.published_at is not None


def test_publish_creates_a_missing_asset_without_owner(registry: SqliteRegistry) -> None:
    registry.publish_contract(ORDERS, V1, "1.0.0", change_class="initial")
    asset = registry.get_asset(ORDERS)
    assert asset is not None and asset.owner_team is None


def test_publish_with_a_stale_expected_version_names_both_versions(published: SqliteRegistry) -> None:
    with pytest.raises(ConflictError, match=r"expected the current version to be none .* but it is 1\.0\.0"):
        published.publish_contract(ORDERS, V2, "2.0.0", change_class="major")
    with pytest.raises(ConflictError, match=r"to be 0\.9\.0 but it is 1\.0\.0"):
        published.publish_contract(ORDERS, V2, "2.0.0", change_class="major", expected_current="0.9.0")
    assert [c.version for c in published.contract_history(ORDERS)] == ["1.0.0"]


def test_publishing_the_same_version_twice_conflicts(published: SqliteRegistry) -> None:
    with pytest.raises(
        ConflictError, match=r"version 1\.0\.0 of analytics\.core\.orders is already published"
    ):
        published.publish_contract(ORDERS, V2, "1.0.0", change_class="major", expected_current="1.0.0")


def test_history_is_oldest_first_and_current_is_the_latest(published: SqliteRegistry) -> None:
    published.publish_contract(ORDERS, V2, "2.0.0", change_class="major", expected_current="1.0.0")
    assert [c.version for c in published.contract_history(ORDERS)] == ["1.0.0", "2.0.0"]
    assert published.current_contract(ORDERS).version == "2.0.0"  # type: ignore[union-attr]


def test_publish_is_audited_with_its_actor(published: SqliteRegistry) -> None:
    event = published.audit(ORDERS)[-1]
    assert (event.action, event.actor, event.details["version"]) == (
        AuditAction.CONTRACT_PUBLISHED,
        "alice",
        "1.0.0",
    )


def test_publish_refuses_an_unknown_change_class(registry: SqliteRegistry) -> None:
    with pytest.raises(RegistryError, match="change_class 'huge'"):
        registry.publish_contract(ORDERS, V1, "1.0.0", change_class="huge")


def test_publish_refuses_a_short_forced_reason(registry: SqliteRegistry) -> None:
    with pytest.raises(RegistryError, match="at least 10 characters"):
        registry.publish_contract(ORDERS, V1, "1.0.0", change_class="initial", forced_reason="because")
    assert registry.current_contract(ORDERS) is None


def test_unknown_asset_has_no_contract_and_no_history(registry: SqliteRegistry) -> None:
    assert registry.current_contract("nope.nope.nope") is None
    assert registry.contract_history("nope.nope.nope") == []


fields = st.lists(
    st.tuples(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
        st.sampled_from([Family.STRING, Family.INTEGER, Family.DATE, Family.JSON]),
        st.booleans(),
        st.one_of(st.none(), st.text(min_size=1, max_size=20)),  # the model stores "" as None
    ),
    max_size=6,
    unique_by=lambda f: f[0],
)


@settings(max_examples=30, deadline=None)
@given(fields=fields)
def test_a_published_schema_reads_back_equal(tmp_path_factory: pytest.TempPathFactory, fields: list) -> None:  # type: ignore[type-arg]
    schema = Schema(
        tuple(
            Field(name, Type(family), nullable=nullable, description=doc)
            for name, family, nullable, doc in fields
        ),
        guarantees=(guarantee("accepted_values", "status", values=["a", "b"]),),
        source_format="dbt",
    )
    with SqliteRegistry(tmp_path_factory.mktemp("roundtrip") / "r.db") as reg:
        reg.publish_contract(ORDERS, schema, "1.0.0", change_class="initial")
        assert reg.current_contract(ORDERS).schema == schema  # type: ignore[union-attr]


# registrations


def test_register_adds_once_then_is_unchanged(registry: SqliteRegistry) -> None:
    reg = reading("finance", "fct_revenue", "status", "id", consumer_kind=ConsumerKind.DBT_MODEL)
    assert registry.register(reg) is RegisterOutcome.ADDED
    assert registry.register(reg) is RegisterOutcome.UNCHANGED
    [stored] = registry.registrations(ORDERS)
    assert stored.key == reg.key and stored.columns == frozenset({"id", "status"})
    assert stored.consumer_kind is ConsumerKind.DBT_MODEL


def test_register_creates_its_team_and_asset(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))
    assert [t.name for t in registry.teams()] == ["finance"]
    assert registry.get_asset(ORDERS) is not None


def test_register_with_other_columns_is_changed(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue", "status"))
    assert registry.register(reading("finance", "fct_revenue", "status", "amount")) is RegisterOutcome.CHANGED
    [stored] = registry.registrations(ORDERS)
    assert stored.columns == frozenset({"status", "amount"})


@pytest.mark.parametrize(
    "change",
    [
        {"consumer_kind": ConsumerKind.EXPOSURE},
        {"dependency_type": DependencyType.REFERENCES},
        {"pinned_version": "1.0.0"},
        {"evidence": ("fct_revenue.status <- orders.status",)},
        {"consumer_asset": "analytics.finance.fct_revenue"},
        {"flows": (ColumnFlow("status", "order_status", direct=True),)},
    ],
)
def test_any_other_stored_attribute_is_a_change(registry: SqliteRegistry, change: dict[str, object]) -> None:
    registry.register(reading("finance", "fct_revenue", "status"))
    assert registry.register(reading("finance", "fct_revenue", "status", **change)) is RegisterOutcome.CHANGED
    [stored] = registry.registrations(ORDERS)
    name, value = next(iter(change.items()))
    assert getattr(stored, name) == value


def test_flows_are_stored_as_a_set(registry: SqliteRegistry) -> None:
    flows = (ColumnFlow("status", "order_status", direct=True), ColumnFlow("id", "order_id"))
    registry.register(reading("finance", "fct_revenue", "status", "id", flows=flows))
    reordered = reading("finance", "fct_revenue", "status", "id", flows=flows[::-1])
    assert registry.register(reordered) is RegisterOutcome.UNCHANGED
    [stored] = registry.registrations(ORDERS)
    assert set(stored.flows) == set(flows)


def test_reading_every_column_is_stored_as_none(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))
    [stored] = registry.registrations(ORDERS)
    assert stored.columns is None and stored.reads("anything")


def test_retire_marks_it_retired_once(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))
    assert registry.retire(ORDERS, "finance", "fct_revenue") is True
    assert registry.retire(ORDERS, "finance", "fct_revenue") is False
    assert registry.registrations(ORDERS) == []
    [retired] = registry.registrations(ORDERS, include_retired=True)
    assert retired.retired is True


def test_retire_of_an_unknown_registration_changes_nothing(registry: SqliteRegistry) -> None:
    assert registry.retire(ORDERS, "finance", "ghost") is False
    assert registry.audit() == []


def test_registering_a_retired_one_again_revives_it(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))
    registry.retire(ORDERS, "finance", "fct_revenue")
    assert registry.register(reading("finance", "fct_revenue")) is RegisterOutcome.CHANGED
    assert [r.retired for r in registry.registrations(ORDERS, include_retired=True)] == [False]


def test_inferred_never_downgrades_an_explicit_registration(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))  # explicit, every column
    inferred = reading("finance", "fct_revenue", "status", source=RegistrationSource.INFERRED)
    assert registry.register(inferred) is RegisterOutcome.UNCHANGED
    [stored] = registry.registrations(ORDERS)
    assert (stored.source, stored.columns) == (RegistrationSource.EXPLICIT, None)


def test_explicit_overrides_an_inferred_registration(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue", "status", source=RegistrationSource.INFERRED))
    assert registry.register(reading("finance", "fct_revenue")) is RegisterOutcome.CHANGED
    [stored] = registry.registrations(ORDERS)
    assert (stored.source, stored.columns) == (RegistrationSource.EXPLICIT, None)


def test_lineage_revives_a_retired_explicit_registration_as_inferred(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))
    registry.retire(ORDERS, "finance", "fct_revenue")
    inferred = reading("finance", "fct_revenue", "status", source=RegistrationSource.INFERRED)
    assert registry.register(inferred) is RegisterOutcome.CHANGED
    [stored] = registry.registrations(ORDERS)
    assert (stored.source, stored.columns) == (RegistrationSource.INFERRED, frozenset({"status"}))


def test_register_refuses_a_retired_registration(registry: SqliteRegistry) -> None:
    with pytest.raises(RegistryError, match=r"call retire\(\)"):
        registry.register(reading("finance", "fct_revenue", retired=True))


def test_register_refuses_an_unknown_consumer_kind_naming_the_consumer(registry: SqliteRegistry) -> None:
    with pytest.raises(RegistryError, match=r"consumer kind of the registration of fct_revenue \(finance\)"):
        registry.register(reading("finance", "fct_revenue", consumer_kind="spreadsheet"))


def test_registrations_filter_by_asset_team_and_consumer(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))
    registry.register(reading("growth", "fct_funnel"))
    registry.register(Registration("analytics.core.customers", "finance", "fct_revenue"))
    assert len(registry.registrations()) == 3
    assert {r.consumer for r in registry.registrations(ORDERS)} == {"fct_revenue", "fct_funnel"}
    assert {r.asset_fqn for r in registry.registrations(team="finance")} == {
        ORDERS,
        "analytics.core.customers",
    }
    assert [r.team for r in registry.registrations(ORDERS, consumer="fct_funnel")] == ["growth"]


def test_registration_add_change_and_retire_are_audited(registry: SqliteRegistry) -> None:
    registry.register(reading("finance", "fct_revenue"))
    registry.register(reading("finance", "fct_revenue", "status"))
    registry.register(reading("finance", "fct_revenue", "status"))
    registry.retire(ORDERS, "finance", "fct_revenue")
    assert [a for a in actions(registry, ORDERS) if a.startswith("registration.")] == [
        AuditAction.REGISTRATION_ADDED,
        AuditAction.REGISTRATION_CHANGED,
        AuditAction.REGISTRATION_RETIRED,
    ]
    changed = registry.audit(ORDERS)[-2]
    assert changed.details["changed"] == {"columns": [None, ["status"]]}


# proposals


def test_open_proposal_stores_schema_changes_and_affected(published: SqliteRegistry) -> None:
    proposal, created = published.open_proposal(
        ORDERS, V2, DROP_STATUS, affected("finance", "growth"), proposed_by="alice", base_version="1.0.0"
    )
    assert created is True
    assert re.fullmatch(r"P-[0-9a-f]{8}", proposal.id)
    assert proposal == published.get_proposal(proposal.id)
    assert (proposal.status, proposal.schema, proposal.changes, proposal.affected) == (
        ProposalStatus.PENDING,
        V2,
        DROP_STATUS,
        affected("finance", "growth"),
    )
    assert (proposal.base_version, proposal.proposed_by, proposal.affected_teams) == (
        "1.0.0",
        "alice",
        ("finance", "growth"),
    )


def test_opening_the_same_schema_again_returns_the_open_proposal(published: SqliteRegistry) -> None:
    first, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    again, created = published.open_proposal(
        ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0"
    )
    assert (again.id, created) == (first.id, False)
    assert len(published.proposals(ORDERS)) == 1


def test_a_different_schema_conflicts_with_the_open_proposal(published: SqliteRegistry) -> None:
    first, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    with pytest.raises(ConflictError, match=rf"open proposal {first.id} \(pending\).*withdraw it"):
        published.open_proposal(ORDERS, V2_OTHER, (), affected("finance"), base_version="1.0.0")


def test_an_approved_proposal_still_blocks_a_different_one(published: SqliteRegistry) -> None:
    first, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    published.acknowledge(first.id, "finance", AckResponse.APPROVED)
    with pytest.raises(ConflictError, match=rf"{first.id} \(approved\)"):
        published.open_proposal(ORDERS, V2_OTHER, (), affected("finance"), base_version="1.0.0")


def test_a_proposal_on_a_stale_base_version_conflicts(published: SqliteRegistry) -> None:
    with pytest.raises(ConflictError, match=r"based on version 0\.9\.0: the current version is 1\.0\.0"):
        published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="0.9.0")
    assert published.proposals() == []


def test_a_proposal_nobody_is_affected_by_opens_approved(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, (), base_version="1.0.0")
    assert proposal.status is ProposalStatus.APPROVED


def test_an_unknown_proposal_is_not_found_with_a_hint(registry: SqliteRegistry) -> None:
    with pytest.raises(NotFoundError, match=r"proposal 'P-00000000' not found .*proposals\(\)"):
        registry.get_proposal("P-00000000")
    with pytest.raises(NotFoundError, match="P-00000000"):
        registry.acknowledge("P-00000000", "finance", AckResponse.APPROVED)


def test_only_affected_teams_may_acknowledge(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(
        ORDERS, V2, DROP_STATUS, affected("finance", "growth"), base_version="1.0.0"
    )
    with pytest.raises(
        InvalidStateError, match=r"team 'marketing' is not affected .*only finance, growth may"
    ):
        published.acknowledge(proposal.id, "marketing", AckResponse.APPROVED)


def test_the_last_approval_moves_pending_to_approved(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(
        ORDERS, V2, DROP_STATUS, affected("finance", "growth"), base_version="1.0.0"
    )
    after_one = published.acknowledge(proposal.id, "finance", AckResponse.APPROVED, note="fine", by="bob")
    assert (after_one.status, after_one.awaiting) == (ProposalStatus.PENDING, ("growth",))
    after_two = published.acknowledge(proposal.id, "growth", AckResponse.APPROVED)
    assert after_two.status is ProposalStatus.APPROVED
    assert after_two.ack_of("finance").note == "fine"  # type: ignore[union-attr]
    assert after_two.ack_of("finance").by == "bob"  # type: ignore[union-attr]


def test_migrating_does_not_approve(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    acked = published.acknowledge(proposal.id, "finance", AckResponse.MIGRATING)
    assert (acked.status, acked.awaiting) == (ProposalStatus.PENDING, ("finance",))


def test_changing_an_approval_to_blocked_reopens_and_the_audit_keeps_both(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    published.acknowledge(proposal.id, "finance", AckResponse.APPROVED)
    blocked = published.acknowledge(proposal.id, "finance", AckResponse.BLOCKED, note="month-end close")
    assert blocked.status is ProposalStatus.PENDING
    assert [(a.team, a.response) for a in blocked.acknowledgments] == [("finance", AckResponse.BLOCKED)]
    acks = [e for e in published.audit(ORDERS) if e.action == AuditAction.PROPOSAL_ACKNOWLEDGED]
    assert [e.details["response"] for e in acks] == ["approved", "blocked"]
    assert actions(published, ORDERS)[-1] == AuditAction.PROPOSAL_REOPENED


def test_a_response_outside_ack_response_is_refused(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    with pytest.raises(RegistryError, match="'lgtm', which is not one of: approved, migrating, blocked"):
        published.acknowledge(proposal.id, "finance", "lgtm")  # type: ignore[arg-type]
    assert published.get_proposal(proposal.id).acknowledgments == ()


def test_withdraw_closes_the_proposal_and_frees_the_asset(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    withdrawn = published.withdraw(proposal.id, by="alice", reason="wrong column")
    assert (withdrawn.status, withdrawn.reason) == (ProposalStatus.WITHDRAWN, "wrong column")
    assert withdrawn.resolved_at is not None
    other, created = published.open_proposal(ORDERS, V2_OTHER, (), affected("finance"), base_version="1.0.0")
    assert created and other.id != proposal.id


def test_a_closed_proposal_cannot_be_withdrawn_or_acknowledged(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    published.withdraw(proposal.id)
    with pytest.raises(InvalidStateError, match="already withdrawn"):
        published.withdraw(proposal.id)
    with pytest.raises(InvalidStateError, match=f"cannot acknowledge proposal {proposal.id}"):
        published.acknowledge(proposal.id, "finance", AckResponse.APPROVED)


def test_publish_proposal_publishes_an_approved_proposal_once(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    published.acknowledge(proposal.id, "finance", AckResponse.APPROVED)
    done, contract = published.publish_proposal(proposal.id, "2.0.0", by="alice")
    assert (done.status, done.published_version) == (ProposalStatus.PUBLISHED, "2.0.0")
    assert done.resolved_at is not None
    assert (contract.version, contract.schema, contract.proposal_id, contract.change_class) == (
        "2.0.0",
        V2,
        proposal.id,
        "major",
    )
    assert published.current_contract(ORDERS) == contract
    with pytest.raises(InvalidStateError, match=r"already published as version 2\.0\.0"):
        published.publish_proposal(proposal.id, "2.0.1", by="alice")


def test_a_pending_proposal_needs_a_forced_reason_naming_who_is_awaited(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(
        ORDERS, V2, DROP_STATUS, affected("finance", "growth"), base_version="1.0.0"
    )
    published.acknowledge(proposal.id, "finance", AckResponse.APPROVED)
    with pytest.raises(InvalidStateError, match=r"waiting for growth to approve.*forced_reason"):
        published.publish_proposal(proposal.id, "2.0.0")
    assert published.current_contract(ORDERS).version == "1.0.0"  # type: ignore[union-attr]


def test_forcing_publishes_over_missing_acknowledgments(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    forced, contract = published.publish_proposal(
        proposal.id, "2.0.0", by="alice", forced_reason=FORCE_REASON
    )
    assert (forced.status, forced.reason, forced.published_version) == (
        ProposalStatus.FORCED,
        FORCE_REASON,
        "2.0.0",
    )
    assert contract.forced_reason == FORCE_REASON
    assert actions(published, ORDERS)[-2:] == [AuditAction.CONTRACT_PUBLISHED, AuditAction.PROPOSAL_FORCED]


def test_forcing_with_a_short_reason_changes_nothing(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    with pytest.raises(RegistryError, match="at least 10 characters"):
        published.publish_proposal(proposal.id, "2.0.0", forced_reason="urgent")
    assert published.get_proposal(proposal.id).status is ProposalStatus.PENDING
    assert len(published.contract_history(ORDERS)) == 1


def test_a_stale_proposal_cannot_be_published(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, (), base_version="1.0.0")
    published.publish_contract(
        ORDERS,
        orders_schema("customer_id", "status", "note"),
        "1.1.0",
        change_class="minor",
        expected_current="1.0.0",
    )
    with pytest.raises(
        ConflictError, match=rf"proposal {proposal.id} is stale: .*to be 1\.0\.0 but it is 1\.1\.0"
    ):
        published.publish_proposal(proposal.id, "2.0.0")
    assert published.get_proposal(proposal.id).status is ProposalStatus.APPROVED
    assert published.current_contract(ORDERS).version == "1.1.0"  # type: ignore[union-attr]


def test_publish_proposal_with_a_taken_version_conflicts(published: SqliteRegistry) -> None:
    proposal, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, (), base_version="1.0.0")
    with pytest.raises(ConflictError, match=r"version 1\.0\.0 .* is already published"):
        published.publish_proposal(proposal.id, "1.0.0")


def test_proposals_filter_by_asset_and_status(published: SqliteRegistry) -> None:
    first, _ = published.open_proposal(ORDERS, V2, DROP_STATUS, affected("finance"), base_version="1.0.0")
    published.withdraw(first.id)
    second, _ = published.open_proposal(ORDERS, V2_OTHER, (), affected("finance"), base_version="1.0.0")
    published.open_proposal("analytics.core.customers", V1, (), affected("finance"))
    assert [p.id for p in published.proposals(ORDERS)] == [first.id, second.id]
    assert [p.id for p in published.proposals(ORDERS, status=ProposalStatus.PENDING)] == [second.id]
    assert len(published.proposals(status=ProposalStatus.PENDING)) == 2


# audit


def test_the_audit_log_is_append_only(published: SqliteRegistry, db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE audit_events SET actor = 'mallory'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM audit_events")
    assert published.audit(ORDERS)[-1].actor == "alice"


def test_audit_limit_keeps_the_newest_events_oldest_first(registry: SqliteRegistry) -> None:
    for team in ("a", "b", "c", "d"):
        registry.ensure_team(team)
    events = registry.audit(limit=2)
    assert [e.details["team"] for e in events] == ["c", "d"]
    assert events[0].seq < events[1].seq
    assert registry.audit(limit=0) == []
    with pytest.raises(RegistryError, match="audit limit must be 0 or more"):
        registry.audit(limit=-1)


def test_audit_filters_by_asset(published: SqliteRegistry) -> None:
    published.register(Registration("analytics.core.customers", "finance", "fct_revenue"))
    assert {e.asset_fqn for e in published.audit(ORDERS)} == {ORDERS}
    assert {e.asset_fqn for e in published.audit()} == {None, ORDERS, "analytics.core.customers"}


def test_the_workflow_end_to_end(registry: SqliteRegistry) -> None:
    registry.upsert_asset(Asset(ORDERS, "core", kind="model", dialect="duckdb"))
    registry.publish_contract(ORDERS, V1, "1.0.0", change_class="initial", published_by="alice")
    registry.register(reading("finance", "fct_revenue", "status", consumer_kind=ConsumerKind.DBT_MODEL))
    registry.register(reading("growth", "fct_funnel", source=RegistrationSource.INFERRED))
    proposal, _ = registry.open_proposal(
        ORDERS, V2, DROP_STATUS, affected("finance", "growth"), proposed_by="alice", base_version="1.0.0"
    )
    registry.acknowledge(proposal.id, "finance", AckResponse.MIGRATING, by="bob")
    registry.acknowledge(proposal.id, "growth", AckResponse.APPROVED, by="carol")
    registry.acknowledge(proposal.id, "finance", AckResponse.APPROVED, by="bob")
    done, contract = registry.publish_proposal(proposal.id, "2.0.0", by="alice")
    registry.retire(ORDERS, "growth", "fct_funnel")

    assert done.status is ProposalStatus.PUBLISHED and contract.schema == V2
    assert [c.version for c in registry.contract_history(ORDERS)] == ["1.0.0", "2.0.0"]
    assert actions(registry, ORDERS) == [
        AuditAction.ASSET_CREATED,
        AuditAction.CONTRACT_PUBLISHED,
        AuditAction.REGISTRATION_ADDED,
        AuditAction.REGISTRATION_ADDED,
        AuditAction.PROPOSAL_OPENED,
        AuditAction.PROPOSAL_ACKNOWLEDGED,
        AuditAction.PROPOSAL_ACKNOWLEDGED,
        AuditAction.PROPOSAL_ACKNOWLEDGED,
        AuditAction.PROPOSAL_APPROVED,
        AuditAction.CONTRACT_PUBLISHED,
        AuditAction.PROPOSAL_PUBLISHED,
        AuditAction.REGISTRATION_RETIRED,
    ]
