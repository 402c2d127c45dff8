"""Graphviz DOT: one cluster per team, labels Graphviz reads back exactly."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings

from tessera_core.gate import ImpactReport
from tessera_core.report.picture import PictureSettings, build_picture
from tessera_core.report.picture_dot import dot_string, render_dot

from .names import HOSTILE, hostile_report
from .strategies import reports

DOT = shutil.which("dot")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def unquote(token: str) -> str:
    """A DOT quoted string back to its text (only the escapes the renderer writes)."""
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m[1], m[1]), body)


def structure(source: str) -> dict[str, list[str]]:
    """Clusters, node ids and edges of DOT text, checking that quotes and braces balance."""
    bare = QUOTED.sub('""', source)
    assert '"' not in bare.replace('""', ""), "an unbalanced quote"
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "a closing brace too many"
    assert depth == 0, "a brace never closed"
    nodes = re.findall(r"^\s*([a-z][a-z0-9_]*) \[label=", bare, flags=re.M)
    edges = re.findall(r"^\s*([a-z][a-z0-9_]*) -> ([a-z][a-z0-9_]*)", bare, flags=re.M)
    for source_id, target_id in edges:
        assert source_id in nodes and target_id in nodes
    return {
        "clusters": re.findall(r"subgraph (cluster_\d+) \{", bare),
        "nodes": nodes,
        "edges": [f"{a}->{b}" for a, b in edges],
    }


def svg_texts(source: str) -> list[str]:
    assert DOT is not None
    done = subprocess.run(
        [DOT, "-Tsvg"], input=source, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    root = ET.fromstring(done.stdout)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_realistic_picture_has_a_cluster_per_team(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    source = render_dot(picture)
    found = structure(source)
    assert len(found["clusters"]) == len(picture.groups) == 3
    assert len(found["nodes"]) == len(picture.nodes)
    assert len(found["edges"]) == len(picture.edges)
    labels = [unquote(t) for t in re.findall(r'label=("(?:[^"\\]|\\.)*")', source)]
    assert "analytics · must acknowledge" in labels
    assert "ml · approved\n“features cast ids to text in ml#212”" in labels


@pytest.mark.skipif(DOT is None, reason="Graphviz `dot` is not installed (Debian: apt-get install graphviz)")
def test_graphviz_lays_the_picture_out(customers: ImpactReport) -> None:
    texts = svg_texts(render_dot(build_picture(customers)))
    for expected in ("weekly_revenue_dashboard", "rpt_customer_revenue", "customer_id", "core · owner"):
        assert expected in texts


@pytest.mark.skipif(DOT is None, reason="Graphviz `dot` is not installed (Debian: apt-get install graphviz)")
def test_graphviz_reads_hostile_names_back_exactly() -> None:
    texts = svg_texts(render_dot(build_picture(hostile_report())))
    for name in HOSTILE:
        for line in name.split("\n"):
            assert line.replace("\t", " ") in texts, line  # a tab is a control character: a space


def test_hostile_names_keep_the_dot_text_balanced() -> None:
    picture = build_picture(hostile_report())
    found = structure(render_dot(picture))
    assert len(found["nodes"]) == len(picture.nodes)


def test_dot_string_escapes_quotes_backslashes_and_line_breaks() -> None:
    text = 'say "hi"\\N\nnext'
    quoted = dot_string(text)
    assert quoted == '"say \\"hi\\"\\\\N\\nnext"'
    assert unquote(quoted) == text


def test_large_picture_stays_within_the_cap(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_per_team=3, max_teams=3))
    found = structure(render_dot(picture))
    assert len(found["clusters"]) == 4  # the owner and three teams; the rest fold into one node
    assert len(found["nodes"]) <= 1 + 2 + 3 * (3 + 2) + 1


def test_graph_name_must_be_an_identifier(customers: ImpactReport) -> None:
    with pytest.raises(ValueError, match="plain identifier"):
        render_dot(build_picture(customers), name="impact; evil")


def test_the_structural_check_itself_rejects_broken_dot() -> None:
    for source in (
        'digraph g {\n  a [label="x"];\n',  # a brace never closed
        'digraph g {\n  a [label="x];\n}\n',  # a quote never closed
        'digraph g {\n  a [label="x"];\n  a -> b;\n}\n',  # an edge to an undeclared node
    ):
        with pytest.raises(AssertionError):
            structure(source)


@settings(max_examples=30, deadline=None)
@given(reports())
def test_any_names_keep_the_dot_text_balanced(report: ImpactReport) -> None:
    picture = build_picture(report, settings=PictureSettings(max_per_team=3, max_teams=3))
    found = structure(render_dot(picture))
    assert len(found["nodes"]) == len(picture.nodes)
    assert len(found["clusters"]) == len(picture.groups)
