"""Properties of diff and verdict over generated schemas (hypothesis)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera_core.compat.changes import Change
from tessera_core.compat.diff import diff
from tessera_core.compat.modes import CompatPolicy, verdict
from tessera_core.compat.types import TypeRelation, relate
from tessera_core.registry.base import CompatibilityMode
from tessera_core.schema.model import NO_DEFAULT, Family, Field, Guarantee, Schema, Type, guarantee

M = CompatibilityMode
PROFILE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALAR_TYPES = (
    Type(Family.INTEGER, bits=8),
    Type(Family.INTEGER, bits=32),
    Type(Family.INTEGER, bits=64),
    Type(Family.INTEGER),
    Type(Family.DECIMAL, precision=9, scale=0),
    Type(Family.DECIMAL, precision=10, scale=2),
    Type(Family.DECIMAL, precision=12, scale=1),
    Type(Family.DECIMAL, precision=18, scale=4),
    Type(Family.DECIMAL, precision=20, scale=0),
    Type(Family.DECIMAL),
    Type(Family.FLOAT, bits=32),
    Type(Family.FLOAT, bits=64),
    Type(Family.FLOAT),
    Type(Family.NUMBER),
    Type(Family.STRING),
    Type(Family.STRING, name="varchar", length=20),
    Type(Family.STRING, name="varchar", length=50),
    Type(Family.BINARY, length=16),
    Type(Family.BOOLEAN),
    Type(Family.DATE),
    Type(Family.TIMESTAMP, timezone=False, precision=3),
    Type(Family.TIMESTAMP, timezone=False, precision=6),
    Type(Family.TIMESTAMP, timezone=True),
    Type(Family.UUID),
    Type(Family.ANY),
    Type(Family.ANY, name="string|integer"),
    Type(Family.ANY, name="integer|string"),
    Type(Family.ANY, name="GEOGRAPHY"),
)
SCALARS = st.sampled_from(SCALAR_TYPES)
NAMES = st.sampled_from(["a", "b", "c", "d"])
CONSTRAINTS = st.dictionaries(
    st.sampled_from(["maxLength", "minimum", "pattern", "multipleOf", "exclusiveMaximum", "uniqueItems"]),
    st.sampled_from([True, False, 0, 1, 2, 3, 4, 5, 10, 0.5, "^a", "^b"]),
    max_size=3,
)


def fields_of(types: st.SearchStrategy[Type]) -> st.SearchStrategy[tuple[Field, ...]]:
    field = st.builds(
        Field,
        name=NAMES,
        type=types,
        required=st.booleans(),
        nullable=st.booleans(),
        description=st.sampled_from([None, "", "one", "two"]),
        format=st.sampled_from([None, "date", "email"]),
        enum=st.sampled_from([None, ("x",), ("x", "y"), (1, True), (1.0,)]),
        default=st.sampled_from([NO_DEFAULT, None, 0, 1.0, "x", True]),
        constraints=CONSTRAINTS.map(lambda d: tuple(sorted(d.items()))),
    )
    return st.lists(field, max_size=4, unique_by=lambda f: f.name).map(tuple)


def containers(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    return st.one_of(
        st.builds(lambda t, n: Type(Family.ARRAY, items=t, item_nullable=n), children, st.booleans()),
        st.builds(
            lambda k, t, n: Type(Family.MAP, keys=k, items=t, item_nullable=n),
            st.sampled_from(
                [Type(Family.STRING), Type(Family.INTEGER, bits=32), Type(Family.INTEGER, bits=64)]
            ),
            children,
            st.booleans(),
        ),
        fields_of(children).map(lambda fs: Type(Family.OBJECT, fields=fs)),
        st.just(Type(Family.ARRAY)),
    )


TYPES = st.recursive(SCALARS, containers, max_leaves=6)

GUARANTEES: list[Guarantee] = [
    guarantee("not_null", "a"),
    guarantee("unique", "b"),
    guarantee("accepted_values", "a", values=["x", "y"]),
    guarantee("accepted_values", "a", values=["x"]),
    guarantee("accepted_values", "a", values=["x", "z"]),
    guarantee("relationships", "c", to="ref('customers')", field="id"),
    guarantee("relationships", "c", to="ref('dim_customers')", field="id"),
    guarantee("freshness", warn_after={"count": 12, "period": "hour"}),
    guarantee(
        "freshness", warn_after={"count": 1, "period": "day"}, error_after={"count": 2, "period": "day"}
    ),
    guarantee("freshness", warn_after={"count": 6, "period": "fortnight"}),
    guarantee("primary_key", "a", source="constraint"),
    guarantee("check", None, source="constraint", expression="a > 0"),
    guarantee("check", None, source="constraint", expression="a >= 0"),
]

SCHEMAS = st.builds(
    Schema,
    fields=fields_of(TYPES),
    guarantees=st.lists(st.sampled_from(GUARANTEES), max_size=4, unique=True).map(tuple),
    additional_properties=st.sampled_from([None, True, False]),
    contract_enforced=st.sampled_from([None, True, False]),
    access=st.sampled_from([None, "public", "protected", "private"]),
    deprecation_date=st.sampled_from([None, "2026-01-01", "2026-06-01", "2026-06-01T00:00:00+00:00"]),
    description=st.sampled_from([None, "v1", "v2"]),
)

FIELD_FACETS: dict[str, st.SearchStrategy[Any]] = {
    "type": TYPES,
    "required": st.booleans(),
    "nullable": st.booleans(),
    "description": st.sampled_from([None, "one", "two"]),
    "format": st.sampled_from([None, "date", "email"]),
    "enum": st.sampled_from([None, ("x",), ("x", "y"), (1, True)]),
    "default": st.sampled_from([NO_DEFAULT, None, 0, "x"]),
    "constraints": CONSTRAINTS.map(lambda d: tuple(sorted(d.items()))),
}
SCHEMA_FACTS: dict[str, st.SearchStrategy[Any]] = {
    "additional_properties": st.sampled_from([None, True, False]),
    "contract_enforced": st.sampled_from([None, True, False]),
    "access": st.sampled_from([None, "public", "protected", "private"]),
    "deprecation_date": st.sampled_from([None, "2026-01-01", "2026-06-01"]),
    "guarantees": st.lists(st.sampled_from(GUARANTEES), max_size=4, unique=True).map(tuple),
}


@st.composite
def evolutions(draw: st.DrawFn) -> tuple[Schema, Schema]:
    """A schema and a next version of it: fields kept, changed in one facet, dropped; maybe one added."""
    old = draw(SCHEMAS)
    fields = []
    for f in old.fields:
        action = draw(st.sampled_from(["keep", "change", "change", "drop"]))
        if action == "change":
            facet = draw(st.sampled_from(sorted(FIELD_FACETS)))
            f = replace(f, **{facet: draw(FIELD_FACETS[facet])})
        if action != "drop":
            fields.append(f)
    if draw(st.booleans()):
        fields.append(replace(draw(fields_of(TYPES).filter(bool))[0], name="e"))
    facts = {name: draw(strategy) for name, strategy in SCHEMA_FACTS.items() if draw(st.booleans())}
    return old, replace(old, fields=tuple(fields), **facts)


PAIRS = st.one_of(evolutions(), st.tuples(SCHEMAS, SCHEMAS))

POLICIES = st.sampled_from(
    [
        CompatPolicy(),
        CompatPolicy(guarantees={"*": "strict"}),
        CompatPolicy(guarantees={"accepted_values": "strict", "freshness": "ignore"}),
        CompatPolicy(content_model="strict"),
        CompatPolicy(guarantees={"*": "strict"}, content_model="strict"),
    ]
)


def breaking_ids(changes: tuple[Change, ...], mode: M, policy: CompatPolicy) -> set[int]:
    return {id(j.change) for j in verdict(changes, mode, policy=policy).breaking}


@PROFILE
@given(SCHEMAS)
def test_a_schema_does_not_differ_from_itself(a: Schema) -> None:
    assert diff(a, a) == ()


@PROFILE
@given(PAIRS, POLICIES)
def test_backward_of_a_change_is_forward_of_its_reverse(
    pair: tuple[Schema, Schema], policy: CompatPolicy
) -> None:
    a, b = pair
    backward = verdict(diff(a, b), M.BACKWARD, policy=policy)
    forward = verdict(diff(b, a), M.FORWARD, policy=policy)
    assert backward.compatible == forward.compatible
    # not only the same yes / no: the same number of breaking changes at every path
    assert Counter(j.change.path for j in backward.breaking) == Counter(
        j.change.path for j in forward.breaking
    )


@PROFILE
@given(PAIRS, POLICIES)
def test_full_breaks_on_exactly_the_union_of_backward_and_forward(
    pair: tuple[Schema, Schema], policy: CompatPolicy
) -> None:
    changes = diff(*pair)
    union = breaking_ids(changes, M.BACKWARD, policy) | breaking_ids(changes, M.FORWARD, policy)
    assert breaking_ids(changes, M.FULL, policy) == union
    assert breaking_ids(changes, M.FULL_TRANSITIVE, policy) == union


@PROFILE
@given(PAIRS)
def test_none_never_breaks_and_reports_every_change(pair: tuple[Schema, Schema]) -> None:
    changes = diff(*pair)
    result = verdict(changes, M.NONE)
    assert result.compatible
    assert len(result.judged) == len(changes)


@PROFILE
@given(PAIRS)
def test_every_path_starts_at_its_column(pair: tuple[Schema, Schema]) -> None:
    for change in diff(*pair):
        if change.column is None:
            assert change.path == ""
        else:
            rest = change.path.removeprefix(change.column)
            assert rest == "" or rest[0] in ".[{", change


@PROFILE
@given(PAIRS)
def test_diff_is_deterministic(pair: tuple[Schema, Schema]) -> None:
    assert [c.to_dict() for c in diff(*pair)] == [c.to_dict() for c in diff(*pair)]


MIRRORED = {
    TypeRelation.SAME: TypeRelation.SAME,
    TypeRelation.CHANGED: TypeRelation.CHANGED,
    TypeRelation.WIDENED: TypeRelation.NARROWED,
    TypeRelation.NARROWED: TypeRelation.WIDENED,
}


@pytest.mark.parametrize("old", SCALAR_TYPES, ids=Type.describe)
def test_relation_of_the_reverse_is_the_mirror_for_every_scalar_pair(old: Type) -> None:
    for new in SCALAR_TYPES:
        assert relate(new, old) is MIRRORED[relate(old, new)], (old, new)


@PROFILE
@given(TYPES, TYPES)
def test_relation_of_the_reverse_is_the_mirror(old: Type, new: Type) -> None:
    assert relate(new, old) is MIRRORED[relate(old, new)]


@PROFILE
@given(TYPES)
def test_a_type_is_the_same_as_itself(kind: Type) -> None:
    assert relate(kind, kind) is TypeRelation.SAME
