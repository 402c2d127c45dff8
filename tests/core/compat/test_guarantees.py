"""diff_guarantees: dbt tests and constraints, accepted values and freshness, graded as in ADR-011."""

from __future__ import annotations

from typing import Any

import pytest

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.compat.diff import diff
from tessera_core.compat.guarantees import diff_guarantees, duration_seconds, guarantee_kind_of
from tessera_core.schema.model import Guarantee, GuaranteeKind, Schema, guarantee

K = ChangeKind


def kinds(changes: tuple[Change, ...]) -> list[tuple[ChangeKind, str]]:
    return [(c.kind, c.path) for c in changes]


def test_unchanged_guarantees_have_no_changes() -> None:
    same = (guarantee("not_null", "id"), guarantee("accepted_values", "status", values=["a", "b"]))
    assert diff_guarantees(same, tuple(reversed(same))) == ()


def test_added_and_removed_test() -> None:
    old = (guarantee("not_null", "id"),)
    new = (guarantee("unique", "id"),)
    changes = diff_guarantees(old, new)
    assert kinds(changes) == [(K.GUARANTEE_REMOVED, "id"), (K.GUARANTEE_ADDED, "id")]
    assert changes[0].message == "id: not_null guarantee removed"
    assert changes[0].column == "id"


def test_guarantee_change_records_its_kind() -> None:
    (change,) = diff_guarantees((), (guarantee("relationships", "customer_id", to="ref('customers')"),))
    assert guarantee_kind_of(change) is GuaranteeKind.RELATIONSHIPS
    assert change.new == {
        "kind": "relationships",
        "source": "test",
        "column": "customer_id",
        "params": {"to": "ref('customers')"},
    }


def test_fewer_accepted_values_tighten() -> None:
    (change,) = diff_guarantees(
        (guarantee("accepted_values", "status", values=["new", "paid", "shipped"]),),
        (guarantee("accepted_values", "status", values=["new", "shipped"]),),
    )
    assert change.kind is K.GUARANTEE_TIGHTENED
    assert change.message == 'status: accepted_values guarantee tightened: ["paid"] no longer accepted'


def test_more_accepted_values_relax() -> None:
    (change,) = diff_guarantees(
        (guarantee("accepted_values", "status", values=["new"]),),
        (guarantee("accepted_values", "status", values=["new", "lost"]),),
    )
    assert change.kind is K.GUARANTEE_RELAXED


def test_swapped_accepted_values_both_tighten_and_relax() -> None:
    changes = diff_guarantees(
        (guarantee("accepted_values", "status", values=["a", "b"]),),
        (guarantee("accepted_values", "status", values=["a", "c"]),),
    )
    assert [c.kind for c in changes] == [K.GUARANTEE_TIGHTENED, K.GUARANTEE_RELAXED]


def test_accepted_values_with_other_options_changed_is_removed_and_added() -> None:
    changes = diff_guarantees(
        (guarantee("accepted_values", "n", values=[1, 2], quote=True),),
        (guarantee("accepted_values", "n", values=[1, 2], quote=False),),
    )
    assert [c.kind for c in changes] == [K.GUARANTEE_REMOVED, K.GUARANTEE_ADDED]


def fresh(**params: Any) -> Guarantee:
    return guarantee("freshness", **params)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            fresh(warn_after={"count": 12, "period": "hour"}),
            fresh(warn_after={"count": 6, "period": "hour"}),
            [K.GUARANTEE_TIGHTENED],
        ),
        (
            fresh(warn_after={"count": 1, "period": "day"}),
            fresh(warn_after={"count": 36, "period": "hour"}),
            [K.GUARANTEE_RELAXED],
        ),
        (
            fresh(warn_after={"count": 1, "period": "day"}),
            fresh(warn_after={"count": 24, "period": "hour"}),
            [],
        ),
        (fresh(warn_after={"hours": 1}), fresh(warn_after={"minutes": 30}), [K.GUARANTEE_TIGHTENED]),
        (
            fresh(warn_after={"count": 12, "period": "hour"}),
            fresh(warn_after={"count": 12, "period": "hour"}, error_after={"count": 24, "period": "hour"}),
            [K.GUARANTEE_TIGHTENED],
        ),
        (
            fresh(warn_after={"count": 12, "period": "hour"}, error_after={"count": 24, "period": "hour"}),
            fresh(warn_after={"count": 12, "period": "hour"}),
            [K.GUARANTEE_RELAXED],
        ),
        (
            fresh(warn_after={"count": 6, "period": "hour"}, error_after={"count": 24, "period": "hour"}),
            fresh(warn_after={"count": 3, "period": "hour"}, error_after={"count": 48, "period": "hour"}),
            [K.GUARANTEE_TIGHTENED, K.GUARANTEE_RELAXED],
        ),
        (
            fresh(warn_after={"count": 6, "period": "hour"}),
            fresh(warn_after={"count": 6, "period": "fortnight"}),
            [K.GUARANTEE_TIGHTENED, K.GUARANTEE_RELAXED],
        ),  # direction unknown
        (fresh(max_staleness_minutes=60), fresh(max_staleness_minutes=30), [K.GUARANTEE_TIGHTENED]),
    ],
)
def test_freshness_direction(old: Guarantee, new: Guarantee, expected: list[ChangeKind]) -> None:
    assert [c.kind for c in diff_guarantees((old,), (new,))] == expected


def test_freshness_message_names_the_threshold() -> None:
    (change,) = diff_guarantees(
        (fresh(warn_after={"count": 12, "period": "hour"}),),
        (fresh(warn_after={"count": 6, "period": "hour"}),),
    )
    assert change.path == "" and change.column is None
    assert change.message.startswith("model: freshness guarantee tightened: warn_after ")


@pytest.mark.parametrize(
    ("name", "value", "seconds"),
    [
        ("warn_after", {"count": 2, "period": "hours"}, 7200.0),
        ("warn_after", (("count", 1), ("period", "day")), 86400.0),
        ("warn_after", {"count": None, "period": "hour"}, None),
        ("warn_after", {"days": 1, "minutes": 1}, 86460.0),
        ("max_staleness_minutes", 5, 300.0),
        ("warn_after", 5, None),
        ("warn_after", "soon", None),
    ],
)
def test_duration_seconds(name: str, value: Any, seconds: float | None) -> None:
    assert duration_seconds(name, value) == seconds


def test_changed_relationship_is_removed_and_added() -> None:
    changes = diff_guarantees(
        (guarantee("relationships", "customer_id", to="ref('customers')", field="id"),),
        (guarantee("relationships", "customer_id", to="ref('dim_customers')", field="id"),),
    )
    assert [c.kind for c in changes] == [K.GUARANTEE_REMOVED, K.GUARANTEE_ADDED]


def test_dbt_constraint_removed_and_added() -> None:
    old = (guarantee("primary_key", "id", source="constraint"),)
    new = (guarantee("not_null", "id", source="constraint"),)
    changes = diff_guarantees(old, new)
    assert kinds(changes) == [(K.CONSTRAINT_ADDED, "id"), (K.CONSTRAINT_REMOVED, "id")]
    assert changes[1].message == "id: primary_key constraint removed"


def test_changed_check_constraint_is_removed_and_added() -> None:
    changes = diff_guarantees(
        (guarantee("check", None, source="constraint", expression="amount >= 0"),),
        (guarantee("check", None, source="constraint", expression="amount > 0"),),
    )
    assert [c.kind for c in changes] == [K.CONSTRAINT_REMOVED, K.CONSTRAINT_ADDED]
    assert changes[0].path == "" and changes[0].column is None


def test_test_and_constraint_of_the_same_kind_are_separate_promises() -> None:
    both = (guarantee("not_null", "id"), guarantee("not_null", "id", source="constraint"))
    assert kinds(diff_guarantees(both, both[:1])) == [(K.CONSTRAINT_REMOVED, "id")]


def test_model_level_guarantees_come_before_column_guarantees() -> None:
    new = (guarantee("unique", "b"), fresh(warn_after={"hours": 1}), guarantee("unique", "a"))
    assert kinds(diff_guarantees((), new)) == [
        (K.GUARANTEE_ADDED, ""),
        (K.GUARANTEE_ADDED, "a"),
        (K.GUARANTEE_ADDED, "b"),
    ]


def test_diff_includes_guarantees() -> None:
    old = Schema(guarantees=(guarantee("not_null", "id"),))
    assert kinds(diff(old, Schema())) == [(K.GUARANTEE_REMOVED, "id")]
