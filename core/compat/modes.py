"""Compatibility modes: which changes break under backward, forward, full and none.

``verdict(changes, mode)`` sorts the output of ``diff`` into breaking,
warnings and info, and names for each change the rule that placed it there.
The table is the Tessera server's (``services/schema_diff.py``):

=========================  ==========================================================
mode                       breaks on
=========================  ==========================================================
``backward`` (default)     field removed, required added (also a new required
                           field), nullability tightened, type narrowed, type
                           changed, enum value removed, constraint tightened,
                           default removed, content model closed; dbt: constraint
                           removed, contract enforcement disabled, access narrowed,
                           asset removed
``forward``                field added (even optional), required removed,
                           nullability loosened, type widened, type changed, enum
                           value added, constraint loosened, default added, content
                           model opened; dbt: constraint added, enforcement
                           enabled, access widened
``full``                   the union of both
``none``                   nothing; every change is still reported
=========================  ==========================================================

``forward`` is the mirror image of ``backward``: a change breaks forward
exactly when its reverse (new -> old) breaks backward. The server's table has
this shape; the dbt kinds, which the server does not know, follow it, so a
dbt constraint added breaks forward and full as a constraint removed breaks
backward. A rename is a removal plus an addition, so it breaks every mode but
``none``. Format changes, changed defaults, descriptions and deprecations
break no mode: deprecations are announced, never blocking.

Severity of what does not break: a change that would break under
``backward`` (the default) is a WARNING under ``forward`` and ``none``;
format and default changes, and guarantees removed or relaxed, are WARNINGs
everywhere (ADR-011); the rest is INFO.

``CompatPolicy`` adjusts two rules:

- ``guarantees``: per ``GuaranteeKind`` (or ``"*"`` for all), ``"notify"``
  (default: added or tightened is INFO, removed or relaxed a WARNING, never
  blocking), ``"strict"`` (removed or relaxed breaks backward and full; by the
  mirror rule, added or tightened breaks forward and full) or ``"ignore"``
  (left out of the verdict). dbt constraints are not guarantees here: they
  follow the table.
- ``content_model``: ``"server"`` (default) or ``"strict"``, which applies
  Confluent's open-content-model rule: a property added to a model whose
  ``additionalProperties`` is not false breaks backward (old readers accepted
  any value under that name), and, mirrored, one removed from an open model
  breaks forward.

Transitive modes (``backward_transitive`` ...) judge each pair by their base
mode; ``verdict_transitive`` checks the new schema against every earlier
version instead of only the latest.

For people coming from Confluent Schema Registry
-------------------------------------------------
Confluent's BACKWARD asks whether consumers already upgraded to the new
schema can read data written with the old one, so removing a field is
backward compatible there (the new reader ignores it). Tessera's BACKWARD
asks whether the consumers that exist now keep working once the producer
publishes: a consumer still selects the column, so **removing a field breaks
backward here**, and a rename (remove + add) does too. For types, enums,
constraints, ``required`` and defaults Tessera keeps Confluent's reader-side
rules (narrowing, a removed enum value, a new required field break backward;
widening and an added enum value break forward). Adding an optional field is
backward compatible in both, except that Confluent's JSON Schema rules reject
it for an open content model: choose ``CompatPolicy(content_model="strict")``
for that. FULL and the transitive modes mean what they mean in Confluent;
NONE checks nothing but still reports and notifies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from tessera_core.compat.changes import Change, ChangeKind, CompatibilityMode, Severity
from tessera_core.compat.diff import diff
from tessera_core.compat.guarantees import guarantee_kind_of
from tessera_core.errors import TesseraError
from tessera_core.schema.model import GuaranteeKind, Schema

GuaranteeMode: TypeAlias = Literal["ignore", "notify", "strict"]
ContentModel: TypeAlias = Literal["server", "strict"]
ChangeClass: TypeAlias = Literal["major", "minor", "patch", "none"]
Direction: TypeAlias = Literal["backward", "forward"]

K = ChangeKind
B, F = CompatibilityMode.BACKWARD, CompatibilityMode.FORWARD

BACKWARD_RULES: Mapping[ChangeKind, str] = MappingProxyType(
    {
        K.FIELD_REMOVED: "field removed breaks readers of the old schema that still read it",
        K.REQUIRED_ADDED: "a field made required rejects data written without it",
        K.NULLABILITY_TIGHTENED: "a field made not-null rejects the nulls the old schema allowed",
        K.TYPE_CHANGED: "an incompatible type change breaks every reader of the field",
        K.TYPE_NARROWED: "a narrowed type cannot hold every value the old type allowed",
        K.ENUM_VALUE_REMOVED: "an enum value removed rejects data the old schema allowed",
        K.CONSTRAINT_TIGHTENED: "a tightened constraint rejects values the old schema allowed",
        K.DEFAULT_REMOVED: "a default removed leaves records written without the field with no value",
        K.ADDITIONAL_PROPERTIES_CLOSED: "a closed content model rejects properties the old schema allowed",
        K.CONSTRAINT_REMOVED: "a dbt constraint removed withdraws a promise consumers build on",
        K.ENFORCEMENT_DISABLED: "enforcement disabled withdraws the promise that the model matches it",
        K.ACCESS_NARROWED: "narrowed access breaks refs from models that may no longer see the model",
        K.ASSET_REMOVED: "a removed asset breaks every consumer that reads it",
    }
)

FORWARD_RULES: Mapping[ChangeKind, str] = MappingProxyType(
    {
        K.FIELD_ADDED: "field added is missing from data produced under the old schema",
        K.REQUIRED_REMOVED: "a field made optional may be missing for readers that require it",
        K.NULLABILITY_LOOSENED: "a field made nullable delivers nulls to readers of the old schema",
        K.TYPE_CHANGED: "an incompatible type change breaks every reader of the field",
        K.TYPE_WIDENED: "a widened type admits values that readers of the old type cannot hold",
        K.ENUM_VALUE_ADDED: "an enum value added is unknown to readers of the old schema",
        K.CONSTRAINT_LOOSENED: "a loosened constraint admits values the old schema rejected",
        K.DEFAULT_ADDED: "a default added is not applied by producers still writing the old schema",
        K.ADDITIONAL_PROPERTIES_OPENED: "an opened content model admits properties the old schema rejected",
        K.CONSTRAINT_ADDED: "a dbt constraint added is a promise the old contract's data does not keep",
        K.ENFORCEMENT_ENABLED: "enforcement enabled is a promise the model under the old contract never kept",
        K.ACCESS_WIDENED: "widened access lets new consumers ref a model still built with narrower access",
    }
)

# Open-content-model rules (content_model="strict"), after Confluent's JSON Schema compatibility rules.
OPEN_MODEL_RULES: Mapping[Direction, str] = MappingProxyType(
    {
        "backward": "content_model=strict: a property added to an open content model breaks readers of "
        "the old schema, which accepted any value under that name (Confluent rule)",
        "forward": "content_model=strict: a property removed from an open content model lets data carry "
        "any value under that name, which readers of the old schema typed (Confluent rule, mirrored)",
    }
)

GUARANTEE_LOSSES = frozenset({K.GUARANTEE_REMOVED, K.GUARANTEE_RELAXED})
GUARANTEE_GAINS = frozenset({K.GUARANTEE_ADDED, K.GUARANTEE_TIGHTENED})
STRICT_GUARANTEE_RULES: Mapping[Direction, str] = MappingProxyType(
    {
        "backward": "guarantees=strict: a guarantee removed or relaxed withdraws a promise consumers "
        "rely on (ADR-011)",
        "forward": "guarantees=strict: a guarantee added or tightened is a promise data built under the "
        "old contract does not keep (ADR-011, mirrored)",
    }
)

ALWAYS_WARNING = frozenset({K.FORMAT_CHANGED, K.DEFAULT_CHANGED, *GUARANTEE_LOSSES})

# What a change is, for the rule of a change that does not break.
PHRASES: Mapping[ChangeKind, str] = MappingProxyType(
    {
        K.FIELD_ADDED: "a field added",
        K.FIELD_REMOVED: "a field removed",
        K.REQUIRED_ADDED: "a field made required",
        K.REQUIRED_REMOVED: "a field made optional",
        K.NULLABILITY_TIGHTENED: "a field made not-null",
        K.NULLABILITY_LOOSENED: "a field made nullable",
        K.TYPE_CHANGED: "an incompatible type change",
        K.TYPE_WIDENED: "a widened type",
        K.TYPE_NARROWED: "a narrowed type",
        K.ENUM_VALUE_ADDED: "an enum value added",
        K.ENUM_VALUE_REMOVED: "an enum value removed",
        K.CONSTRAINT_TIGHTENED: "a tightened constraint",
        K.CONSTRAINT_LOOSENED: "a loosened constraint",
        K.FORMAT_CHANGED: "a format change",
        K.DEFAULT_ADDED: "a default added",
        K.DEFAULT_REMOVED: "a default removed",
        K.DEFAULT_CHANGED: "a changed default",
        K.ADDITIONAL_PROPERTIES_OPENED: "an opened content model",
        K.ADDITIONAL_PROPERTIES_CLOSED: "a closed content model",
        K.DESCRIPTION_CHANGED: "a description change (documentation only)",
        K.GUARANTEE_ADDED: "a guarantee added",
        K.GUARANTEE_REMOVED: "a guarantee removed",
        K.GUARANTEE_TIGHTENED: "a tightened guarantee",
        K.GUARANTEE_RELAXED: "a relaxed guarantee",
        K.CONSTRAINT_REMOVED: "a dbt constraint removed",
        K.CONSTRAINT_ADDED: "a dbt constraint added",
        K.ENFORCEMENT_DISABLED: "contract enforcement disabled",
        K.ENFORCEMENT_ENABLED: "contract enforcement enabled",
        K.ACCESS_NARROWED: "narrowed access",
        K.ACCESS_WIDENED: "widened access",
        K.DEPRECATION_SCHEDULED: "a deprecation scheduled (announced to consumers)",
        K.DEPRECATION_CHANGED: "a deprecation moved later or cleared",
        K.ASSET_REMOVED: "a removed asset",
    }
)

# change_class: what is "minor" (adds something without breaking backward). The first four are the server's.
ADDITIVE = frozenset(
    {
        K.FIELD_ADDED,
        K.ENUM_VALUE_ADDED,
        K.NULLABILITY_LOOSENED,
        K.DEFAULT_ADDED,
        K.GUARANTEE_ADDED,
        K.CONSTRAINT_ADDED,
        K.ENFORCEMENT_ENABLED,
        K.ACCESS_WIDENED,
        K.DEPRECATION_SCHEDULED,
    }
)

BASE_MODE: Mapping[CompatibilityMode, CompatibilityMode] = MappingProxyType(
    {
        CompatibilityMode.BACKWARD: B,
        CompatibilityMode.FORWARD: F,
        CompatibilityMode.FULL: CompatibilityMode.FULL,
        CompatibilityMode.NONE: CompatibilityMode.NONE,
        CompatibilityMode.BACKWARD_TRANSITIVE: B,
        CompatibilityMode.FORWARD_TRANSITIVE: F,
        CompatibilityMode.FULL_TRANSITIVE: CompatibilityMode.FULL,
    }
)

DIRECTIONS: Mapping[CompatibilityMode, tuple[Direction, ...]] = MappingProxyType(
    {
        B: ("backward",),
        F: ("forward",),
        CompatibilityMode.FULL: ("backward", "forward"),
        CompatibilityMode.NONE: (),
    }
)

_GUARANTEE_MODES = ("ignore", "notify", "strict")


@dataclass(frozen=True, slots=True)
class CompatPolicy:
    """Adjustments to the mode table; the defaults mean what the Tessera server means.

    ``guarantees`` maps a ``GuaranteeKind`` (or its name, or ``"*"`` for every
    kind) to ``"ignore"``, ``"notify"`` (the default) or ``"strict"``.
    ``content_model`` is ``"server"`` (default) or ``"strict"`` (Confluent's
    open-content-model rule).
    """

    guarantees: Mapping[GuaranteeKind | str, GuaranteeMode] = field(default_factory=dict)
    content_model: ContentModel = "server"

    def __post_init__(self) -> None:
        checked: dict[GuaranteeKind | str, GuaranteeMode] = {}
        for key, value in self.guarantees.items():
            if value not in _GUARANTEE_MODES:
                raise TesseraError(
                    f"guarantee mode {value!r} for {key!r} is not one of {', '.join(_GUARANTEE_MODES)}; "
                    "fix the policy"
                )
            if key == "*":
                checked["*"] = value
                continue
            try:
                checked[GuaranteeKind(key)] = value
            except ValueError:
                raise TesseraError(
                    f"unknown guarantee kind {key!r} in the policy; use '*' or one of "
                    f"{', '.join(k.value for k in GuaranteeKind)}"
                ) from None
        object.__setattr__(self, "guarantees", MappingProxyType(checked))
        if self.content_model not in ("server", "strict"):
            raise TesseraError(
                f"content_model {self.content_model!r} is not 'server' or 'strict'; fix the policy"
            )

    def __hash__(self) -> int:
        return hash((tuple(sorted((str(k), v) for k, v in self.guarantees.items())), self.content_model))

    def guarantee_mode(self, kind: GuaranteeKind | None) -> GuaranteeMode:
        """The mode for guarantees of ``kind``: its own entry, else ``"*"``, else ``"notify"``."""
        if kind is not None and kind in self.guarantees:
            return self.guarantees[kind]
        return self.guarantees.get("*", "notify")


@dataclass(frozen=True, slots=True)
class Judged:
    """A change, how it is reported under a mode, and the rule that decided it."""

    change: Change
    severity: Severity
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.change.to_dict(), "severity": self.severity.value, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Every change under one mode: what breaks, what warns, what informs."""

    mode: CompatibilityMode
    breaking: tuple[Judged, ...] = ()
    warnings: tuple[Judged, ...] = ()
    info: tuple[Judged, ...] = ()
    compatible: bool = True

    @property
    def judged(self) -> tuple[Judged, ...]:
        return self.breaking + self.warnings + self.info

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "compatible": self.compatible,
            "breaking": [j.to_dict() for j in self.breaking],
            "warnings": [j.to_dict() for j in self.warnings],
            "info": [j.to_dict() for j in self.info],
        }


def parse_mode(mode: CompatibilityMode | str) -> CompatibilityMode:
    """``"BACKWARD"`` / ``"backward"`` -> ``CompatibilityMode.BACKWARD``; anything else a ``TesseraError``."""
    if isinstance(mode, CompatibilityMode):
        return mode
    try:
        return CompatibilityMode(str(mode).strip().lower())
    except ValueError:
        raise TesseraError(
            f"unknown compatibility mode {mode!r}; use one of {', '.join(m.value for m in CompatibilityMode)}"
        ) from None


def verdict(
    changes: Iterable[Change], mode: CompatibilityMode | str, *, policy: CompatPolicy = CompatPolicy()
) -> Verdict:
    """Judge ``changes`` (one old -> new pair) under ``mode``; transitive modes judge as their base mode."""
    mode = parse_mode(mode)
    sorted_: dict[Severity, list[Judged]] = {s: [] for s in Severity}
    for change in changes:
        judged = judge(change, mode, policy=policy)
        if judged is not None:
            sorted_[judged.severity].append(judged)
    breaking = tuple(sorted_[Severity.BREAKING])
    return Verdict(
        mode,
        breaking=breaking,
        warnings=tuple(sorted_[Severity.WARNING]),
        info=tuple(sorted_[Severity.INFO]),
        compatible=not breaking,
    )


def judge(
    change: Change, mode: CompatibilityMode | str, *, policy: CompatPolicy = CompatPolicy()
) -> Judged | None:
    """One change under ``mode``; ``None`` when the policy ignores it."""
    mode = parse_mode(mode)
    name = mode.value
    if change.kind in GUARANTEE_LOSSES | GUARANTEE_GAINS and (
        policy.guarantee_mode(guarantee_kind_of(change)) == "ignore"
    ):
        return None
    base = BASE_MODE[mode]
    for direction in DIRECTIONS[base]:
        reason = breaks(change, direction, policy=policy)
        if reason is not None:
            where = f"{name} ({direction})" if len(DIRECTIONS[base]) > 1 else name
            return Judged(change, Severity.BREAKING, f"{where}: {reason}")
    phrase = PHRASES[change.kind]
    if base is not B:
        would = breaks(change, "backward", policy=policy)
        if would is not None:
            return Judged(
                change, Severity.WARNING, f"{name}: does not block; under backward it would: {would}"
            )
    severity = Severity.WARNING if change.kind in ALWAYS_WARNING else Severity.INFO
    if change.kind in GUARANTEE_LOSSES | GUARANTEE_GAINS:
        mode_name = policy.guarantee_mode(guarantee_kind_of(change))
        return Judged(
            change, severity, f"{name}: {phrase} is reported, never blocks (guarantees={mode_name}, ADR-011)"
        )
    if base is CompatibilityMode.NONE:
        return Judged(change, severity, f"none: nothing blocks; {phrase} is reported")
    return Judged(change, severity, f"{name}: {phrase} does not break {name}")


def breaks(change: Change, direction: Direction, *, policy: CompatPolicy = CompatPolicy()) -> str | None:
    """Why ``change`` breaks in ``direction`` ("backward" or "forward"), or ``None`` when it does not."""
    kind = change.kind
    if kind in GUARANTEE_LOSSES | GUARANTEE_GAINS:
        if policy.guarantee_mode(guarantee_kind_of(change)) != "strict":
            return None
        losing = kind in GUARANTEE_LOSSES
        return STRICT_GUARANTEE_RULES[direction] if losing == (direction == "backward") else None
    if policy.content_model == "strict":
        if direction == "backward" and kind is K.FIELD_ADDED and change.old is True:
            return OPEN_MODEL_RULES["backward"]
        if direction == "forward" and kind is K.FIELD_REMOVED and change.new is True:
            return OPEN_MODEL_RULES["forward"]
    table = BACKWARD_RULES if direction == "backward" else FORWARD_RULES
    return table.get(kind)


def verdict_transitive(
    history: Sequence[Schema],
    new: Schema,
    mode: CompatibilityMode | str,
    *,
    policy: CompatPolicy = CompatPolicy(),
) -> Verdict:
    """Judge ``new`` against the published ``history`` (oldest first).

    A transitive mode checks every earlier version: what breaks against any of
    them is breaking, each rule naming the version it was found against;
    warnings and info come from the latest version. Other modes check the
    latest version only.
    """
    mode = parse_mode(mode)
    if not history:
        return Verdict(mode)
    latest = verdict(diff(history[-1], new), mode, policy=policy)
    if mode not in (
        CompatibilityMode.BACKWARD_TRANSITIVE,
        CompatibilityMode.FORWARD_TRANSITIVE,
        CompatibilityMode.FULL_TRANSITIVE,
    ):
        return latest
    count = len(history)
    seen: set[tuple[str, str, str]] = set()
    breaking: list[Judged] = []
    for index in range(count - 1, -1, -1):
        found = latest if index == count - 1 else verdict(diff(history[index], new), mode, policy=policy)
        for j in found.breaking:
            key = _identity(j.change)
            if key in seen:
                continue
            seen.add(key)
            breaking.append(
                Judged(j.change, j.severity, f"{j.rule} [against version {index + 1} of {count}]")
            )
    return Verdict(
        mode,
        breaking=tuple(breaking),
        warnings=tuple(j for j in latest.warnings if _identity(j.change) not in seen),
        info=tuple(j for j in latest.info if _identity(j.change) not in seen),
        compatible=not breaking,
    )


def change_class(changes: Iterable[Change], *, policy: CompatPolicy = CompatPolicy()) -> ChangeClass:
    """The semantic-version bump for ``changes``, as the server computes it.

    ``major``: something breaks under backward; ``minor``: something is added
    (a field, an enum value, nullability, a default, a guarantee or constraint,
    enforcement, wider access, a deprecation notice); ``patch``: anything else
    (documentation, widened types, loosened constraints); ``none``: no change.
    Guarantee changes the policy ignores do not count.
    """
    judged = verdict(changes, CompatibilityMode.BACKWARD, policy=policy)
    if judged.breaking:
        return "major"
    kinds = {j.change.kind for j in judged.judged}
    if not kinds:
        return "none"
    return "minor" if kinds & ADDITIVE else "patch"


def _identity(change: Change) -> tuple[str, str, str]:
    return (change.kind.value, change.path, change.message)


__all__ = [
    "BACKWARD_RULES",
    "FORWARD_RULES",
    "ChangeClass",
    "CompatPolicy",
    "ContentModel",
    "GuaranteeMode",
    "Judged",
    "Verdict",
    "breaks",
    "change_class",
    "judge",
    "parse_mode",
    "verdict",
    "verdict_transitive",
]
