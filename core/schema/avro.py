"""Avro record schema (JSON) -> the normalized ``Schema``.

Primitives keep their Avro name on the ``Type``: ``int`` (INTEGER, 32 bits),
``long`` (INTEGER, 64), ``float`` (FLOAT, 32), ``double`` (FLOAT, 64),
``bytes`` (BINARY), ``string``, ``boolean``, ``null``. Records are OBJECTs with
nested fields, enums STRINGs named after the enum (their symbols go to
``Field.enum``), arrays ARRAYs, maps MAPs from strings, fixed BINARY with a
``length``. A union with ``"null"`` makes the value nullable; several non-null
branches read as ANY named ``union<a,b>``.

Logical types: ``decimal`` (DECIMAL precision / scale), ``uuid``, ``date``,
``time-millis`` / ``time-micros`` (TIME), ``timestamp-*`` (TIMESTAMP with
timezone), ``local-timestamp-*`` (TIMESTAMP without), ``duration``
(INTERVAL). A logical type on the wrong base type is ignored, as the Avro
specification says; the base type stands.

A field is ``required`` when it has no ``default``. Named types (records,
enums, fixed) may be referenced later by name or full name; a record that
refers to itself while being defined becomes an OBJECT carrying only its name.
Errors are ``SchemaError``s located by an Avro path such as ``fields[2].type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tessera_core.errors import SchemaError
from tessera_core.schema.files import load_document
from tessera_core.schema.model import NO_DEFAULT, Family, Field, JsonValue, Schema, Type

PRIMITIVES = {
    "null": Type(Family.NULL, name="null"),
    "boolean": Type(Family.BOOLEAN, name="boolean"),
    "int": Type(Family.INTEGER, name="int", bits=32),
    "long": Type(Family.INTEGER, name="long", bits=64),
    "float": Type(Family.FLOAT, name="float", bits=32),
    "double": Type(Family.FLOAT, name="double", bits=64),
    "bytes": Type(Family.BINARY, name="bytes"),
    "string": Type(Family.STRING, name="string"),
}

# logical type -> (the base types it may annotate, the type it reads as)
LOGICAL_TYPES: dict[str, tuple[tuple[str, ...], Type]] = {
    "uuid": (("string", "fixed"), Type(Family.UUID, name="uuid")),
    "date": (("int",), Type(Family.DATE, name="date")),
    "time-millis": (("int",), Type(Family.TIME, name="time-millis", precision=3)),
    "time-micros": (("long",), Type(Family.TIME, name="time-micros", precision=6)),
    "timestamp-millis": (
        ("long",),
        Type(Family.TIMESTAMP, name="timestamp-millis", precision=3, timezone=True),
    ),
    "timestamp-micros": (
        ("long",),
        Type(Family.TIMESTAMP, name="timestamp-micros", precision=6, timezone=True),
    ),
    "timestamp-nanos": (
        ("long",),
        Type(Family.TIMESTAMP, name="timestamp-nanos", precision=9, timezone=True),
    ),
    "local-timestamp-millis": (
        ("long",),
        Type(Family.TIMESTAMP, name="local-timestamp-millis", precision=3, timezone=False),
    ),
    "local-timestamp-micros": (
        ("long",),
        Type(Family.TIMESTAMP, name="local-timestamp-micros", precision=6, timezone=False),
    ),
    "local-timestamp-nanos": (
        ("long",),
        Type(Family.TIMESTAMP, name="local-timestamp-nanos", precision=9, timezone=False),
    ),
    "duration": (("fixed",), Type(Family.INTERVAL, name="duration")),
}

COMPLEX = ("record", "error", "enum", "array", "map", "fixed")


def read_avro(doc: Mapping[str, Any] | str | Path, *, source: str | None = None) -> Schema:
    """Read an Avro record schema (a mapping, or the path of an ``.avsc`` JSON file).

    ``source`` names the document in error messages; it defaults to the path.
    Raises ``SchemaError`` for an unknown type, a missing ``name`` / ``fields``,
    a malformed union, or a top level that is not a record.
    """
    if isinstance(doc, str | Path):
        document, source = load_document(doc, source=source)
    else:
        document = doc
    reader = AvroReader(source=source)
    if not isinstance(document, Mapping) or document.get("type") not in ("record", "error"):
        found = document.get("type") if isinstance(document, Mapping) else document
        raise reader.error(f"the top level must be an Avro record schema, got {found!r}", "")
    record = reader.read(document, "", namespace=None)
    return Schema(fields=record.type.fields, source_format="avro", description=_doc(document))


@dataclass(frozen=True, slots=True)
class AvroValue:
    """What an Avro type says about a value: its type, nullability and enum symbols."""

    type: Type
    nullable: bool = False
    symbols: tuple[str, ...] | None = None


class AvroReader:
    """Reads the types of one Avro document, remembering its named types."""

    def __init__(self, *, source: str | None = None) -> None:
        self.source = source
        self.named: dict[str, AvroValue] = {}
        self.defining: set[str] = set()

    def error(self, message: str, location: str) -> SchemaError:
        return SchemaError(message, source=self.source, location=location or "(top level)")

    def read(self, node: Any, location: str, *, namespace: str | None) -> AvroValue:
        """Any Avro type (a name, a union list or a type object) -> ``AvroValue``."""
        if isinstance(node, str):
            return self._by_name(node, location, namespace)
        if isinstance(node, list):
            return self._union(node, location, namespace)
        if not isinstance(node, Mapping):
            raise self.error(f"expected a type name, union or type object, got {node!r}", location)
        kind = node.get("type")
        if kind is None:
            raise self.error("a type object needs a 'type'", location)
        if not isinstance(kind, str) or kind not in COMPLEX:
            base = self.read(kind, _join(location, "type"), namespace=namespace)
            return self._logical(node, base, kind if isinstance(kind, str) else None)
        if kind in ("record", "error"):
            return self._record(node, location, namespace)
        if kind == "enum":
            return self._enum(node, location, namespace)
        if kind == "fixed":
            return self._fixed(node, location, namespace)
        part = "items" if kind == "array" else "values"
        if part not in node:
            raise self.error(f"an Avro {kind} needs '{part}'", location)
        element = self.read(node[part], _join(location, part), namespace=namespace)
        if kind == "array":
            return AvroValue(Type(Family.ARRAY, items=element.type, item_nullable=element.nullable))
        return AvroValue(
            Type(Family.MAP, keys=PRIMITIVES["string"], items=element.type, item_nullable=element.nullable)
        )

    # -- named types --------------------------------------------------------------------------------

    def _by_name(self, name: str, location: str, namespace: str | None) -> AvroValue:
        if name in PRIMITIVES:
            return AvroValue(PRIMITIVES[name], nullable=name == "null")
        full = _full_name(name, namespace)
        for candidate in (full, name):
            if candidate in self.defining:
                return AvroValue(Type(Family.OBJECT, name=_short(candidate)))
            if candidate in self.named:
                return self.named[candidate]
        raise self.error(
            f"unknown type {name!r}; use a primitive ({', '.join(PRIMITIVES)}) or define the named type "
            "before referring to it",
            location,
        )

    def _declare(
        self, node: Mapping[str, Any], location: str, namespace: str | None
    ) -> tuple[str, str | None]:
        """The full name of a named type and the namespace its members inherit."""
        name = node.get("name")
        if not isinstance(name, str) or not name:
            raise self.error(f"an Avro {node.get('type')} needs a 'name'", location)
        own = node.get("namespace")
        full = _full_name(name, own if isinstance(own, str) and own else namespace)
        if full in self.named or full in self.defining:
            raise self.error(f"the type {full!r} is defined twice; refer to it by name instead", location)
        return full, full.rpartition(".")[0] or None

    def _record(self, node: Mapping[str, Any], location: str, namespace: str | None) -> AvroValue:
        full, inner = self._declare(node, location, namespace)
        members = node.get("fields")
        if not isinstance(members, list):
            raise self.error(f"the record {full!r} needs a 'fields' list", location)
        self.defining.add(full)
        fields = tuple(
            self._field(member, _join(location, f"fields[{i}]"), inner) for i, member in enumerate(members)
        )
        self.defining.discard(full)
        value = AvroValue(Type(Family.OBJECT, name=_short(full), fields=fields))
        self.named[full] = value
        return value

    def _field(self, member: Any, location: str, namespace: str | None) -> Field:
        if not isinstance(member, Mapping):
            raise self.error(f"a record field must be an object, got {member!r}", location)
        name = member.get("name")
        if not isinstance(name, str) or not name:
            raise self.error("a record field needs a 'name'", location)
        if "type" not in member:
            raise self.error(f"the field {name!r} needs a 'type'", location)
        value = self.read(member["type"], _join(location, "type"), namespace=namespace)
        return Field(
            name=name,
            type=value.type,
            required="default" not in member,
            nullable=value.nullable,
            description=_doc(member),
            enum=value.symbols,
            default=member.get("default", NO_DEFAULT),
        )

    def _enum(self, node: Mapping[str, Any], location: str, namespace: str | None) -> AvroValue:
        full, _ = self._declare(node, location, namespace)
        symbols = node.get("symbols")
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            raise self.error(f"the enum {full!r} needs a 'symbols' list of strings", location)
        value = AvroValue(Type(Family.STRING, name=_short(full)), symbols=tuple(symbols))
        self.named[full] = value
        return value

    def _fixed(self, node: Mapping[str, Any], location: str, namespace: str | None) -> AvroValue:
        full, _ = self._declare(node, location, namespace)
        size = node.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise self.error(f"the fixed type {full!r} needs a non-negative integer 'size'", location)
        value = self._logical(node, AvroValue(Type(Family.BINARY, name=_short(full), length=size)), "fixed")
        self.named[full] = value
        return value

    # -- unions and logical types -------------------------------------------------------------------

    def _union(self, branches: list[Any], location: str, namespace: str | None) -> AvroValue:
        if not branches:
            raise self.error("an empty union has no values; list at least one type", location)
        values: list[AvroValue] = []
        seen: set[str] = set()
        for i, branch in enumerate(branches):
            where = f"{location}[{i}]"
            if isinstance(branch, list):
                raise self.error("a union may not directly contain another union; flatten it", where)
            value = self.read(branch, where, namespace=namespace)
            key = value.type.name or value.type.family.value
            if value.type.family in (Family.ARRAY, Family.MAP):
                key = value.type.family.value
            if key in seen:
                raise self.error(f"the union lists {key!r} twice; each type may appear once", where)
            seen.add(key)
            values.append(value)
        present = [v for v in values if v.type.family is not Family.NULL]
        nullable = len(present) < len(values)
        if not present:
            return AvroValue(PRIMITIVES["null"], nullable=True)
        if len(present) == 1:
            return AvroValue(present[0].type, nullable=nullable, symbols=present[0].symbols)
        label = ",".join(v.type.describe() for v in present)
        return AvroValue(Type(Family.ANY, name=f"union<{label}>"), nullable=nullable)

    def _logical(self, node: Mapping[str, Any], base: AvroValue, base_name: str | None) -> AvroValue:
        logical = node.get("logicalType")
        if not isinstance(logical, str):
            return base
        if logical == "decimal" and base_name in ("bytes", "fixed"):
            precision, scale = node.get("precision"), node.get("scale", 0)
            if not _count(precision) or not _count(scale, zero=True) or scale > precision:
                return base
            return AvroValue(Type(Family.DECIMAL, name="decimal", precision=precision, scale=scale))
        bases, kind = LOGICAL_TYPES.get(logical, ((), base.type))
        if base_name not in bases:
            return base
        if logical == "duration" and base.type.length != 12:
            return base
        return AvroValue(kind, nullable=base.nullable)


def _count(value: Any, *, zero: bool = False) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and (value > 0 or (zero and value == 0))


def _full_name(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _short(full: str) -> str:
    return full.rpartition(".")[2]


def _join(location: str, part: str) -> str:
    return f"{location}.{part}" if location else part


def _doc(node: Mapping[str, Any]) -> str | None:
    doc: JsonValue = node.get("doc")
    return doc if isinstance(doc, str) else None


__all__ = ["AvroReader", "AvroValue", "read_avro"]
