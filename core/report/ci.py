"""Impact reports for CI systems: JUnit XML (one test case per asset) and GitHub annotations."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from tessera_core.gate import Decision, ImpactReport
from tessera_core.report.text import render_report


def render_junit(reports: Sequence[ImpactReport], *, suite: str = "tessera.contracts") -> str:
    """A JUnit XML document: blocked assets fail, notify-only ones pass with output."""
    root = ET.Element("testsuites")
    failures = sum(1 for r in reports if r.decision is Decision.BLOCKED)
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(reports)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    for r in reports:
        case = ET.SubElement(node, "testcase", classname=suite, name=r.asset)
        text = render_report(r)
        if r.decision is Decision.BLOCKED:
            teams = ", ".join(r.awaiting) or ", ".join(r.affected_teams)
            failure = ET.SubElement(
                case,
                "failure",
                message=f"breaking change not acknowledged by {teams}",
                type="tessera.blocked",
            )
            failure.text = text
        else:
            ET.SubElement(case, "system-out").text = text
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github_annotations(
    reports: Sequence[ImpactReport], *, files: Mapping[str, str] | None = None
) -> str:
    """``::error`` / ``::warning`` workflow commands, attached to the file that defines each asset."""
    lines = []
    files = files or {}
    for r in reports:
        if r.decision is Decision.PASS and not r.breaking:
            continue
        level = "error" if r.decision is Decision.BLOCKED else "warning"
        where = f" file={files[r.asset]}," if r.asset in files else " "
        teams = ", ".join(r.affected_teams) or "no one"
        changes = "; ".join(j.change.message for j in r.breaking) or "; ".join(
            b.message for b in r.contract_breaks
        )
        message = f"{changes}. Affected: {teams}."
        if r.awaiting and r.proposal:
            message += f" Waiting for {', '.join(r.awaiting)} on proposal {r.proposal.id}."
        lines.append(f"::{level}{where}title=Tessera: {r.asset} {r.decision.value}::{_escape(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
