"""What changed in the promises a schema makes beyond its shape: dbt tests, constraints, freshness.

Guarantees are matched by identity (kind, column, source). For dbt data
tests (``source="test"``), following ADR-011 of the Tessera server:

- a guarantee that appears is GUARANTEE_ADDED, one that disappears
  GUARANTEE_REMOVED;
- ``accepted_values`` with fewer values is GUARANTEE_TIGHTENED, with more
  GUARANTEE_RELAXED (both when values are swapped);
- ``freshness`` with a shorter ``warn_after`` / ``error_after`` is
  GUARANTEE_TIGHTENED, a longer or dropped threshold GUARANTEE_RELAXED. A
  threshold that cannot be read as a duration has no known direction: it is
  reported as both, so that the relaxed half warns as on the server;
- any other guarantee whose arguments change (a relationship to another
  model, another check expression) is the old promise removed and a new one
  added.

dbt model constraints (``source="constraint"``) are enforced or declared in
the warehouse, so they are not graded: one that disappears is
CONSTRAINT_REMOVED, one that appears CONSTRAINT_ADDED, and one whose arguments
change is both.

Each change's ``old`` / ``new`` holds the guarantee as a dict (with its
``kind``), its ``path`` and ``column`` the column it is about (empty and
``None`` for model-level guarantees such as freshness).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.schema.model import Guarantee, GuaranteeKind, JsonValue

SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}

_Key = tuple[str, str, str]


def diff_guarantees(old: Sequence[Guarantee], new: Sequence[Guarantee]) -> tuple[Change, ...]:
    """The guarantee changes from ``old`` to ``new``, ordered by column, kind and source."""
    old_by, new_by = _by_key(old), _by_key(new)
    changes: list[Change] = []
    for key in sorted(old_by.keys() | new_by.keys(), key=lambda k: (k[1] != "", k[1], k[0], k[2])):
        before = list(old_by.get(key, ()))
        after = list(new_by.get(key, ()))
        for g in list(before):
            if g in after:
                before.remove(g)
                after.remove(g)
        changes.extend(_compare(before, after))
    return tuple(changes)


def guarantee_kind_of(change: Change) -> GuaranteeKind | None:
    """The ``GuaranteeKind`` a guarantee or constraint change is about, else ``None``."""
    for side in (change.old, change.new):
        name = side.get("kind") if isinstance(side, Mapping) else None
        if isinstance(name, str):
            try:
                return GuaranteeKind(name)
            except ValueError:
                return None
    return None


def _by_key(guarantees: Iterable[Guarantee]) -> dict[_Key, list[Guarantee]]:
    grouped: dict[_Key, list[Guarantee]] = {}
    for g in guarantees:
        kind, column, source = g.key
        grouped.setdefault((kind, column or "", source), []).append(g)
    return grouped


def _compare(before: list[Guarantee], after: list[Guarantee]) -> list[Change]:
    if not before and not after:
        return []
    sample = (before or after)[0]
    if sample.source == "constraint":
        return [_change(ChangeKind.CONSTRAINT_REMOVED, g, None, "removed") for g in before] + [
            _change(ChangeKind.CONSTRAINT_ADDED, None, g, "added") for g in after
        ]
    if len(before) == 1 and len(after) == 1:
        graded = _graded(before[0], after[0])
        if graded is not None:
            return graded
    return [_change(ChangeKind.GUARANTEE_REMOVED, g, None, "removed") for g in before] + [
        _change(ChangeKind.GUARANTEE_ADDED, None, g, "added") for g in after
    ]


def _graded(old: Guarantee, new: Guarantee) -> list[Change] | None:
    """Tightened / relaxed for the kinds that have a direction; ``None`` when there is none."""
    if old.kind is GuaranteeKind.ACCEPTED_VALUES:
        return _accepted_values(old, new)
    if old.kind is GuaranteeKind.FRESHNESS:
        return _freshness(old, new)
    return None


def _accepted_values(old: Guarantee, new: Guarantee) -> list[Change] | None:
    if _without(old, "values") != _without(new, "values"):
        return None
    before, after = _values(old.param("values")), _values(new.param("values"))
    removed = [v for k, v in before.items() if k not in after]
    added = [v for k, v in after.items() if k not in before]
    changes = []
    if removed:
        changes.append(
            _change(
                ChangeKind.GUARANTEE_TIGHTENED,
                old,
                new,
                f"tightened: {show_json(removed)} no longer accepted",
            )
        )
    if added:
        changes.append(
            _change(ChangeKind.GUARANTEE_RELAXED, old, new, f"relaxed: {show_json(added)} now accepted")
        )
    return changes


def _freshness(old: Guarantee, new: Guarantee) -> list[Change]:
    tightened: list[str] = []
    relaxed: list[str] = []
    for name in sorted({k for k, _ in old.params} | {k for k, _ in new.params}):
        before, after = old.param(name), new.param(name)
        if before == after:
            continue
        was, now = duration_seconds(name, before), duration_seconds(name, after)
        text = f"{name} {show_json(before)} -> {show_json(after)}"
        if (before is not None and was is None) or (after is not None and now is None):
            unknown = text + " (not a duration: direction unknown)"
            tightened.append(unknown)
            relaxed.append(unknown)
        elif now is None:
            relaxed.append(text)  # the threshold was dropped
        elif was is None or now < was:
            tightened.append(text)
        elif now > was:
            relaxed.append(text)
    changes = []
    if tightened:
        changes.append(
            _change(ChangeKind.GUARANTEE_TIGHTENED, old, new, "tightened: " + "; ".join(tightened))
        )
    if relaxed:
        changes.append(_change(ChangeKind.GUARANTEE_RELAXED, old, new, "relaxed: " + "; ".join(relaxed)))
    return changes


def duration_seconds(name: str, value: Any) -> float | None:
    """A freshness threshold in seconds; ``None`` when absent or not readable as a duration.

    Reads dbt's ``{"count": 12, "period": "hour"}``, unit maps such as
    ``{"hours": 1, "minutes": 30}`` (as dicts or frozen pairs), and plain
    numbers under a key that names the unit (``max_staleness_minutes``).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        for unit, seconds in SECONDS.items():
            if name.endswith((f"_{unit}", f"_{unit}s")):
                return float(value) * seconds
        return None
    parts = _as_mapping(value)
    if parts is None:
        return None
    if "period" in parts:
        count, period = parts.get("count"), str(parts["period"]).lower().rstrip("s")
        if count is None:
            return None  # dbt: a null count disables the threshold
        if isinstance(count, int | float) and not isinstance(count, bool) and period in SECONDS:
            return float(count) * SECONDS[period]
        return None
    total = 0.0
    found = False
    for key, amount in parts.items():
        unit = str(key).lower().rstrip("s")
        if unit not in SECONDS or not isinstance(amount, int | float) or isinstance(amount, bool):
            return None
        total += float(amount) * SECONDS[unit]
        found = True
    return total if found else None


def _as_mapping(value: Any) -> dict[str, Any] | None:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return {str(k): v for k, v in value}
    return None


def _without(g: Guarantee, key: str) -> tuple[tuple[str, JsonValue], ...]:
    return tuple(p for p in g.params if p[0] != key)


def _values(raw: JsonValue) -> dict[str, JsonValue]:
    """Accepted values keyed by their JSON spelling (so ``1`` and ``true`` stay apart), in order."""
    items: Iterable[JsonValue] = raw if isinstance(raw, list | tuple) else ([] if raw is None else [raw])
    return {json_key(v): v for v in items}


def json_key(value: Any) -> str:
    """A canonical JSON spelling for comparing JSON values: ``1 == 1.0``, ``1 != true``."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def show_json(value: Any) -> str:
    """A compact JSON spelling of a value for messages."""
    return json.dumps(_canonical(value), sort_keys=True, default=str)


def _label(g: Guarantee) -> str:
    return f"{g.kind.value} {'constraint' if g.source == 'constraint' else 'guarantee'}"


def _change(kind: ChangeKind, old: Guarantee | None, new: Guarantee | None, how: str) -> Change:
    g = new if old is None else old
    assert g is not None
    where = g.column or "model"
    return Change(
        kind=kind,
        path=g.column or "",
        message=f"{where}: {_label(g)} {how}",
        old=old.to_dict() if old is not None else None,
        new=new.to_dict() if new is not None else None,
        column=g.column,
    )


__all__ = ["diff_guarantees", "duration_seconds", "guarantee_kind_of", "json_key", "show_json"]
