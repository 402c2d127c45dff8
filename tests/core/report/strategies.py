"""Hypothesis strategies: impact reports with arbitrary names, depths and readers."""

from __future__ import annotations

from hypothesis import strategies as st

from tessera_core.compat.changes import Change, ChangeKind, Severity
from tessera_core.compat.modes import Judged
from tessera_core.gate import Decision, ImpactReport
from tessera_core.registry.base import AffectedConsumer, CompatibilityMode, ConsumerKind


def make_report(asset: str, columns: list[str], affected: list[AffectedConsumer]) -> ImpactReport:
    changes = tuple(Change(ChangeKind.FIELD_REMOVED, c, f"{c} removed", column=c) for c in columns)
    return ImpactReport(
        asset,
        CompatibilityMode.BACKWARD,
        Decision.BLOCKED,
        changes=changes,
        breaking=tuple(Judged(c, Severity.BREAKING, "removed") for c in changes),
        affected=tuple(affected),
    )


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def reports(draw: st.DrawFn) -> ImpactReport:
    columns = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    consumers = draw(st.lists(st.tuples(names, names), min_size=0, max_size=25, unique=True))
    affected = []
    for i, (team, consumer) in enumerate(consumers):
        depth = draw(st.integers(0, 3)) if i else 0
        parent = consumers[draw(st.integers(0, max(i - 1, 0)))][1]
        affected.append(
            AffectedConsumer(
                team,
                consumer,
                "wh.core.dim" if depth == 0 else f"wh.x.{parent}",
                draw(st.sampled_from(list(ConsumerKind))),
                tuple(draw(st.lists(st.sampled_from(columns), max_size=2, unique=True))),
                tuple(f"{parent} <- wh.core.dim.{columns[0]}" for _ in range(depth)),
                depth,
            )
        )
    return make_report("wh.core.dim", columns, affected)
