"""The impact picture as Graphviz DOT: one cluster per team, ``dot -Tsvg`` lays it out.

Labels are double-quoted DOT strings with backslashes and quotes escaped, so a
name can neither end the string nor trigger Graphviz's ``\\N``-style escapes.
"""

from __future__ import annotations

import re
import unicodedata

from tessera_core.report.picture_model import ImpactPicture, NodeKind, PictureNode, TeamState

_NODE_STYLE = {
    NodeKind.ASSET: 'shape=cylinder, style=filled, fillcolor="#1f2a44", color="#1f2a44", fontcolor="#ffffff"',
    NodeKind.COLUMN: 'shape=box, style=filled, fillcolor="#fde4e1", color="#c0392b"',
    NodeKind.MODEL: 'shape=box, style="rounded,filled", fillcolor="#e3edff", color="#3563c9"',
    NodeKind.CONSUMER: 'shape=box, style="rounded,filled", fillcolor="#efe6ff", color="#7446c2"',
    NodeKind.MORE: 'shape=box, style="dashed", color="#8a8f98", fontcolor="#4a4f57"',
    NodeKind.QUIET: 'shape=box, style="dashed,filled", fillcolor="#f4f5f7", color="#b3b8c0"',
}
_CLUSTER_STYLE = {
    TeamState.OWNER: ("#f4f5f7", "#8a8f98"),
    TeamState.WAITING: ("#fff5d9", "#d49b00"),
    TeamState.APPROVED: ("#e6f6ea", "#2e9b4f"),
    TeamState.MIGRATING: ("#e6f0fb", "#3f7fc9"),
    TeamState.BLOCKED: ("#fde8e6", "#c0392b"),
    TeamState.NOTIFIED: ("#f1f3f6", "#9aa1ab"),
}


def dot_string(text: str) -> str:
    """``text`` as a double-quoted DOT string; line breaks become centred ``\\n`` breaks and other
    control characters spaces."""
    text = text.replace("\r\n", "\n")
    text = "".join("\n" if ch in "\r\n" else " " if _control(ch) else ch for ch in text)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def render_dot(picture: ImpactPicture, *, name: str = "impact") -> str:
    """The picture as a DOT ``digraph`` (``name`` must be a plain identifier)."""
    if not name.isidentifier():
        raise ValueError(f"render_dot: graph name {name!r} must be a plain identifier, like 'impact'")
    by_id = {n.id: n for n in picture.nodes}
    title = "\n".join(
        line
        for line in (
            picture.asset,
            picture.headline,
            picture.proposal,
            f"waiting for {', '.join(picture.awaiting)}" if picture.awaiting else None,
        )
        if line
    )
    lines = [
        f"digraph {name} {{",
        f"  graph [rankdir=LR, labelloc=t, fontname=Helvetica, nodesep=0.3, ranksep=0.6, "
        f"label={dot_string(title)}];",
        '  node [fontname=Helvetica, fontsize=11, margin="0.15,0.06"];',
        '  edge [fontname=Helvetica, fontsize=10, color="#5b6270"];',
    ]
    for i, group in enumerate(picture.groups):
        fill, stroke = _CLUSTER_STYLE[group.state]
        title = group.title + (f"\n“{group.note}”" if group.note else "")
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(
            f'    label={dot_string(title)}; style="rounded,filled"; fillcolor="{fill}"; color="{stroke}";'
        )
        lines += [f"    {_node(by_id[node_id])}" for node_id in group.nodes]
        lines.append("  }")
    lines += [f"  {_node(by_id[node_id])}" for node_id in picture.loose]
    for edge in picture.edges:
        attrs = []
        if edge.label:
            attrs.append(f"label={dot_string(edge.label)}")
        if edge.folded:
            attrs.append('style=dashed, color="#8a8f98"')
        lines.append(f"  {edge.source} -> {edge.target}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(node: PictureNode) -> str:
    text = node.label + (f"\n{node.detail}" if node.detail else "")
    style = _NODE_STYLE[node.kind]
    if node.breaks_contract:
        style = re.sub(r'(?<![a-z])color="#\w+"', 'color="#c0392b"', style, count=1) + ", penwidth=2.5"
    attrs = [f"label={dot_string(text)}", style]
    if node.tooltip:
        attrs.append(f"tooltip={dot_string(chr(10).join(node.tooltip))}")
    return f"{node.id} [{', '.join(attrs)}];"
