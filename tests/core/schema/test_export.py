"""to_json_schema: Schema -> the JSON Schema object schema the Tessera server stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from tessera_core.schema.avro import read_avro
from tessera_core.schema.export import to_json_schema
from tessera_core.schema.jsonschema import read_json_schema
from tessera_core.schema.model import Family, Field, Schema, Type

FIXTURES = Path(__file__).parent / "fixtures"
EXCHANGES = Path(__file__).resolve().parents[3].parent / "shared" / "tessera-api" / "exchanges.json"

# -- a strategy for JSON Schema documents within what the reader supports -----------------------------

NAMES = st.text(alphabet="abcdefgh_/~", min_size=1, max_size=5)
JSON_SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.text(alphabet="xyz", max_size=3)
SCALAR_TYPES = st.sampled_from(["string", "integer", "number", "boolean"])
CONSTRAINTS = st.dictionaries(
    st.sampled_from(["minLength", "maxLength", "minimum", "maximum", "multipleOf", "minItems", "maxItems"]),
    st.integers(1, 20),
    max_size=2,
) | st.just({"pattern": "^a+$", "uniqueItems": True})


@st.composite
def facets(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = draw(CONSTRAINTS)
    if draw(st.booleans()):
        out["description"] = draw(st.text(max_size=8))
    if draw(st.booleans()):
        out["format"] = draw(st.sampled_from(["date-time", "date", "uuid", "email"]))
    choice = draw(st.integers(0, 3))
    if choice == 1:
        out["enum"] = draw(st.lists(JSON_SCALARS, min_size=1, max_size=3, unique_by=lambda v: (type(v), v)))
    elif choice == 2:
        out["const"] = draw(JSON_SCALARS)
    if draw(st.booleans()):
        out["default"] = draw(JSON_SCALARS)
    return out


def nullable_forms(node: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    forms = [st.just(node), st.just({"anyOf": [node, {"type": "null"}]})]
    if isinstance(node.get("type"), str):
        forms.append(st.just({**node, "type": [node["type"], "null"]}))
        forms.append(st.just({**node, "nullable": True}))
    return st.one_of(forms)


@st.composite
def scalar(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        node: dict[str, Any] = {}
    elif kind == 1:
        node = {"type": draw(st.lists(SCALAR_TYPES, min_size=2, max_size=3, unique=True))}
    else:
        node = {"type": draw(SCALAR_TYPES)}
    node.update(draw(facets()))
    return draw(nullable_forms(node))


def composite(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        kind = draw(st.integers(0, 2))
        if kind == 0:
            node = object_node(draw, children)
        elif kind == 1:
            node = {"type": "array", "items": draw(children)}
        else:
            node = {"type": "object", "additionalProperties": draw(children)}
        return draw(nullable_forms(node))

    return build()


def object_node(draw: st.DrawFn, children: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    properties = draw(st.dictionaries(NAMES, children, max_size=4))
    node: dict[str, Any] = {"type": "object", "properties": properties}
    required = draw(st.lists(st.sampled_from(sorted(properties)), unique=True)) if properties else []
    if required:
        node["required"] = required
    return node


NODES = st.recursive(scalar(), composite, max_leaves=8)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    document = object_node(draw, NODES)
    additional = draw(st.sampled_from([None, True, False]))
    if additional is not None:
        document["additionalProperties"] = additional
    if draw(st.booleans()):
        document["description"] = draw(st.text(max_size=10))
    return document


# -- properties and examples --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(documents())
def test_reading_the_export_gives_back_the_schema(document: dict[str, Any]) -> None:
    schema = read_json_schema(document)
    assert read_json_schema(to_json_schema(schema)) == schema


@settings(max_examples=60, deadline=None)
@given(documents())
def test_export_is_valid_under_draft7_and_2020_12(document: dict[str, Any]) -> None:
    exported = to_json_schema(read_json_schema(document))
    Draft7Validator.check_schema(exported)
    Draft202012Validator.check_schema(exported)


def test_server_request_bodies_export_unchanged() -> None:
    exchanges = json.loads(EXCHANGES.read_text())
    bodies = [
        e["request"]["schema"]
        for e in exchanges
        if e["path"].endswith("/publish") and "schema" in (e["request"] or {})
    ]
    assert bodies
    for body in bodies:
        assert to_json_schema(read_json_schema(body)) == body


def test_nullable_as_type_array() -> None:
    schema = Schema(fields=(Field("email", Type(Family.STRING), nullable=True, format="email"),))
    assert to_json_schema(schema)["properties"]["email"] == {"type": ["string", "null"], "format": "email"}


def test_object_shape_with_required_and_closed_content() -> None:
    schema = Schema(
        fields=(
            Field("id", Type(Family.INTEGER), required=True, nullable=False),
            Field("tags", Type(Family.ARRAY, items=Type(Family.STRING), item_nullable=False), nullable=False),
        ),
        additional_properties=False,
    )
    assert to_json_schema(schema) == {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["id"],
        "additionalProperties": False,
    }


def test_warehouse_families_map_to_json_types_with_native_type_kept() -> None:
    schema = Schema(
        fields=(
            Field("amount", Type(Family.DECIMAL, name="NUMERIC", precision=18, scale=4), nullable=False),
            Field("day", Type(Family.DATE, name="DATE"), nullable=False),
            Field("at", Type(Family.TIMESTAMP, name="TIMESTAMPTZ", timezone=True), nullable=False),
            Field("blob", Type(Family.BINARY, name="BYTEA"), nullable=False),
        ),
        source_format="dbt",
    )
    properties = to_json_schema(schema)["properties"]
    assert properties["amount"] == {
        "type": "number",
        "x-tessera-type": {"family": "decimal", "name": "NUMERIC", "precision": 18, "scale": 4},
    }
    assert properties["day"] == {
        "type": "string",
        "format": "date",
        "x-tessera-type": {"family": "date", "name": "DATE"},
    }
    assert properties["at"]["type"] == "string" and properties["at"]["format"] == "date-time"
    assert properties["blob"]["contentEncoding"] == "base64"


def test_any_type_that_is_nullable_uses_any_of() -> None:
    schema = Schema(fields=(Field("payload", Type(Family.ANY), nullable=True),))
    assert to_json_schema(schema)["properties"]["payload"] == {"anyOf": [{}, {"type": "null"}]}


def test_avro_schema_survives_export_and_read_back() -> None:
    schema = read_avro(FIXTURES / "user.avsc")
    back = read_json_schema(to_json_schema(schema))
    assert back.fields == schema.fields


def test_recursive_marker_survives_export() -> None:
    schema = read_json_schema(FIXTURES / "category_tree.schema.json")
    exported = to_json_schema(schema)
    parent = exported["properties"]["root"]["properties"]["parent"]
    assert parent["type"] == ["object", "null"]
    assert parent["x-tessera-type"] == {"family": "object", "name": "Category"}
    assert read_json_schema(exported) == schema


def test_map_with_non_string_keys_keeps_its_keys() -> None:
    kind = Type(Family.MAP, keys=Type(Family.INTEGER, name="INT", bits=32), items=Type(Family.STRING))
    schema = Schema(fields=(Field("m", kind, nullable=False),))
    node = to_json_schema(schema)["properties"]["m"]
    assert node["additionalProperties"] == {"type": ["string", "null"]}
    assert read_json_schema(to_json_schema(schema)).fields == schema.fields
