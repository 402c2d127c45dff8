"""``diff(old, new)``: every difference between two normalized schemas, as ``Change``s.

The diff is mode-agnostic: it reports what changed; ``modes`` decides what
breaks. The order is deterministic: schema-level facts first, then fields in
the old schema's order (each field's own changes, then its members'), then
fields that are new, in the new schema's order, then guarantees.

Paths are dotted from the top-level field: ``address.city`` for an object
member, ``tags[]`` for array elements, ``attrs{}`` for map values, so
``orders[].id`` is the ``id`` of each element of ``orders``. ``column`` is
always the top-level field; schema-level changes have an empty path and no
column (they touch every reader).

What is reported:

- a field that appears is FIELD_ADDED, plus REQUIRED_ADDED when it is
  required; one that disappears is FIELD_REMOVED, plus REQUIRED_REMOVED when
  it was required (the Tessera server diffs ``required`` as a set, so it does
  the same). A rename is a removal and an addition. FIELD_ADDED carries in
  ``old`` what the old schema said about that name, as a JSON Schema boolean
  schema: ``True`` when its content model was open (``additionalProperties``
  not false: any value was allowed under the name), ``False`` when closed;
  FIELD_REMOVED carries the same about the new schema in ``new``. Nested
  objects have no content model of their own in ``Type``, so they count as
  open, the JSON Schema default.
- required added / removed, nullability tightened / loosened (also of array
  elements and map values, at ``tags[]`` / ``attrs{}``).
- type changed / widened / narrowed by ``types.relate``, message
  ``customer_id: integer -> varchar (changed)``.
- enum values added / removed, one change per value. An enum that appears
  where there was none restricts the field: CONSTRAINT_TIGHTENED; one that
  is dropped: CONSTRAINT_LOOSENED. (The server treats a missing enum as an
  empty one; a restriction introduced is not "values added".)
- validation keywords: a bound that grows looser (``maxLength`` up,
  ``minimum`` down, ``multipleOf`` to a divisor) or disappears is
  CONSTRAINT_LOOSENED; one that grows stricter or appears is
  CONSTRAINT_TIGHTENED. A changed ``pattern`` (or ``multipleOf`` 3 -> 2, or
  any change that cannot be ordered) may reject old values and admit new
  ones: it is reported as both, so that it breaks backward as on the server
  and, being its own reverse, forward too.
- format changed, default added / removed / changed, description changed.
- schema level: ``additionalProperties`` opened / closed, dbt contract
  enforcement disabled / enabled, ``access`` narrowed / widened
  (``public > protected > private``; unset is dbt's default, ``protected``),
  ``deprecation_date`` set or brought forward (DEPRECATION_SCHEDULED) or
  moved later or cleared (DEPRECATION_CHANGED).
- guarantees: see ``guarantees.diff_guarantees``.

A schema that declares one name twice at the same level is malformed: a
``SchemaError`` naming the side and the path, and no diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.compat.guarantees import diff_guarantees, json_key, show_json
from tessera_core.compat.types import TypeRelation, relate
from tessera_core.errors import SchemaError
from tessera_core.schema.model import Family, Field, JsonValue, Schema, Type

ACCESS_RANK = {"private": 0, "protected": 1, "public": 2}
DEFAULT_ACCESS = "protected"

# Validation keywords whose growth admits more values, and those whose growth admits fewer.
UPPER_BOUNDS = frozenset(
    {"maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum", "maxContains"}
)
LOWER_BOUNDS = frozenset(
    {"minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum", "minContains"}
)

_TYPE_KINDS = {
    TypeRelation.WIDENED: ChangeKind.TYPE_WIDENED,
    TypeRelation.NARROWED: ChangeKind.TYPE_NARROWED,
    TypeRelation.CHANGED: ChangeKind.TYPE_CHANGED,
}


def diff(old: Schema, new: Schema) -> tuple[Change, ...]:
    """Every difference from ``old`` to ``new``, in a deterministic order."""
    _check_names(old.fields, "", "old schema")
    _check_names(new.fields, "", "new schema")
    changes: list[Change] = []
    changes += _schema_facts(old, new)
    changes += _members(
        old.fields,
        new.fields,
        prefix="",
        column=None,
        old_open=old.additional_properties is not False,
        new_open=new.additional_properties is not False,
    )
    changes += diff_guarantees(old.guarantees, new.guarantees)
    return tuple(changes)


def removed_asset_changes(old: Schema) -> tuple[Change, ...]:
    """The change to report when a contracted model (with schema ``old``) was deleted or renamed."""
    names: list[JsonValue] = [f.name for f in old.fields]
    return (
        Change(
            kind=ChangeKind.ASSET_REMOVED,
            path="",
            message=f"the contracted asset was removed or renamed; its {len(names)} columns are gone",
            old=names,
            new=None,
        ),
    )


# -- schema level ---------------------------------------------------------------------------------


def _schema_facts(old: Schema, new: Schema) -> list[Change]:
    changes: list[Change] = []
    was_open, is_open = old.additional_properties is not False, new.additional_properties is not False
    if was_open != is_open:
        kind = ChangeKind.ADDITIONAL_PROPERTIES_OPENED if is_open else ChangeKind.ADDITIONAL_PROPERTIES_CLOSED
        how = "open: unknown properties now allowed" if is_open else "closed: unknown properties now rejected"
        changes.append(
            _schema_change(
                kind, f"additionalProperties {how}", old.additional_properties, new.additional_properties
            )
        )
    if bool(old.contract_enforced) != bool(new.contract_enforced):
        kind = ChangeKind.ENFORCEMENT_ENABLED if new.contract_enforced else ChangeKind.ENFORCEMENT_DISABLED
        how = "enabled" if new.contract_enforced else "disabled"
        changes.append(
            _schema_change(kind, f"contract enforcement {how}", old.contract_enforced, new.contract_enforced)
        )
    was, now = _access_rank(old.access, "old schema"), _access_rank(new.access, "new schema")
    if was != now:
        kind = ChangeKind.ACCESS_WIDENED if now > was else ChangeKind.ACCESS_NARROWED
        changes.append(
            _schema_change(
                kind,
                f"access {old.access or DEFAULT_ACCESS} -> {new.access or DEFAULT_ACCESS}",
                old.access,
                new.access,
            )
        )
    changes += _deprecation(old.deprecation_date, new.deprecation_date)
    if (old.description or None) != (new.description or None):
        changes.append(
            _schema_change(
                ChangeKind.DESCRIPTION_CHANGED, "description changed", old.description, new.description
            )
        )
    return changes


def _schema_change(kind: ChangeKind, message: str, old: JsonValue, new: JsonValue) -> Change:
    return Change(kind=kind, path="", message=message, old=old, new=new, column=None)


def _access_rank(access: str | None, side: str) -> int:
    value = (access or DEFAULT_ACCESS).lower()
    if value not in ACCESS_RANK:
        raise SchemaError(
            f"access {access!r} is not one of public, protected, private; fix the model's access config",
            source=side,
            location="access",
        )
    return ACCESS_RANK[value]


def _deprecation(old: str | None, new: str | None) -> list[Change]:
    if (old or None) == (new or None):
        return []
    was = _when(old, "old schema") if old else None
    now = _when(new, "new schema") if new else None
    if was == now:
        return []
    if now is not None and (was is None or now < was):
        kind, how = ChangeKind.DEPRECATION_SCHEDULED, f"deprecation scheduled for {new}"
        if was is not None:
            how += f" (brought forward from {old})"
    elif now is None:
        kind, how = ChangeKind.DEPRECATION_CHANGED, f"deprecation cleared (was {old})"
    else:
        kind, how = ChangeKind.DEPRECATION_CHANGED, f"deprecation moved later: {old} -> {new}"
    return [_schema_change(kind, how, old, new)]


def _when(text: str, side: str) -> datetime:
    """A ``deprecation_date`` as an aware datetime (a bare date is midnight UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise SchemaError(
                f"deprecation_date {text!r} is not an ISO 8601 date or datetime; write it as YYYY-MM-DD",
                source=side,
                location="deprecation_date",
            ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- fields ---------------------------------------------------------------------------------------


def _check_names(fields: Sequence[Field], prefix: str, side: str) -> None:
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise SchemaError(
                f"field {f.name!r} is declared twice; keep one declaration per name",
                source=side,
                location=prefix + f.name,
            )
        seen.add(f.name)
        _check_type_names(f.type, prefix + f.name, side)


def _check_type_names(kind: Type, path: str, side: str) -> None:
    if kind.family is Family.OBJECT:
        _check_names(kind.fields, path + ".", side)
    elif kind.family is Family.ARRAY and kind.items is not None:
        _check_type_names(kind.items, path + "[]", side)
    elif kind.family is Family.MAP and kind.items is not None:
        _check_type_names(kind.items, path + "{}", side)


def _members(
    old_fields: Sequence[Field],
    new_fields: Sequence[Field],
    *,
    prefix: str,
    column: str | None,
    old_open: bool,
    new_open: bool,
) -> list[Change]:
    old_by = {f.name: f for f in old_fields}
    new_by = {f.name: f for f in new_fields}
    changes: list[Change] = []
    for f in old_fields:
        path, top = prefix + f.name, column or f.name
        counterpart = new_by.get(f.name)
        if counterpart is None:
            changes.append(
                Change(ChangeKind.FIELD_REMOVED, path, f"{path}: field removed", f.to_dict(), new_open, top)
            )
            if f.required:
                changes.append(
                    Change(
                        ChangeKind.REQUIRED_REMOVED,
                        path,
                        f"{path}: no longer required (removed)",
                        True,
                        False,
                        top,
                    )
                )
        else:
            changes += _field(f, counterpart, path, top)
    for f in new_fields:
        if f.name in old_by:
            continue
        path, top = prefix + f.name, column or f.name
        changes.append(
            Change(
                ChangeKind.FIELD_ADDED,
                path,
                f"{path}: field added ({f.type.describe()})",
                old_open,
                f.to_dict(),
                top,
            )
        )
        if f.required:
            changes.append(
                Change(ChangeKind.REQUIRED_ADDED, path, f"{path}: new field is required", False, True, top)
            )
    return changes


def _field(old: Field, new: Field, path: str, column: str) -> list[Change]:
    changes: list[Change] = []

    def add(kind: ChangeKind, what: str, before: Any = None, after: Any = None) -> None:
        changes.append(Change(kind, path, f"{path}: {what}", before, after, column))

    if old.required != new.required:
        if new.required:
            add(ChangeKind.REQUIRED_ADDED, "now required", False, True)
        else:
            add(ChangeKind.REQUIRED_REMOVED, "no longer required", True, False)
    if old.nullable != new.nullable:
        if new.nullable:
            add(ChangeKind.NULLABILITY_LOOSENED, "now nullable", False, True)
        else:
            add(ChangeKind.NULLABILITY_TIGHTENED, "no longer nullable", True, False)
    changes += _types(old.type, new.type, path, column)
    changes += _enum(old, new, path, column)
    changes += _constraints(old, new, path, column)
    if old.format != new.format:
        add(
            ChangeKind.FORMAT_CHANGED,
            f"format {old.format or '(none)'} -> {new.format or '(none)'}",
            old.format,
            new.format,
        )
    if old.has_default and not new.has_default:
        add(ChangeKind.DEFAULT_REMOVED, f"default {show_json(old.default)} removed", old.default, None)
    elif new.has_default and not old.has_default:
        add(ChangeKind.DEFAULT_ADDED, f"default {show_json(new.default)} added", None, new.default)
    elif old.has_default and json_key(old.default) != json_key(new.default):
        add(
            ChangeKind.DEFAULT_CHANGED,
            f"default {show_json(old.default)} -> {show_json(new.default)}",
            old.default,
            new.default,
        )
    if (old.description or None) != (new.description or None):
        add(ChangeKind.DESCRIPTION_CHANGED, "description changed", old.description, new.description)
    return changes


def _types(old: Type, new: Type, path: str, column: str) -> list[Change]:
    """Type changes of one value slot; containers are followed into their elements and members."""
    if old.family is Family.OBJECT and new.family is Family.OBJECT:
        return _members(
            old.fields, new.fields, prefix=path + ".", column=column, old_open=True, new_open=True
        )
    if old.family is new.family and old.family in (Family.ARRAY, Family.MAP):
        marker = "[]" if old.family is Family.ARRAY else "{}"
        inner = path + marker
        changes: list[Change] = []
        if old.family is Family.MAP and old.keys is not None and new.keys is not None:
            relation = relate(old.keys, new.keys)
            if relation is not TypeRelation.SAME:
                changes.append(_type_change(relation, old.keys, new.keys, inner, column, what="key "))
        if old.item_nullable != new.item_nullable:
            kind = ChangeKind.NULLABILITY_LOOSENED if new.item_nullable else ChangeKind.NULLABILITY_TIGHTENED
            how = "now nullable" if new.item_nullable else "no longer nullable"
            changes.append(
                Change(kind, inner, f"{inner}: {how}", old.item_nullable, new.item_nullable, column)
            )
        if old.items is not None and new.items is not None:
            changes += _types(old.items, new.items, inner, column)
        return changes
    relation = relate(old, new)
    if relation is TypeRelation.SAME:
        return []
    return [_type_change(relation, old, new, path, column)]


def _type_change(
    relation: TypeRelation, old: Type, new: Type, path: str, column: str, *, what: str = ""
) -> Change:
    before, after = _spell(old), _spell(new)
    if before == after:
        before, after = _spell(old, detailed=True), _spell(new, detailed=True)
    return Change(
        _TYPE_KINDS[relation],
        path,
        f"{path}: {what}{before} -> {after} ({relation.value})",
        before,
        after,
        column,
    )


def _spell(kind: Type, *, detailed: bool = False) -> str:
    text: str = kind.describe()
    if not detailed:
        return text
    params = [
        f"{k}={getattr(kind, k)}"
        for k in ("bits", "length", "precision", "scale", "timezone")
        if getattr(kind, k) is not None
    ]
    return f"{text}[{', '.join(params)}]" if params else text


def _enum(old: Field, new: Field, path: str, column: str) -> list[Change]:
    if old.enum is None and new.enum is None:
        return []
    if old.enum is None or new.enum is None:
        introduced = old.enum is None
        values = list(new.enum if new.enum is not None else old.enum or ())
        kind = ChangeKind.CONSTRAINT_TIGHTENED if introduced else ChangeKind.CONSTRAINT_LOOSENED
        how = (
            f"enum {show_json(values)} introduced"
            if introduced
            else f"enum {show_json(values)} dropped (any value)"
        )
        before: JsonValue = None if introduced else values
        after: JsonValue = values if introduced else None
        return [Change(kind, path, f"{path}: {how}", before, after, column)]
    was = {json_key(v): v for v in old.enum}
    now = {json_key(v): v for v in new.enum}
    changes = [
        Change(
            ChangeKind.ENUM_VALUE_REMOVED, path, f"{path}: enum value {show_json(v)} removed", v, None, column
        )
        for k, v in was.items()
        if k not in now
    ]
    changes += [
        Change(ChangeKind.ENUM_VALUE_ADDED, path, f"{path}: enum value {show_json(v)} added", None, v, column)
        for k, v in now.items()
        if k not in was
    ]
    return changes


def _constraints(old: Field, new: Field, path: str, column: str) -> list[Change]:
    # A false flag (uniqueItems, draft-4 exclusiveMaximum) says the same as no flag.
    before = {k: v for k, v in old.constraints if v is not False}
    after = {k: v for k, v in new.constraints if v is not False}
    changes: list[Change] = []
    for keyword in sorted(before.keys() | after.keys()):
        was, now = before.get(keyword), after.get(keyword)
        if json_key(was) == json_key(now):
            continue
        if was is None:
            how = f"{keyword} {show_json(now)} added"
        elif now is None:
            how = f"{keyword} {show_json(was)} removed"
        else:
            how = f"{keyword} {show_json(was)} -> {show_json(now)}"
        kinds = _constraint_kinds(keyword, was, now)
        if len(kinds) == 2:
            how += " (neither admits all the other does: tightened and loosened)"
        else:
            how += " (tightened)" if kinds[0] is ChangeKind.CONSTRAINT_TIGHTENED else " (loosened)"
        changes += [Change(kind, path, f"{path}: {how}", was, now, column) for kind in kinds]
    return changes


_TIGHTENED = (ChangeKind.CONSTRAINT_TIGHTENED,)
_LOOSENED = (ChangeKind.CONSTRAINT_LOOSENED,)
_BOTH = (ChangeKind.CONSTRAINT_TIGHTENED, ChangeKind.CONSTRAINT_LOOSENED)


def _constraint_kinds(keyword: str, was: JsonValue, now: JsonValue) -> tuple[ChangeKind, ...]:
    """Going from ``was`` to ``now`` (either may be absent): fewer values, more, or some of each."""
    if was is None:
        return _TIGHTENED
    if now is None:
        return _LOOSENED
    if was is True or now is True:  # draft-4 exclusiveMaximum: true -> a draft-6 number cannot be ordered
        return _BOTH
    a, b = _number(was), _number(now)
    if a is None or b is None:
        return _BOTH  # a changed pattern, or values that cannot be ordered
    if keyword in UPPER_BOUNDS:
        return _TIGHTENED if b < a else _LOOSENED
    if keyword in LOWER_BOUNDS:
        return _TIGHTENED if b > a else _LOOSENED
    if keyword == "multipleOf" and a != 0 and b != 0:
        if a % b == 0:
            return _LOOSENED  # the old step is a multiple of the new one: more values
        if b % a == 0:
            return _TIGHTENED
    return _BOTH


def _number(value: JsonValue) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


__all__ = ["diff", "removed_asset_changes"]
