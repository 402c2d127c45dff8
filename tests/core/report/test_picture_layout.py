"""Swim-lane layout: boxes in their team's lane, columns left to right, nothing on top of anything."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tessera_core.gate import ImpactReport
from tessera_core.report.picture import ImpactPicture, NodeKind, PictureSettings, build_picture
from tessera_core.report.picture_layout import Box, Layout, fit, lay_out, text_width, wrap

from .names import hostile_report


def overlap(a: Box, b: Box) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def check(picture: ImpactPicture, layout: Layout) -> None:
    boxes = {b.node.id: b for b in layout.boxes}
    assert set(boxes) == {n.id for n in picture.nodes}
    listed = list(boxes.values())
    for i, a in enumerate(listed):
        for b in listed[i + 1 :]:
            assert not overlap(a, b), (a.node.label, b.node.label)
        assert a.x >= 0 and a.x + a.width <= layout.width
        assert a.y >= 0 and a.y + a.height <= layout.height
    for lane in layout.lanes:
        members = lane.group.nodes if lane.group else picture.loose
        for node_id in members:
            box = boxes[node_id]
            assert lane.y <= box.y and box.y + box.height <= lane.y + lane.height, box.node.label
    for edge in picture.edges:
        source, target = boxes[edge.source], boxes[edge.target]
        if source.node.layer < target.node.layer:
            assert source.x + source.width < target.x


def test_realistic_layout_has_no_overlaps_and_flows_left_to_right(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    layout = lay_out(picture)
    check(picture, layout)
    assert [lane.group.team for lane in layout.lanes if lane.group] == ["core", "analytics", "ml"]


def test_crowded_layout_keeps_the_folded_boxes_at_the_bottom_of_their_lane(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_per_team=3, max_teams=3))
    layout = lay_out(picture)
    check(picture, layout)
    boxes = {b.node.id: b for b in layout.boxes}
    for group in picture.groups:
        for node_id in group.nodes:
            box = boxes[node_id]
            if box.node.kind is NodeKind.MORE:
                same_column = [boxes[i] for i in group.nodes if boxes[i].x == box.x]
                assert box.y == max(b.y for b in same_column)


def test_hostile_names_lay_out_like_any_other() -> None:
    picture = build_picture(hostile_report())
    check(picture, lay_out(picture))


def test_long_names_are_cut_to_the_box_not_the_box_stretched() -> None:
    assert fit("short", 200, 13) == "short"
    long = "a_really_long_model_name_" * 6
    cut = fit(long, 200, 13, bold=True)
    assert cut.endswith("…") and long.startswith(cut[:-1])
    assert text_width(cut, 13, bold=True) <= 200


@given(st.text(min_size=1, max_size=80), st.floats(min_value=30, max_value=400))
def test_fit_never_overflows_unless_only_the_ellipsis_is_left(text: str, width: float) -> None:
    cut = fit(text, width, 12)
    assert cut == text or (cut.endswith("…") and text.startswith(cut[:-1]))
    assert text_width(cut, 12) <= width or cut == "…"


def test_notes_wrap_onto_two_lines_at_most() -> None:
    lines = wrap("the features model casts ids to text since ml#212, merged on Monday", 140, 11.5)
    assert len(lines) == 2
    assert all(text_width(line, 11.5) <= 140 for line in lines)
    assert lines[-1].endswith("…")
