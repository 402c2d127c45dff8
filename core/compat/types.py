"""How one normalized type relates to another: the same, widened, narrowed or changed.

``relate(old, new)`` answers for one value slot (a column, a property, an
array element). Wider means the new type holds every value of the old one and
more; narrower means some old values no longer fit; changed means the two do
not sit on one ladder at all (``string`` <-> ``integer``).

The lattice:

- integers widen by width, ``8 < 16 < 32 < 64 < 128``; an integer without a
  width (JSON Schema ``integer``) is unbounded, the widest integer.
- an integer widens to a decimal that has enough integral digits for every
  value of its width (``int32`` needs 10, ``int64`` 19), and to any float or
  ``number``. ``number`` -> ``integer`` narrows.
- every relation is the mirror of its reverse: when ``old -> new`` widens,
  ``new -> old`` narrows, and CHANGED and SAME hold both ways.
- ``decimal(p, s)`` widens when neither precision, scale nor integral digits
  ``p - s`` get smaller and one grows; a decrease narrows
  (``decimal(18,4)`` -> ``decimal(10,2)``), unless another part grows: then
  neither type holds the other (``decimal(10,2)`` -> ``decimal(12,1)``) and
  the change is CHANGED. A decimal without a precision is unbounded (Postgres
  ``numeric``). Decimal -> float / ``number`` widens, the way back narrows.
- integer <-> decimal is decided by which holds the other: ``int64`` ->
  ``decimal(18,0)`` narrows, ``decimal(10,2)`` -> ``int64`` is CHANGED (the
  integer loses the fraction, the decimal the largest integers).
- floats widen ``32 -> 64``; a float without a width is a double (64), as
  ``float`` is in Postgres, Snowflake and BigQuery.
- strings and binaries widen by maximum length; no length is unbounded
  (``varchar(50)`` -> ``text`` widens, ``varchar(50)`` -> ``varchar(20)``
  narrows).
- times and timestamps widen by fractional-second precision when both sides
  state one; a missing precision is the dialect's default and compares as
  unchanged. With and without time zone are CHANGED: the same stored value
  means another instant.
- ``date`` <-> ``timestamp`` is CHANGED, not a widening: values gain (or lose)
  a time of day, and a reader that groups, joins or filters on the date gets
  other answers without any error.
- arrays and maps relate element by element (and key by key); a widened key
  with a narrowed value is CHANGED. Object members are not compared here:
  ``diff`` reports them one by one at nested paths.
- ``ANY`` without a name is an unknown type (no ``data_type`` declared, no
  JSON Schema ``type``). Unknown against anything is SAME: nothing is known
  to have changed, and the Tessera server likewise skips the type comparison
  when either side declares no type. Declaring a type where there was none is
  therefore not reported as a type change.
- ``ANY`` with a name is a type the model has no family for: a union such as
  ``string|integer`` (JSON Schema ``type: [...]``) or a native type a parser
  could not place (``GEOGRAPHY``). It is compared by name (a union's members
  in any order): the same name is SAME, anything else CHANGED, as the server
  reports ``string`` -> ``[string, integer]`` as a type change.
- anything else across families is CHANGED. The type's ``name`` is only a
  spelling: ``int4`` and ``integer`` with the same width are the SAME.
"""

from __future__ import annotations

from enum import StrEnum

from tessera_core.schema.model import Family, Type


class TypeRelation(StrEnum):
    SAME = "same"
    WIDENED = "widened"  # every old value fits the new type
    NARROWED = "narrowed"  # some old values no longer fit
    CHANGED = "changed"  # not comparable: a different kind of value


SAME = TypeRelation.SAME
WIDENED = TypeRelation.WIDENED
NARROWED = TypeRelation.NARROWED
CHANGED = TypeRelation.CHANGED

# Decimal digits needed to hold every value of an integer width.
INTEGER_DIGITS = {8: 3, 16: 5, 32: 10, 64: 19, 128: 39}

DEFAULT_FLOAT_BITS = 64

_NUMERIC = (Family.INTEGER, Family.DECIMAL, Family.FLOAT, Family.NUMBER)
# Rank of numeric families on the cross-family ladder: a higher rank holds the lower ones.
_NUMERIC_RANK = {Family.INTEGER: 0, Family.DECIMAL: 1, Family.FLOAT: 2, Family.NUMBER: 3}


def relate(old: Type, new: Type) -> TypeRelation:
    """How the value slot typed ``old`` changes when it becomes ``new``."""
    if _unknown(old) or _unknown(new):
        return SAME
    if old.family is Family.ANY or new.family is Family.ANY:
        return SAME if _any_name(old) == _any_name(new) else CHANGED
    if old.family in _NUMERIC and new.family in _NUMERIC:
        return _relate_numbers(old, new)
    if old.family is not new.family:
        return CHANGED
    family = old.family
    if family in (Family.STRING, Family.BINARY):
        return _by_size(old.length, new.length)
    if family in (Family.TIMESTAMP, Family.TIME):
        if bool(old.timezone) != bool(new.timezone):
            return CHANGED
        if old.precision is None or new.precision is None:
            return SAME
        return _by_size(old.precision, new.precision)
    if family is Family.ARRAY:
        return _relate_element(old.items, new.items)
    if family is Family.MAP:
        keys = _relate_element(old.keys, new.keys)
        values = _relate_element(old.items, new.items)
        return combine(keys, values)
    return SAME


def _unknown(kind: Type) -> bool:
    return kind.family is Family.ANY and not kind.name


def _any_name(kind: Type) -> frozenset[str] | None:
    """A named ``ANY``'s members (``string|integer`` -> {string, integer}); ``None`` for other families."""
    if kind.family is not Family.ANY or not kind.name:
        return None
    return frozenset(part.strip().lower() for part in kind.name.split("|"))


def combine(*relations: TypeRelation) -> TypeRelation:
    """The relation of a composite from its parts.

    One CHANGED part, or widening and narrowing together, is CHANGED.
    """
    found = {r for r in relations if r is not SAME}
    if not found:
        return SAME
    if CHANGED in found or found == {WIDENED, NARROWED}:
        return CHANGED
    return found.pop()


def _relate_element(old: Type | None, new: Type | None) -> TypeRelation:
    if old is None or new is None:  # an untyped element is unknown
        return SAME
    return relate(old, new)


def _by_size(old: int | None, new: int | None) -> TypeRelation:
    """Compare two maximum sizes where ``None`` is unbounded."""
    if old == new:
        return SAME
    if new is None:
        return WIDENED
    if old is None:
        return NARROWED
    return WIDENED if new > old else NARROWED


def _relate_numbers(old: Type, new: Type) -> TypeRelation:
    if old.family is new.family:
        if old.family is Family.INTEGER:
            return _by_size(old.bits, new.bits)
        if old.family is Family.DECIMAL:
            return _relate_decimals(old, new)
        if old.family is Family.FLOAT:
            return _by_size(old.bits or DEFAULT_FLOAT_BITS, new.bits or DEFAULT_FLOAT_BITS)
        return SAME
    if old.family is Family.INTEGER and new.family is Family.DECIMAL:
        return _by_containment(_decimal_holds_integer(new, old), _integer_holds_decimal(old, new))
    if old.family is Family.DECIMAL and new.family is Family.INTEGER:
        return _by_containment(_integer_holds_decimal(new, old), _decimal_holds_integer(old, new))
    return WIDENED if _NUMERIC_RANK[new.family] > _NUMERIC_RANK[old.family] else NARROWED


def _relate_decimals(old: Type, new: Type) -> TypeRelation:
    if old.precision is None or new.precision is None:
        if old.precision is None and new.precision is None:
            return _by_size(old.scale, new.scale)
        return WIDENED if new.precision is None else NARROWED
    old_scale, new_scale = old.scale or 0, new.scale or 0
    deltas = (
        new.precision - old.precision,
        new_scale - old_scale,
        (new.precision - new_scale) - (old.precision - old_scale),
    )
    grows, shrinks = any(d > 0 for d in deltas), any(d < 0 for d in deltas)
    if grows and shrinks:  # decimal(10,2) -> decimal(12,1): neither holds the other
        return CHANGED
    return NARROWED if shrinks else WIDENED if grows else SAME


def _integer_digits(kind: Type) -> int | None:
    """Digits an integer type needs; ``None`` for an unbounded integer."""
    if kind.bits is None:
        return None
    return INTEGER_DIGITS.get(kind.bits, len(str(2 ** (kind.bits - 1))))


def _decimal_holds_integer(decimal: Type, integer: Type) -> bool:
    if decimal.precision is None:
        return True
    needed = _integer_digits(integer)
    return needed is not None and decimal.precision - (decimal.scale or 0) >= needed


def _integer_holds_decimal(integer: Type, decimal: Type) -> bool:
    if decimal.scale or (decimal.precision is None and decimal.scale is None):  # it has a fraction
        return False
    capacity = _integer_digits(integer)
    if capacity is None:
        return True
    # Every value of decimal(p, 0) fits an integer whose largest value has more than p digits.
    return decimal.precision is not None and decimal.precision < capacity


def _by_containment(old_in_new: bool, new_in_old: bool) -> TypeRelation:
    if old_in_new and new_in_old:
        return SAME
    if old_in_new:
        return WIDENED
    return NARROWED if new_in_old else CHANGED


__all__ = ["CHANGED", "NARROWED", "SAME", "WIDENED", "TypeRelation", "combine", "relate"]
