"""Mermaid: a flowchart GitHub can draw, whatever the names in it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from hypothesis import given, settings

from tessera_core.gate import ImpactReport
from tessera_core.report.markdown import render_markdown
from tessera_core.report.picture import PictureSettings, build_picture
from tessera_core.report.picture_mermaid import mermaid_text, render_mermaid

from .names import HOSTILE, hostile_report
from .strategies import reports

ID = r"[a-z][a-z0-9_]*"
LABEL = r'[^"]*'
KEYWORDS = {"end", "graph", "flowchart", "subgraph", "class", "classDef", "style", "click", "call", "default"}
SHAPES = (('[("', '")]'), ('(["', '"])'), ('["', '"]'), ('("', '")'))
SUBGRAPH = re.compile(rf'^subgraph ({ID})\["({LABEL})"\]$')
EDGE = re.compile(rf'^({ID}) (-->|-\.->)(?:\|"({LABEL})"\|)? ({ID})$')
CLASS = re.compile(rf"^class ({ID}) ([a-z]+)$")
STYLE = re.compile(rf"^style ({ID}) [a-z-]+:[#\w]+(,[a-z-]+:[#\w ]+)*$")
CLASSDEF = re.compile(r"^classDef ([a-z]+) [a-z-]+:[#\w .]+(,[a-z-]+:[#\w .]+)*$")


@dataclass
class Chart:
    subgraphs: dict[str, str] = field(default_factory=dict)  # id -> decoded title
    nodes: dict[str, str] = field(default_factory=dict)  # id -> decoded label
    members: dict[str, list[str]] = field(default_factory=dict)  # subgraph id -> node ids
    edges: list[tuple[str, str, str, bool]] = field(default_factory=list)  # source, target, label, dotted


def decode(label: str) -> str:
    """What Mermaid shows for a label: entity codes decoded, <br> as a line break."""
    assert "`" not in label and "&" not in label, label
    assert not re.search(r"<(?!br>)", label), f"raw < in {label!r}"
    assert not re.search(r"#(?!\d+;)", label), f"raw # in {label!r}"
    return re.sub(r"#(\d+);", lambda m: chr(int(m[1])), label.replace("<br>", "\n"))


def parse(source: str) -> Chart:
    """A strict reader of the Mermaid subset the renderer writes; fails on anything else."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    assert lines[0] == "flowchart LR"
    chart = Chart()
    current: str | None = None
    classes: set[str] = set()
    for line in lines[1:]:
        if m := SUBGRAPH.match(line):
            assert current is None, "subgraphs are not nested"
            current = m[1]
            chart.subgraphs[current] = decode(m[2])
            chart.members[current] = []
        elif line == "end":
            assert current is not None, "end without subgraph"
            current = None
        elif m := EDGE.match(line):
            chart.edges.append((m[1], m[4], decode(m[3] or ""), m[2] == "-.->"))
        elif m := CLASSDEF.match(line):
            classes.add(m[1])
        elif m := CLASS.match(line):
            assert m[1] in chart.nodes and m[2] in classes, line
        elif m := STYLE.match(line):
            assert m[1] in chart.subgraphs, line
        else:
            head = re.match(rf"^({ID})([\[(].*)$", line)
            assert head, f"not a statement: {line!r}"
            node_id, rest = head[1], head[2]
            shape = next(((o, c) for o, c in SHAPES if rest.startswith(o) and rest.endswith(c)), None)
            assert shape is not None, f"not a statement: {line!r}"
            inner = rest[len(shape[0]) : -len(shape[1])]
            assert '"' not in inner, f"unescaped quote in {line!r}"
            chart.nodes[node_id] = decode(inner)
            if current is not None:
                chart.members[current].append(node_id)
    assert current is None, "a subgraph is never closed"
    for source, target, _, _ in chart.edges:
        assert source in chart.nodes and target in chart.nodes
    assert not (set(chart.nodes) | set(chart.subgraphs)) & KEYWORDS
    return chart


def test_realistic_picture_is_a_valid_flowchart_grouped_by_team(customers: ImpactReport) -> None:
    chart = parse(render_mermaid(build_picture(customers)))
    assert sorted(chart.subgraphs.values()) == [
        "analytics · ⏳ must acknowledge",
        "core · owner",
        "ml · ✅ approved",
    ]
    team_of = {n: chart.subgraphs[g].split(" · ")[0] for g, ns in chart.members.items() for n in ns}
    label_of = {label.split("\n")[0]: n for n, label in chart.nodes.items()}
    assert team_of[label_of["weekly_revenue_dashboard"]] == "analytics"
    assert team_of[label_of["ml_customer_features"]] == "ml"
    assert (label_of["rpt_customer_revenue"], label_of["weekly_revenue_dashboard"], "customer_id", False) in (
        chart.edges
    )


def test_quotes_brackets_and_html_in_names_come_out_as_written() -> None:
    chart = parse(render_mermaid(build_picture(hostile_report())))
    shown = {label.split("\n")[0] for label in chart.nodes.values()}
    for name in HOSTILE:
        assert name.replace("\n", " ").replace("\t", " ") in shown
    assert 'owners "<core>" · owner' in chart.subgraphs.values()


def test_no_label_falls_into_mermaids_style_line_rule() -> None:
    # Mermaid cuts the last character of any line matching this before decoding entities.
    source = render_mermaid(build_picture(hostile_report()))
    for line in source.splitlines():
        if not line.strip().startswith(("style ", "classDef ")):
            assert not re.search(r"style.*:\S*#.*;", line), line
            assert not re.search(r"classDef.*:\S*#.*;", line), line


def test_mermaid_text_round_trips_every_special_character() -> None:
    text = 'a"b#c&d<e>f`g\\h|i style: #x;'
    assert decode(mermaid_text(text)) == text


def test_folded_consumers_hang_off_dotted_edges(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_per_team=2, max_teams=2))
    chart = parse(render_mermaid(picture))
    to_more = [e for e in chart.edges if chart.nodes[e[1]].startswith("and ")]
    assert to_more and all(dotted for *_, dotted in to_more)
    assert len(chart.nodes) == len(picture.nodes) < 20


def test_the_markdown_report_embeds_one_chart_per_asset_that_reaches_consumers(
    customers: ImpactReport,
) -> None:
    text = render_markdown([customers])
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", text, flags=re.S | re.M)
    assert len(blocks) == 1
    labels = parse(blocks[0]).nodes.values()
    assert "weekly_revenue_dashboard\nexposure" in labels
    assert "```mermaid" not in render_markdown([customers], picture=False)


def test_hostile_names_cannot_close_the_markdown_fence() -> None:
    text = render_markdown([hostile_report()])
    fences = [line for line in text.splitlines() if line.startswith("```")]
    assert fences == ["```mermaid", "```"]


def test_the_checker_itself_rejects_broken_charts() -> None:
    broken = [
        'flowchart LR\n  subgraph g_1["t"]\n    a_1["x"]\n',  # never closed
        'flowchart LR\n  a_1["say "hi""]\n',  # raw quote
        'flowchart LR\n  a_1["<script>"]\n',  # raw tag
        'flowchart LR\n  a_1["x"]\n  a_1 --> b_2\n',  # edge to an undeclared node
        'flowchart LR\n  end["x"]\n',  # keyword as id
    ]
    for source in broken:
        try:
            parse(source)
        except AssertionError:
            continue
        raise AssertionError(f"accepted: {source!r}")


@settings(max_examples=30, deadline=None)
@given(reports())
def test_any_names_give_a_chart_that_shows_them_as_written(report: ImpactReport) -> None:
    picture = build_picture(report, settings=PictureSettings(max_per_team=3, max_teams=3))
    chart = parse(render_mermaid(picture))
    assert len(chart.nodes) == len(picture.nodes)
    shown = {label.split("\n")[0] for label in chart.nodes.values()}
    for node in picture.nodes:
        expected = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in node.label)
        assert expected in shown
