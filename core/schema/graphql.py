"""GraphQL SDL -> one normalized ``Schema`` per object type and input type.

Every object type (the ``Query`` / ``Mutation`` / ``Subscription`` roots
included: they are shapes too) and every input type gives one schema, keyed by
the type's name; introspection types (``__Type`` ...) are left out.

Mapping: ``Int`` INTEGER (32 bits), ``Float`` FLOAT (64 bits), ``String``,
``Boolean``, ``ID`` (STRING with format ``id``); an enum is a STRING named
after the enum with its values in ``Field.enum``; a custom scalar is ANY
carrying its name; a list is an ARRAY whose ``item_nullable`` says whether
its elements may be null; a union is ANY named after the union. A field of
object, interface or input type is an OBJECT named after the type with its
fields nested; a type already being expanded on the current path, or one
nested deeper than ``max_depth`` levels, becomes an OBJECT carrying only its
name (densely linked schemas would otherwise expand combinatorially; every
type also has a schema of its own). Non-null (``!``) means ``nullable=False``, and
for an input field without a default also ``required=True``. Field arguments
are not part of a shape and are not read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_ast_schema,
    parse,
    value_from_ast_untyped,
)
from graphql.validation.validate import validate_sdl

from tessera_core.errors import SchemaError
from tessera_core.schema.files import read_text
from tessera_core.schema.model import NO_DEFAULT, Family, Field, Schema, Type

SCALARS = {
    "Int": Type(Family.INTEGER, name="Int", bits=32),
    "Float": Type(Family.FLOAT, name="Float", bits=64),
    "String": Type(Family.STRING, name="String"),
    "Boolean": Type(Family.BOOLEAN, name="Boolean"),
    "ID": Type(Family.STRING, name="ID"),
}
ID_FORMAT = "id"
DEFAULT_MAX_DEPTH = 3

ShapeType = GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType


def read_graphql(
    sdl: str | Path, *, source: str | None = None, max_depth: int = DEFAULT_MAX_DEPTH
) -> dict[str, Schema]:
    """Read the object and input types of a GraphQL schema.

    ``sdl`` is SDL text, or a ``Path`` to a ``.graphql`` file (``source`` then
    defaults to the path). ``max_depth`` (default 3) is how many levels of
    object-typed fields are nested before a type is given by name only.
    Syntax and validation errors (an unknown type, a type defined twice) are
    ``SchemaError``s located at ``line:column``.
    """
    if isinstance(sdl, Path):
        source = source or str(sdl)
        text = read_text(sdl, source=source)
    else:
        text = sdl
    schema = build(text, source=source)
    return {
        name: shape_schema(kind, max_depth=max_depth)
        for name, kind in schema.type_map.items()
        if not name.startswith("__") and isinstance(kind, GraphQLObjectType | GraphQLInputObjectType)
    }


def build(sdl: str, *, source: str | None) -> GraphQLSchema:
    """Parse and validate SDL text into a ``GraphQLSchema``."""
    try:
        document = parse(sdl)
    except GraphQLError as exc:
        raise _error(exc, "GraphQL syntax error", source) from None
    problems = validate_sdl(document)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _error(first, f"invalid GraphQL schema{more}", source)
    return build_ast_schema(document, assume_valid_sdl=True)


def shape_schema(kind: ShapeType, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Schema:
    return Schema(
        fields=shape_fields(kind, (kind.name,), max_depth),
        source_format="graphql",
        description=kind.description,
    )


def shape_fields(kind: ShapeType, path: tuple[str, ...], max_depth: int) -> tuple[Field, ...]:
    """The fields of an object / interface / input type; ``path`` holds the types being expanded."""
    is_input = isinstance(kind, GraphQLInputObjectType)
    fields: list[Field] = []
    for name, member in kind.fields.items():
        value_type, nullable = _unwrap(member.type)
        default = _default(member) if is_input else NO_DEFAULT
        fields.append(
            Field(
                name=name,
                type=type_of(value_type, path, max_depth),
                required=is_input and not nullable and default is NO_DEFAULT,
                nullable=nullable,
                description=member.description,
                format=ID_FORMAT if _is_id(value_type) else None,
                enum=tuple(value_type.values) if isinstance(value_type, GraphQLEnumType) else None,
                default=default,
            )
        )
    return tuple(fields)


def type_of(kind: Any, path: tuple[str, ...], max_depth: int) -> Type:
    """A GraphQL type without its outer ``!`` -> ``Type``."""
    if isinstance(kind, GraphQLList):
        element, element_nullable = _unwrap(kind.of_type)
        return Type(Family.ARRAY, items=type_of(element, path, max_depth), item_nullable=element_nullable)
    if isinstance(kind, GraphQLScalarType):
        return SCALARS.get(kind.name, Type(Family.ANY, name=kind.name))
    if isinstance(kind, GraphQLEnumType):
        return Type(Family.STRING, name=kind.name)
    if isinstance(kind, GraphQLUnionType):
        return Type(Family.ANY, name=kind.name)
    if kind.name in path or len(path) > max_depth:
        return Type(Family.OBJECT, name=kind.name)
    return Type(Family.OBJECT, name=kind.name, fields=shape_fields(kind, (*path, kind.name), max_depth))


def _unwrap(kind: Any) -> tuple[Any, bool]:
    """``T!`` -> ``(T, False)``; ``T`` -> ``(T, True)``."""
    if isinstance(kind, GraphQLNonNull):
        return kind.of_type, False
    return kind, True


def _is_id(kind: Any) -> bool:
    return isinstance(kind, GraphQLScalarType) and kind.name == "ID"


def _default(member: Any) -> Any:
    node = member.ast_node
    if node is None or node.default_value is None:
        return NO_DEFAULT
    return value_from_ast_untyped(node.default_value)


def _error(exc: GraphQLError, what: str, source: str | None) -> SchemaError:
    location = None
    if exc.locations:
        line, column = exc.locations[0].line, exc.locations[0].column
        location = f"{line}:{column}"
    message = exc.message.removeprefix("Syntax Error: ")
    return SchemaError(
        f"{what}: {message}; fix the SDL at this line and column", source=source, location=location
    )


__all__ = ["read_graphql"]
