"""Impact reports as GitHub-flavoured markdown, fit for a pull-request comment."""

from __future__ import annotations

from collections.abc import Sequence

from tessera_core.gate import Decision, ImpactReport
from tessera_core.report.picture import PictureSettings, build_picture
from tessera_core.report.picture_mermaid import render_mermaid

ICON = {Decision.PASS: "✅", Decision.BLOCKED: "⛔", Decision.NOTIFY: "📣"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(
    reports: Sequence[ImpactReport],
    *,
    title: str = "Tessera contract check",
    picture: bool = True,
    picture_settings: PictureSettings | None = None,
) -> str:
    """The reports as one comment. ``picture``: under each asset that reaches consumers, a Mermaid
    chart of who it breaks (GitHub and GitLab draw it); ``picture_settings`` caps its size."""
    blocked = [r for r in reports if r.decision is Decision.BLOCKED]
    changed = [r for r in reports if r.changes or r.decision is not Decision.PASS]
    lines = [f"## {title}", ""]
    if blocked:
        lines.append(
            f"**{len(blocked)} of {len(changed)} changed assets are blocked** "
            "until affected teams acknowledge."
        )
    elif changed:
        lines.append(f"All {len(changed)} changed assets are safe to publish.")
    else:
        lines.append("No contract changes.")
    lines.append("")
    if changed:
        lines += ["| | asset | mode | version | breaking | affected teams |", "|---|---|---|---|---|---|"]
        for r in changed:
            version = f"{r.current_version or 'new'} → {r.next_version or '-'}"
            breaking = len(r.breaking) + len(r.contract_breaks)
            teams = ", ".join(r.affected_teams) or "-"
            lines.append(
                f"| {ICON[r.decision]} | `{r.asset}` | {r.mode.value} | {version} | {breaking} | {teams} |"
            )
        lines.append("")
    for r in changed:
        if not (r.breaking or r.contract_breaks or r.affected):
            continue
        lines += [f"### {ICON[r.decision]} `{r.asset}`", ""]
        if r.breaking or r.contract_breaks:
            lines += ["| change | column | what |", "|---|---|---|"]
            lines += [
                f"| {j.change.kind.value} | `{j.change.path}` | {_cell(j.change.message)} |"
                for j in r.breaking
            ]
            lines += [
                f"| enforced_contract | `{b.change.path}` | {_cell(b.message)} |" for b in r.contract_breaks
            ]
            lines.append("")
        if r.affected:
            lines += ["| team | consumer | reads | via |", "|---|---|---|---|"]
            for a in r.affected:
                cols = ", ".join(f"`{c}`" for c in a.columns) or "all columns"
                via = _cell("; ".join(a.evidence[:3])) if a.evidence else "-"
                lines.append(f"| {a.team} | `{a.consumer}` | {cols} | {via} |")
            lines.append("")
            if picture:
                chart = render_mermaid(build_picture(r, settings=picture_settings))
                lines += ["```mermaid", chart.rstrip("\n"), "```", ""]
        if r.proposal:
            p = r.proposal
            acks = ", ".join(
                f"{t}: {(ack.response.value if (ack := p.ack_of(t)) else 'waiting')}"
                for t in p.affected_teams
            )
            lines += [f"Proposal `{p.id}` ({p.status.value}): {acks}", ""]
        if r.awaiting:
            lines += [
                f"Waiting for: {', '.join(r.awaiting)}. Acknowledge with "
                f"`tessctl ack {r.proposal.id if r.proposal else '<proposal>'} --team <team>`.",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"
