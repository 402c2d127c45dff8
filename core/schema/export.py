"""The normalized ``Schema`` -> a JSON Schema object schema, the form the Tessera server stores.

The output is an object schema (``type``, ``properties``, ``required``,
``additionalProperties``, ``description``) that is valid under draft 2020-12
and draft 7 alike (no ``$defs``, no ``prefixItems``). A nullable value is a
type array ``["string", "null"]``; a nullable value without a single JSON type
is ``anyOf: [<value>, {"type": "null"}]``.

Families without a JSON Schema type of their own:

====================  ==========  =====================================
family                ``type``    extra keywords
====================  ==========  =====================================
DECIMAL, FLOAT        number
DATE                  string      ``format: date``
TIME                  string      ``format: time``
TIMESTAMP             string      ``format: date-time``
INTERVAL              string      ``format: duration``
UUID                  string      ``format: uuid``
BINARY                string      ``contentEncoding: base64``
JSON                  object
MAP                   object      ``additionalProperties: <value>``
ANY                   (none)      or a type array for ``string|integer``
====================  ==========  =====================================

Whenever the JSON keyword alone would read back as a different type (another
family, a width, a precision, a named record), the native type is kept under
``x-tessera-type`` (``Type.to_dict`` without its members), which
``read_json_schema`` honours: ``read_json_schema(to_json_schema(s))`` gives
back the fields of ``s``, and for a schema read from JSON Schema gives back
``s`` itself. Only the implied ``format`` of a warehouse family is written
when the field has none; it is dropped again on reading. Table-level facts
(guarantees, ``contract_enforced``, ``access``, dialect) are not part of a
JSON Schema and are not exported.
"""

from __future__ import annotations

from typing import Any

from tessera_core.schema.jsonschema import IMPLIED_FORMATS, NATIVE_TYPE_KEYWORD
from tessera_core.schema.model import Family, Field, Schema, Type

JSON_TYPES = {
    Family.STRING: "string",
    Family.INTEGER: "integer",
    Family.DECIMAL: "number",
    Family.FLOAT: "number",
    Family.NUMBER: "number",
    Family.BOOLEAN: "boolean",
    Family.DATE: "string",
    Family.TIME: "string",
    Family.TIMESTAMP: "string",
    Family.INTERVAL: "string",
    Family.BINARY: "string",
    Family.UUID: "string",
    Family.JSON: "object",
    Family.OBJECT: "object",
    Family.ARRAY: "array",
    Family.MAP: "object",
    Family.NULL: "null",
}

# What the reader makes of a bare ``type`` keyword.
READ_AS = {
    "string": Family.STRING,
    "integer": Family.INTEGER,
    "number": Family.NUMBER,
    "boolean": Family.BOOLEAN,
    "null": Family.NULL,
    "object": Family.OBJECT,
    "array": Family.ARRAY,
}
SHALLOW = ("name", "bits", "length", "precision", "scale", "timezone")


def to_json_schema(schema: Schema) -> dict[str, Any]:
    """The JSON Schema object schema of ``schema`` (see the module doc for the type mapping)."""
    out: dict[str, Any] = {"type": "object"}
    if schema.description is not None:
        out["description"] = schema.description
    out.update(members(schema.fields))
    out.setdefault("properties", {})
    if schema.additional_properties is not None:
        out["additionalProperties"] = schema.additional_properties
    return out


def members(fields: tuple[Field, ...]) -> dict[str, Any]:
    """``properties`` and ``required`` for a tuple of fields (empty parts left out)."""
    out: dict[str, Any] = {}
    if fields:
        out["properties"] = {f.name: field_node(f) for f in fields}
    required = [f.name for f in fields if f.required]
    if required:
        out["required"] = required
    return out


def field_node(field: Field) -> dict[str, Any]:
    """The property schema of one field: its value plus the field-level keywords."""
    node = value_node(field.type, nullable=field.nullable)
    if field.description is not None:
        node["description"] = field.description
    implied = IMPLIED_FORMATS.get(field.type.family)
    if field.format is not None or implied:
        node["format"] = field.format if field.format is not None else implied
    if field.enum is not None:
        node["enum"] = list(field.enum)
    if field.has_default:
        node["default"] = field.default
    for keyword, value in field.constraints:
        node[keyword] = value
    return node


def value_node(kind: Type, *, nullable: bool) -> dict[str, Any]:
    """The schema of a value of type ``kind``, admitting null when ``nullable``."""
    node = type_node(kind)
    if not nullable or kind.family is Family.NULL:
        return node
    declared = node.get("type")
    if isinstance(declared, str):
        node["type"] = [declared, "null"]
    elif isinstance(declared, list):
        node["type"] = [*declared, "null"]
    else:
        node = {"anyOf": [node, {"type": "null"}]}
    return node


def type_node(kind: Type) -> dict[str, Any]:
    """The schema of a non-null value of type ``kind``, with ``x-tessera-type`` where needed."""
    node: dict[str, Any] = {}
    if kind.family is Family.ANY:
        parts = _type_list(kind.name)
        if parts:
            node["type"] = parts
    else:
        node["type"] = JSON_TYPES[kind.family]
    if kind.family is Family.BINARY:
        node["contentEncoding"] = "base64"
    if kind.family is Family.OBJECT:
        node.update(members(kind.fields))
    elif kind.family is Family.ARRAY and kind.items is not None:
        node["items"] = value_node(kind.items, nullable=kind.item_nullable)
    elif kind.family is Family.MAP:
        node["additionalProperties"] = (
            value_node(kind.items, nullable=kind.item_nullable) if kind.items is not None else True
        )
    native = native_type(kind, node)
    if native:
        node[NATIVE_TYPE_KEYWORD] = native
    return node


def native_type(kind: Type, node: dict[str, Any]) -> dict[str, Any]:
    """The ``x-tessera-type`` of ``kind``: empty when ``node`` alone reads back as ``kind``."""
    plain = read_back(node)
    native: dict[str, Any] = {}
    if plain.family is not kind.family or any(getattr(plain, k) != getattr(kind, k) for k in SHALLOW):
        native = {"family": kind.family.value}
        native.update({k: getattr(kind, k) for k in SHALLOW if getattr(kind, k) is not None})
    if plain.keys != kind.keys:
        native.setdefault("family", kind.family.value)
        native["keys"] = kind.keys.to_dict() if kind.keys is not None else None
    return native


def read_back(node: dict[str, Any]) -> Type:
    """The shallow type ``read_json_schema`` gives a node without ``x-tessera-type``."""
    declared = node.get("type")
    if declared is None:
        return Type(Family.ANY)
    if isinstance(declared, list):
        return Type(Family.ANY, name="|".join(declared))
    additional = node.get("additionalProperties")
    if declared == "object" and "properties" not in node and isinstance(additional, dict):
        return Type(Family.MAP, keys=Type(Family.STRING))
    return Type(READ_AS[declared])


def _type_list(name: str | None) -> list[str]:
    """``"string|integer"`` -> ``["string", "integer"]``; ``[]`` unless it names two or more JSON types."""
    parts = (name or "").split("|")
    if len(parts) < 2 or len(set(parts)) < len(parts):
        return []
    if not all(p in READ_AS and p != "null" for p in parts):
        return []
    return parts


__all__ = ["to_json_schema"]
