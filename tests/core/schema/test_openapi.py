"""read_openapi: OpenAPI 3.0 / 3.1 documents -> one Schema per component and JSON body."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_core.errors import SchemaError
from tessera_core.schema.model import Family, Type
from tessera_core.schema.openapi import read_openapi

FIXTURES = Path(__file__).parent / "fixtures"
PETSTORE_30 = read_openapi(FIXTURES / "petstore.openapi30.yaml")
PETSTORE_31 = read_openapi(FIXTURES / "petstore.openapi31.json")
SERVER_OPENAPI = Path(__file__).resolve().parents[3].parent / "shared" / "tessera-api" / "openapi.json"


def test_keys_for_components_and_operation_bodies() -> None:
    assert sorted(PETSTORE_30) == [
        "GET /pets response 200",
        "GET /pets response default",
        "POST /pets request",
        "POST /pets response 201",
        "components.schemas.NewPet",
        "components.schemas.Owner",
        "components.schemas.Pet",
        "components.schemas.Problem",
        "components.schemas.Species",
    ]
    assert all(s.source_format == "openapi" for s in PETSTORE_30.values())


def test_component_schema_fields() -> None:
    pet = PETSTORE_30["components.schemas.Pet"]
    assert pet.names == ("id", "name", "tag", "owner", "friends")
    identifier = pet.fields[0]
    assert (identifier.type, identifier.format, identifier.required) == (Type(Family.INTEGER), "int64", True)
    assert pet.fields[1].constraints == (("maxLength", 64),)


def test_openapi30_nullable_on_a_property_and_on_a_referenced_component() -> None:
    pet = PETSTORE_30["components.schemas.Pet"]
    tag, owner = pet.field("tag"), pet.field("owner")
    assert tag is not None and tag.nullable and tag.type == Type(Family.STRING)
    assert owner is not None and owner.nullable and owner.type.family is Family.OBJECT
    assert owner.type.fields[0].format == "email"


def test_openapi31_type_arrays_mean_the_same_as_30_nullable() -> None:
    tag_31 = PETSTORE_31["components.schemas.Pet"].field("tag")
    tag_30 = PETSTORE_30["components.schemas.Pet"].field("tag")
    assert tag_31 is not None and tag_30 is not None
    assert (tag_31.type, tag_31.nullable) == (tag_30.type, tag_30.nullable)
    born = PETSTORE_31["components.schemas.Pet"].field("born")
    assert born is not None and born.nullable and born.format == "date"


def test_self_referencing_component_is_recursive() -> None:
    friends = PETSTORE_30["components.schemas.Pet"].field("friends")
    assert friends is not None
    assert friends.type == Type(Family.ARRAY, items=Type(Family.OBJECT, name="Pet"), item_nullable=False)


def test_array_body_is_one_items_field() -> None:
    page = PETSTORE_30["GET /pets response 200"]
    assert page.names == ("items",)
    items = page.fields[0]
    assert items.required and not items.nullable
    assert items.type.family is Family.ARRAY
    assert items.type.items is not None and [f.name for f in items.type.items.fields][:2] == ["id", "name"]


def test_non_object_component_is_one_value_field() -> None:
    species = PETSTORE_30["components.schemas.Species"]
    assert species.names == ("value",)
    assert species.fields[0].enum == ("dog", "cat")


def test_ref_request_body_and_all_of_component() -> None:
    request = PETSTORE_30["POST /pets request"]
    assert request.names == ("id", "name", "tag", "owner", "friends", "invite_code")
    assert [f.name for f in request.fields if f.required] == ["id", "name"]


def test_json_media_types_with_parameters_and_plus_json() -> None:
    assert PETSTORE_30["POST /pets response 201"].names[:2] == ("id", "name")
    assert PETSTORE_30["GET /pets response default"].names == ("title", "status")
    assert PETSTORE_31["PATCH /pets/{petId} request"].names == ("name", "tag")


def test_bodies_without_json_content_are_skipped() -> None:
    assert not any(key.startswith("PUT /pets/{petId}/photo") for key in PETSTORE_30)
    assert "GET /pets/{petId} response 404" not in PETSTORE_31


def test_missing_component_ref_is_located() -> None:
    path = FIXTURES / "broken_ref.openapi.yaml"
    with pytest.raises(SchemaError, match="#/components/schemas/Customer") as caught:
        read_openapi(path)
    assert caught.value.location == "/components/schemas/Order/properties/customer/$ref"
    assert str(path) in str(caught.value)


def test_openapi31_schema_objects_are_checked_against_the_metaschema() -> None:
    path = FIXTURES / "bad_schema.openapi31.json"
    with pytest.raises(SchemaError, match=r"not a valid OpenAPI 3\.1 schema object") as caught:
        read_openapi(path)
    assert caught.value.location == "/components/schemas/Thing/properties/n/type"
    assert str(path) in str(caught.value)


def test_swagger2_is_refused() -> None:
    path = FIXTURES / "swagger2.json"
    with pytest.raises(SchemaError, match=r"OpenAPI 3\.0 or 3\.1") as caught:
        read_openapi(path)
    assert caught.value.location == "/openapi"
    assert str(path) in str(caught.value)


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    broken = (FIXTURES / "petstore.openapi30.yaml").read_text().replace("  /pets:\n", "  /pets: [\n", 1)
    path = tmp_path / "broken.openapi.yaml"
    path.write_text(broken)
    with pytest.raises(SchemaError, match="invalid YAML") as caught:
        read_openapi(path)
    assert caught.value.location is not None and ":" in caught.value.location
    assert str(path) in str(caught.value)


def test_the_tessera_server_openapi_document() -> None:
    shapes = read_openapi(SERVER_OPENAPI)
    publish = shapes["POST /api/v1/assets/{asset_id}/publish request"]
    assert publish.field("schema") is not None
    schema_format = publish.field("schema_format")
    assert schema_format is not None and schema_format.enum == ("json_schema", "avro")
    version = publish.field("version")
    assert version is not None and version.nullable and version.constraint("maxLength") == 50
