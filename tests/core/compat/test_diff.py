"""diff(old, new): one Change per difference, with a stable kind, a path and a column."""

from __future__ import annotations

from typing import Any

import pytest

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.compat.diff import diff, removed_asset_changes
from tessera_core.errors import SchemaError
from tessera_core.schema.model import ANY, Family, Field, Schema, Type, constraints_from, guarantee

K = ChangeKind
INT = Type(Family.INTEGER, name="int", bits=32)
BIGINT = Type(Family.INTEGER, name="bigint", bits=64)
STRING = Type(Family.STRING)


def varchar(n: int) -> Type:
    return Type(Family.STRING, name="varchar", length=n)


def schema(*fields: Field, **facts: Any) -> Schema:
    return Schema(fields=fields, **facts)


def found(changes: tuple[Change, ...]) -> list[tuple[ChangeKind, str]]:
    return [(c.kind, c.path) for c in changes]


def one(old: Field, new: Field) -> tuple[Change, ...]:
    return diff(schema(old), schema(new))


def test_identical_schemas_have_no_changes() -> None:
    s = schema(Field("id", INT, required=True), Field("tags", Type(Family.ARRAY, items=STRING)))
    assert diff(s, s) == ()


def test_field_added_names_its_type_and_column() -> None:
    (change,) = diff(schema(Field("id", INT)), schema(Field("id", INT), Field("segment", varchar(20))))
    assert (change.kind, change.path, change.column) == (K.FIELD_ADDED, "segment", "segment")
    assert change.message == "segment: field added (varchar(20))"
    assert change.new == Field("segment", varchar(20)).to_dict()


def test_new_required_field_is_added_and_required_added() -> None:
    changes = diff(schema(Field("id", INT)), schema(Field("id", INT), Field("email", STRING, required=True)))
    assert found(changes) == [(K.FIELD_ADDED, "email"), (K.REQUIRED_ADDED, "email")]


def test_removed_required_field_is_removed_and_required_removed() -> None:
    changes = diff(schema(Field("id", INT), Field("email", STRING, required=True)), schema(Field("id", INT)))
    assert found(changes) == [(K.FIELD_REMOVED, "email"), (K.REQUIRED_REMOVED, "email")]
    assert changes[0].old == Field("email", STRING, required=True).to_dict()


def test_rename_is_a_removal_and_an_addition() -> None:
    assert found(diff(schema(Field("cust_id", INT)), schema(Field("customer_id", INT)))) == [
        (K.FIELD_REMOVED, "cust_id"),
        (K.FIELD_ADDED, "customer_id"),
    ]


def test_added_and_removed_fields_carry_the_content_model_of_the_other_side() -> None:
    closed = schema(Field("id", INT), additional_properties=False)
    opened = schema(Field("id", INT), Field("x", INT))
    (added,) = [c for c in diff(closed, opened) if c.kind is K.FIELD_ADDED]
    assert added.old is False  # the name was forbidden before
    (removed,) = [c for c in diff(opened, closed) if c.kind is K.FIELD_REMOVED]
    assert removed.new is False
    (added,) = diff(schema(Field("id", INT)), opened)
    assert added.old is True


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (Field("a", required=False), Field("a", required=True), K.REQUIRED_ADDED),
        (Field("a", required=True), Field("a", required=False), K.REQUIRED_REMOVED),
        (Field("a", nullable=True), Field("a", nullable=False), K.NULLABILITY_TIGHTENED),
        (Field("a", nullable=False), Field("a", nullable=True), K.NULLABILITY_LOOSENED),
        (Field("a", format="date"), Field("a", format="date-time"), K.FORMAT_CHANGED),
        (Field("a"), Field("a", format="email"), K.FORMAT_CHANGED),
        (Field("a"), Field("a", default=0), K.DEFAULT_ADDED),
        (Field("a", default=0), Field("a"), K.DEFAULT_REMOVED),
        (Field("a", default=0), Field("a", default=1), K.DEFAULT_CHANGED),
        (Field("a", default=1), Field("a", default=True), K.DEFAULT_CHANGED),
        (Field("a", default=None), Field("a"), K.DEFAULT_REMOVED),
        (Field("a", description="old"), Field("a", description="new"), K.DESCRIPTION_CHANGED),
        (Field("a"), Field("a", description="documented"), K.DESCRIPTION_CHANGED),
    ],
    ids=lambda v: v.value if isinstance(v, ChangeKind) else "",
)
def test_field_facet_changes(old: Field, new: Field, kind: ChangeKind) -> None:
    (change,) = one(old, new)
    assert (change.kind, change.path, change.column) == (kind, "a", "a")


def test_same_default_spelled_as_float_is_no_change() -> None:
    assert one(Field("a", default=1), Field("a", default=1.0)) == ()


def test_type_change_message_reads_old_to_new() -> None:
    (change,) = one(Field("customer_id", INT), Field("customer_id", varchar(36)))
    assert change.kind is K.TYPE_CHANGED
    assert change.message == "customer_id: int -> varchar(36) (changed)"
    assert (change.old, change.new) == ("int", "varchar(36)")


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (INT, BIGINT, K.TYPE_WIDENED),
        (BIGINT, INT, K.TYPE_NARROWED),
        (varchar(50), varchar(20), K.TYPE_NARROWED),
        (
            Type(Family.DECIMAL, name="decimal", precision=18, scale=4),
            Type(Family.DECIMAL, name="decimal", precision=10, scale=2),
            K.TYPE_NARROWED,
        ),
        (STRING, Type(Family.NUMBER), K.TYPE_CHANGED),
    ],
)
def test_type_relations_become_kinds(old: Type, new: Type, kind: ChangeKind) -> None:
    assert found(one(Field("c", old), Field("c", new))) == [(kind, "c")]


def test_same_spelling_with_other_parameters_shows_the_parameters() -> None:
    (change,) = one(Field("n", Type(Family.INTEGER, bits=32)), Field("n", Type(Family.INTEGER, bits=16)))
    assert change.message == "n: integer[bits=32] -> integer[bits=16] (narrowed)"


def test_declaring_a_type_where_none_was_declared_is_no_change() -> None:
    assert one(Field("c", ANY), Field("c", BIGINT)) == ()


def test_enum_values_one_change_per_value() -> None:
    old = Field("status", STRING, enum=("new", "paid", "shipped"))
    new = Field("status", STRING, enum=("new", "shipped", "refunded", "lost"))
    changes = one(old, new)
    assert [(c.kind, c.old, c.new) for c in changes] == [
        (K.ENUM_VALUE_REMOVED, "paid", None),
        (K.ENUM_VALUE_ADDED, None, "refunded"),
        (K.ENUM_VALUE_ADDED, None, "lost"),
    ]


def test_enum_keeps_true_and_one_apart() -> None:
    assert found(one(Field("f", enum=(1,)), Field("f", enum=(True,)))) == [
        (K.ENUM_VALUE_REMOVED, "f"),
        (K.ENUM_VALUE_ADDED, "f"),
    ]


def test_enum_introduced_tightens_and_dropped_loosens() -> None:
    (introduced,) = one(Field("s", STRING), Field("s", STRING, enum=("a", "b")))
    assert (introduced.kind, introduced.new) == (K.CONSTRAINT_TIGHTENED, ["a", "b"])
    (dropped,) = one(Field("s", STRING, enum=("a", "b")), Field("s", STRING))
    assert dropped.kind is K.CONSTRAINT_LOOSENED


def constrained(**keywords: Any) -> Field:
    return Field("v", constraints=constraints_from(keywords))


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ({"maxLength": 50}, {"maxLength": 20}, K.CONSTRAINT_TIGHTENED),
        ({"maxLength": 20}, {"maxLength": 50}, K.CONSTRAINT_LOOSENED),
        ({"minLength": 1}, {"minLength": 3}, K.CONSTRAINT_TIGHTENED),
        ({"minLength": 3}, {"minLength": 0}, K.CONSTRAINT_LOOSENED),
        ({"minimum": 0}, {"minimum": -10}, K.CONSTRAINT_LOOSENED),
        ({"maximum": 100}, {"maximum": 99.5}, K.CONSTRAINT_TIGHTENED),
        ({"exclusiveMinimum": 0}, {"exclusiveMinimum": 1}, K.CONSTRAINT_TIGHTENED),
        ({"exclusiveMaximum": 10}, {"exclusiveMaximum": 11}, K.CONSTRAINT_LOOSENED),
        ({"maximum": 10}, {"maximum": 10, "exclusiveMaximum": True}, K.CONSTRAINT_TIGHTENED),  # draft 4
        ({"exclusiveMaximum": True}, {}, K.CONSTRAINT_LOOSENED),
        ({}, {"pattern": "^[A-Z]+$"}, K.CONSTRAINT_TIGHTENED),
        ({"pattern": "^[A-Z]+$"}, {}, K.CONSTRAINT_LOOSENED),
        ({}, {"multipleOf": 2}, K.CONSTRAINT_TIGHTENED),
        ({"multipleOf": 2}, {"multipleOf": 4}, K.CONSTRAINT_TIGHTENED),
        ({"multipleOf": 4}, {"multipleOf": 2}, K.CONSTRAINT_LOOSENED),
        ({"multipleOf": 0.1}, {"multipleOf": 0.05}, K.CONSTRAINT_LOOSENED),
        ({"minItems": 1}, {"minItems": 2}, K.CONSTRAINT_TIGHTENED),
        ({"maxItems": 5}, {}, K.CONSTRAINT_LOOSENED),
        ({}, {"uniqueItems": True}, K.CONSTRAINT_TIGHTENED),
        ({"uniqueItems": True}, {"uniqueItems": False}, K.CONSTRAINT_LOOSENED),
    ],
    ids=str,
)
def test_constraint_direction(old: dict[str, Any], new: dict[str, Any], kind: ChangeKind) -> None:
    assert found(one(constrained(**old), constrained(**new))) == [(kind, "v")]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"pattern": "^[A-Z]+$"}, {"pattern": "^[a-z]+$"}),
        ({"multipleOf": 3}, {"multipleOf": 2}),
        ({"exclusiveMaximum": True, "maximum": 5}, {"exclusiveMaximum": 5}),
        ({"maxLength": 5}, {"maxLength": "5"}),
    ],
    ids=str,
)
def test_change_that_cannot_be_ordered_is_tightened_and_loosened(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    changes = [
        c for c in one(constrained(**old), constrained(**new)) if c.old is not None and c.new is not None
    ]
    assert [c.kind for c in changes] == [K.CONSTRAINT_TIGHTENED, K.CONSTRAINT_LOOSENED]
    assert changes[0].message.endswith("(neither admits all the other does: tightened and loosened)")


def test_constraint_message_names_the_keyword() -> None:
    (change,) = one(constrained(maxLength=50), constrained(maxLength=20))
    assert change.message == "v: maxLength 50 -> 20 (tightened)"
    assert (change.old, change.new) == (50, 20)


def test_false_flag_is_the_same_as_no_flag() -> None:
    assert one(constrained(uniqueItems=False), constrained()) == ()


def address(*members: Field) -> Type:
    return Type(Family.OBJECT, fields=members)


def test_nested_member_paths_and_top_level_column() -> None:
    old = schema(Field("address", address(Field("city", varchar(50)), Field("zip", STRING))))
    new = schema(
        Field("address", address(Field("city", varchar(20)), Field("street", STRING, required=True)))
    )
    changes = diff(old, new)
    assert found(changes) == [
        (K.TYPE_NARROWED, "address.city"),
        (K.FIELD_REMOVED, "address.zip"),
        (K.FIELD_ADDED, "address.street"),
        (K.REQUIRED_ADDED, "address.street"),
    ]
    assert {c.column for c in changes} == {"address"}


def test_array_elements_are_followed_at_brackets() -> None:
    old = schema(Field("tags", Type(Family.ARRAY, items=varchar(20))))
    new = schema(Field("tags", Type(Family.ARRAY, items=varchar(50), item_nullable=False)))
    changes = diff(old, new)
    assert found(changes) == [(K.NULLABILITY_TIGHTENED, "tags[]"), (K.TYPE_WIDENED, "tags[]")]
    assert {c.column for c in changes} == {"tags"}


def test_array_of_objects_members() -> None:
    line = address(Field("sku", STRING), Field("qty", INT))
    old = schema(Field("lines", Type(Family.ARRAY, items=line)))
    new = schema(
        Field("lines", Type(Family.ARRAY, items=address(Field("sku", STRING), Field("qty", BIGINT))))
    )
    assert found(diff(old, new)) == [(K.TYPE_WIDENED, "lines[].qty")]


def test_map_values_and_keys_at_braces() -> None:
    old = schema(Field("attrs", Type(Family.MAP, keys=STRING, items=INT)))
    new = schema(Field("attrs", Type(Family.MAP, keys=Type(Family.UUID), items=BIGINT, item_nullable=True)))
    changes = diff(old, new)
    assert found(changes) == [(K.TYPE_CHANGED, "attrs{}"), (K.TYPE_WIDENED, "attrs{}")]
    assert changes[0].message == "attrs{}: key string -> uuid (changed)"


def test_object_replaced_by_a_scalar_is_one_type_change() -> None:
    old = schema(Field("address", address(Field("city", STRING))))
    assert found(diff(old, schema(Field("address", STRING)))) == [(K.TYPE_CHANGED, "address")]


def test_additional_properties_closed_and_opened() -> None:
    open_ = schema(Field("id", INT))
    closed = schema(Field("id", INT), additional_properties=False)
    assert found(diff(open_, closed)) == [(K.ADDITIONAL_PROPERTIES_CLOSED, "")]
    assert found(diff(closed, schema(Field("id", INT), additional_properties=True))) == [
        (K.ADDITIONAL_PROPERTIES_OPENED, "")
    ]
    assert diff(open_, schema(Field("id", INT), additional_properties=True)) == ()


def test_contract_enforcement() -> None:
    (change,) = diff(schema(contract_enforced=True), schema(contract_enforced=False))
    assert (change.kind, change.column) == (K.ENFORCEMENT_DISABLED, None)
    (change,) = diff(schema(contract_enforced=None), schema(contract_enforced=True))
    assert change.kind is K.ENFORCEMENT_ENABLED


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("public", "protected", K.ACCESS_NARROWED),
        ("protected", "private", K.ACCESS_NARROWED),
        ("private", "public", K.ACCESS_WIDENED),
        (None, "public", K.ACCESS_WIDENED),  # unset is dbt's default, protected
        ("public", None, K.ACCESS_NARROWED),
    ],
)
def test_access(old: str | None, new: str | None, kind: ChangeKind) -> None:
    assert found(diff(schema(access=old), schema(access=new))) == [(kind, "")]


def test_unset_access_is_protected() -> None:
    assert diff(schema(access=None), schema(access="protected")) == ()


def test_unknown_access_is_a_schema_error_naming_the_side() -> None:
    with pytest.raises(SchemaError, match=r"new schema at access: access 'internal' is not one of"):
        diff(schema(access="public"), schema(access="internal"))


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (None, "2026-06-01", K.DEPRECATION_SCHEDULED),
        ("2026-06-01", "2026-03-01", K.DEPRECATION_SCHEDULED),
        ("2026-06-01", "2026-09-01", K.DEPRECATION_CHANGED),
        ("2026-06-01", None, K.DEPRECATION_CHANGED),
        ("2026-06-01", "2026-05-31T23:00:00-02:00", K.DEPRECATION_CHANGED),  # 2026-06-01T01:00Z: later
    ],
)
def test_deprecation_date(old: str | None, new: str | None, kind: ChangeKind) -> None:
    assert found(diff(schema(deprecation_date=old), schema(deprecation_date=new))) == [(kind, "")]


def test_same_deprecation_instant_spelled_differently_is_no_change() -> None:
    assert (
        diff(schema(deprecation_date="2026-06-01"), schema(deprecation_date="2026-06-01T00:00:00+00:00"))
        == ()
    )


def test_unreadable_deprecation_date_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="deprecation_date 'next spring' is not an ISO 8601 date"):
        diff(schema(), schema(deprecation_date="next spring"))


def test_schema_description_is_documentation() -> None:
    assert found(diff(schema(description="a"), schema(description="b"))) == [(K.DESCRIPTION_CHANGED, "")]


def test_duplicate_field_name_is_a_schema_error_with_its_path() -> None:
    twice = schema(Field("address", address(Field("city", STRING), Field("city", INT))))
    with pytest.raises(SchemaError, match=r"old schema at address\.city: field 'city' is declared twice"):
        diff(twice, schema())


def test_order_is_schema_facts_then_old_fields_then_new_fields_then_guarantees() -> None:
    old = schema(Field("b", INT), Field("a", INT), access="public")
    new = schema(
        Field("z", INT), Field("a", BIGINT), access="private", guarantees=(guarantee("unique", "a"),)
    )
    assert found(diff(old, new)) == [
        (K.ACCESS_NARROWED, ""),
        (K.FIELD_REMOVED, "b"),
        (K.TYPE_WIDENED, "a"),
        (K.FIELD_ADDED, "z"),
        (K.GUARANTEE_ADDED, "a"),
    ]


def test_removed_asset() -> None:
    (change,) = removed_asset_changes(schema(Field("id", INT), Field("email", STRING)))
    assert (change.kind, change.path, change.column) == (K.ASSET_REMOVED, "", None)
    assert change.old == ["id", "email"]
    assert "2 columns" in change.message
