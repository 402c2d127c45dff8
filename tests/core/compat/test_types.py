"""relate(old, new): the widening / narrowing lattice over normalized types."""

from __future__ import annotations

import pytest

from tessera_core.compat.types import TypeRelation, combine, relate
from tessera_core.schema.model import ANY, Family, Field, Type

SAME, WIDENED, NARROWED, CHANGED = (
    TypeRelation.SAME,
    TypeRelation.WIDENED,
    TypeRelation.NARROWED,
    TypeRelation.CHANGED,
)


def integer(bits: int | None = None, name: str | None = None) -> Type:
    return Type(Family.INTEGER, name=name, bits=bits)


def decimal(precision: int | None, scale: int | None = None) -> Type:
    return Type(Family.DECIMAL, name="decimal", precision=precision, scale=scale)


def varchar(length: int | None) -> Type:
    return Type(Family.STRING, name="varchar", length=length)


def timestamp(*, tz: bool = False, precision: int | None = None) -> Type:
    return Type(Family.TIMESTAMP, timezone=tz, precision=precision)


FLOAT32, FLOAT64 = Type(Family.FLOAT, bits=32), Type(Family.FLOAT, bits=64)
NUMBER, STRING = Type(Family.NUMBER), Type(Family.STRING)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # the cases named in the issue
        (integer(32, "int"), integer(64, "bigint"), WIDENED),
        (integer(64, "bigint"), integer(32, "int"), NARROWED),
        (varchar(50), varchar(20), NARROWED),
        (decimal(18, 4), decimal(10, 2), NARROWED),
        (STRING, integer(), CHANGED),
        (integer(), STRING, CHANGED),
        (NUMBER, STRING, CHANGED),
        # integer widths
        (integer(8), integer(16), WIDENED),
        (integer(64), integer(128), WIDENED),
        (integer(32), integer(), WIDENED),  # JSON Schema integer: unbounded
        (integer(), integer(64), NARROWED),
        # integer into decimal needs enough integral digits
        (integer(32), decimal(10, 0), WIDENED),
        (integer(32), decimal(12, 2), WIDENED),
        (integer(32), decimal(9, 0), NARROWED),
        (integer(64), decimal(18, 0), NARROWED),
        (integer(64), decimal(None), WIDENED),
        (decimal(9, 0), integer(32), WIDENED),
        (decimal(10, 0), integer(32), NARROWED),
        (decimal(10, 2), integer(64), CHANGED),  # loses the fraction; the decimal lacks the largest ints
        (integer(64), decimal(10, 2), CHANGED),
        (integer(), decimal(None), WIDENED),
        (decimal(12, 0), integer(), WIDENED),
        # JSON Schema integer <-> number; floats
        (integer(), NUMBER, WIDENED),
        (NUMBER, integer(), NARROWED),
        (integer(64), FLOAT64, WIDENED),
        (FLOAT32, FLOAT64, WIDENED),
        (FLOAT64, FLOAT32, NARROWED),
        (Type(Family.FLOAT), FLOAT64, SAME),  # float without width is a double
        (FLOAT64, NUMBER, WIDENED),
        (NUMBER, FLOAT64, NARROWED),
        (decimal(10, 2), FLOAT64, WIDENED),
        (FLOAT64, decimal(38, 10), NARROWED),
        # decimals: every part must not shrink
        (decimal(10, 2), decimal(12, 2), WIDENED),
        (decimal(10, 2), decimal(12, 4), WIDENED),
        (decimal(10, 2), decimal(10, 4), CHANGED),  # more scale, but integral digits 8 -> 6
        (decimal(10, 2), decimal(8, 2), NARROWED),
        (decimal(10, 2), decimal(12, 1), CHANGED),  # neither holds the other
        (decimal(10, 2), decimal(10, 2), SAME),
        (decimal(10), decimal(10, 0), SAME),
        (decimal(10, 2), decimal(None), WIDENED),
        (decimal(None), decimal(10, 2), NARROWED),
        # strings and binaries
        (varchar(20), varchar(50), WIDENED),
        (varchar(50), varchar(None), WIDENED),
        (varchar(None), varchar(255), NARROWED),
        (Type(Family.BINARY, length=16), Type(Family.BINARY, length=8), NARROWED),
        (Type(Family.BINARY, length=16), Type(Family.BINARY), WIDENED),
        # time
        (timestamp(precision=3), timestamp(precision=6), WIDENED),
        (timestamp(precision=6), timestamp(precision=0), NARROWED),
        (timestamp(precision=6), timestamp(), SAME),  # unstated precision: the dialect default
        (timestamp(), timestamp(tz=True), CHANGED),
        (timestamp(tz=True), timestamp(), CHANGED),
        (Type(Family.TIME, timezone=False), Type(Family.TIME, timezone=True), CHANGED),
        (Type(Family.DATE), timestamp(), CHANGED),
        (timestamp(), Type(Family.DATE), CHANGED),
        # other families
        (Type(Family.BOOLEAN), integer(8), CHANGED),
        (Type(Family.UUID), STRING, CHANGED),
        (Type(Family.JSON), Type(Family.JSON, name="variant"), SAME),
    ],
    ids=lambda v: v.describe() if isinstance(v, Type) else str(v),
)
def test_relate(old: Type, new: Type, expected: TypeRelation) -> None:
    assert relate(old, new) is expected


def test_the_native_name_is_only_a_spelling() -> None:
    assert relate(integer(32, "int4"), integer(32, "INTEGER")) is SAME


@pytest.mark.parametrize("other", [STRING, integer(64), decimal(10, 2), timestamp(tz=True)])
def test_unknown_type_relates_as_same_in_both_directions(other: Type) -> None:
    assert relate(ANY, other) is SAME
    assert relate(other, ANY) is SAME


def test_named_any_is_compared_by_name_with_union_members_in_any_order() -> None:
    union = Type(Family.ANY, name="string|integer")
    assert relate(union, Type(Family.ANY, name="integer|string")) is SAME
    assert relate(union, Type(Family.ANY, name="string|number")) is CHANGED
    assert relate(STRING, union) is CHANGED
    assert relate(Type(Family.ANY, name="GEOGRAPHY"), Type(Family.ANY, name="geography")) is SAME


def test_array_relates_its_elements() -> None:
    assert relate(Type(Family.ARRAY, items=integer(32)), Type(Family.ARRAY, items=integer(64))) is WIDENED
    assert relate(Type(Family.ARRAY, items=varchar(50)), Type(Family.ARRAY, items=varchar(5))) is NARROWED
    assert relate(Type(Family.ARRAY, items=STRING), Type(Family.ARRAY, items=NUMBER)) is CHANGED
    assert relate(Type(Family.ARRAY), Type(Family.ARRAY, items=NUMBER)) is SAME


def test_map_with_widened_key_and_narrowed_value_is_changed() -> None:
    old = Type(Family.MAP, keys=integer(32), items=varchar(50))
    assert relate(old, Type(Family.MAP, keys=integer(64), items=varchar(50))) is WIDENED
    assert relate(old, Type(Family.MAP, keys=integer(64), items=varchar(10))) is CHANGED


def test_objects_are_not_compared_member_by_member_here() -> None:
    old = Type(Family.OBJECT, fields=(Field("city", STRING),))
    new = Type(Family.OBJECT, fields=(Field("city", integer()),))
    assert relate(old, new) is SAME


def test_object_to_scalar_is_changed() -> None:
    assert relate(Type(Family.OBJECT), STRING) is CHANGED


def test_combine() -> None:
    assert combine() is SAME
    assert combine(SAME, WIDENED, SAME) is WIDENED
    assert combine(WIDENED, NARROWED) is CHANGED
    assert combine(NARROWED, CHANGED) is CHANGED
