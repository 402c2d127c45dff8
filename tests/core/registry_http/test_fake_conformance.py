"""The fake server answers the recorded requests as the real server did.

Every recorded exchange is replayed in order against a fresh ``FakeTessera``.
Ids and timestamps differ, so recorded ids are mapped to the fake's as they
appear in answers, and timestamps compare as a placeholder; everything else
(status, keys, values, order) must be equal.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

import pytest

from .tessera_fake import EXCHANGES, FakeTessera

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?$")

# The fake logs fewer kinds of audit events than the server; only the shape is compared.
SHAPE_ONLY = {"audit events"}


def _learn(recorded: Any, answered: Any, ids: dict[str, str]) -> None:
    """Map recorded ids to the fake's, walking both answers in step."""
    if isinstance(recorded, dict) and isinstance(answered, dict):
        for key in recorded.keys() & answered.keys():
            _learn(recorded[key], answered[key], ids)
    elif isinstance(recorded, list) and isinstance(answered, list):
        for a, b in zip(recorded, answered, strict=False):
            _learn(a, b, ids)
    elif isinstance(recorded, str) and isinstance(answered, str):
        for old, new in zip(UUID.findall(recorded), UUID.findall(answered), strict=False):
            ids.setdefault(old, new)


def _translate(text: str, ids: dict[str, str]) -> str:
    return UUID.sub(lambda m: ids.get(m.group(0), m.group(0)), text)


def _normal(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v, ids) for v in value]
    if isinstance(value, str):
        return "<time>" if TIMESTAMP.match(value) else _translate(value, ids)
    return value


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _replay() -> list[tuple[dict[str, Any], int, Any, dict[str, str]]]:
    fake = FakeTessera()
    ids: dict[str, str] = {}
    out = []
    for exchange in EXCHANGES:
        path = _translate(exchange["path"], ids)
        query = dict(parse_qsl(_translate(exchange["query"], ids)))
        body = json.loads(_translate(json.dumps(exchange["request"]), ids))
        status, answer = fake.handle(exchange["method"], path, query, body)
        _learn(exchange["response"], answer, ids)
        out.append((exchange, status, answer, dict(ids)))
    return out


REPLAY = _replay()


@pytest.mark.parametrize(("exchange", "status", "answer", "ids"), REPLAY, ids=[e["name"] for e, *_ in REPLAY])
def test_the_fake_answers_like_the_recorded_server(
    exchange: dict[str, Any], status: int, answer: Any, ids: dict[str, str]
) -> None:
    assert status == exchange["status"]
    if exchange["name"] in SHAPE_ONLY:
        assert _shape(answer)["results"][0].keys() == _shape(exchange["response"])["results"][0].keys()
        return
    assert _normal(answer, {v: v for v in ids.values()}) == _normal(exchange["response"], ids)


def test_the_replay_covers_every_recorded_exchange() -> None:
    assert len(REPLAY) == len(EXCHANGES) == 67
