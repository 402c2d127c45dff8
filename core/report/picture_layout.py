"""Where each box of the impact picture goes, for renderers that draw it themselves (the HTML page).

Swim lanes, one per team, stacked top to bottom; inside them, columns by
layer, left to right (asset, changed columns, direct readers, their readers...).
Inside a lane and column, boxes are ordered by where the boxes that feed them
sit, which keeps most edges short and uncrossed. Text widths are estimated
from character counts: no font metrics, no dependencies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tessera_core.report.picture_model import ImpactPicture, NodeKind, PictureEdge, PictureNode, TeamGroup

# Advance widths in em, close to DejaVu Sans (the widest common fallback), so estimates err wide.
_NARROW = dict.fromkeys("ijl.,:;'|!", 0.30) | dict.fromkeys("ft()[]{} ·", 0.37) | {"r": 0.41}
_WIDE = dict.fromkeys("mw", 0.90) | dict.fromkeys("MW@%", 0.95) | {"→": 0.84, "…": 0.9}
_EM = _NARROW | _WIDE | dict.fromkeys("sz_cJ", 0.53)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """An estimate of ``text``'s width in pixels at ``size`` px, without font metrics."""
    em = sum(_EM.get(ch, 0.70 if ch.isupper() else 0.62) for ch in text)
    return em * size * (1.12 if bold else 1.0)


def fit(text: str, width: float, size: float, *, bold: bool = False) -> str:
    """``text``, cut with an ellipsis where it would overflow ``width`` pixels."""
    if text_width(text, size, bold=bold) <= width:
        return text
    while text and text_width(text + "…", size, bold=bold) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, width: float, size: float, *, lines: int = 2) -> tuple[str, ...]:
    """``text`` broken at spaces into at most ``lines`` lines of ``width`` pixels; the last one is cut."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size) <= width:
            line += " " + words.pop(0)
        out.append(line)
    if words:
        out[-1] = fit(f"{out[-1]} {' '.join(words)}", width, size)
    return tuple(fit(line, width, size) for line in out)


@dataclass(frozen=True, slots=True)
class LayoutSettings:
    """Sizes in CSS pixels: boxes grow with their text between ``min_box_width`` and ``max_box_width``."""

    font_size: float = 13.0
    detail_size: float = 11.5
    min_box_width: float = 140.0
    max_box_width: float = 300.0
    box_height: float = 48.0
    box_padding: float = 11.0
    column_gap: float = 96.0
    row_gap: float = 14.0
    lane_gap: float = 10.0
    lane_padding: float = 16.0
    lane_label_width: float = 180.0
    margin: float = 12.0


@dataclass(frozen=True, slots=True)
class Box:
    node: PictureNode
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True, slots=True)
class Lane:
    """A team's band; ``group`` is ``None`` for the nodes that belong to no team."""

    group: TeamGroup | None
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Route:
    """An edge as a cubic Bézier from the right side of its source to the left side of its target."""

    edge: PictureEdge
    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]

    @property
    def middle(self) -> tuple[float, float]:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.points
        return ((x0 + 3 * x1 + 3 * x2 + x3) / 8, (y0 + 3 * y1 + 3 * y2 + y3) / 8)


@dataclass(frozen=True, slots=True)
class Layout:
    width: float
    height: float
    lanes: tuple[Lane, ...]
    boxes: tuple[Box, ...]
    routes: tuple[Route, ...]


def lay_out(picture: ImpactPicture, *, settings: LayoutSettings | None = None) -> Layout:
    """Positions for every node, lane and edge of ``picture``."""
    s = settings or LayoutSettings()
    columns = {layer: i for i, layer in enumerate(sorted({n.layer for n in picture.nodes}))}
    width_of: dict[int, float] = defaultdict(lambda: s.min_box_width)
    for n in picture.nodes:
        text = max(text_width(n.label, s.font_size, bold=True), text_width(n.detail, s.detail_size))
        wanted = text + 2 * s.box_padding
        width_of[columns[n.layer]] = min(max(width_of[columns[n.layer]], wanted), s.max_box_width)
    x_of: list[float] = []
    x = s.margin + s.lane_label_width
    for column in range(len(columns)):
        x_of.append(x)
        x += width_of[column] + s.column_gap
    width = x - s.column_gap + s.margin

    bands: list[tuple[TeamGroup | None, tuple[str, ...]]] = [(g, g.nodes) for g in picture.groups]
    if picture.loose:
        bands.append((None, picture.loose))
    by_id = {n.id: n for n in picture.nodes}
    feeders: dict[str, list[str]] = defaultdict(list)
    for e in picture.edges:
        feeders[e.target].append(e.source)

    lanes: list[Lane] = []
    boxes: dict[str, Box] = {}
    y = s.margin
    step = s.box_height + s.row_gap
    for group, members in bands:
        stacks: dict[int, list[PictureNode]] = defaultdict(list)
        for node_id in members:
            stacks[columns[by_id[node_id].layer]].append(by_id[node_id])
        rows = max(len(stack) for stack in stacks.values())
        height = 2 * s.lane_padding + rows * step - s.row_gap
        label_room = 112.0 if group is not None and group.note else 76.0  # the team's name, state, note
        height = max(height, label_room)
        for column in sorted(stacks):
            stack = _ordered(stacks[column], feeders, boxes)
            top = y + (height - (len(stack) * step - s.row_gap)) / 2
            for row, node in enumerate(stack):
                boxes[node.id] = Box(node, x_of[column], top + row * step, width_of[column], s.box_height)
        lanes.append(Lane(group, y, height))
        y += height + s.lane_gap
    routes = tuple(_route(e, boxes[e.source], boxes[e.target]) for e in picture.edges)
    return Layout(
        width=width,
        height=y - s.lane_gap + s.margin,
        lanes=tuple(lanes),
        boxes=tuple(boxes[n.id] for n in picture.nodes if n.id in boxes),
        routes=routes,
    )


def _ordered(
    stack: list[PictureNode], feeders: dict[str, list[str]], placed: dict[str, Box]
) -> list[PictureNode]:
    """Boxes sorted by the mean height of the boxes already placed that feed them (barycentre order);
    "and N more" boxes last."""

    def centre(node: PictureNode) -> float:
        ys = [placed[f].middle for f in feeders.get(node.id, ()) if f in placed]
        return sum(ys) / len(ys) if ys else float("inf")

    return sorted(stack, key=lambda n: (n.kind is NodeKind.MORE, centre(n), stack.index(n)))


def _route(edge: PictureEdge, source: Box, target: Box) -> Route:
    x0, y0 = source.x + source.width, source.middle
    x3, y3 = target.x, target.middle
    bend = max(36.0, (x3 - x0) / 2)
    return Route(edge, ((x0, y0), (x0 + bend, y0), (x3 - bend, y3), (x3, y3)))
