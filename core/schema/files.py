"""Schema files: load a JSON / YAML document, and pick the reader for a file.

``read_schema_file`` dispatches on an explicit ``format``, else on the file's
extension (``.avsc`` Avro, ``.graphql`` / ``.gql`` GraphQL), else on its
content (a document with an ``openapi`` key is OpenAPI, anything else JSON
Schema). Formats that hold one schema return ``{file stem: schema}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tessera_core.errors import SchemaError
from tessera_core.schema.model import Schema

FORMATS = ("json_schema", "avro", "openapi", "graphql")
YAML_SUFFIXES = (".yaml", ".yml")
GRAPHQL_SUFFIXES = (".graphql", ".gql", ".graphqls")


def load_document(path: str | Path, *, source: str | None = None) -> tuple[Any, str]:
    """Parse a JSON or YAML file (YAML for ``.yaml`` / ``.yml``) -> ``(document, source)``.

    ``source`` defaults to the path. An unreadable file or a syntax error is a
    ``SchemaError`` with the ``line:column`` of the problem.
    """
    path = Path(path)
    source = source or str(path)
    text = read_text(path, source=source)
    if path.suffix.lower() in YAML_SUFFIXES:
        return parse_yaml(text, source=source), source
    return parse_json(text, source=source), source


def read_text(path: Path, *, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError("file not found; check the path", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(
            f"cannot read the file ({exc}); check that it is a UTF-8 text file", source=source
        ) from None


def parse_json(text: str, *, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"invalid JSON: {exc.msg}", source=source, location=f"{exc.lineno}:{exc.colno}"
        ) from None


def parse_yaml(text: str, *, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        location = f"{mark.line + 1}:{mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaError(f"invalid YAML: {problem}", source=source, location=location) from None


def detect_format(path: Path, document: Any | None = None) -> str:
    """The format of a schema file, from its extension, else from its content."""
    suffix = path.suffix.lower()
    if suffix == ".avsc":
        return "avro"
    if suffix in GRAPHQL_SUFFIXES:
        return "graphql"
    if isinstance(document, dict) and "openapi" in document:
        return "openapi"
    return "json_schema"


def read_schema_file(path: str | Path, *, format: str | None = None) -> dict[str, Schema]:
    """Read every schema in a file, keyed by name.

    ``format`` is one of ``json_schema``, ``avro``, ``openapi``, ``graphql``;
    ``None`` (the default) detects it. JSON Schema and Avro files hold one
    schema, returned under the file's stem; OpenAPI and GraphQL files return
    one schema per type / operation body.
    """
    # The readers load documents with this module's helpers, so they are imported here, not at the top.
    from tessera_core.schema.avro import read_avro
    from tessera_core.schema.graphql import read_graphql
    from tessera_core.schema.jsonschema import read_json_schema
    from tessera_core.schema.openapi import read_openapi

    path = Path(path)
    source = str(path)
    if format is not None and format not in FORMATS:
        raise SchemaError(f"unknown schema format {format!r}; use one of {', '.join(FORMATS)}", source=source)
    if format == "graphql" or (format is None and path.suffix.lower() in GRAPHQL_SUFFIXES):
        graphql_shapes: dict[str, Schema] = read_graphql(path, source=source)
        return graphql_shapes
    document, _ = load_document(path, source=source)
    format = format or detect_format(path, document)
    if format == "openapi":
        openapi_shapes: dict[str, Schema] = read_openapi(document, source=source)
        return openapi_shapes
    reader: Callable[..., Schema] = read_avro if format == "avro" else read_json_schema
    return {path.stem: reader(document, source=source)}


__all__ = ["FORMATS", "detect_format", "load_document", "read_schema_file"]
