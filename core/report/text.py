"""An impact report as people read it in a terminal."""

from __future__ import annotations

from tessera_core.gate import Decision, ImpactReport
from tessera_core.registry.base import Proposal
from tessera_core.report.table import table

MARK = {Decision.PASS: "PASS", Decision.BLOCKED: "BLOCKED", Decision.NOTIFY: "NOTIFY"}


def render_report(report: ImpactReport) -> str:
    head = f"{MARK[report.decision]}  {report.asset}  ({report.mode.value}"
    if report.current_version:
        head += f", {report.current_version} -> {report.next_version}"
    elif report.next_version:
        head += f", new -> {report.next_version}"
    head += ")"
    parts = [head]
    if report.breaking or report.contract_breaks:
        rows: list[tuple[object, ...]] = [
            (j.change.path or "(schema)", j.change.kind.value, j.change.message) for j in report.breaking
        ]
        rows += [(b.change.path, "enforced_contract", b.message) for b in report.contract_breaks]
        parts.append("Breaking changes:\n" + table(["path", "kind", "what"], rows, max_width=90))
    flagged = {id(j.change) for j in report.breaking}
    others = [c for c in report.changes if id(c) not in flagged]
    if others:
        rows = [(c.path or "(schema)", c.kind.value, c.message) for c in others]
        parts.append("Other changes:\n" + table(["path", "kind", "what"], rows, max_width=90))
    if report.affected:
        rows = [
            (a.team, a.consumer, a.asset_fqn, ", ".join(a.columns) or "(all)", a.depth)
            for a in report.affected
        ]
        parts.append(
            "Affected consumers:\n" + table(["team", "consumer", "reads from", "columns", "depth"], rows)
        )
    if report.proposal:
        parts.append(render_proposal(report.proposal))
    parts.extend(report.messages)
    return "\n\n".join(parts)


def render_proposal(p: Proposal) -> str:
    lines = [f"Proposal {p.id} on {p.asset_fqn}: {p.status.value}"]
    rows = []
    for team in p.affected_teams:
        ack = p.ack_of(team)
        rows.append((team, ack.response.value if ack else "waiting", (ack.note or "") if ack else ""))
    if rows:
        lines.append(table(["team", "acknowledgment", "note"], rows))
    return "\n".join(lines)
