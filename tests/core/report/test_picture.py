"""The one graph behind every rendering: what is in it, how it is grouped, how it is capped."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera_core.compat.changes import Change, ChangeKind, Severity
from tessera_core.compat.modes import Judged
from tessera_core.gate import Decision, ImpactReport
from tessera_core.registry.base import AffectedConsumer, CompatibilityMode, ConsumerKind
from tessera_core.report.picture import (
    ImpactPicture,
    NodeKind,
    PictureSettings,
    TeamState,
    Verdict,
    build_picture,
)

from .names import hostile_report
from .strategies import make_report, reports

ID = re.compile(r"^[a-z][a-z0-9_]*$")


def by_label(picture: ImpactPicture) -> dict[str, str]:
    return {n.label: n.id for n in picture.nodes}


def group_of(picture: ImpactPicture, node_id: str) -> str | None:
    for g in picture.groups:
        if node_id in g.nodes:
            return g.team
    return None


def folded_count(label: str) -> int:
    found = re.match(r"and (\d+) more", label)
    assert found, label
    return int(found[1])


def well_formed(picture: ImpactPicture) -> None:
    ids = [n.id for n in picture.nodes]
    assert len(ids) == len(set(ids)), "node ids are unique"
    assert all(ID.match(i) for i in ids)
    placed = [i for g in picture.groups for i in g.nodes] + list(picture.loose)
    assert sorted(placed) == sorted(ids), "every node is in exactly one team group or loose"
    for e in picture.edges:
        assert e.source in ids and e.target in ids
        assert e.source != e.target


def test_the_changed_column_leads_to_its_readers_and_on_through_the_model(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    ids = by_label(picture)
    edges = {(e.source, e.target): e for e in picture.edges}
    assert (ids["warehouse.core.dim_customers"], ids["customer_id"]) in edges
    assert (ids["customer_id"], ids["rpt_customer_revenue"]) in edges
    assert (ids["customer_id"], ids["ml_customer_features"]) in edges
    through = edges[(ids["rpt_customer_revenue"], ids["weekly_revenue_dashboard"])]
    assert through.label == "customer_id"
    assert picture.node(ids["weekly_revenue_dashboard"]).layer == 3
    assert picture.node(ids["rpt_customer_revenue"]).kind is NodeKind.MODEL
    assert picture.node(ids["weekly_revenue_dashboard"]).kind is NodeKind.CONSUMER


def test_consumers_that_read_nothing_changed_are_not_drawn(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    assert "finance_ledger" not in by_label(picture)
    assert "finance" not in picture.teams


def test_nodes_are_grouped_by_team_with_the_asset_under_its_owner(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    ids = by_label(picture)
    assert picture.teams == ("core", "analytics", "ml")
    assert group_of(picture, ids["warehouse.core.dim_customers"]) == "core"
    assert group_of(picture, ids["customer_id"]) == "core"
    assert group_of(picture, ids["rpt_customer_revenue"]) == "analytics"
    assert group_of(picture, ids["weekly_revenue_dashboard"]) == "analytics"
    assert group_of(picture, ids["ml_customer_features"]) == "ml"
    well_formed(picture)


def test_each_team_carries_its_acknowledgment(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    groups = {g.team: g for g in picture.groups}
    assert groups["core"].state is TeamState.OWNER
    assert groups["analytics"].state is TeamState.WAITING
    assert groups["ml"].state is TeamState.APPROVED
    assert groups["ml"].note == "features cast ids to text in ml#212"
    assert picture.awaiting == ("analytics",)
    assert picture.verdict is Verdict.BLOCKED
    assert picture.proposal is not None and picture.proposal.endswith("pending")


def test_without_a_proposal_every_affected_team_must_acknowledge(customers_unproposed: ImpactReport) -> None:
    picture = build_picture(customers_unproposed)
    assert dict(picture.team_states) == {"analytics": TeamState.WAITING, "ml": TeamState.WAITING}
    assert picture.proposal is None


def test_a_proposal_alone_draws_the_same_consumers(customers: ImpactReport) -> None:
    assert customers.proposal is not None
    from_report = build_picture(customers)
    from_proposal = build_picture(customers.proposal)
    consumers = {NodeKind.MODEL, NodeKind.CONSUMER}
    assert {n.label for n in from_proposal.nodes if n.kind in consumers} == {
        n.label for n in from_report.nodes if n.kind in consumers
    }
    assert dict(from_proposal.team_states)["ml"] is TeamState.APPROVED
    assert from_proposal.verdict is Verdict.BLOCKED
    well_formed(from_proposal)


def test_the_enforced_contract_break_is_marked_with_its_reason(customers: ImpactReport) -> None:
    picture = build_picture(customers)
    model = picture.node(by_label(picture)["rpt_customer_revenue"])
    assert model.breaks_contract
    assert any("enforced contract" in line for line in model.tooltip)
    assert not picture.node(by_label(picture)["ml_customer_features"]).breaks_contract


def test_changed_columns_nobody_reads_collapse_into_one_node(customers: ImpactReport) -> None:
    collapsed = build_picture(customers)
    quiet = [n for n in collapsed.nodes if n.kind is NodeKind.QUIET]
    assert [n.tooltip for n in quiet] == [("legacy_segment",)]
    assert not any(n.kind is NodeKind.COLUMN and n.label == "legacy_segment" for n in collapsed.nodes)

    expanded = build_picture(customers, settings=PictureSettings(show_quiet_columns=True))
    column = by_label(expanded)["legacy_segment"]
    assert expanded.node(column).kind is NodeKind.COLUMN
    assert [e.target for e in expanded.edges if e.source == column] == []


def test_the_cap_folds_the_rest_into_and_n_more(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_per_team=3, max_teams=4))
    consumers = [n for n in picture.nodes if n.kind in (NodeKind.MODEL, NodeKind.CONSUMER)]
    per_team = Counter(group_of(picture, n.id) for n in consumers)
    assert len(per_team) == 4 and max(per_team.values()) == 3
    folded = sum(
        folded_count(n.label) for n in picture.nodes if n.kind is NodeKind.MORE and "team" not in n.label
    )
    more_teams = [n for n in picture.nodes if n.kind is NodeKind.MORE and "teams" in n.label]
    assert [n.label for n in more_teams] == ["and 6 more teams"]
    assert more_teams[0].detail == "96 consumers"
    assert len(consumers) + folded + 96 == picture.consumers == 160
    assert picture.hidden == 160 - len(consumers)
    well_formed(picture)


def test_the_cap_keeps_whole_paths_down_to_the_exposures(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_per_team=4, max_teams=2))
    drawn = {n.label for n in picture.nodes if n.kind in (NodeKind.MODEL, NodeKind.CONSUMER)}
    dashboards = {d for d in drawn if d.endswith("_dashboard")}
    assert dashboards, "exposures one hop down are drawn, not only the first column"
    assert all(d.removesuffix("_dashboard") in drawn for d in dashboards)


def test_folded_models_and_folded_dashboards_stay_in_their_own_columns(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_per_team=2, max_teams=1))
    more = [n for n in picture.nodes if n.kind is NodeKind.MORE and "teams" not in n.label]
    assert sorted((n.layer, n.label) for n in more) == [
        (2, "and 7 more dbt models"),
        (3, "and 7 more exposures"),
    ]
    models, dashboards = sorted(more, key=lambda n: n.layer)
    assert any(e.source == models.id and e.target == dashboards.id and e.folded for e in picture.edges)


def test_teams_that_hold_the_change_up_are_drawn_before_teams_that_approved(crowded: ImpactReport) -> None:
    picture = build_picture(crowded, settings=PictureSettings(max_teams=3))
    drawn = [g.state for g in picture.groups if g.state is not TeamState.OWNER]
    assert drawn == [TeamState.WAITING] * 3


def test_a_model_is_found_by_its_asset_name_when_the_path_is_not_written_down() -> None:
    model = AffectedConsumer("analytics", "rpt_revenue", "wh.core.dim", ConsumerKind.DBT_MODEL, ("id",))
    dashboard = AffectedConsumer(
        "exec", "board", "wh.analytics.rpt_revenue", ConsumerKind.EXPOSURE, ("id",), (), depth=1
    )
    picture = build_picture(make_report("wh.core.dim", ["id"], [model, dashboard]))
    ids = by_label(picture)
    assert any(e.source == ids["rpt_revenue"] and e.target == ids["board"] for e in picture.edges)


def test_a_consumer_behind_an_unknown_model_is_drawn_from_the_asset_dashed() -> None:
    orphan = AffectedConsumer("exec", "board", "wh.x.unknown", ConsumerKind.EXPOSURE, ("k",), (), depth=2)
    picture = build_picture(make_report("wh.core.dim", ["id"], [orphan]))
    ids = by_label(picture)
    edge = next(e for e in picture.edges if e.target == ids["board"])
    assert edge.source == ids["wh.core.dim"] and edge.folded and edge.label == "k"


def test_a_schema_level_change_is_one_whole_schema_node() -> None:
    change = Change(ChangeKind.ENFORCEMENT_DISABLED, "", "contract no longer enforced")
    reader = AffectedConsumer("ml", "features", "wh.core.dim", ConsumerKind.DBT_MODEL, ())
    report = ImpactReport(
        "wh.core.dim",
        CompatibilityMode.BACKWARD,
        Decision.BLOCKED,
        changes=(change,),
        breaking=(Judged(change, Severity.BREAKING, "enforcement"),),
        affected=(reader,),
    )
    picture = build_picture(report)
    ids = by_label(picture)
    assert picture.node(ids["whole schema"]).detail == "contract enforcement disabled"
    assert (ids["whole schema"], ids["features"]) in {(e.source, e.target) for e in picture.edges}


def test_hostile_names_stay_labels_and_never_become_ids() -> None:
    picture = build_picture(hostile_report())
    well_formed(picture)
    assert 'evil"] --> x; click x href "javascript:alert(1)"' in {n.label for n in picture.nodes}


def test_settings_reject_a_cap_below_one() -> None:
    with pytest.raises(ValueError, match="max_per_team"):
        PictureSettings(max_per_team=0)


@settings(max_examples=60, deadline=None)
@given(reports(), st.integers(1, 4), st.integers(1, 3))
def test_any_report_gives_a_well_formed_graph_that_accounts_for_every_consumer(
    report: ImpactReport, per_team: int, teams: int
) -> None:
    picture = build_picture(report, settings=PictureSettings(max_per_team=per_team, max_teams=teams))
    well_formed(picture)
    drawn = [n for n in picture.nodes if n.kind in (NodeKind.MODEL, NodeKind.CONSUMER)]
    assert (
        len(drawn) + picture.hidden
        == picture.consumers
        == len({(a.team, a.consumer) for a in report.affected})
    )
    for g in picture.groups:
        assert (
            sum(1 for i in g.nodes if picture.node(i).kind in (NodeKind.MODEL, NodeKind.CONSUMER)) <= per_team
        )


def test_the_owners_own_readers_sit_with_the_asset_and_hold_nothing_up() -> None:
    own = AffectedConsumer("core", "core_snapshot", "wh.core.dim", ConsumerKind.DBT_MODEL, ("id",))
    other = AffectedConsumer("ml", "features", "wh.core.dim", ConsumerKind.DBT_MODEL, ("id",))
    report = replace(make_report("wh.core.dim", ["id"], [own, other]), owner_team="core", awaiting=("ml",))
    picture = build_picture(report)
    ids = by_label(picture)
    assert group_of(picture, ids["core_snapshot"]) == group_of(picture, ids["wh.core.dim"]) == "core"
    assert dict(picture.team_states) == {"ml": TeamState.WAITING, "core": TeamState.OWNER}
    assert picture.awaiting == ("ml",)


def test_under_mode_none_teams_are_notified_not_asked() -> None:
    reader = AffectedConsumer("ml", "features", "wh.core.dim", ConsumerKind.DBT_MODEL, ("id",))
    report = replace(
        make_report("wh.core.dim", ["id"], [reader]),
        mode=CompatibilityMode.NONE,
        decision=Decision.NOTIFY,
    )
    picture = build_picture(report)
    assert dict(picture.team_states) == {"ml": TeamState.NOTIFIED}
    assert picture.verdict is Verdict.NOTIFY and picture.awaiting == ()
