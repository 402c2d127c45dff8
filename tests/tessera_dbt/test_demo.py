"""The README's first command: the end-to-end story on a copy of example_project/ exits 0."""

from __future__ import annotations

import pytest

from tessera_dbt import demo


@pytest.mark.slow
def test_demo_tells_the_whole_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert "The story went as told" in out
    for step in range(1, 6):
        assert f"\n{step}. " in out
