"""Replay the recorded Tessera server exchanges: our verdicts must be the server's.

The story in ../shared/tessera-api/exchanges.json publishes contracts and
asks for impact; each publish or impact request carries the new JSON Schema
and the server answers with its breaking changes and whether the change is
safe to publish under the asset's compatibility mode. The old schema is the
contract current at that point of the story, so the replay follows it:
published and force-published contracts and published proposals become
current; proposals that are only created, withdrawn or forced do not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tessera_core.compat.diff import diff
from tessera_core.compat.modes import change_class, verdict
from tessera_core.registry.base import CompatibilityMode
from tessera_core.schema.jsonschema import read_json_schema

EXCHANGES = Path(__file__).resolve().parents[3].parent / "shared" / "tessera-api" / "exchanges.json"

# The server's change kinds (services/schema_diff.py) in our vocabulary.
SERVER_KINDS = {
    "property_added": "field_added",
    "property_removed": "field_removed",
    "type_changed": "type_changed",
    "type_widened": "type_widened",
    "type_narrowed": "type_narrowed",
    "required_added": "required_added",
    "required_removed": "required_removed",
    "enum_values_added": "enum_value_added",
    "enum_values_removed": "enum_value_removed",
    "constraint_tightened": "constraint_tightened",
    "constraint_relaxed": "constraint_loosened",
    "default_added": "default_added",
    "default_removed": "default_removed",
    "default_changed": "default_changed",
    "nullable_added": "nullability_loosened",
    "nullable_removed": "nullability_tightened",
}

# Known divergences, each with the reason; strict, so a fix elsewhere makes the test fail until removed here.
DIVERGENCES: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    name: str
    old: dict[str, Any]
    new: dict[str, Any]
    mode: str
    breaking: frozenset[tuple[str, str]]
    safe: bool
    change_type: str | None


def server_property(change: dict[str, Any]) -> str:
    """The top-level property a server change is about: ``properties.email.type`` -> ``email``."""
    parts = change["path"].split(".")
    if parts[0] == "properties" and len(parts) > 1:
        return parts[1]
    named = re.search(r"'([^']+)'", change.get("message", ""))  # "required": the name is in the message
    return named.group(1) if named else ""


def expected(changes: list[dict[str, Any]]) -> frozenset[tuple[str, str]]:
    return frozenset((SERVER_KINDS[c["type"]], server_property(c)) for c in changes)


def story() -> list[Case]:
    """Every publish / impact answer that judged a change, with the contract current at that moment."""
    current: dict[str, tuple[dict[str, Any], str]] = {}
    cases: list[Case] = []
    for exchange in json.loads(EXCHANGES.read_text()):
        path, response, request = exchange["path"], exchange["response"], exchange["request"]
        if exchange["status"] >= 300:
            continue
        asset = re.fullmatch(r"/api/v1/assets/([^/]+)/(publish|impact)", path)
        if asset and asset.group(2) == "impact" and asset.group(1) in current:
            old, mode = current[asset.group(1)]
            cases.append(
                Case(
                    exchange["name"],
                    old,
                    request,
                    mode,
                    expected(response["breaking_changes"]),
                    response["safe_to_publish"],
                    response.get("change_type"),
                )
            )
        elif asset and asset.group(2) == "publish":
            action, mode = response["action"], request["compatibility_mode"]
            if asset.group(1) in current:
                old, _ = current[asset.group(1)]
                cases.append(
                    Case(
                        exchange["name"],
                        old,
                        request["schema"],
                        mode,
                        expected(response.get("breaking_changes", [])),
                        action == "published",
                        response.get("change_type"),
                    )
                )
            if action in ("published", "force.published"):
                current[asset.group(1)] = (response["contract"]["schema_def"], mode)
        elif re.fullmatch(r"/api/v1/proposals/[^/]+/publish", path):
            contract = response["contract"]
            current[contract["asset_id"]] = (contract["schema_def"], contract["compatibility_mode"])
    return cases


CASES = story()


def test_the_story_covers_every_mode_and_both_outcomes() -> None:
    assert {c.mode for c in CASES} == {"backward", "forward", "full", "none"}
    assert {c.safe for c in CASES} == {True, False}
    assert len(CASES) >= 12


def params() -> list[Any]:
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=DIVERGENCES[c.name])])
        if c.name in DIVERGENCES
        else pytest.param(c, id=c.name)
        for c in CASES
    ]


@pytest.mark.parametrize("case", params())
def test_breaking_changes_and_safe_to_publish_match_the_server(case: Case) -> None:
    old = read_json_schema(case.old, source=f"{case.name} (old)")
    new = read_json_schema(case.new, source=f"{case.name} (new)")
    result = verdict(diff(old, new), CompatibilityMode(case.mode))
    ours = frozenset((j.change.kind.value, j.change.column or "") for j in result.breaking)
    assert ours == case.breaking
    assert result.compatible is case.safe


@pytest.mark.parametrize("case", params())
def test_change_class_matches_the_server(case: Case) -> None:
    if case.change_type is None:
        pytest.skip("the server did not classify this change")
    changes = diff(read_json_schema(case.old), read_json_schema(case.new))
    ours = change_class(changes)
    assert (ours if ours != "none" else "patch") == case.change_type  # the server calls "no change" a patch
