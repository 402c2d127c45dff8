"""read_graphql: GraphQL SDL -> one Schema per object and input type."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_core.errors import SchemaError
from tessera_core.schema.graphql import read_graphql
from tessera_core.schema.model import NO_DEFAULT, Family, Field, Type

FIXTURES = Path(__file__).parent / "fixtures"
SHOP = read_graphql(FIXTURES / "shop.graphql")


def member(type_name: str, field_name: str) -> Field:
    found = SHOP[type_name].field(field_name)
    assert found is not None, f"{type_name}.{field_name}"
    return found


def test_one_schema_per_object_and_input_type_without_introspection() -> None:
    assert sorted(SHOP) == ["Customer", "NewOrder", "Order", "Query", "StoreChannel", "WebChannel"]
    assert all(s.source_format == "graphql" for s in SHOP.values())


def test_fields_in_order_with_descriptions() -> None:
    customer = SHOP["Customer"]
    assert customer.names[:3] == ("id", "name", "tier")
    assert customer.description == "A customer of the shop."
    assert member("Customer", "tier").description == "Loyalty tier."


@pytest.mark.parametrize(
    ("type_name", "field_name", "expected"),
    [
        ("Order", "quantity", Type(Family.INTEGER, name="Int", bits=32)),
        ("Order", "total", Type(Family.FLOAT, name="Float", bits=64)),
        ("Customer", "name", Type(Family.STRING, name="String")),
        ("Order", "paid", Type(Family.BOOLEAN, name="Boolean")),
        ("Order", "id", Type(Family.STRING, name="ID")),
        ("Customer", "signedUpOn", Type(Family.ANY, name="Date")),
        ("Order", "channel", Type(Family.ANY, name="Channel")),
    ],
)
def test_scalar_mapping(type_name: str, field_name: str, expected: Type) -> None:
    assert member(type_name, field_name).type == expected


def test_id_has_format_id() -> None:
    assert member("Order", "id").format == "id"
    assert member("Order", "total").format is None


def test_non_null_is_not_nullable_and_output_fields_are_not_required() -> None:
    paid, name = member("Order", "paid"), member("Customer", "name")
    assert (paid.nullable, paid.required) == (False, False)
    assert (name.nullable, name.required) == (True, False)


def test_list_of_non_null_items() -> None:
    orders = member("Customer", "orders")
    assert orders.nullable is False
    assert orders.type.family is Family.ARRAY and orders.type.item_nullable is False
    tags = member("Customer", "tags")
    assert tags.nullable is True
    assert tags.type == Type(Family.ARRAY, items=Type(Family.STRING, name="String"), item_nullable=True)


def test_nested_lists() -> None:
    matrix = member("Customer", "matrix")
    inner = Type(Family.ARRAY, items=Type(Family.INTEGER, name="Int", bits=32), item_nullable=False)
    assert matrix.type == Type(Family.ARRAY, items=inner, item_nullable=True)
    assert matrix.nullable is False


def test_enum_is_a_named_string_with_values() -> None:
    tier = member("Customer", "tier")
    assert tier.type == Type(Family.STRING, name="Tier")
    assert tier.enum == ("BRONZE", "SILVER", "GOLD")


def test_object_field_nests_the_type_and_stops_at_recursion() -> None:
    customer = member("Order", "customer")
    assert customer.type.family is Family.OBJECT and customer.type.name == "Customer"
    nested_orders = customer.type.fields[3]
    assert nested_orders.name == "orders"
    assert nested_orders.type.items == Type(Family.OBJECT, name="Order")
    assert member("Customer", "referredBy").type == Type(Family.OBJECT, name="Customer")


def test_nesting_stops_at_max_depth() -> None:
    sdl = "type A { b: B } type B { c: C } type C { d: D } type D { x: Int }"
    a = read_graphql(sdl, max_depth=2)["A"]
    c = a.fields[0].type.fields[0].type
    assert c.name == "C" and c.fields[0].type == Type(Family.OBJECT, name="D")
    deep = read_graphql(sdl)["A"].fields[0].type.fields[0].type.fields[0].type
    assert deep.name == "D" and deep.fields[0].name == "x"


def test_interface_field_nests_its_fields() -> None:
    items = member("Order", "items")
    assert items.type.items is not None
    assert [f.name for f in items.type.items.fields] == ["sku", "quantity"]


def test_input_type_required_and_defaults() -> None:
    customer_id, tier, quantity, note = (
        member("NewOrder", n) for n in ("customerId", "tier", "quantity", "note")
    )
    assert (customer_id.required, customer_id.nullable) == (True, False)
    assert (tier.required, tier.default, tier.enum) == (False, "BRONZE", ("BRONZE", "SILVER", "GOLD"))
    assert (quantity.required, quantity.nullable, quantity.default) == (False, False, 1)
    assert (note.required, note.nullable, note.default) == (False, True, NO_DEFAULT)


def test_root_types_are_kept_without_arguments() -> None:
    query = SHOP["Query"]
    assert query.names == ("customer", "orders")
    assert query.fields[1].type.family is Family.ARRAY


def test_sdl_text_is_accepted() -> None:
    shapes = read_graphql("type Point { x: Int! y: Int! }")
    assert shapes["Point"].names == ("x", "y")


def test_syntax_error_is_located_by_line_and_column() -> None:
    path = FIXTURES / "broken_syntax.graphql"
    with pytest.raises(SchemaError, match="GraphQL syntax error: Expected ':'") as caught:
        read_graphql(path)
    assert caught.value.location == "3:8"
    assert str(path) in str(caught.value)


def test_unknown_type_is_located() -> None:
    path = FIXTURES / "unknown_type.graphql"
    with pytest.raises(SchemaError, match="Unknown type 'Address'") as caught:
        read_graphql(path)
    assert caught.value.location == "3:12"
    assert str(path) in str(caught.value)


def test_source_label_for_sdl_text() -> None:
    with pytest.raises(SchemaError) as caught:
        read_graphql("type A { x: Int } type A { y: Int }", source="api/schema.graphql")
    assert str(caught.value).startswith("api/schema.graphql at 1:6:")
