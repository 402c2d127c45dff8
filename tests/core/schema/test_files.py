"""read_schema_file: pick the reader for a schema file by format, extension or content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tessera_core.errors import SchemaError
from tessera_core.schema.files import load_document, read_schema_file

FIXTURES = Path(__file__).parent / "fixtures"


def test_avsc_extension_reads_avro_under_the_file_stem() -> None:
    shapes = read_schema_file(FIXTURES / "user.avsc")
    assert list(shapes) == ["user"]
    assert shapes["user"].source_format == "avro"


def test_graphql_extension_reads_every_type() -> None:
    shapes = read_schema_file(FIXTURES / "shop.graphql")
    assert "Customer" in shapes and shapes["Customer"].source_format == "graphql"


def test_gql_extension_is_graphql(tmp_path: Path) -> None:
    path = tmp_path / "points.gql"
    path.write_text("type Point { x: Int! }")
    assert read_schema_file(path)["Point"].names == ("x",)


def test_openapi_key_selects_openapi_for_yaml_and_json() -> None:
    from_yaml = read_schema_file(FIXTURES / "petstore.openapi30.yaml")
    from_json = read_schema_file(FIXTURES / "petstore.openapi31.json")
    assert "components.schemas.Pet" in from_yaml and "components.schemas.Pet" in from_json
    assert from_json["components.schemas.Pet"].source_format == "openapi"


def test_other_documents_are_json_schema() -> None:
    shapes = read_schema_file(FIXTURES / "customer.schema.json")
    assert list(shapes) == ["customer.schema"]
    assert shapes["customer.schema"].source_format == "json_schema"
    assert read_schema_file(FIXTURES / "customer.schema.yaml")["customer.schema"].names == (
        "customer_id",
        "email",
    )


def test_explicit_format_wins_over_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "user.json"
    shutil.copy(FIXTURES / "user.avsc", path)
    assert read_schema_file(path, format="avro")["user"].source_format == "avro"
    with pytest.raises(SchemaError, match="not a valid JSON Schema") as caught:
        read_schema_file(path)
    assert caught.value.location == "/type"


def test_unknown_format_lists_the_known_ones() -> None:
    path = FIXTURES / "user.avsc"
    with pytest.raises(SchemaError, match="unknown schema format 'protobuf'") as caught:
        read_schema_file(path, format="protobuf")
    message = str(caught.value)
    assert all(name in message for name in ("json_schema", "avro", "openapi", "graphql"))
    assert str(path) in message


def test_reader_errors_name_the_file() -> None:
    path = FIXTURES / "bad_union.avsc"
    with pytest.raises(SchemaError) as caught:
        read_schema_file(path)
    assert caught.value.source == str(path)
    assert caught.value.location == "fields[2].type[2]"


def test_missing_file() -> None:
    with pytest.raises(SchemaError, match="file not found") as caught:
        read_schema_file(FIXTURES / "absent.avsc")
    assert "absent.avsc" in str(caught.value)


def test_load_document_reports_yaml_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("type: object\nproperties:\n  a: {type: string\n")
    with pytest.raises(SchemaError, match="invalid YAML") as caught:
        load_document(path)
    assert caught.value.location == "4:1"
    assert str(path) in str(caught.value)


def test_load_document_keeps_a_given_source_label() -> None:
    document, source = load_document(FIXTURES / "swagger2.json", source="legacy api")
    assert document["swagger"] == "2.0"
    assert source == "legacy api"
