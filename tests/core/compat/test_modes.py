"""verdict / verdict_transitive / change_class: the server's table per mode, policies, rules named."""

from __future__ import annotations

import pytest

from tessera_core.compat.changes import Change, ChangeKind, Severity
from tessera_core.compat.diff import diff
from tessera_core.compat.modes import (
    CompatPolicy,
    Verdict,
    change_class,
    parse_mode,
    verdict,
    verdict_transitive,
)
from tessera_core.errors import TesseraError
from tessera_core.registry.base import CompatibilityMode
from tessera_core.schema.model import Family, Field, GuaranteeKind, Schema, Type

K = ChangeKind
M = CompatibilityMode
INT = Type(Family.INTEGER, bits=32)
BIGINT = Type(Family.INTEGER, bits=64)

# Which direction each kind breaks: "b" backward, "f" forward (full = both, none = neither).
# Written out by hand from the server's BACKWARD_BREAKING / FORWARD_BREAKING and the brief's dbt rules.
TABLE: dict[ChangeKind, str] = {
    K.FIELD_ADDED: "f",
    K.FIELD_REMOVED: "b",
    K.REQUIRED_ADDED: "b",
    K.REQUIRED_REMOVED: "f",
    K.NULLABILITY_TIGHTENED: "b",
    K.NULLABILITY_LOOSENED: "f",
    K.TYPE_CHANGED: "bf",
    K.TYPE_WIDENED: "f",
    K.TYPE_NARROWED: "b",
    K.ENUM_VALUE_ADDED: "f",
    K.ENUM_VALUE_REMOVED: "b",
    K.CONSTRAINT_TIGHTENED: "b",
    K.CONSTRAINT_LOOSENED: "f",
    K.FORMAT_CHANGED: "",
    K.DEFAULT_ADDED: "f",
    K.DEFAULT_REMOVED: "b",
    K.DEFAULT_CHANGED: "",
    K.ADDITIONAL_PROPERTIES_OPENED: "f",
    K.ADDITIONAL_PROPERTIES_CLOSED: "b",
    K.DESCRIPTION_CHANGED: "",
    K.GUARANTEE_ADDED: "",  # notify: never blocks
    K.GUARANTEE_REMOVED: "",
    K.GUARANTEE_TIGHTENED: "",
    K.GUARANTEE_RELAXED: "",
    K.CONSTRAINT_REMOVED: "b",
    K.CONSTRAINT_ADDED: "f",
    K.ENFORCEMENT_DISABLED: "b",
    K.ENFORCEMENT_ENABLED: "f",
    K.ACCESS_NARROWED: "b",
    K.ACCESS_WIDENED: "f",
    K.DEPRECATION_SCHEDULED: "",
    K.DEPRECATION_CHANGED: "",
    K.ASSET_REMOVED: "b",
}

# The reverse of each change (new -> old); forward must be backward's mirror image.
MIRROR: dict[ChangeKind, ChangeKind] = {
    K.FIELD_ADDED: K.FIELD_REMOVED,
    K.REQUIRED_ADDED: K.REQUIRED_REMOVED,
    K.NULLABILITY_TIGHTENED: K.NULLABILITY_LOOSENED,
    K.TYPE_WIDENED: K.TYPE_NARROWED,
    K.TYPE_CHANGED: K.TYPE_CHANGED,
    K.ENUM_VALUE_ADDED: K.ENUM_VALUE_REMOVED,
    K.CONSTRAINT_TIGHTENED: K.CONSTRAINT_LOOSENED,
    K.DEFAULT_ADDED: K.DEFAULT_REMOVED,
    K.ADDITIONAL_PROPERTIES_OPENED: K.ADDITIONAL_PROPERTIES_CLOSED,
    K.CONSTRAINT_ADDED: K.CONSTRAINT_REMOVED,
    K.ENFORCEMENT_ENABLED: K.ENFORCEMENT_DISABLED,
    K.ACCESS_WIDENED: K.ACCESS_NARROWED,
    K.GUARANTEE_ADDED: K.GUARANTEE_REMOVED,
    K.GUARANTEE_TIGHTENED: K.GUARANTEE_RELAXED,
}

GUARANTEE_KINDS = {K.GUARANTEE_ADDED, K.GUARANTEE_REMOVED, K.GUARANTEE_TIGHTENED, K.GUARANTEE_RELAXED}
BREAKS_IN = {M.BACKWARD: "b", M.FORWARD: "f", M.FULL: "bf", M.NONE: ""}
BASE = {
    M.BACKWARD: M.BACKWARD,
    M.FORWARD: M.FORWARD,
    M.FULL: M.FULL,
    M.NONE: M.NONE,
    M.BACKWARD_TRANSITIVE: M.BACKWARD,
    M.FORWARD_TRANSITIVE: M.FORWARD,
    M.FULL_TRANSITIVE: M.FULL,
}


def sample(kind: ChangeKind, *, open_model: bool = True, guarantee_kind: str = "not_null") -> Change:
    """A change of ``kind`` as diff would report it."""
    if kind in GUARANTEE_KINDS:
        g = {"kind": guarantee_kind, "source": "test", "column": "c"}
        return Change(kind, "c", f"c: {kind.value}", old=g, new=g, column="c")
    if kind is K.FIELD_ADDED:
        return Change(kind, "c", "c: field added", old=open_model, new={"name": "c"}, column="c")
    if kind is K.FIELD_REMOVED:
        return Change(kind, "c", "c: field removed", old={"name": "c"}, new=open_model, column="c")
    return Change(kind, "c", f"c: {kind.value}", column="c")


def test_the_table_covers_every_kind() -> None:
    assert set(TABLE) == set(ChangeKind)


@pytest.mark.parametrize("mode", list(CompatibilityMode), ids=lambda m: m.value)
@pytest.mark.parametrize("kind", list(ChangeKind), ids=lambda k: k.value)
def test_every_kind_under_every_mode(kind: ChangeKind, mode: CompatibilityMode) -> None:
    expected = any(d in BREAKS_IN[BASE[mode]] for d in TABLE[kind])
    result = verdict([sample(kind)], mode)
    assert result.compatible is not expected
    assert [j.change.kind for j in result.breaking] == ([kind] if expected else [])
    assert len(result.judged) == 1  # reported either way


@pytest.mark.parametrize("kind", list(MIRROR), ids=lambda k: k.value)
def test_forward_is_the_mirror_of_backward(kind: ChangeKind) -> None:
    for a, b in ((kind, MIRROR[kind]), (MIRROR[kind], kind)):
        assert verdict([sample(a)], M.BACKWARD).compatible == verdict([sample(b)], M.FORWARD).compatible


def test_rule_names_mode_and_reason() -> None:
    (judged,) = verdict([sample(K.FIELD_REMOVED)], "backward").breaking
    assert judged.rule == "backward: field removed breaks readers of the old schema that still read it"
    assert judged.severity is Severity.BREAKING


def test_full_rule_names_the_direction_that_broke() -> None:
    (added,) = verdict([sample(K.FIELD_ADDED)], M.FULL).breaking
    (removed,) = verdict([sample(K.FIELD_REMOVED)], M.FULL).breaking
    assert added.rule.startswith("full (forward): field added")
    assert removed.rule.startswith("full (backward): field removed")


def test_none_never_blocks_but_warns_about_what_backward_would_block() -> None:
    result = verdict([sample(K.FIELD_REMOVED), sample(K.FIELD_ADDED)], M.NONE)
    assert result.compatible and not result.breaking
    (warning,) = result.warnings
    assert warning.change.kind is K.FIELD_REMOVED
    assert warning.rule.startswith("none: does not block; under backward it would: field removed")
    (info,) = result.info
    assert info.rule == "none: nothing blocks; a field added is reported"


def test_forward_warns_about_a_removal() -> None:
    (warning,) = verdict([sample(K.FIELD_REMOVED)], M.FORWARD).warnings
    assert warning.severity is Severity.WARNING


def test_backward_reports_an_added_field_as_info() -> None:
    (info,) = verdict([sample(K.FIELD_ADDED)], M.BACKWARD).info
    assert info.rule == "backward: a field added does not break backward"


@pytest.mark.parametrize(
    "kind", [K.FORMAT_CHANGED, K.DEFAULT_CHANGED, K.GUARANTEE_REMOVED, K.GUARANTEE_RELAXED]
)
def test_always_warnings(kind: ChangeKind) -> None:
    for mode in (M.BACKWARD, M.FORWARD, M.FULL, M.NONE):
        assert [j.change.kind for j in verdict([sample(kind)], mode).warnings] == [kind]


@pytest.mark.parametrize("kind", [K.DESCRIPTION_CHANGED, K.DEPRECATION_SCHEDULED, K.DEPRECATION_CHANGED])
def test_documentation_and_deprecation_are_info_everywhere(kind: ChangeKind) -> None:
    for mode in CompatibilityMode:
        assert [j.severity for j in verdict([sample(kind)], mode).judged] == [Severity.INFO]


def test_guarantees_notify_by_default_following_adr_011() -> None:
    result = verdict([sample(k) for k in (K.GUARANTEE_ADDED, K.GUARANTEE_REMOVED)], M.FULL)
    assert result.compatible
    assert [j.change.kind for j in result.info] == [K.GUARANTEE_ADDED]
    assert [j.change.kind for j in result.warnings] == [K.GUARANTEE_REMOVED]
    assert "guarantees=notify" in result.warnings[0].rule


def test_strict_guarantees_break_backward_on_loss_and_forward_on_gain() -> None:
    strict = CompatPolicy(guarantees={"*": "strict"})
    loss, gain = sample(K.GUARANTEE_RELAXED), sample(K.GUARANTEE_ADDED)
    assert not verdict([loss], M.BACKWARD, policy=strict).compatible
    assert verdict([gain], M.BACKWARD, policy=strict).compatible
    assert not verdict([gain], M.FORWARD, policy=strict).compatible
    assert verdict([loss], M.FORWARD, policy=strict).compatible
    assert not verdict([loss], M.FULL, policy=strict).compatible
    assert verdict([loss, gain], M.NONE, policy=strict).compatible
    (judged,) = verdict([loss], M.BACKWARD, policy=strict).breaking
    assert judged.rule.startswith("backward: guarantees=strict:")


def test_per_kind_guarantee_mode_overrides_the_wildcard() -> None:
    policy = CompatPolicy(guarantees={"*": "strict", GuaranteeKind.FRESHNESS: "notify"})
    assert verdict(
        [sample(K.GUARANTEE_REMOVED, guarantee_kind="freshness")], M.BACKWARD, policy=policy
    ).compatible
    assert not verdict([sample(K.GUARANTEE_REMOVED)], M.BACKWARD, policy=policy).compatible


def test_ignored_guarantees_leave_the_verdict() -> None:
    policy = CompatPolicy(guarantees={"not_null": "ignore"})
    result = verdict([sample(K.GUARANTEE_REMOVED), sample(K.FIELD_ADDED)], M.BACKWARD, policy=policy)
    assert [j.change.kind for j in result.judged] == [K.FIELD_ADDED]


def test_dbt_constraints_are_not_governed_by_the_guarantee_policy() -> None:
    policy = CompatPolicy(guarantees={"*": "ignore"})
    assert not verdict([sample(K.CONSTRAINT_REMOVED)], M.BACKWARD, policy=policy).compatible


def test_policy_rejects_unknown_modes_and_kinds() -> None:
    with pytest.raises(TesseraError, match="guarantee mode 'loud' for 'unique' is not one of ignore, notify"):
        CompatPolicy(guarantees={"unique": "loud"})  # type: ignore[dict-item]
    with pytest.raises(TesseraError, match="unknown guarantee kind 'uniq'"):
        CompatPolicy(guarantees={"uniq": "strict"})
    with pytest.raises(TesseraError, match="content_model 'open'"):
        CompatPolicy(content_model="open")  # type: ignore[arg-type]


def test_policy_is_a_hashable_value() -> None:
    assert CompatPolicy(guarantees={"unique": "strict"}) == CompatPolicy(guarantees={"unique": "strict"})
    assert hash(CompatPolicy(guarantees={"unique": "strict"})) == hash(
        CompatPolicy(guarantees={"unique": "strict"})
    )


def test_strict_content_model_breaks_backward_for_a_property_added_to_an_open_model() -> None:
    strict = CompatPolicy(content_model="strict")
    result = verdict([sample(K.FIELD_ADDED, open_model=True)], M.BACKWARD, policy=strict)
    (judged,) = result.breaking
    assert judged.rule.startswith("backward: content_model=strict: a property added to an open content model")
    assert verdict([sample(K.FIELD_ADDED, open_model=False)], M.BACKWARD, policy=strict).compatible
    assert verdict([sample(K.FIELD_ADDED, open_model=True)], M.BACKWARD).compatible


def test_strict_content_model_mirrors_to_forward_for_a_removal() -> None:
    strict = CompatPolicy(content_model="strict")
    assert not verdict([sample(K.FIELD_REMOVED, open_model=True)], M.FORWARD, policy=strict).compatible
    assert verdict([sample(K.FIELD_REMOVED, open_model=False)], M.FORWARD, policy=strict).compatible


def test_strict_content_model_on_a_real_diff() -> None:
    strict = CompatPolicy(content_model="strict")
    base = Schema(fields=(Field("id", INT),))
    grown = Schema(fields=(Field("id", INT), Field("note", Type(Family.STRING))))
    assert not verdict(diff(base, grown), M.BACKWARD, policy=strict).compatible
    closed = Schema(fields=base.fields, additional_properties=False)
    closed_grown = Schema(fields=grown.fields, additional_properties=False)
    assert verdict(diff(closed, closed_grown), M.BACKWARD, policy=strict).compatible


def test_mode_names_are_read_case_insensitively() -> None:
    assert parse_mode("BACKWARD_TRANSITIVE") is M.BACKWARD_TRANSITIVE
    assert verdict([], "Full").mode is M.FULL


def test_unknown_mode_lists_the_valid_ones() -> None:
    with pytest.raises(
        TesseraError, match="unknown compatibility mode 'backwards'; use one of backward, forward"
    ):
        verdict([], "backwards")


def test_verdict_to_dict() -> None:
    result = verdict([sample(K.FIELD_REMOVED)], M.BACKWARD)
    data = result.to_dict()
    assert data["mode"] == "backward" and data["compatible"] is False
    assert data["breaking"][0]["kind"] == "field_removed"
    assert data["breaking"][0]["severity"] == "breaking"
    assert data["breaking"][0]["rule"].startswith("backward:")


def v(*fields: Field) -> Schema:
    return Schema(fields=fields)


def test_transitive_checks_every_earlier_version() -> None:
    history = [v(Field("id", INT), Field("legacy", INT)), v(Field("id", INT))]  # legacy was removed by force
    new = v(Field("id", INT), Field("note", Type(Family.STRING)))
    assert verdict_transitive(history, new, M.BACKWARD).compatible
    result = verdict_transitive(history, new, M.BACKWARD_TRANSITIVE)
    assert not result.compatible
    (judged,) = result.breaking
    assert judged.change.path == "legacy"
    assert judged.rule.endswith("[against version 1 of 2]")
    assert [j.change.path for j in result.info] == ["note"]  # from the latest version only


def test_transitive_reports_a_break_once_naming_the_latest_version_it_is_found_against() -> None:
    history = [v(Field("id", INT), Field("x", INT)), v(Field("id", INT), Field("x", INT))]
    (judged,) = verdict_transitive(history, v(Field("id", INT)), M.BACKWARD_TRANSITIVE).breaking
    assert judged.rule.endswith("[against version 2 of 2]")


def test_forward_transitive_catches_a_widening_against_an_older_version() -> None:
    history = [v(Field("n", INT)), v(Field("n", BIGINT))]
    assert verdict_transitive(history, v(Field("n", BIGINT)), M.FORWARD).compatible
    assert not verdict_transitive(history, v(Field("n", BIGINT)), M.FORWARD_TRANSITIVE).compatible


def test_transitive_without_history_is_compatible() -> None:
    assert verdict_transitive([], v(Field("id", INT)), M.FULL_TRANSITIVE) == Verdict(M.FULL_TRANSITIVE)


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ([], "none"),
        ([K.FIELD_REMOVED, K.FIELD_ADDED], "major"),
        ([K.FIELD_ADDED], "minor"),
        ([K.ENUM_VALUE_ADDED, K.DESCRIPTION_CHANGED], "minor"),
        ([K.DEPRECATION_SCHEDULED], "minor"),
        ([K.DESCRIPTION_CHANGED], "patch"),
        ([K.TYPE_WIDENED], "patch"),  # as the server: not an addition
        ([K.CONSTRAINT_LOOSENED, K.REQUIRED_REMOVED], "patch"),
        ([K.GUARANTEE_REMOVED], "patch"),
        ([K.ASSET_REMOVED], "major"),
    ],
)
def test_change_class(kinds: list[ChangeKind], expected: str) -> None:
    assert change_class([sample(k) for k in kinds]) == expected


def test_change_class_follows_the_policy() -> None:
    strict = CompatPolicy(guarantees={"*": "strict"})
    assert change_class([sample(K.GUARANTEE_REMOVED)], policy=strict) == "major"
    ignore = CompatPolicy(guarantees={"*": "ignore"})
    assert change_class([sample(K.GUARANTEE_ADDED)], policy=ignore) == "none"
