"""read_avro: Avro record schemas -> Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tessera_core.errors import SchemaError
from tessera_core.schema.avro import read_avro
from tessera_core.schema.model import NO_DEFAULT, Family, Type

FIXTURES = Path(__file__).parent / "fixtures"
USER = read_avro(FIXTURES / "user.avsc")


def record(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "R", "fields": list(fields)}


def field_type(name: str) -> Type:
    found = USER.field(name)
    assert found is not None, name
    return found.type


def test_record_fields_in_order_with_doc() -> None:
    assert USER.names[:4] == ("id", "age", "rating", "balance")
    assert USER.source_format == "avro"
    assert USER.description == "A registered user."
    first = USER.fields[0]
    assert first.description == "Primary key."


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("id", Type(Family.INTEGER, name="long", bits=64)),
        ("age", Type(Family.INTEGER, name="int", bits=32)),
        ("rating", Type(Family.FLOAT, name="float", bits=32)),
        ("balance", Type(Family.FLOAT, name="double", bits=64)),
        ("active", Type(Family.BOOLEAN, name="boolean")),
        ("avatar", Type(Family.BINARY, name="bytes")),
        ("email", Type(Family.STRING, name="string")),
    ],
)
def test_primitive_mapping(name: str, expected: Type) -> None:
    assert field_type(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("amount", Type(Family.DECIMAL, name="decimal", precision=18, scale=4)),
        ("external_id", Type(Family.UUID, name="uuid")),
        ("birthday", Type(Family.DATE, name="date")),
        ("wake_up", Type(Family.TIME, name="time-millis", precision=3)),
        ("created_at", Type(Family.TIMESTAMP, name="timestamp-micros", precision=6, timezone=True)),
        ("local_seen_at", Type(Family.TIMESTAMP, name="local-timestamp-millis", precision=3, timezone=False)),
        ("membership", Type(Family.INTERVAL, name="duration")),
    ],
)
def test_logical_types(name: str, expected: Type) -> None:
    assert field_type(name) == expected


def test_logical_type_on_the_wrong_base_type_is_ignored() -> None:
    schema = read_avro(record({"name": "d", "type": {"type": "string", "logicalType": "date"}}))
    assert schema.fields[0].type == Type(Family.STRING, name="string")


def test_timestamp_nanos() -> None:
    schema = read_avro(record({"name": "t", "type": {"type": "long", "logicalType": "timestamp-nanos"}}))
    assert schema.fields[0].type.precision == 9 and schema.fields[0].type.timezone is True


def test_required_means_no_default_and_default_is_kept() -> None:
    active, email, age = USER.field("active"), USER.field("email"), USER.field("age")
    assert active is not None and not active.required and active.default is True
    assert email is not None and not email.required and email.default is None and email.nullable
    assert age is not None and age.required and age.default is NO_DEFAULT and not age.nullable


def test_enum_symbols_go_to_the_field() -> None:
    status = USER.field("status")
    assert status is not None
    assert status.type == Type(Family.STRING, name="Status")
    assert status.enum == ("ACTIVE", "SUSPENDED")


def test_named_enum_reused_in_an_array_names_the_items() -> None:
    assert field_type("past_statuses") == Type(
        Family.ARRAY, items=Type(Family.STRING, name="Status"), item_nullable=False
    )


def test_nested_record() -> None:
    home = field_type("home")
    assert home.family is Family.OBJECT and home.name == "Address"
    assert [(f.name, f.required, f.nullable) for f in home.fields] == [
        ("city", True, False),
        ("zip", False, True),
    ]


def test_named_record_reused_by_full_name_in_a_nullable_union() -> None:
    work = USER.field("work")
    assert work is not None and work.nullable
    assert work.type == field_type("home")


def test_fixed_is_binary_with_length() -> None:
    assert field_type("checksum") == Type(Family.BINARY, name="MD5", length=16)


def test_map_of_nullable_strings() -> None:
    assert field_type("labels") == Type(
        Family.MAP,
        keys=Type(Family.STRING, name="string"),
        items=Type(Family.STRING, name="string"),
        item_nullable=True,
    )


def test_union_of_several_types_is_named_any() -> None:
    assert field_type("id_or_name") == Type(Family.ANY, name="union<long,string>")


def test_recursive_record_stops_at_its_name() -> None:
    referrer = USER.field("referrer")
    assert referrer is not None and referrer.nullable
    assert referrer.type == Type(Family.OBJECT, name="User")


def test_namespace_is_inherited_by_short_name_references() -> None:
    schema = read_avro(
        {
            "type": "record",
            "name": "Outer",
            "namespace": "a.b",
            "fields": [
                {"name": "x", "type": {"type": "enum", "name": "Color", "symbols": ["RED"]}},
                {"name": "y", "type": "Color"},
                {"name": "z", "type": "a.b.Color"},
            ],
        }
    )
    assert schema.fields[1].type == schema.fields[2].type == Type(Family.STRING, name="Color")
    assert schema.fields[1].enum == ("RED",)


def test_bad_union_is_located() -> None:
    path = FIXTURES / "bad_union.avsc"
    with pytest.raises(SchemaError, match="lists 'string' twice") as caught:
        read_avro(path)
    assert caught.value.location == "fields[2].type[2]"
    assert str(path) in str(caught.value)


def test_unknown_type_in_a_nested_record_is_located() -> None:
    path = FIXTURES / "unknown_type.avsc"
    with pytest.raises(SchemaError, match="unknown type 'varchar'") as caught:
        read_avro(path)
    assert caught.value.location == "fields[1].type.fields[0].type"
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message", "location"),
    [
        (record({"type": "string"}), "needs a 'name'", "fields[0]"),
        (record({"name": "a"}), "needs a 'type'", "fields[0]"),
        ({"type": "record", "name": "R"}, "needs a 'fields' list", "(top level)"),
        ({"type": "record", "fields": []}, "needs a 'name'", "(top level)"),
        (record({"name": "a", "type": []}), "empty union", "fields[0].type"),
        (record({"name": "a", "type": ["null", ["int"]]}), "another union", "fields[0].type[1]"),
        (record({"name": "a", "type": {"type": "array"}}), "needs 'items'", "fields[0].type"),
        (record({"name": "a", "type": {"type": "fixed", "name": "F"}}), "'size'", "fields[0].type"),
        (record({"name": "a", "type": {"type": "enum", "name": "E"}}), "'symbols'", "fields[0].type"),
        ({"type": "array", "items": "int"}, "must be an Avro record", "(top level)"),
    ],
)
def test_malformed_schemas(document: Any, message: str, location: str) -> None:
    with pytest.raises(SchemaError, match=message) as caught:
        read_avro(document, source="events.avsc")
    assert caught.value.location == location
    assert str(caught.value).startswith("events.avsc at ")


def test_type_defined_twice() -> None:
    enum = {"type": "enum", "name": "E", "symbols": ["A"]}
    with pytest.raises(SchemaError, match="defined twice") as caught:
        read_avro(record({"name": "a", "type": enum}, {"name": "b", "type": enum}), source="x.avsc")
    assert caught.value.location == "fields[1].type"
