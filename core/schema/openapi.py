"""OpenAPI 3.0 / 3.1 document -> one normalized ``Schema`` per shape it declares.

Keys of the result:

- ``components.schemas.<Name>`` for every component schema;
- ``<METHOD> <path> request`` for an operation's JSON request body;
- ``<METHOD> <path> response <status>`` for each JSON response body.

A body is JSON when its media type is ``application/json`` or ends in
``+json`` (parameters such as ``; charset=utf-8`` are ignored); bodies of other
media types are skipped. Schema objects are read by the JSON Schema reader, so
OpenAPI 3.0 ``nullable: true`` and 3.1 ``type: [..., "null"]`` mean the same,
and ``$ref``s into ``components`` resolve (request bodies and responses may
themselves be ``$ref``s). A shape that is not an object becomes a schema with
one required field: ``items`` (an ``ARRAY``) for an array body, ``value`` for
any other; its nullability is the body's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema.exceptions
from jsonschema import Draft202012Validator

from tessera_core.errors import SchemaError
from tessera_core.schema.files import load_document
from tessera_core.schema.jsonschema import JsonSchemaReader, escape, is_object_schema, pointer_of
from tessera_core.schema.model import Family, Schema

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ARRAY_FIELD = "items"
VALUE_FIELD = "value"


def read_openapi(doc: Mapping[str, Any] | str | Path, *, source: str | None = None) -> dict[str, Schema]:
    """Read every component schema and JSON operation body of an OpenAPI 3.0 / 3.1 document.

    ``doc`` is a mapping or the path of a JSON / YAML file; ``source`` names it
    in error messages (default: the path). Raises ``SchemaError`` for another
    OpenAPI version, a malformed schema object or an unresolvable ``$ref``.
    """
    if isinstance(doc, str | Path):
        document, source = load_document(doc, source=source)
    else:
        document = doc
    version = document.get("openapi") if isinstance(document, Mapping) else None
    if not isinstance(version, str) or not version.startswith(("3.0", "3.1")):
        raise SchemaError(
            f"expected an OpenAPI 3.0 or 3.1 document, found openapi version {version!r}; "
            "convert Swagger 2.0 documents to OpenAPI 3 first",
            source=source,
            location="/openapi",
        )
    return OpenApiReader(document, source=source, strict=version.startswith("3.1")).read_all()


class OpenApiReader:
    """Reads the shapes of one OpenAPI document.

    ``strict`` (OpenAPI 3.1) checks each schema object against the JSON Schema
    2020-12 metaschema; 3.0 schema objects are a JSON Schema dialect that the
    metaschema would refuse (``nullable``, boolean ``exclusiveMinimum``).
    """

    def __init__(self, document: Mapping[str, Any], *, source: str | None, strict: bool) -> None:
        self.document = document
        self.source = source
        self.strict = strict
        self.schemas = JsonSchemaReader(document, source=source)

    def read_all(self) -> dict[str, Schema]:
        shapes: dict[str, Schema] = {}
        components = self.document.get("components") or {}
        for name, node in _mapping(components.get("schemas")).items():
            pointer = f"/components/schemas/{escape(name)}"
            shapes[f"components.schemas.{name}"] = self.read_shape(node, pointer, ref=f"#{pointer}")
        for key, node, pointer in self.bodies():
            shapes[key] = self.read_shape(node, pointer)
        return shapes

    def bodies(self) -> Iterator[tuple[str, Any, str]]:
        """``(key, schema object, pointer)`` for every JSON request and response body."""
        for path, item in _mapping(self.document.get("paths")).items():
            item_pointer = f"/paths/{escape(path)}"
            item, item_pointer = self.follow(item, item_pointer)
            for method in METHODS:
                operation = item.get(method)
                if not isinstance(operation, Mapping):
                    continue
                label = f"{method.upper()} {path}"
                op_pointer = f"{item_pointer}/{method}"
                if "requestBody" in operation:
                    body, pointer = self.follow(operation["requestBody"], f"{op_pointer}/requestBody")
                    found = self.json_schema(body, pointer)
                    if found is not None:
                        yield (f"{label} request", *found)
                for status, response in _mapping(operation.get("responses")).items():
                    body, pointer = self.follow(response, f"{op_pointer}/responses/{escape(str(status))}")
                    found = self.json_schema(body, pointer)
                    if found is not None:
                        yield (f"{label} response {status}", *found)

    def json_schema(self, body: Mapping[str, Any], pointer: str) -> tuple[Any, str] | None:
        """The schema object of the first JSON media type of a request body or response."""
        for media, content in _mapping(body.get("content")).items():
            kind = media.split(";", 1)[0].strip().lower()
            json_media = kind == "application/json" or kind.endswith("+json")
            if json_media and isinstance(content, Mapping) and "schema" in content:
                return content["schema"], f"{pointer}/content/{escape(media)}/schema"
        return None

    def follow(self, node: Any, pointer: str) -> tuple[Mapping[str, Any], str]:
        """A request body, response or path item, with its ``$ref`` followed."""
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
            seen.add(node["$ref"])
            node, pointer = self.schemas.resolve(node["$ref"], pointer)
        if not isinstance(node, Mapping):
            raise SchemaError(f"expected an object, got {node!r}", source=self.source, location=pointer)
        return node, pointer

    def read_shape(self, node: Any, pointer: str, *, ref: str = "#") -> Schema:
        """One schema object -> ``Schema``; a non-object is wrapped in one field (see the module doc)."""
        if self.strict:
            self.check(node, pointer)
        if is_object_schema(self.schemas.expanded(node, pointer)):
            return self.schemas.read_schema(node, pointer, source_format="openapi", ref=ref)
        reading = self.schemas.read(node, pointer, (ref,))
        name = ARRAY_FIELD if reading.type.family is Family.ARRAY else VALUE_FIELD
        return Schema(fields=(reading.to_field(name, required=True),), source_format="openapi")

    def check(self, node: Any, pointer: str) -> None:
        try:
            Draft202012Validator.check_schema(node)
        except jsonschema.exceptions.SchemaError as exc:
            raise SchemaError(
                f"not a valid OpenAPI 3.1 schema object: {exc.message}; fix the keyword at this location",
                source=self.source,
                location=pointer + pointer_of(exc.absolute_path).rstrip("/"),
            ) from None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


__all__ = ["OpenApiReader", "read_openapi"]
