"""read_json_schema: JSON Schema documents (drafts 7 and 2020-12) -> Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tessera_core.errors import SchemaError
from tessera_core.schema.jsonschema import read_json_schema
from tessera_core.schema.model import NO_DEFAULT, Family, Type

FIXTURES = Path(__file__).parent / "fixtures"
EXCHANGES = Path(__file__).resolve().parents[3].parent / "shared" / "tessera-api" / "exchanges.json"


def doc(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_fields_keep_document_order_and_required() -> None:
    schema = read_json_schema(FIXTURES / "customer.schema.json")
    assert schema.names[:4] == ("customer_id", "email", "nickname", "segment")
    assert [f.name for f in schema.fields if f.required] == ["customer_id", "email", "address"]
    assert schema.source_format == "json_schema"
    assert schema.description == "One row per customer."


def test_path_argument_sets_source_in_errors() -> None:
    path = FIXTURES / "missing_ref.schema.json"
    with pytest.raises(SchemaError) as caught:
        read_json_schema(path)
    assert caught.value.source == str(path)
    assert str(path) in str(caught.value)


def test_string_path_is_read_as_a_file() -> None:
    schema = read_json_schema(str(FIXTURES / "order.draft7.json"))
    assert schema.names == ("order_id", "lines", "status")


def test_yaml_file() -> None:
    schema = read_json_schema(FIXTURES / "customer.schema.yaml")
    email = schema.field("email")
    assert email is not None and email.nullable and email.format == "email"


def test_format_stays_on_field_and_family_follows_type_keyword() -> None:
    schema = read_json_schema(FIXTURES / "customer.schema.json")
    created = schema.field("created_at")
    assert created is not None
    assert created.type == Type(Family.STRING)
    assert created.format == "date-time"


def test_scalar_families() -> None:
    schema = read_json_schema(
        doc(
            i={"type": "integer"},
            n={"type": "number"},
            s={"type": "string"},
            b={"type": "boolean"},
            z={"type": "null"},
            a={},
        )
    )
    assert [f.type.family for f in schema.fields] == [
        Family.INTEGER,
        Family.NUMBER,
        Family.STRING,
        Family.BOOLEAN,
        Family.NULL,
        Family.ANY,
    ]


def test_not_nullable_without_a_null_form() -> None:
    schema = read_json_schema(doc(s={"type": "string"}))
    assert schema.fields[0].nullable is False


@pytest.mark.parametrize(
    "node",
    [
        {"type": ["string", "null"]},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        {"oneOf": [{"type": "null"}, {"type": "string"}]},
        {"type": "string", "nullable": True},
    ],
    ids=["type-array", "anyOf", "oneOf", "openapi-nullable"],
)
def test_nullability_forms(node: dict[str, Any]) -> None:
    field = read_json_schema(doc(s=node)).fields[0]
    assert field.nullable is True
    assert field.type == Type(Family.STRING)


def test_nullable_branch_keeps_its_constraints() -> None:
    field = read_json_schema(doc(s={"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]})).fields[
        0
    ]
    assert field.constraint("maxLength") == 3


def test_several_non_null_types_read_as_named_any() -> None:
    field = read_json_schema(doc(v={"type": ["string", "integer", "null"]})).fields[0]
    assert field.type == Type(Family.ANY, name="string|integer")
    assert field.nullable is True


def test_several_non_null_branches_read_as_named_any() -> None:
    field = read_json_schema(doc(v={"oneOf": [{"type": "string"}, {"type": "integer"}]})).fields[0]
    assert field.type == Type(Family.ANY, name="string|integer")
    assert field.nullable is False


def test_enum_const_default_description_and_constraints() -> None:
    schema = read_json_schema(FIXTURES / "customer.schema.json")
    segment, kind, customer_id, score = (schema.field(n) for n in ("segment", "kind", "customer_id", "score"))
    assert segment is not None and segment.enum == ("retail", "wholesale") and segment.default == "retail"
    assert kind is not None and kind.enum == ("person",)
    assert customer_id is not None and customer_id.description == "Surrogate key."
    assert customer_id.constraints == (("minimum", 1),)
    assert customer_id.default is NO_DEFAULT
    assert score is not None and score.constraints == (("exclusiveMinimum", 0), ("multipleOf", 0.5))


def test_all_constraint_keywords_are_kept() -> None:
    keywords = {
        "minLength": 1,
        "maxLength": 9,
        "pattern": "^a",
        "minimum": 0,
        "maximum": 10,
        "exclusiveMinimum": -1,
        "exclusiveMaximum": 11,
        "multipleOf": 2,
        "minItems": 1,
        "maxItems": 3,
        "uniqueItems": True,
        "minProperties": 1,
        "maxProperties": 4,
    }
    field = read_json_schema(doc(v=dict(keywords))).fields[0]
    assert dict(field.constraints) == keywords


def test_nested_object_via_local_ref() -> None:
    address = read_json_schema(FIXTURES / "customer.schema.json").field("address")
    assert address is not None
    assert address.type.family is Family.OBJECT
    assert [(f.name, f.required) for f in address.type.fields] == [
        ("street", False),
        ("city", True),
        ("country", False),
    ]
    country = address.type.fields[2]
    assert country.constraints == (("pattern", "^[A-Z]{2}$"),)


def test_array_of_refs_and_item_nullability() -> None:
    schema = read_json_schema(FIXTURES / "customer.schema.json")
    previous = schema.field("previous_addresses")
    assert previous is not None
    assert previous.type.family is Family.ARRAY
    assert previous.type.items is not None and previous.type.items.family is Family.OBJECT
    assert previous.type.item_nullable is False
    assert previous.constraints == (("maxItems", 10),)
    nullable_items = read_json_schema(
        doc(a={"type": "array", "items": {"type": ["integer", "null"]}})
    ).fields[0]
    assert nullable_items.type == Type(Family.ARRAY, items=Type(Family.INTEGER), item_nullable=True)


def test_schema_valued_additional_properties_is_a_map() -> None:
    attributes = read_json_schema(FIXTURES / "customer.schema.json").field("attributes")
    assert attributes is not None
    assert attributes.type == Type(
        Family.MAP, keys=Type(Family.STRING), items=Type(Family.STRING), item_nullable=True
    )


@pytest.mark.parametrize(("value", "expected"), [(False, False), (True, True), (None, None)])
def test_additional_properties_flag(value: bool | None, expected: bool | None) -> None:
    document: dict[str, Any] = doc(a={"type": "string"})
    if value is not None:
        document["additionalProperties"] = value
    assert read_json_schema(document).additional_properties is expected


def test_draft7_definitions_and_openapi_nullable() -> None:
    schema = read_json_schema(FIXTURES / "order.draft7.json")
    lines, status = schema.field("lines"), schema.field("status")
    assert lines is not None and lines.type.items is not None
    discount = lines.type.items.fields[2]
    assert (discount.name, discount.nullable, discount.type.family) == ("discount", True, Family.NUMBER)
    assert dict(lines.constraints) == {"minItems": 1, "uniqueItems": True}
    assert status is not None and status.enum == ("open", "shipped", "cancelled")


def test_recursive_ref_stops_at_a_named_object() -> None:
    root = read_json_schema(FIXTURES / "category_tree.schema.json").field("root")
    assert root is not None
    parent = root.type.fields[1]
    children = root.type.fields[2]
    assert parent.type == Type(Family.OBJECT, name="Category")
    assert parent.nullable is True
    assert children.type == Type(
        Family.ARRAY, items=Type(Family.OBJECT, name="Category"), item_nullable=False
    )


def test_ref_to_the_root_is_recursive() -> None:
    schema = read_json_schema(
        {"title": "Node", "type": "object", "properties": {"next": {"$ref": "#"}, "v": {"type": "integer"}}}
    )
    assert schema.fields[0].type == Type(Family.OBJECT, name="Node")


def test_any_json_pointer_and_anchor_resolve() -> None:
    schema = read_json_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "integer"},
                "b": {"$ref": "#/properties/a"},
                "c": {"$ref": "#money"},
            },
            "$defs": {"m": {"$anchor": "money", "type": "number"}},
        }
    )
    assert [f.type.family for f in schema.fields] == [Family.INTEGER, Family.INTEGER, Family.NUMBER]


def test_all_of_merges_properties_and_required() -> None:
    schema = read_json_schema(
        {
            "allOf": [
                {"$ref": "#/$defs/base"},
                {"type": "object", "required": ["extra"], "properties": {"extra": {"type": "string"}}},
            ],
            "$defs": {
                "base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
            },
        }
    )
    assert [(f.name, f.required) for f in schema.fields] == [("id", True), ("extra", True)]


def test_required_name_without_a_property_is_not_a_field_as_on_the_server() -> None:
    schema = read_json_schema(
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"]}
    )
    assert schema.names == ("a",)
    assert schema.fields[0].required


def test_native_type_keyword_restores_a_warehouse_type() -> None:
    node = {
        "type": ["string", "null"],
        "format": "date-time",
        "x-tessera-type": {"family": "timestamp", "name": "TIMESTAMPTZ", "timezone": True},
    }
    field = read_json_schema(doc(at=node)).fields[0]
    assert field.type == Type(Family.TIMESTAMP, name="TIMESTAMPTZ", timezone=True)
    assert field.nullable is True
    assert field.format is None  # implied by the native type


@pytest.mark.parametrize(
    ("native", "message"),
    [
        ({"family": "money"}, "unknown family 'money'"),
        ({"family": "integer", "bits": "64"}, "bits must be a int"),
        ({"family": "timestamp", "timezone": 1}, "timezone must be a bool"),
        ("decimal", "must be an object"),
    ],
)
def test_malformed_native_type_keyword(native: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message) as caught:
        read_json_schema(doc(v={"type": "integer", "x-tessera-type": native}), source="c.json")
    assert caught.value.location == "/properties/v/x-tessera-type"
    assert str(caught.value).startswith("c.json at ")


def test_missing_ref_names_the_ref_and_its_location() -> None:
    path = FIXTURES / "missing_ref.schema.json"
    with pytest.raises(SchemaError, match=r"#/\$defs/Owner") as caught:
        read_json_schema(path)
    assert caught.value.location == "/properties/owner/$ref"
    assert str(path) in str(caught.value)


def test_external_ref_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"external \$ref .*not supported") as caught:
        read_json_schema(FIXTURES / "external_ref.schema.json")
    assert caught.value.location == "/properties/owner/$ref"
    assert "external_ref.schema.json" in str(caught.value)


def test_metaschema_violation_is_located() -> None:
    path = FIXTURES / "bad_keyword.schema.json"
    with pytest.raises(SchemaError, match="not a valid JSON Schema") as caught:
        read_json_schema(path)
    assert caught.value.location == "/properties/amount/type"
    assert str(path) in str(caught.value)


def test_draft7_metaschema_is_used_for_draft7_documents() -> None:
    # `dependentRequired` is not a draft 7 keyword, so an invalid value passes draft 7 but fails 2020-12.
    body = {"type": "object", "properties": {}, "dependentRequired": {"a": "b"}}
    assert read_json_schema({"$schema": "http://json-schema.org/draft-07/schema#", **body}).fields == ()
    with pytest.raises(SchemaError) as caught:
        read_json_schema({"$schema": "https://json-schema.org/draft/2020-12/schema", **body}, source="mem")
    assert caught.value.location == "/dependentRequired/a"


def test_invalid_json_is_located_by_line_and_column() -> None:
    path = FIXTURES / "not_json.schema.json"
    with pytest.raises(SchemaError, match="invalid JSON") as caught:
        read_json_schema(path)
    assert caught.value.location == "5:3"
    assert str(path) in str(caught.value)


def test_missing_file() -> None:
    with pytest.raises(SchemaError, match="file not found") as caught:
        read_json_schema(FIXTURES / "nope.json")
    assert "nope.json" in str(caught.value)


def test_top_level_must_be_an_object_schema() -> None:
    path = FIXTURES / "array_top.schema.json"
    with pytest.raises(SchemaError, match="top level must be an object schema") as caught:
        read_json_schema(path)
    assert caught.value.location == "/"
    assert str(path) in str(caught.value)


def test_source_label_for_in_memory_documents() -> None:
    with pytest.raises(SchemaError) as caught:
        read_json_schema(doc(x={"$ref": "#/nowhere"}), source="contracts/orders.json")
    assert str(caught.value).startswith("contracts/orders.json at /properties/x/$ref:")


def test_server_request_bodies_from_recorded_exchanges() -> None:
    exchanges = json.loads(EXCHANGES.read_text())
    bodies = [
        (e["name"], e["request"]["schema"] if e["path"].endswith("/publish") else e["request"])
        for e in exchanges
        if e["method"] == "POST" and e["path"].endswith(("/publish", "/impact")) and "/assets/" in e["path"]
    ]
    assert len(bodies) >= 10
    for name, body in bodies:
        schema = read_json_schema(body, source=name)
        assert schema.names[: len(body["properties"])] == tuple(body["properties"]), name
        required = set(body["required"]) & set(body["properties"])
        assert {f.name for f in schema.fields if f.required} == required, name
    first = read_json_schema(bodies[0][1])
    created = first.field("created_at")
    assert created is not None and created.format == "date-time" and created.type == Type(Family.STRING)
