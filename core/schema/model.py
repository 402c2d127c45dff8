"""The one normalized schema model every reader produces and every diff consumes.

JSON-Schema-like: a ``Schema`` is a tuple of named ``Field``s; each field has a
``Type`` (a family plus the parameters that matter for compatibility: integer
width, string length, decimal precision and scale, element / value / member
types), presence (``required``) and nullability, and JSON-Schema-style facets
(format, enum, default, validation constraints). Table-level facts that matter
to dbt users (guarantees from tests and constraints, contract enforcement,
``access``, ``deprecation_date``) live on the ``Schema``.

All values are frozen and hashable, so schemas can be compared, cached and used
as dictionary keys. ``to_dict`` / ``from_dict`` give a stable JSON form for
storage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TypeAlias

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None


class Family(StrEnum):
    """The logical kind of a type; parameters live on ``Type``."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # exact numeric: precision / scale
    FLOAT = "float"  # approximate numeric: bits 32 / 64
    NUMBER = "number"  # any number (JSON Schema "number")
    BOOLEAN = "boolean"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"  # ``timezone`` tells TIMESTAMP from TIMESTAMPTZ
    INTERVAL = "interval"
    BINARY = "binary"
    UUID = "uuid"
    JSON = "json"  # semi-structured: JSON, VARIANT, SUPER
    OBJECT = "object"  # record / struct: ``fields``
    ARRAY = "array"  # ``items``
    MAP = "map"  # ``keys`` -> ``items``
    NULL = "null"
    ANY = "any"  # unknown or unconstrained


@dataclass(frozen=True, slots=True)
class Type:
    """A type family with the parameters that decide widening and narrowing.

    ``name`` is the native spelling after normalization (``BIGINT`` for a
    Postgres ``int8``, ``long`` for Avro); it is informational: two types with
    the same family and parameters are the same type.
    """

    family: Family
    name: str | None = None
    bits: int | None = None  # integer / float width
    length: int | None = None  # max length of strings and binaries
    precision: int | None = None  # decimal precision; fractional-second precision for times
    scale: int | None = None
    timezone: bool | None = None  # timestamps and times
    items: Type | None = None  # array element, map value
    keys: Type | None = None  # map key
    fields: tuple[Field, ...] = ()  # object members
    item_nullable: bool = True  # may an array element / map value be null

    def describe(self) -> str:
        """A short human spelling: ``varchar(50)``, ``decimal(18,4)``, ``array<integer>``."""
        base = (self.name or self.family.value).lower()
        if self.family is Family.ARRAY and self.items is not None:
            return f"array<{self.items.describe()}>"
        if self.family is Family.MAP and self.items is not None:
            key = self.keys.describe() if self.keys else "string"
            return f"map<{key}, {self.items.describe()}>"
        if self.family is Family.OBJECT and self.fields:
            return "struct<" + ", ".join(f"{f.name} {f.type.describe()}" for f in self.fields) + ">"
        if self.family is Family.DECIMAL and self.precision is not None:
            scale = self.scale if self.scale is not None else 0
            return f"{base}({self.precision},{scale})"
        if self.length is not None:
            return f"{base}({self.length})"
        return base

    def to_dict(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {"family": self.family.value}
        for key in ("name", "bits", "length", "precision", "scale", "timezone"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.items is not None:
            out["items"] = self.items.to_dict()
        if self.keys is not None:
            out["keys"] = self.keys.to_dict()
        if self.fields:
            out["fields"] = [f.to_dict() for f in self.fields]
        if not self.item_nullable:
            out["item_nullable"] = False
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Type:
        return cls(
            family=Family(data["family"]),
            name=data.get("name"),
            bits=data.get("bits"),
            length=data.get("length"),
            precision=data.get("precision"),
            scale=data.get("scale"),
            timezone=data.get("timezone"),
            items=cls.from_dict(data["items"]) if data.get("items") else None,
            keys=cls.from_dict(data["keys"]) if data.get("keys") else None,
            fields=tuple(Field.from_dict(f) for f in data.get("fields", ())),
            item_nullable=data.get("item_nullable", True),
        )


ANY = Type(Family.ANY)


class _NoDefault:
    """Marker for "no default value" (``None`` is a legitimate default)."""

    _instance: _NoDefault | None = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class Field:
    """One named member of a schema or of an object type.

    ``required``: the producer must always supply the key (JSON Schema
    ``required``, an Avro field without a default, a GraphQL non-null input).
    ``nullable``: the value may be null. Warehouse columns are never "required"
    in this sense (a column is always there); their nullability comes from
    ``not null`` constraints.
    ``constraints``: sorted ``(keyword, value)`` pairs of JSON-Schema-style
    validation keywords (``maxLength``, ``minimum``, ``pattern`` ...).
    """

    name: str
    type: Type = ANY
    required: bool = False
    nullable: bool = True
    description: str | None = None
    format: str | None = None
    enum: tuple[JsonValue, ...] | None = None
    default: Any = NO_DEFAULT
    constraints: tuple[tuple[str, JsonValue], ...] = ()

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def constraint(self, keyword: str) -> JsonValue:
        for key, value in self.constraints:
            if key == keyword:
                return value
        return None

    def to_dict(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {"name": self.name, "type": self.type.to_dict()}
        if self.required:
            out["required"] = True
        if not self.nullable:
            out["nullable"] = False
        if self.description:
            out["description"] = self.description
        if self.format:
            out["format"] = self.format
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.has_default:
            out["default"] = self.default
        if self.constraints:
            out["constraints"] = {k: v for k, v in self.constraints}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Field:
        enum = data.get("enum")
        return cls(
            name=data["name"],
            type=Type.from_dict(data["type"]) if data.get("type") else ANY,
            required=data.get("required", False),
            nullable=data.get("nullable", True),
            description=data.get("description"),
            format=data.get("format"),
            enum=tuple(enum) if enum is not None else None,
            default=data.get("default", NO_DEFAULT),
            constraints=constraints_from(data.get("constraints") or {}),
        )


def constraints_from(mapping: dict[str, Any]) -> tuple[tuple[str, JsonValue], ...]:
    """Sorted, hashable constraint pairs from a mapping (lists become tuples' JSON twins)."""
    return tuple(sorted(mapping.items()))


class GuaranteeKind(StrEnum):
    NOT_NULL = "not_null"
    UNIQUE = "unique"
    ACCEPTED_VALUES = "accepted_values"
    RELATIONSHIPS = "relationships"
    PRIMARY_KEY = "primary_key"
    FOREIGN_KEY = "foreign_key"
    CHECK = "check"
    FRESHNESS = "freshness"


@dataclass(frozen=True, slots=True)
class Guarantee:
    """A promise about the data beyond its shape.

    ``source`` is ``"test"`` (a dbt data test: checked after the fact) or
    ``"constraint"`` (a dbt model constraint: enforced or declared in the
    warehouse). ``column`` is ``None`` for model-level guarantees.
    ``params`` holds the kind's arguments as sorted pairs: ``values`` for
    accepted values, ``to`` / ``field`` for relationships, ``expression`` for
    checks, ``warn_after`` / ``error_after`` for freshness.
    """

    kind: GuaranteeKind
    column: str | None = None
    params: tuple[tuple[str, JsonValue], ...] = ()
    source: str = "test"

    def param(self, key: str) -> JsonValue:
        for k, v in self.params:
            if k == key:
                return v
        return None

    @property
    def key(self) -> tuple[str, str | None, str]:
        """Identity for diffing: the same kind on the same column from the same source."""
        return (self.kind.value, self.column, self.source)

    def to_dict(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {"kind": self.kind.value, "source": self.source}
        if self.column is not None:
            out["column"] = self.column
        if self.params:
            out["params"] = {k: v for k, v in self.params}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Guarantee:
        return cls(
            kind=GuaranteeKind(data["kind"]),
            column=data.get("column"),
            params=_freeze_params(data.get("params") or {}),
            source=data.get("source", "test"),
        )


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _freeze_params(mapping: dict[str, Any]) -> tuple[tuple[str, JsonValue], ...]:
    return tuple(sorted((k, _freeze(v)) for k, v in mapping.items()))


def guarantee(
    kind: GuaranteeKind | str, column: str | None = None, *, source: str = "test", **params: Any
) -> Guarantee:
    """Build a ``Guarantee`` with frozen parameters."""
    return Guarantee(GuaranteeKind(kind), column, _freeze_params(params), source)


@dataclass(frozen=True, slots=True)
class Schema:
    """A normalized schema: the columns of a table, the properties of a record.

    ``source_format`` says which reader produced it (``dbt``, ``json_schema``,
    ``avro``, ``openapi``, ``graphql``); ``dialect`` the SQL dialect of
    warehouse types. ``additional_properties`` is the JSON Schema content model
    (``None`` when unspecified, which JSON Schema treats as open).
    """

    fields: tuple[Field, ...] = ()
    guarantees: tuple[Guarantee, ...] = ()
    source_format: str = "json_schema"
    dialect: str | None = None
    additional_properties: bool | None = None
    contract_enforced: bool | None = None
    access: str | None = None
    deprecation_date: str | None = None
    description: str | None = None

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def with_fields(self, fields: tuple[Field, ...] | list[Field]) -> Schema:
        return replace(self, fields=tuple(fields))

    def to_dict(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "source_format": self.source_format,
            "fields": [f.to_dict() for f in self.fields],
        }
        if self.guarantees:
            out["guarantees"] = [g.to_dict() for g in self.guarantees]
        for key in (
            "dialect",
            "additional_properties",
            "contract_enforced",
            "access",
            "deprecation_date",
            "description",
        ):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        return cls(
            fields=tuple(Field.from_dict(f) for f in data.get("fields", ())),
            guarantees=tuple(Guarantee.from_dict(g) for g in data.get("guarantees", ())),
            source_format=data.get("source_format", "json_schema"),
            dialect=data.get("dialect"),
            additional_properties=data.get("additional_properties"),
            contract_enforced=data.get("contract_enforced"),
            access=data.get("access"),
            deprecation_date=data.get("deprecation_date"),
            description=data.get("description"),
        )


__all__ = [
    "ANY",
    "NO_DEFAULT",
    "Family",
    "Field",
    "Guarantee",
    "GuaranteeKind",
    "JsonValue",
    "Schema",
    "Type",
    "constraints_from",
    "guarantee",
]
