"""What a diff reports: one ``Change`` per difference, with a stable kind and a path.

Kinds are stable strings (they appear in JSON output, the registry and
notifications); never rename one, only add.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tessera_core.schema.model import JsonValue


class ChangeKind(StrEnum):
    # shape
    FIELD_ADDED = "field_added"
    FIELD_REMOVED = "field_removed"
    REQUIRED_ADDED = "required_added"  # optional -> required (or a new required field)
    REQUIRED_REMOVED = "required_removed"
    NULLABILITY_TIGHTENED = "nullability_tightened"  # nullable -> not null
    NULLABILITY_LOOSENED = "nullability_loosened"
    TYPE_CHANGED = "type_changed"  # incompatible families: string <-> number
    TYPE_WIDENED = "type_widened"  # int -> bigint, varchar(20) -> varchar(50)
    TYPE_NARROWED = "type_narrowed"
    ENUM_VALUE_ADDED = "enum_value_added"
    ENUM_VALUE_REMOVED = "enum_value_removed"
    CONSTRAINT_TIGHTENED = "constraint_tightened"  # maxLength 50 -> 20, a new pattern
    CONSTRAINT_LOOSENED = "constraint_loosened"
    FORMAT_CHANGED = "format_changed"
    DEFAULT_ADDED = "default_added"
    DEFAULT_REMOVED = "default_removed"
    DEFAULT_CHANGED = "default_changed"
    ADDITIONAL_PROPERTIES_OPENED = "additional_properties_opened"
    ADDITIONAL_PROPERTIES_CLOSED = "additional_properties_closed"
    DESCRIPTION_CHANGED = "description_changed"  # documentation only
    # guarantees (dbt tests and constraints, freshness)
    GUARANTEE_ADDED = "guarantee_added"
    GUARANTEE_REMOVED = "guarantee_removed"
    GUARANTEE_TIGHTENED = "guarantee_tightened"
    GUARANTEE_RELAXED = "guarantee_relaxed"
    # dbt model contract facts
    CONSTRAINT_REMOVED = "constraint_removed"  # a dbt model/column constraint dropped
    CONSTRAINT_ADDED = "constraint_added"
    ENFORCEMENT_DISABLED = "contract_enforcement_disabled"
    ENFORCEMENT_ENABLED = "contract_enforcement_enabled"
    ACCESS_NARROWED = "access_narrowed"  # public -> protected / private
    ACCESS_WIDENED = "access_widened"
    DEPRECATION_SCHEDULED = "deprecation_scheduled"  # deprecation_date set or brought forward
    DEPRECATION_CHANGED = "deprecation_changed"  # moved later or cleared
    ASSET_REMOVED = "asset_removed"  # a contracted model deleted or renamed


class Severity(StrEnum):
    """How a change is reported when it is not breaking under the mode."""

    INFO = "info"
    WARNING = "warning"
    BREAKING = "breaking"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between an old and a new schema.

    ``path`` is dotted from the top-level field: ``customer_id``,
    ``address.city``, ``tags[]`` (array items), ``attrs{}`` (map values);
    empty for schema-level changes. ``column`` is the top-level field the
    change touches (what column-scoped impact matches on), ``None`` for
    schema-level changes, which touch every reader.
    """

    kind: ChangeKind
    path: str
    message: str
    old: JsonValue = None
    new: JsonValue = None
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "path": self.path,
            "column": self.column,
            "message": self.message,
            "old": self.old,
            "new": self.new,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(
            kind=ChangeKind(data["kind"]),
            path=data.get("path", ""),
            message=data.get("message", ""),
            old=data.get("old"),
            new=data.get("new"),
            column=data.get("column"),
        )


class CompatibilityMode(StrEnum):
    """How strictly a contract's changes are judged (the Tessera server's modes, plus transitive ones)."""

    BACKWARD = "backward"
    FORWARD = "forward"
    FULL = "full"
    NONE = "none"
    BACKWARD_TRANSITIVE = "backward_transitive"
    FORWARD_TRANSITIVE = "forward_transitive"
    FULL_TRANSITIVE = "full_transitive"
