"""The impact picture as a Mermaid ``flowchart LR``: GitHub and GitLab draw it inside a comment.

Every label is a quoted string in which the characters Mermaid (or the HTML
it renders into) would read as syntax are written as Mermaid entity codes
(``#34;`` for a double quote), so no name can end a label, open a tag or
close the markdown fence around the chart.
"""

from __future__ import annotations

import re
import unicodedata

from tessera_core.report.picture_model import ImpactPicture, NodeKind, PictureNode, TeamState

# Characters written as entity codes: quote, entity start, HTML, fence, backslash, edge-label pipe.
_SPECIAL = frozenset('"#&<>`\\|')
# Mermaid trims the last character of any line matching ``style...:...#...;`` (and ``classDef``) before
# it decodes entities; spelling the keyword's first letter as an entity keeps labels out of that rule.
_KEYWORD = re.compile(r"(style|classDef)")

_SHAPE = {
    NodeKind.ASSET: ('[("', '")]'),
    NodeKind.COLUMN: ('["', '"]'),
    NodeKind.MODEL: ('("', '")'),
    NodeKind.CONSUMER: ('(["', '"])'),
    NodeKind.MORE: ('["', '"]'),
    NodeKind.QUIET: ('["', '"]'),
}
_STATE_MARK = {
    TeamState.OWNER: "",
    TeamState.WAITING: "⏳ ",
    TeamState.APPROVED: "✅ ",
    TeamState.MIGRATING: "🔄 ",
    TeamState.BLOCKED: "⛔ ",
    TeamState.NOTIFIED: "📣 ",
}
_CLASSES = (
    ("asset", "fill:#1f2a44,stroke:#1f2a44,color:#ffffff"),
    ("column", "fill:#fde4e1,stroke:#c0392b,color:#5c1a12"),
    ("model", "fill:#e3edff,stroke:#3563c9,color:#13294f"),
    ("consumer", "fill:#efe6ff,stroke:#7446c2,color:#2c1752"),
    ("more", "fill:#ffffff,stroke:#8a8f98,stroke-dasharray:4 3,color:#4a4f57"),
    ("quiet", "fill:#f4f5f7,stroke:#b3b8c0,stroke-dasharray:4 3,color:#6b7079"),
    ("broken", "stroke:#c0392b,stroke-width:3px"),
)
_GROUP_STYLE = {
    TeamState.OWNER: "fill:#f4f5f7,stroke:#8a8f98",
    TeamState.WAITING: "fill:#fff5d9,stroke:#d49b00",
    TeamState.APPROVED: "fill:#e6f6ea,stroke:#2e9b4f",
    TeamState.MIGRATING: "fill:#e6f0fb,stroke:#3f7fc9",
    TeamState.BLOCKED: "fill:#fde8e6,stroke:#c0392b",
    TeamState.NOTIFIED: "fill:#f1f3f6,stroke:#9aa1ab",
}


def mermaid_text(text: str) -> str:
    """``text`` safe inside a double-quoted Mermaid label (line breaks and control characters become
    spaces: a label stays on its line)."""
    out = [f"#{ord(ch)};" if ch in _SPECIAL else " " if _breaks(ch) else ch for ch in text]
    return _KEYWORD.sub(lambda m: f"#{ord(m.group(1)[0])};{m.group(1)[1:]}", "".join(out))


def _breaks(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def render_mermaid(picture: ImpactPicture, *, indent: str = "  ") -> str:
    """The picture as Mermaid source, starting with ``flowchart LR``."""
    by_id = {n.id: n for n in picture.nodes}
    lines = ["flowchart LR"]
    for group in picture.groups:
        mark = _STATE_MARK[group.state]
        title = f"{group.team or 'changed asset'} · {mark}{group.state.label}"
        lines.append(f'{indent}subgraph {group.id}["{mermaid_text(title)}"]')
        lines += [f"{indent * 2}{_node(by_id[i])}" for i in group.nodes]
        lines.append(f"{indent}end")
    lines += [f"{indent}{_node(by_id[i])}" for i in picture.loose]
    for edge in picture.edges:
        arrow = "-.->" if edge.folded else "-->"
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"{indent}{edge.source} {arrow}{label} {edge.target}")
    lines += [f"{indent}classDef {name} {style}" for name, style in _CLASSES]
    for node in picture.nodes:
        lines.append(f"{indent}class {node.id} {node.kind.value}")
        if node.breaks_contract:
            lines.append(f"{indent}class {node.id} broken")
    lines += [f"{indent}style {g.id} {_GROUP_STYLE[g.state]}" for g in picture.groups]
    return "\n".join(lines) + "\n"


def _node(node: PictureNode) -> str:
    opening, closing = _SHAPE[node.kind]
    text = mermaid_text(node.label)
    if node.detail:
        text += "<br>" + mermaid_text(node.detail)
    return f"{node.id}{opening}{text}{closing}"
