"""The impact picture as one self-contained HTML page: inline CSS and SVG, nothing fetched.

The page works offline and from a file: no scripts, no fonts, no images or
style sheets from elsewhere, and the SVG is inline (so it needs no namespace
URL either). Every name goes through ``html.escape``; names too long for a box
are cut with an ellipsis and shown whole in the box's tooltip and the tables.
"""

from __future__ import annotations

from html import escape

from tessera_core.registry.base import ConsumerKind
from tessera_core.report.picture_layout import (
    Box,
    Layout,
    LayoutSettings,
    Route,
    fit,
    lay_out,
    text_width,
    wrap,
)
from tessera_core.report.picture_model import KIND_LABEL, ImpactPicture, NodeKind, TeamState, Verdict

# (fill, stroke, text) per kind of box
_BOX = {
    NodeKind.ASSET: ("#1f2a44", "#1f2a44", "#ffffff"),
    NodeKind.COLUMN: ("#fde4e1", "#c0392b", "#5c1a12"),
    NodeKind.MODEL: ("#e3edff", "#3563c9", "#13294f"),
    NodeKind.CONSUMER: ("#efe6ff", "#7446c2", "#2c1752"),
    NodeKind.MORE: ("#ffffff", "#8a8f98", "#4a4f57"),
    NodeKind.QUIET: ("#f4f5f7", "#b3b8c0", "#6b7079"),
}
# (lane fill, lane stroke, badge fill, badge text) per team state
_LANE = {
    TeamState.OWNER: ("#f6f7f9", "#d5d8de", "#e3e6eb", "#3d434d"),
    TeamState.WAITING: ("#fff8e5", "#f0d48a", "#f5c542", "#4a3500"),
    TeamState.APPROVED: ("#eef8f1", "#b7e1c3", "#2e9b4f", "#ffffff"),
    TeamState.MIGRATING: ("#eef4fc", "#bcd3f0", "#3f7fc9", "#ffffff"),
    TeamState.BLOCKED: ("#fdeeed", "#f0b9b2", "#c0392b", "#ffffff"),
    TeamState.NOTIFIED: ("#f3f5f8", "#d5d8de", "#9aa1ab", "#ffffff"),
}
_LOOSE = ("#fafafa", "#d5d8de")
_VERDICT = {
    Verdict.BLOCKED: ("#c0392b", "#ffffff"),
    Verdict.PASS: ("#2e9b4f", "#ffffff"),
    Verdict.NOTIFY: ("#d48a00", "#ffffff"),
    Verdict.CLOSED: ("#8a8f98", "#ffffff"),
}
_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 32px; background: #ffffff; color: #1d2330;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 14px; margin-bottom: 4px; }
.kicker { width: 100%; font-size: 12px; letter-spacing: .06em; text-transform: uppercase; color: #6b7079; }
h1 { margin: 0; font-size: 22px; font-weight: 650; word-break: break-all; }
h2 { font-size: 15px; margin: 18px 0 8px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px;
  font-size: 12.5px; font-weight: 600; }
.meta { color: #4a505b; }
.summary { margin: 2px 0 10px; color: #3a404b; }
figure { margin: 0; overflow-x: auto; border: 1px solid #e3e6eb; border-radius: 10px; padding: 6px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0 0; padding: 0; list-style: none;
  font-size: 12.5px; color: #4a505b; }
.legend span { display: inline-block; width: 14px; height: 10px; border-radius: 3px; margin-right: 5px;
  vertical-align: -1px; border: 1.5px solid; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 0 28px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceef2; vertical-align: top; }
th { font-weight: 600; color: #4a505b; background: #f6f7f9; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.notes { color: #4a505b; padding-left: 18px; }
details summary { cursor: pointer; font-weight: 600; margin: 18px 0 8px; }
"""


def render_html(
    picture: ImpactPicture,
    *,
    title: str | None = None,
    layout: LayoutSettings | None = None,
) -> str:
    """The whole page: header, the drawn graph, a legend, and tables of changes, teams and consumers."""
    page_title = title or f"Impact of changing {picture.asset}"
    fill, ink = _VERDICT[picture.verdict]
    teams = len(picture.team_states)
    waiting = picture.awaiting
    summary = (
        f"{picture.consumers} consumer{_s(picture.consumers)} in {teams} team{_s(teams)} read what changes"
    )
    if waiting:
        named = ", ".join(waiting[:4]) + (f" and {len(waiting) - 4} more" if len(waiting) > 4 else "")
        summary += f" · {named} must still acknowledge"
    if picture.hidden:
        summary += f" · {picture.hidden} not drawn (see the table below)"
    meta = " · ".join(part for part in (picture.mode, picture.version, picture.proposal) if part)
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(page_title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        '<div class="kicker">Tessera impact picture</div>',
        f"<h1>{escape(picture.asset)}</h1>",
        f'<span class="badge" style="background:{fill};color:{ink}">{escape(picture.verdict_text)}</span>',
        f'<span class="meta">{escape(meta)}</span>',
        "</header>",
        f'<p class="summary">{escape(summary)}</p>',
        "<figure>",
        render_svg(picture, settings=layout),
        "</figure>",
        _legend(),
        '<div class="columns">',
        _changes_table(picture),
        _teams_table(picture),
        "</div>",
        _consumers_table(picture),
    ]
    if picture.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in picture.notes) + "</ul>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def render_svg(picture: ImpactPicture, *, settings: LayoutSettings | None = None) -> str:
    """The graph alone, as an inline ``<svg>`` element (no namespace: it lives inside HTML)."""
    s = settings or LayoutSettings()
    layout = lay_out(picture, settings=s)
    w, h = round(layout.width), round(layout.height)
    out = [
        f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="impact-title">',
        f'<title id="impact-title">{escape(f"Who the change to {picture.asset} reaches")}</title>',
        "<defs>",
        _marker("arrow", "#5b6270"),
        _marker("arrow-folded", "#a3a8b0"),
        "</defs>",
    ]
    out += _lanes(layout, s)
    out += [_edge(r) for r in layout.routes]
    out += [_edge_label(r) for r in layout.routes if r.edge.label]
    out += [_box(b, s) for b in layout.boxes]
    out.append("</svg>")
    return "\n".join(out)


def _marker(name: str, colour: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
    )


def _lanes(layout: Layout, s: LayoutSettings) -> list[str]:
    out: list[str] = []
    x, width = s.margin, layout.width - 2 * s.margin
    room = s.lane_label_width - 30
    for lane in layout.lanes:
        if lane.group is None:
            out.append(_rect(x, lane.y, width, lane.height, _LOOSE[0], _LOOSE[1], radius=10))
            out.append(_text(x + 14, lane.y + 26, "other teams", size=14, weight=650, colour="#3d434d"))
            continue
        fill, stroke, badge, badge_ink = _LANE[lane.group.state]
        out.append(_rect(x, lane.y, width, lane.height, fill, stroke, radius=10))
        name = fit(lane.group.team or "changed asset", room, 14.5, bold=True)
        out.append(
            _text(x + 14, lane.y + 26, name, size=14.5, weight=700, colour="#1d2330", title=lane.group.team)
        )
        label = fit(lane.group.state.label, room - 16, 11.5, bold=True)
        pill = text_width(label, 11.5, bold=True) + 16
        out.append(_rect(x + 14, lane.y + 36, pill, 20, badge, badge, radius=10))
        out.append(
            _text(x + 14 + pill / 2, lane.y + 50, label, size=11.5, weight=600, colour=badge_ink, middle=True)
        )
        if lane.group.note:
            for i, line in enumerate(wrap(f"“{lane.group.note}”", room, 11.5)):
                out.append(
                    _text(
                        x + 14,
                        lane.y + 76 + i * 15,
                        line,
                        size=11.5,
                        colour="#4a505b",
                        italic=True,
                        title=lane.group.note,
                    )
                )
    return out


def _box(box: Box, s: LayoutSettings) -> str:
    node = box.node
    fill, stroke, ink = _BOX[node.kind]
    if node.kind is NodeKind.CONSUMER and node.consumer_kind is ConsumerKind.EXPOSURE:
        fill, stroke = "#f3e8fd", "#9341b8"
    width = 1.4
    dash = ""
    if node.kind in (NodeKind.MORE, NodeKind.QUIET):
        dash = ' stroke-dasharray="5 4"'
    if node.breaks_contract:
        stroke, width = "#c0392b", 3.0
    room = box.width - 2 * s.box_padding
    radius = 4 if node.kind is NodeKind.COLUMN else 10
    tooltip = "\n".join((node.label, node.detail, *node.tooltip)).strip()
    label = fit(node.label, room, s.font_size, bold=True)
    parts = [
        f'<g class="node {node.kind.value}">',
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
        f'rx="{radius}" fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>',
        _text(box.x + s.box_padding, box.y + 20, label, size=s.font_size, weight=650, colour=ink),
    ]
    if node.detail:
        detail_ink = (
            "#d5dbe8" if node.kind is NodeKind.ASSET else "#c0392b" if node.breaks_contract else "#5b6270"
        )
        detail = fit(node.detail, room, s.detail_size)
        parts.append(_text(box.x + s.box_padding, box.y + 37, detail, size=s.detail_size, colour=detail_ink))
    parts.append("</g>")
    return "".join(parts)


def _edge(route: Route) -> str:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = route.points
    folded = route.edge.folded
    colour, marker = ("#a3a8b0", "arrow-folded") if folded else ("#5b6270", "arrow")
    dash = ' stroke-dasharray="5 4"' if folded else ""
    return (
        f'<path d="M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3 - 1:.1f},{y3:.1f}" '
        f'fill="none" stroke="{colour}" stroke-width="1.6"{dash} marker-end="url(#{marker})"/>'
    )


def _edge_label(route: Route) -> str:
    x, y = route.middle
    text = fit(route.edge.label, 180, 11)
    width = text_width(text, 11) + 14
    return _rect(x - width / 2, y - 10, width, 19, "#ffffff", "#d5d8de", radius=9) + _text(
        x, y + 4, text, size=11, colour="#3d434d", middle=True, title=route.edge.label
    )


def _legend() -> str:
    items = [
        (_BOX[NodeKind.ASSET], "changed asset"),
        (_BOX[NodeKind.COLUMN], "changed column"),
        (_BOX[NodeKind.MODEL], "dbt model (passes columns on)"),
        (("#f3e8fd", "#9341b8", ""), "exposure or other consumer"),
        (("#ffffff", "#c0392b", ""), "its enforced contract breaks"),
        (_BOX[NodeKind.MORE], "folded: and N more"),
    ]
    rows = "".join(
        f'<li><span style="background:{fill};border-color:{stroke}"></span>{escape(text)}</li>'
        for (fill, stroke, _), text in items
    )
    return f'<ul class="legend">{rows}</ul>'


def _changes_table(picture: ImpactPicture) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(c.path or '(schema)')}</code></td><td>{escape(c.kind.value)}</td>"
        f"<td>{escape(c.message)}</td></tr>"
        for c in picture.changes
    )
    body = rows or '<tr><td colspan="3">no breaking change</td></tr>'
    return (
        "<section><h2>What changes</h2><table><tr><th>column</th><th>change</th><th>what</th></tr>"
        f"{body}</table></section>"
    )


def _teams_table(picture: ImpactPicture) -> str:
    notes = {g.team: g.note for g in picture.groups if g.team}
    counts: dict[str, int] = {}
    for key in {(a.team, a.consumer) for a in picture.affected}:
        counts[key[0]] = counts.get(key[0], 0) + 1
    rows = "".join(
        f"<tr><td>{escape(team)}</td><td>{escape(state.label)}</td><td>{counts.get(team, 0)}</td>"
        f"<td>{escape(notes.get(team) or '')}</td></tr>"
        for team, state in picture.team_states
    )
    body = rows or '<tr><td colspan="4">no team is affected</td></tr>'
    return (
        "<section><h2>Teams</h2><table><tr><th>team</th><th>acknowledgment</th><th>consumers</th>"
        f"<th>note</th></tr>{body}</table></section>"
    )


def _consumers_table(picture: ImpactPicture) -> str:
    if not picture.affected:
        return ""
    rows = "".join(
        f"<tr><td>{escape(a.team)}</td><td><code>{escape(a.consumer)}</code></td>"
        f"<td>{escape(KIND_LABEL.get(a.consumer_kind, a.consumer_kind.value))}</td>"
        f"<td><code>{escape(a.asset_fqn)}</code></td><td>{escape(', '.join(a.columns) or 'all columns')}</td>"
        f"<td>{a.depth}</td><td>{'<br>'.join(escape(line) for line in a.evidence)}</td></tr>"
        for a in sorted(picture.affected, key=lambda a: (a.depth, a.team, a.consumer))
    )
    return (
        f"<details><summary>Every affected consumer ({len(picture.affected)})</summary><table>"
        "<tr><th>team</th><th>consumer</th><th>kind</th><th>reads</th><th>columns</th><th>depth</th>"
        f"<th>evidence</th></tr>{rows}</table></details>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, stroke: str, *, radius: float = 0) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{radius}" '
        f'fill="{fill}" stroke="{stroke}"/>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float,
    colour: str,
    weight: int = 400,
    italic: bool = False,
    middle: bool = False,
    title: str | None = None,
) -> str:
    attrs = f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{colour}"'
    if weight != 400:
        attrs += f' font-weight="{weight}"'
    if italic:
        attrs += ' font-style="italic"'
    if middle:
        attrs += ' text-anchor="middle"'
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f"<text {attrs}>{tip}{escape(text)}</text>"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
