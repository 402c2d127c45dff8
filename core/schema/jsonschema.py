"""JSON Schema (draft 7 and 2020-12) -> the normalized ``Schema``.

The document is first checked against its metaschema. Local ``$ref``s (any
JSON pointer into the document, or a ``$anchor``) are expanded in place; a ref
that is already being expanded (a recursive type) becomes an ``OBJECT`` type
carrying only the ref's name. External refs are refused.

Mapping rules:

- ``type`` keeps its family (``integer``, ``number``, ``string``, ``boolean``,
  ``null``, ``object``, ``array``); ``format`` stays on the ``Field`` and never
  changes the family. No ``type`` is ``ANY``, except that a node with
  ``properties`` is read as an object.
- nullability comes from ``type: [..., "null"]``, an ``anyOf`` / ``oneOf``
  branch ``{"type": "null"}`` or OpenAPI 3.0 ``nullable: true``; otherwise a
  field is not nullable. Several non-null types read as ``ANY`` named
  ``"string|integer"``.
- an object with only a schema-valued ``additionalProperties`` is a ``MAP``
  from strings; array elements and map values carry their nullability in
  ``Type.item_nullable``.
- ``allOf`` branches are merged (properties joined, ``required`` united).
- ``x-tessera-type`` (written by ``export.to_json_schema``) restores a native
  type that JSON Schema cannot spell, so that exporting and reading back loses
  nothing.

``JsonSchemaReader`` is shared with the OpenAPI reader, whose schema objects
are JSON Schema plus ``nullable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema.exceptions
from jsonschema import validators

from tessera_core.errors import SchemaError
from tessera_core.schema.files import load_document
from tessera_core.schema.model import NO_DEFAULT, Family, Field, JsonValue, Schema, Type, constraints_from

CONSTRAINT_KEYWORDS = (
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)

NATIVE_TYPE_KEYWORD = "x-tessera-type"

SCALAR_FAMILIES = {
    "integer": Family.INTEGER,
    "number": Family.NUMBER,
    "string": Family.STRING,
    "boolean": Family.BOOLEAN,
    "null": Family.NULL,
}

# The parameters ``x-tessera-type`` may carry, with their JSON types.
NATIVE_PARAMETERS: dict[str, type] = {
    "name": str,
    "bits": int,
    "length": int,
    "precision": int,
    "scale": int,
    "timezone": bool,
}

# The format each warehouse family is exported with; read back, it is implied by the native type.
IMPLIED_FORMATS = {
    Family.DATE: "date",
    Family.TIME: "time",
    Family.TIMESTAMP: "date-time",
    Family.INTERVAL: "duration",
    Family.UUID: "uuid",
}


def read_json_schema(doc: Mapping[str, Any] | str | Path, *, source: str | None = None) -> Schema:
    """Read a JSON Schema object schema (a mapping, or the path of a JSON / YAML file).

    ``source`` names the document in error messages; it defaults to the path.
    Raises ``SchemaError`` (with a JSON pointer ``location``) for a document
    that fails its metaschema, an unresolvable or external ``$ref``, or a top
    level that is not an object schema.
    """
    if isinstance(doc, str | Path):
        document, source = load_document(doc, source=source)
    else:
        document = doc
    if not isinstance(document, Mapping):
        raise SchemaError(
            f"expected a JSON Schema object, got {type(document).__name__}; the top level must be an "
            "object schema",
            source=source,
            location="/",
        )
    check_metaschema(document, source=source)
    return JsonSchemaReader(document, source=source).read_schema(document, "", source_format="json_schema")


def check_metaschema(document: Mapping[str, Any], *, source: str | None) -> None:
    """Validate ``document`` against the metaschema its ``$schema`` names (2020-12 when absent)."""
    validator = validators.validator_for(document)
    try:
        validator.check_schema(dict(document))
    except jsonschema.exceptions.SchemaError as exc:
        raise SchemaError(
            f"not a valid JSON Schema: {exc.message}; fix the keyword at this location",
            source=source,
            location=pointer_of(exc.absolute_path),
        ) from None


def pointer_of(parts: Any) -> str:
    """A JSON pointer from path parts: ``["properties", "a/b"]`` -> ``/properties/a~1b``."""
    return "".join("/" + escape(str(part)) for part in parts) or "/"


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return unquote(token).replace("~1", "/").replace("~0", "~")


@dataclass(frozen=True, slots=True)
class Reading:
    """What one schema node says about a value: its type, nullability and field-level facets."""

    type: Type
    nullable: bool
    facets: Mapping[str, Any] = field(default_factory=dict)

    def to_field(self, name: str, *, required: bool) -> Field:
        facets = self.facets
        enum = facets.get("enum")
        return Field(
            name=name,
            type=self.type,
            required=required,
            nullable=self.nullable,
            description=facets.get("description"),
            format=facets.get("format"),
            enum=tuple(enum) if enum is not None else None,
            default=facets.get("default", NO_DEFAULT),
            constraints=constraints_from(dict(facets.get("constraints", {}))),
        )


class JsonSchemaReader:
    """Reads schema nodes of one document; ``$ref``s resolve against ``root``.

    ``source`` names the document in error messages. Locations are JSON
    pointers into ``root``.
    """

    def __init__(self, root: Mapping[str, Any], *, source: str | None = None) -> None:
        self.root = root
        self.source = source

    # -- entry points -------------------------------------------------------------------------------

    def read_schema(self, node: Any, pointer: str, *, source_format: str, ref: str = "#") -> Schema:
        """A top-level object schema -> ``Schema``; anything else is a ``SchemaError``.

        ``ref`` is the reference that names ``node`` (``#`` for a document's
        root), so that the node referring to itself reads as recursive.
        """
        body, pointer, stack, recursive = self._expand(node, pointer, (ref,))
        if recursive is not None:
            raise self.error(f"the schema is only a recursive $ref to {recursive!r}", pointer)
        body = self._merge_all_of(body, pointer, stack)
        if not is_object_schema(body):
            raise self.error(
                f"the top level must be an object schema (type: object with properties), "
                f"got type {body.get('type', 'unspecified')!r}",
                pointer,
            )
        return Schema(
            fields=self._fields(body, pointer, stack),
            source_format=source_format,
            additional_properties=open_content(body),
            description=body.get("description"),
        )

    def expanded(self, node: Any, pointer: str) -> Mapping[str, Any]:
        """``node`` with its ``$ref``s followed and its ``allOf`` merged (to look at, not to read)."""
        body, pointer, stack, _ = self._expand(node, pointer, ())
        return self._merge_all_of(body, pointer, stack)

    def read(self, node: Any, pointer: str, stack: tuple[str, ...] = ("#",)) -> Reading:
        """Any schema node -> its ``Reading``."""
        body, pointer, stack, recursive = self._expand(node, pointer, stack)
        own_nullable = body.get("nullable") is True
        if recursive is not None:
            return Reading(Type(Family.OBJECT, name=recursive), own_nullable, facets_of(body))
        body = self._merge_all_of(body, pointer, stack)
        own_facets = facets_of(body)
        for keyword in ("anyOf", "oneOf"):
            if keyword in body and "type" not in body:
                return self._read_branches(body, keyword, pointer, stack, own_facets, own_nullable)
        return self._read_typed(body, pointer, stack, own_facets, own_nullable)

    def error(self, message: str, pointer: str) -> SchemaError:
        return SchemaError(message, source=self.source, location=pointer or "/")

    # -- one node -----------------------------------------------------------------------------------

    def _read_typed(
        self,
        body: Mapping[str, Any],
        pointer: str,
        stack: tuple[str, ...],
        facets: dict[str, Any],
        nullable: bool,
    ) -> Reading:
        declared = body.get("type")
        if declared is None:
            names = ["object"] if "properties" in body else []
        elif isinstance(declared, str):
            names = [declared]
        elif isinstance(declared, list) and all(isinstance(t, str) for t in declared):
            names = list(declared)
        else:
            raise self.error(
                f"'type' must be a string or a list of strings, got {declared!r}", pointer + "/type"
            )
        if "null" in names:
            nullable = True
            names = [n for n in names if n != "null"] or ["null"]
        if len(names) > 1:
            kind = Type(Family.ANY, name="|".join(names))
        elif not names:
            kind = Type(Family.ANY)
        else:
            kind = self._type_named(names[0], body, pointer, stack)
        if kind.family is Family.NULL:
            nullable = True
        kind = self._apply_native(kind, body, pointer, facets)
        return Reading(kind, nullable, facets)

    def _type_named(self, name: str, body: Mapping[str, Any], pointer: str, stack: tuple[str, ...]) -> Type:
        if name in SCALAR_FAMILIES:
            return Type(SCALAR_FAMILIES[name])
        if name == "object":
            additional = body.get("additionalProperties")
            if "properties" not in body and isinstance(additional, Mapping):
                value = self.read(additional, pointer + "/additionalProperties", stack)
                return Type(
                    Family.MAP, keys=Type(Family.STRING), items=value.type, item_nullable=value.nullable
                )
            return Type(Family.OBJECT, fields=self._fields(body, pointer, stack))
        if name == "array":
            items = body.get("items")
            if isinstance(items, Mapping | bool):
                element = self.read(items, pointer + "/items", stack)
                return Type(Family.ARRAY, items=element.type, item_nullable=element.nullable)
            return Type(Family.ARRAY)
        raise self.error(
            f"unknown type {name!r}; use one of {', '.join([*SCALAR_FAMILIES, 'object', 'array'])}",
            pointer + "/type",
        )

    def _read_branches(
        self,
        body: Mapping[str, Any],
        keyword: str,
        pointer: str,
        stack: tuple[str, ...],
        facets: dict[str, Any],
        nullable: bool,
    ) -> Reading:
        branches = body[keyword]
        if not isinstance(branches, list) or not branches:
            raise self.error(f"{keyword!r} must be a non-empty list of schemas", f"{pointer}/{keyword}")
        readings = [self.read(b, f"{pointer}/{keyword}/{i}", stack) for i, b in enumerate(branches)]
        values = [r for r in readings if r.type.family is not Family.NULL]
        nullable = nullable or len(values) < len(readings) or any(r.nullable for r in values)
        if not values:
            return Reading(Type(Family.NULL), True, facets)
        if len(values) == 1:
            return Reading(values[0].type, nullable, {**values[0].facets, **facets})
        labels = list(dict.fromkeys(type_label(r.type) for r in values))
        return Reading(Type(Family.ANY, name="|".join(labels)), nullable, facets)

    def _fields(self, body: Mapping[str, Any], pointer: str, stack: tuple[str, ...]) -> tuple[Field, ...]:
        properties = body.get("properties") or {}
        if not isinstance(properties, Mapping):
            raise self.error("'properties' must be an object of schemas", pointer + "/properties")
        required = body.get("required") or []
        if not isinstance(required, list):
            raise self.error("'required' must be a list of property names", pointer + "/required")
        # Fields come from ``properties``, as on the Tessera server: a name listed only in
        # ``required`` is not a field (so dropping its property is reported as a removal).
        return tuple(
            self.read(sub, f"{pointer}/properties/{escape(name)}", stack).to_field(
                name, required=name in required
            )
            for name, sub in properties.items()
        )

    def _apply_native(
        self, kind: Type, body: Mapping[str, Any], pointer: str, facets: dict[str, Any]
    ) -> Type:
        native = body.get(NATIVE_TYPE_KEYWORD)
        if native is None:
            return kind
        location = f"{pointer}/{NATIVE_TYPE_KEYWORD}"
        if not isinstance(native, Mapping):
            raise self.error(f"{NATIVE_TYPE_KEYWORD} must be an object with a 'family'", location)
        try:
            family = Family(str(native.get("family")))
        except ValueError:
            raise self.error(
                f"unknown family {native.get('family')!r} in {NATIVE_TYPE_KEYWORD}; "
                f"use one of {', '.join(f.value for f in Family)}",
                location,
            ) from None
        for key, expected in NATIVE_PARAMETERS.items():
            value = native.get(key)
            if value is not None and not _is_a(value, expected):
                raise self.error(f"{NATIVE_TYPE_KEYWORD}.{key} must be a {expected.__name__}", location)
        if family in IMPLIED_FORMATS and facets.get("format") == IMPLIED_FORMATS[family]:
            del facets["format"]
        return Type(
            family,
            name=native.get("name"),
            bits=native.get("bits"),
            length=native.get("length"),
            precision=native.get("precision"),
            scale=native.get("scale"),
            timezone=native.get("timezone"),
            items=kind.items,
            keys=self._native_keys(native, location) if "keys" in native else kind.keys,
            fields=kind.fields,
            item_nullable=kind.item_nullable,
        )

    def _native_keys(self, native: Mapping[str, Any], location: str) -> Type | None:
        if native["keys"] is None:
            return None
        try:
            return Type.from_dict(native["keys"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self.error(
                f"'keys' in {NATIVE_TYPE_KEYWORD} must be a type object with a 'family'", location
            ) from None

    # -- $ref and allOf -----------------------------------------------------------------------------

    def _expand(
        self, node: Any, pointer: str, stack: tuple[str, ...]
    ) -> tuple[Mapping[str, Any], str, tuple[str, ...], str | None]:
        """Follow ``$ref``s; sibling keywords override the target's.

        Returns the expanded body, its pointer, the refs being expanded and,
        for a recursive ref, the name of the type it refers to.
        """
        if isinstance(node, bool):
            return {}, pointer, stack, None
        if not isinstance(node, Mapping):
            raise self.error(f"expected a schema object, got {type(node).__name__}", pointer)
        body: Mapping[str, Any] = node
        while "$ref" in body:
            ref = body["$ref"]
            siblings = {k: v for k, v in body.items() if k != "$ref"}
            if not isinstance(ref, str):
                raise self.error(f"'$ref' must be a string, got {ref!r}", pointer + "/$ref")
            if ref in stack:
                return siblings, pointer, stack, ref_name(ref, self.root)
            target, target_pointer = self.resolve(ref, pointer)
            body = {**target, **siblings}
            pointer, stack = target_pointer, (*stack, ref)
        return body, pointer, stack, None

    def resolve(self, ref: str, pointer: str) -> tuple[Mapping[str, Any], str]:
        """The object a local ``$ref`` (found at ``pointer``) points at, and its pointer."""
        where = pointer + "/$ref"
        if not ref.startswith("#"):
            raise self.error(
                f"external $ref {ref!r} is not supported; bundle the referenced schema into this document "
                "(under $defs) and refer to it as '#/$defs/<name>'",
                where,
            )
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):
            found = find_anchor(self.root, fragment)
            if found is None:
                raise self.error(f"unresolvable $ref {ref!r}: no $anchor {fragment!r} in the document", where)
            return found
        target: Any = self.root
        for token in fragment.split("/")[1:]:
            part = _unescape(token)
            if isinstance(target, Mapping) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise self.error(
                    f"unresolvable $ref {ref!r}: {part!r} does not exist; define it or fix the reference",
                    where,
                )
        if isinstance(target, bool):
            return {}, fragment
        if not isinstance(target, Mapping):
            raise self.error(f"$ref {ref!r} points at a {type(target).__name__}, not a schema", where)
        return target, fragment

    def _merge_all_of(
        self, body: Mapping[str, Any], pointer: str, stack: tuple[str, ...]
    ) -> Mapping[str, Any]:
        branches = body.get("allOf")
        if branches is None:
            return body
        if not isinstance(branches, list):
            raise self.error("'allOf' must be a list of schemas", pointer + "/allOf")
        merged: dict[str, Any] = {k: v for k, v in body.items() if k != "allOf"}
        for i, branch in enumerate(branches):
            part, part_pointer, part_stack, recursive = self._expand(branch, f"{pointer}/allOf/{i}", stack)
            if recursive is not None:
                continue
            part = self._merge_all_of(part, part_pointer, part_stack)
            for key, value in part.items():
                if key == "properties" and isinstance(value, Mapping):
                    known = merged.get("properties", {})
                    merged["properties"] = {**known, **{k: v for k, v in value.items() if k not in known}}
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                else:
                    merged.setdefault(key, value)
        return merged


def _is_a(value: Any, expected: type) -> bool:
    """``isinstance`` that keeps booleans and integers apart, as JSON does."""
    return isinstance(value, expected) and (isinstance(value, bool) is (expected is bool))


def open_content(body: Mapping[str, Any]) -> bool | None:
    """``additionalProperties`` as a flag: a schema counts as open, absence as unspecified."""
    additional = body.get("additionalProperties")
    if isinstance(additional, bool):
        return additional
    return True if isinstance(additional, Mapping) else None


def is_object_schema(body: Mapping[str, Any]) -> bool:
    declared = body.get("type")
    if declared is None:
        return "properties" in body
    return declared == "object" or (isinstance(declared, list) and "object" in declared)


def facets_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The field-level keywords of a node: format, enum / const, default, description, constraints."""
    facets: dict[str, Any] = {}
    if isinstance(body.get("format"), str):
        facets["format"] = body["format"]
    if isinstance(body.get("enum"), list):
        facets["enum"] = tuple(body["enum"])
    elif "const" in body:
        facets["enum"] = (body["const"],)
    if "default" in body:
        facets["default"] = body["default"]
    if isinstance(body.get("description"), str):
        facets["description"] = body["description"]
    constraints: dict[str, JsonValue] = {k: body[k] for k in CONSTRAINT_KEYWORDS if k in body}
    if constraints:
        facets["constraints"] = constraints
    return facets


def type_label(kind: Type) -> str:
    """The JSON Schema spelling of a type, used to name unions: ``string``, ``object``, ``any``."""
    label: str = kind.name if kind.name and kind.family in (Family.ANY, Family.OBJECT) else kind.family.value
    return label


def ref_name(ref: str, root: Mapping[str, Any]) -> str:
    """The name a ref gives its type: the last pointer token, or the root's title for ``#``."""
    fragment = ref.partition("#")[2]
    if not fragment:
        title = root.get("title")
        return str(title) if isinstance(title, str) else "root"
    return _unescape(fragment.rsplit("/", 1)[-1])


def find_anchor(node: Any, anchor: str, pointer: str = "") -> tuple[Mapping[str, Any], str] | None:
    """The subschema declaring ``$anchor: anchor`` and its pointer, searched depth first."""
    if isinstance(node, Mapping):
        if node.get("$anchor") == anchor:
            return node, pointer or "/"
        children: list[tuple[str, Any]] = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, list):
        children = [(str(i), v) for i, v in enumerate(node)]
    else:
        return None
    for key, child in children:
        found = find_anchor(child, anchor, f"{pointer}/{escape(key)}")
        if found is not None:
            return found
    return None


__all__ = ["JsonSchemaReader", "Reading", "check_metaschema", "read_json_schema"]
