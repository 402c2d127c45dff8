"""The HTML page: self-contained, escaped, and something a person can actually read."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tessera_core.gate import ImpactReport
from tessera_core.report.picture import PictureSettings, build_picture
from tessera_core.report.picture_html import render_html, render_svg

from .names import HOSTILE, hostile_report
from .png import colours, read_png

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT = ROOT / "scripts" / "screenshot"
CHROMIUM = Path("/usr/bin/chromium")
FETCHING_TAGS = {
    "script",
    "link",
    "img",
    "iframe",
    "object",
    "embed",
    "base",
    "image",
    "use",
    "audio",
    "video",
}


class Page(HTMLParser):
    """Tags, attribute values, style sheets and visible text of a page."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def assert_self_contained(page: Page) -> None:
    assert not set(page.tags) & FETCHING_TAGS, set(page.tags) & FETCHING_TAGS
    for name, value in page.attributes:
        assert not re.search(r"(https?:|//|@import)", value, re.I), f"{name}={value!r} reaches out"
        for url in re.findall(r"url\(([^)]*)\)", value):
            assert url.startswith("#"), f"{name}={value!r} points outside the page"
    for css in page.styles:
        assert not re.search(r"(https?:|@import|@font-face|url\()", css, re.I), "the style sheet fetches"


def test_the_page_fetches_nothing(customers: ImpactReport) -> None:
    page = Page(render_html(build_picture(customers)))
    assert_self_contained(page)
    assert "svg" in page.tags


def test_links_in_names_stay_plain_text() -> None:
    report = hostile_report(asset="https://evil.example/track.png")
    source = render_html(build_picture(report))
    page = Page(source)
    assert_self_contained(page)
    assert "https://evil.example/track.png" in "".join(page.text)


def test_html_in_names_is_text_not_markup() -> None:
    source = render_html(build_picture(hostile_report()))
    page = Page(source)
    assert "script" not in page.tags and "b" not in page.tags
    text = "".join(page.text)
    for name in HOSTILE:
        assert name in text or name.replace("\n", " ") in text, name


def test_the_page_names_the_change_the_teams_and_their_state(customers: ImpactReport) -> None:
    text = " ".join(Page(render_html(build_picture(customers))).text)
    for expected in (
        "warehouse.core.dim_customers",
        "blocked",
        "customer_id: integer -> varchar (changed)",
        "weekly_revenue_dashboard",
        "must acknowledge",
        "approved",
        "features cast ids to text in ml#212",
        "analytics must still acknowledge",
    ):
        assert expected in text, expected


def test_every_node_is_drawn_once_with_its_evidence_as_tooltip(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    svg = render_svg(picture)
    assert svg.count('<g class="node ') == len(picture.nodes)
    assert "weekly_revenue_dashboard &lt;- warehouse.analytics.rpt_customer_revenue.customer_id" in svg
    assert svg.count("marker-end=") == len(picture.edges)


def test_a_capped_page_says_what_it_left_out_and_lists_everyone(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_per_team=3, max_teams=3))
    source = render_html(picture)
    text = " ".join(Page(source).text)
    assert f"{picture.hidden} not drawn" in text
    assert "and 7 more teams" in text
    assert "team_09_model_07_dashboard" in text  # in the full table, though not drawn
    assert source.count('<g class="node ') == len(picture.nodes) < 25


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium to take a screenshot with")
def test_a_screenshot_of_the_page_shows_the_picture(customers: ImpactReport, tmp_path: Path) -> None:
    page = tmp_path / "impact.html"
    page.write_text(render_html(build_picture(customers)), encoding="utf-8")
    shot = tmp_path / "impact.png"
    done = subprocess.run(
        [str(SCREENSHOT), str(page), str(shot), "1400x900"], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 20_000
    width, height, channels, rows = read_png(shot, max_rows=340)
    assert (width, height) == (1400, 900)
    seen = colours(rows, channels)
    assert len(seen) > 50, "the page looks blank"
    assert bytes.fromhex("c0392b") in seen, "the red 'blocked' badge is missing"
    assert bytes.fromhex("fff8e5") in seen, "the lane of the team that must acknowledge is missing"


def test_the_screenshot_script_says_what_is_wrong_with_its_arguments(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCREENSHOT), str(tmp_path / "missing.html"), str(tmp_path / "out.png")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "missing.html: no such file" in done.stderr
