"""Lineage accuracy on the two real dbt projects: the figures of issue 3, section 6.

    python benchmarks/lineage_accuracy.py [--workdir DIR]

Each project is copied to a temporary directory (or DIR), compiled there with
``dbt compile`` and analyzed with ``analyze_project``. Per project it prints:

- models checked, and how many were analyzed without fallback or warning;
- table-level dependency agreement: models whose compiled SQL reads exactly dbt's
  ``depends_on``, each ephemeral model replaced by what it reads (x/y);
- column reads: precision and recall over (model, upstream, column) triples;
- derivations: precision and recall over (model, output, upstream, column) quadruples;
- output columns: models whose inferred output columns are the expected ones, in order.

Ground truth: tests/fixtures/dbt_projects/tricky/expected_lineage.yml for every tricky
model (its ``through_ephemeral`` view where there is one: compiled SQL inlines
ephemeral models), and for example_project the README's "Who reads which columns"
table (three consumers; the README states no derivations). An upstream the lineage
reads in full counts as every column the project knows it to have. An ephemeral
upstream, which ``depends_on`` keeps and the lineage reads through, is left out.
Every disagreement is listed under its project.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tessera_core.lineage.project import ProjectLineage, analyze_project
from tessera_core.lineage.query import analyze_query
from tessera_core.manifest import Project, load_manifest

REPO = Path(__file__).resolve().parent.parent
TRICKY_DIR = REPO / "tests" / "fixtures" / "dbt_projects" / "tricky"
EXAMPLE_DIR = REPO / "example_project"
NOT_DBT = shutil.ignore_patterns("target", "logs", "dbt_packages", "dagster_defs", "dags", "__pycache__")

Triple = tuple[str, str, str]  # model, upstream unique_id, column
Quad = tuple[str, str, str, str]  # model, output, upstream unique_id, column


@dataclass
class Truth:
    """What a project's ground truth states."""

    reads: dict[str, dict[str, set[str]]]  # model -> upstream -> columns
    derivations: dict[str, dict[str, dict[str, set[str]]]] | None  # model -> output -> upstream -> columns
    outputs: dict[str, list[str]] | None  # model -> output columns in order


@dataclass
class Score:
    project: str
    models: int = 0
    clean: int = 0
    tables_agree: int = 0
    outputs_agree: int = 0
    outputs_checked: int = 0
    reads: tuple[set[Triple], set[Triple]] = field(
        default_factory=lambda: (set(), set())
    )  # expected, inferred
    derivations: tuple[set[Quad], set[Quad]] | None = None
    disagreements: list[str] = field(default_factory=list)


def compile_project(source: Path, workdir: Path) -> Path:
    """Copy the dbt project under ``workdir`` and run ``dbt compile`` there; return its target/."""
    from dbt.cli.main import dbtRunner

    project_dir = workdir / source.name
    shutil.copytree(source, project_dir, ignore=NOT_DBT)
    args = ["compile", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--quiet"]
    result = dbtRunner().invoke(args)
    if not result.success:
        raise SystemExit(f"dbt compile failed in {project_dir}: {result.exception}")
    return project_dir / "target"


# --- ground truth -------------------------------------------------------------------------------------


def tricky_truth() -> Truth:
    models: dict[str, Any] = yaml.safe_load((TRICKY_DIR / "expected_lineage.yml").read_text())["models"]
    reads: dict[str, dict[str, set[str]]] = {}
    derivations: dict[str, dict[str, dict[str, set[str]]]] = {}
    for name, expected in models.items():
        view = expected.get("through_ephemeral", expected)
        reads[name] = {upstream: set(columns) for upstream, columns in view["reads"].items()}
        derivations[name] = {
            output: {upstream: set(columns) for upstream, columns in sources.items()}
            for output, sources in view["columns"].items()
        }
    outputs = {name: list(expected["columns"]) for name, expected in models.items()}
    return Truth(reads, derivations, outputs)


def example_truth(project: Project) -> Truth:
    """The README's "Who reads which columns" table (parenthesized remarks and exposures left out)."""
    text = (EXAMPLE_DIR / "README.md").read_text()
    section = text.split("## Who reads which columns", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|") for line in section.splitlines() if line.startswith("|")]
    header = [re.sub(r"[`\s]", "", cell) for cell in rows[0].split("|")]
    reads: dict[str, dict[str, set[str]]] = {}
    for row in rows[2:]:
        reader, *cells = (cell.strip() for cell in row.split("|"))
        model = re.fullmatch(r"`(\w+)`(?: \(\w+\))?", reader)
        if model is None:
            continue
        listed = {
            f"model.{project.project_name}.{upstream}": set(
                re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", cell))
            )
            for upstream, cell in zip(header[1:], cells, strict=True)
        }
        reads[model.group(1)] = {upstream: cols for upstream, cols in listed.items() if cols}
    return Truth(reads, None, None)


# --- scoring ------------------------------------------------------------------------------------------


def is_ephemeral(project: Project, uid: str) -> bool:
    node = project.nodes.get(uid)
    return node is not None and node.materialized == "ephemeral"


def through_ephemerals(project: Project, uids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    pending = list(uids)
    while pending:
        uid = pending.pop()
        if is_ephemeral(project, uid):
            pending.extend(project.nodes[uid].depends_on)
        else:
            found.add(uid)
    return found


def known_columns(project: Project, lineage: ProjectLineage, uid: str) -> set[str]:
    """Every column the project knows ``uid`` to have: catalog, else inferred outputs, else declared."""
    if project.catalog.get(uid):
        return set(project.catalog[uid])
    if uid in lineage.models and lineage.models[uid].outputs:
        return set(lineage.models[uid].outputs)
    node = project.nodes.get(uid)
    return {column.name for column in node.columns} if node is not None else set()


def score(label: str, project: Project, lineage: ProjectLineage, truth: Truth) -> Score:
    result = Score(label, derivations=(set(), set()) if truth.derivations is not None else None)
    for uid, model in lineage.models.items():
        node = project.nodes[uid]
        name = node.name
        result.models += 1
        result.clean += model.ok and not model.warnings
        if not model.ok or model.warnings:
            result.disagreements.append(
                f"{name}: {'fallback' if not model.ok else 'warnings'}: {model.warnings}"
            )
        expected_tables = through_ephemerals(project, node.depends_on)
        found = analyze_query(node.compiled_sql or "", dialect=project.dialect, name=uid).tables
        tables = {lineage.relations.get(table, table) for table in found}
        if tables == expected_tables:
            result.tables_agree += 1
        else:
            missing, extra = sorted(expected_tables - tables), sorted(tables - expected_tables)
            result.disagreements.append(f"{name}: tables: missing {missing or '-'}, extra {extra or '-'}")
        if name in truth.reads:
            expected_reads, inferred_reads = result.reads
            for upstream, columns in truth.reads[name].items():
                expected_reads.update((name, upstream, column) for column in columns)
            for upstream, read in model.columns_read.items():
                if is_ephemeral(project, upstream):
                    continue
                every = read if read is not None else known_columns(project, lineage, upstream)
                inferred_reads.update((name, upstream, column) for column in every)
        if truth.derivations is not None and result.derivations is not None and name in truth.derivations:
            expected_quads, inferred_quads = result.derivations
            for output, sources in truth.derivations[name].items():
                for upstream, columns in sources.items():
                    expected_quads.update((name, output, upstream, column) for column in columns)
            for output, keys in model.outputs.items():
                inferred_quads.update((name, output, upstream, column) for upstream, column in keys)
        if truth.outputs is not None and name in truth.outputs:
            result.outputs_checked += 1
            if list(model.outputs) == truth.outputs[name]:
                result.outputs_agree += 1
            else:
                result.disagreements.append(
                    f"{name}: outputs {list(model.outputs)}, expected {truth.outputs[name]}"
                )
    result.disagreements += differences("read", result.reads)
    if result.derivations is not None:
        result.disagreements += differences("derivation", result.derivations)
    return result


def differences(kind: str, pair: tuple[set[Any], set[Any]]) -> list[str]:
    expected, inferred = pair
    missing = [f"missing {kind} {item}" for item in sorted(expected - inferred)]
    return missing + [f"extra {kind} {item}" for item in sorted(inferred - expected)]


def ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.3f}" if whole else "n/a"


def precision_recall(pair: tuple[set[Any], set[Any]] | None) -> str:
    if pair is None:
        return "n/a (no ground truth)"
    expected, inferred = pair
    hits = len(expected & inferred)
    return f"precision {ratio(hits, len(inferred))}, recall {ratio(hits, len(expected))}"


def report(result: Score) -> None:
    consumers = len({model for model, _, _ in result.reads[0]})
    lines = [
        ("models checked", f"{result.models} ({result.clean} analyzed without fallback or warning)"),
        (
            "table-level dependencies",
            f"{ratio(result.tables_agree, result.models)} models agree with depends_on",
        ),
        (f"column reads, {consumers} models", precision_recall(result.reads)),
        ("derivations", precision_recall(result.derivations)),
    ]
    if result.outputs_checked:
        lines.append(
            ("output columns, in order", f"{ratio(result.outputs_agree, result.outputs_checked)} models")
        )
    print(f"== {result.project}")
    for label, value in lines:
        print(f"  {label:<28} {value}")
    for line in result.disagreements:
        print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--workdir", type=Path, help="compile the projects here (default: a temporary directory)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lineage-accuracy-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        results = []
        for label, source in (("tricky", TRICKY_DIR), ("example_project", EXAMPLE_DIR)):
            project = load_manifest(compile_project(source, workdir))
            lineage = analyze_project(project)
            truth = tricky_truth() if label == "tricky" else example_truth(project)
            results.append(score(label, project, lineage, truth))
        print(f"dbt compile + lineage of both projects: {time.perf_counter() - started:.1f} s")
        for result in results:
            report(result)
    return 0 if all(not r.disagreements for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
