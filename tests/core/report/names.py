"""Reports whose names are hostile to every output format, built from real gate values."""

from __future__ import annotations

from tessera_core.compat.changes import Change, ChangeKind, Severity
from tessera_core.compat.modes import Judged
from tessera_core.gate import Decision, ImpactReport
from tessera_core.registry.base import AffectedConsumer, CompatibilityMode, ConsumerKind

HOSTILE = (
    'evil"] --> x; click x href "javascript:alert(1)"',
    "<script>alert('x')</script> & <b>bold</b>",
    "back\\slash \\N \\l | pipe `tick` #35; [brackets] {braces} (parens)",
    "lifestyle: color #fff; end",
    "line\nbreak\ttab",
)


def hostile_report(asset: str = 'db."odd schema".<t>') -> ImpactReport:
    """One changed column per hostile name, each read by a consumer of a team with a hostile name."""
    changes = tuple(
        Change(ChangeKind.FIELD_REMOVED, name, f"{name} removed", column=name) for name in HOSTILE
    )
    affected = tuple(
        AffectedConsumer(
            team=f"team {name}",
            consumer=name,
            asset_fqn=asset,
            consumer_kind=ConsumerKind.EXPOSURE,
            columns=(name,),
            evidence=(f"{name}: select",),
        )
        for name in HOSTILE
    )
    return ImpactReport(
        asset=asset,
        mode=CompatibilityMode.BACKWARD,
        decision=Decision.BLOCKED,
        current_version="1.0.0",
        next_version="2.0.0",
        changes=changes,
        breaking=tuple(Judged(c, Severity.BREAKING, "field_removed") for c in changes),
        affected=affected,
        awaiting=tuple(sorted(a.team for a in affected)),
        owner_team='owners "<core>"',
    )
