"""Lineage accuracy on real dbt projects, compiled by dbt during the test run.

Two projects, each copied to a temporary directory and compiled once per module
(``dbt compile``; nothing lands in the repository), then loaded with
``load_manifest`` and analyzed with ``analyze_project``:

- tests/fixtures/dbt_projects/tricky/: every model against the hand-checked
  expected_lineage.yml (its header states the conventions). ``analyze_project``
  reads compiled SQL, where dbt inlines ephemeral models as ``__dbt__cte__`` CTEs,
  so a model with an ephemeral upstream is compared with its ``through_ephemeral``
  view, and an ephemeral upstream itself is what ``depends_on`` keeps (every column).
- example_project/: the columns each consumer of the contracted marts reads, as
  the README's "Who reads which columns" table lists them.

For every model of both, the table-level dependencies inferred from the SQL equal
dbt's ``depends_on``, with each ephemeral model replaced by what it reads.
A failure lists each model, upstream and the missing / extra columns.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tessera_core.lineage.project import ModelLineage, ProjectLineage, analyze_project
from tessera_core.lineage.query import ColumnRef, analyze_query
from tessera_core.manifest import DbtColumn, Node, Project, load_manifest

REPO = Path(__file__).resolve().parents[3]
TRICKY_DIR = REPO / "tests" / "fixtures" / "dbt_projects" / "tricky"
EXAMPLE_DIR = REPO / "example_project"
EXPECTED: dict[str, Any] = yaml.safe_load((TRICKY_DIR / "expected_lineage.yml").read_text())["models"]
EXAMPLE_MODELS = sorted(path.stem for path in (EXAMPLE_DIR / "models").rglob("*.sql"))
# Not part of the dbt project: folders the Dagster and Airflow examples live in.
NOT_DBT = shutil.ignore_patterns("target", "logs", "dbt_packages", "dagster_defs", "dags", "__pycache__")

Reads = Mapping[str, frozenset[str] | None]  # upstream unique_id -> columns read; None: every column
Derivations = Mapping[str, Mapping[str, frozenset[str]]]  # output -> upstream unique_id -> columns


@dataclass(frozen=True)
class Compiled:
    project: Project
    lineage: ProjectLineage

    def uid(self, name: str) -> str:
        return f"model.{self.project.project_name}.{name}"

    def model(self, name: str) -> ModelLineage:
        return self.lineage.models[self.uid(name)]

    def is_ephemeral(self, uid: str) -> bool:
        node = self.project.nodes.get(uid)
        return node is not None and node.materialized == "ephemeral"

    def through_ephemerals(self, uids: Iterable[str]) -> set[str]:
        """``uids`` with every ephemeral model replaced by what it reads, at any depth."""
        found: set[str] = set()
        pending = list(uids)
        while pending:
            uid = pending.pop()
            if self.is_ephemeral(uid):
                pending.extend(self.project.nodes[uid].depends_on)
            else:
                found.add(uid)
        return found


def compile_project(source: Path, tmp: Path) -> Compiled:
    dbt_main = pytest.importorskip("dbt.cli.main")
    project_dir = tmp / source.name
    shutil.copytree(source, project_dir, ignore=NOT_DBT)
    args = ["compile", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--quiet"]
    result = dbt_main.dbtRunner().invoke(args)
    assert result.success, f"dbt compile failed in {project_dir}: {result.exception}"
    project = load_manifest(project_dir / "target")
    return Compiled(project, analyze_project(project))


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    return compile_project(TRICKY_DIR, tmp_path_factory.mktemp("tricky"))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Compiled]:
    with pytest.MonkeyPatch.context() as env:
        env.delenv("TESSERA_EXAMPLE_DB", raising=False)
        yield compile_project(EXAMPLE_DIR, tmp_path_factory.mktemp("example"))


# --- readable differences --------------------------------------------------------------------------


def describe(columns: Iterable[str] | None) -> str:
    return "every column" if columns is None else "{" + ", ".join(sorted(columns)) + "}"


def diff_reads(model: str, expected: Reads, actual: Reads) -> list[str]:
    """One line per upstream whose columns differ: what is missing (a consumer impact would not see)
    and what is extra."""
    lines: list[str] = []
    for upstream in sorted(set(expected) | set(actual)):
        if upstream not in actual:
            lines.append(f"{model} <- {upstream}: not read at all, expected {describe(expected[upstream])}")
            continue
        if upstream not in expected:
            lines.append(f"{model} <- {upstream}: unexpected upstream, reads {describe(actual[upstream])}")
            continue
        want, got = expected[upstream], actual[upstream]
        if want == got:
            continue
        if want is None or got is None:
            lines.append(f"{model} <- {upstream}: reads {describe(got)}, expected {describe(want)}")
            continue
        missing, extra = sorted(want - got), sorted(got - want)
        lines.append(f"{model} <- {upstream}: missing {missing or '-'}, extra {extra or '-'}")
    return lines


def diff_derivations(model: str, expected: Derivations, actual: Derivations) -> list[str]:
    lines: list[str] = []
    for output in sorted(set(expected) | set(actual)):
        if output not in actual or output not in expected:
            where = "expected, not inferred" if output not in actual else "inferred, not expected"
            lines.append(f"{model}.{output}: output column {where}")
            continue
        want, got = expected[output], actual[output]
        for upstream in sorted(set(want) | set(got)):
            missing = sorted(want.get(upstream, frozenset()) - got.get(upstream, frozenset()))
            extra = sorted(got.get(upstream, frozenset()) - want.get(upstream, frozenset()))
            if missing or extra:
                lines.append(
                    f"{model}.{output} <- {upstream}: missing {missing or '-'}, extra {extra or '-'}"
                )
    return lines


def inferred_reads(compiled: Compiled, model: ModelLineage) -> dict[str, frozenset[str] | None]:
    """What the model reads of real relations (an ephemeral upstream is read through its own SQL)."""
    return {u: cols for u, cols in model.columns_read.items() if not compiled.is_ephemeral(u)}


def inferred_derivations(model: ModelLineage) -> dict[str, dict[str, frozenset[str]]]:
    derivations: dict[str, dict[str, frozenset[str]]] = {}
    for output, keys in model.outputs.items():
        by_upstream: dict[str, set[str]] = {}
        for upstream, column in keys:
            by_upstream.setdefault(upstream, set()).add(column)
        derivations[output] = {upstream: frozenset(cols) for upstream, cols in by_upstream.items()}
    return derivations


def expected_view(name: str) -> dict[str, Any]:
    """The expectations as compiled SQL shows them: ``through_ephemeral`` where the model has one."""
    expected: dict[str, Any] = EXPECTED[name]
    view: dict[str, Any] = expected.get("through_ephemeral", expected)
    return view


def sql_dependencies(compiled: Compiled, uid: str) -> set[str]:
    """The nodes the compiled SQL of ``uid`` reads, as the lineage finds them (relations it cannot map
    to a node stay relation names)."""
    node = compiled.project.nodes[uid]
    assert node.compiled_sql, f"{uid} has no compiled SQL"
    tables = analyze_query(node.compiled_sql, dialect=compiled.project.dialect, name=uid).tables
    return {compiled.lineage.relations.get(table, table) for table in tables}


# --- table level: both projects ------------------------------------------------------------------------

ALL_MODELS = [("tricky", name) for name in sorted(EXPECTED)] + [("example", name) for name in EXAMPLE_MODELS]


@pytest.mark.slow
@pytest.mark.parametrize(("project", "name"), ALL_MODELS)
def test_sql_dependencies_are_dbt_depends_on(request: pytest.FixtureRequest, project: str, name: str) -> None:
    compiled: Compiled = request.getfixturevalue(project)
    uid = compiled.uid(name)
    depends_on = compiled.project.nodes[uid].depends_on
    expected = compiled.through_ephemerals(depends_on)
    found = sql_dependencies(compiled, uid)
    assert found == expected, (
        f"{uid}: the SQL reads {describe(found)}, dbt's depends_on (ephemerals inlined) is "
        f"{describe(expected)}: missing {sorted(expected - found)}, extra {sorted(found - expected)}"
    )


@pytest.mark.slow
@pytest.mark.parametrize(("project", "name"), ALL_MODELS)
def test_project_lineage_keeps_depends_on_and_adds_only_inlined_reads(
    request: pytest.FixtureRequest, project: str, name: str
) -> None:
    compiled: Compiled = request.getfixturevalue(project)
    model = compiled.model(name)
    depends_on = compiled.project.nodes[model.unique_id].depends_on
    assert set(model.upstream) == set(depends_on) | compiled.through_ephemerals(depends_on)
    for upstream in depends_on:
        if compiled.is_ephemeral(upstream):
            assert model.columns_read[upstream] is None, f"{name}: ephemeral {upstream} keeps every column"


@pytest.mark.slow
@pytest.mark.parametrize(("project", "name"), ALL_MODELS)
def test_every_model_is_analyzed_without_fallback_or_warning(
    request: pytest.FixtureRequest, project: str, name: str
) -> None:
    model = request.getfixturevalue(project).model(name)
    assert model.ok
    assert model.warnings == ()


# --- tricky: columns against expected_lineage.yml ------------------------------------------------------


@pytest.mark.slow
def test_tricky_expectations_cover_every_model(tricky: Compiled) -> None:
    models = {n.name for n in tricky.project.nodes.values() if n.resource_type == "model"}
    assert models == set(EXPECTED)


@pytest.mark.slow
def test_tricky_ephemeral_mapping_is_the_one_the_expectations_use(tricky: Compiled) -> None:
    for name, expected in EXPECTED.items():
        mapped = tricky.through_ephemerals(expected["upstreams"])
        assert mapped == set(expected_view(name)["reads"]), name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tricky_columns_read_per_upstream(tricky: Compiled, name: str) -> None:
    expected = {u: frozenset(cols) for u, cols in expected_view(name)["reads"].items()}
    problems = diff_reads(name, expected, inferred_reads(tricky, tricky.model(name)))
    assert not problems, "columns read differ from expected_lineage.yml:\n" + "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tricky_output_derivations(tricky: Compiled, name: str) -> None:
    expected = {
        output: {u: frozenset(cols) for u, cols in sources.items()}
        for output, sources in expected_view(name)["columns"].items()
    }
    problems = diff_derivations(name, expected, inferred_derivations(tricky.model(name)))
    assert not problems, "output derivations differ from expected_lineage.yml:\n" + "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tricky_output_columns_in_order(tricky: Compiled, name: str) -> None:
    assert list(tricky.model(name).outputs) == list(EXPECTED[name]["columns"])


# --- example_project: consumers against the README ----------------------------------------------------


def readme_reads(readme: Path) -> dict[str, dict[str, frozenset[str]]]:
    """The README's "Who reads which columns" table: model -> upstream model -> columns.

    Parenthesized remarks (``(window: `lag` by customer)``) and exposure rows are left out.
    """
    section = readme.read_text().split("## Who reads which columns", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|") for line in section.splitlines() if line.startswith("|")]
    header = [re.sub(r"[`\s]", "", cell) for cell in rows[0].split("|")]
    reads: dict[str, dict[str, frozenset[str]]] = {}
    for row in rows[2:]:
        reader, *cells = (cell.strip() for cell in row.split("|"))
        model = re.fullmatch(r"`(\w+)`(?: \(\w+\))?", reader)
        if model is None:  # an exposure: it names no columns
            continue
        listed = {
            upstream: frozenset(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", cell)))
            for upstream, cell in zip(header[1:], cells, strict=True)
        }
        reads[model.group(1)] = {upstream: cols for upstream, cols in listed.items() if cols}
    return reads


README_READS = readme_reads(EXAMPLE_DIR / "README.md")


def test_example_readme_lists_the_three_consumers() -> None:
    assert set(README_READS) == {"rpt_customer_revenue", "rpt_daily_orders", "ml_customer_features"}
    assert README_READS["rpt_customer_revenue"]["dim_customers"] == {"customer_id", "customer_name"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(README_READS))
def test_example_consumers_read_the_columns_the_readme_lists(example: Compiled, name: str) -> None:
    expected = {example.uid(upstream): cols for upstream, cols in README_READS[name].items()}
    problems = diff_reads(name, expected, inferred_reads(example, example.model(name)))
    assert not problems, "columns read differ from example_project/README.md:\n" + "\n".join(problems)


@pytest.mark.slow
def test_example_columns_nobody_reads_have_no_reader(example: Compiled) -> None:
    """The README's list of dim_customers / fct_orders columns whose change breaks no consumer."""
    unread = {
        "dim_customers": {"email", "email_domain", "customer_segment", "most_recent_order_date"},
        "fct_orders": {"credit_card_amount", "coupon_amount", "bank_transfer_amount", "gift_card_amount"},
    }
    for name in README_READS:
        for upstream, columns in unread.items():
            read = example.model(name).columns_read.get(example.uid(upstream), frozenset())
            assert read is not None, f"{name} reads every column of {upstream}"
            assert not read & columns, f"{name} reads {sorted(read & columns)} of {upstream}"


# --- fail-safe: a schema that lists only some columns (dbt YAML often does) ------------------------------

PARTLY_DECLARED = {"raw.shop.orders": ["id", "customer_id"], "raw.shop.customers": ["id", "name"]}


def test_a_column_no_source_declares_is_read_from_every_table_it_may_come_from() -> None:
    lineage = analyze_query(
        "select o.id, amount, name from raw.shop.orders o join raw.shop.customers c on o.customer_id = c.id",
        dialect="duckdb",
        schema=PARTLY_DECLARED,
    )
    assert lineage.columns_read("raw.shop.orders") == frozenset({"id", "customer_id", "amount"})
    assert lineage.columns_read("raw.shop.customers") == frozenset({"id", "name", "amount"})
    assert any("amount" in warning for warning in lineage.warnings)


def test_a_column_behind_a_star_cte_over_a_partly_declared_table_is_read_from_it() -> None:
    for sql in (
        "with a as (select * from raw.shop.orders) select amount from a",
        "with a as (select * from raw.shop.orders) select a.amount from a",
    ):
        lineage = analyze_query(sql, dialect="duckdb", schema=PARTLY_DECLARED)
        assert lineage.columns_read("raw.shop.orders") == frozenset({"amount"}), sql
        assert dict(lineage.outputs)["amount"] == {ColumnRef("raw.shop.orders", "amount")}, sql


def test_a_whole_row_read_through_a_star_cte_reads_the_table_in_full() -> None:
    star = analyze_query(
        "with a as (select * from raw.shop.orders) select to_json(a) as doc from a",
        dialect="duckdb",
        schema=PARTLY_DECLARED,
    )
    assert star.columns_read("raw.shop.orders") is None
    narrow = analyze_query(
        "with a as (select id from raw.shop.orders) select to_json(a) as doc from a",
        dialect="duckdb",
        schema=PARTLY_DECLARED,
    )
    assert narrow.columns_read("raw.shop.orders") == frozenset({"id"})


def test_a_model_reading_an_undeclared_source_column_registers_it() -> None:
    source = Node(
        unique_id="source.shop.raw.orders",
        resource_type="source",
        name="orders",
        package="shop",
        relation="raw.shop.orders",
        columns=(DbtColumn(name="id"), DbtColumn(name="customer_id")),
    )
    model = Node(
        unique_id="model.shop.stg_orders",
        resource_type="model",
        name="stg_orders",
        package="shop",
        relation="analytics.main.stg_orders",
        compiled_sql="with src as (select * from raw.shop.orders) select id, amount from src",
        materialized="view",
        depends_on=(source.unique_id,),
    )
    project = Project(
        project_name="shop",
        adapter_type="duckdb",
        dialect="duckdb",
        schema_version=12,
        nodes={source.unique_id: source, model.unique_id: model},
    )
    lineage = analyze_project(project).models[model.unique_id]
    assert lineage.columns_read[source.unique_id] == frozenset({"id", "amount"})
    assert lineage.outputs["amount"] == frozenset({(source.unique_id, "amount")})


# --- the diff helpers themselves -----------------------------------------------------------------------


def test_diff_reads_names_model_upstream_and_columns() -> None:
    lines = diff_reads(
        "m",
        {"a": frozenset({"x", "y"}), "b": frozenset({"z"}), "c": frozenset({"w"})},
        {"a": frozenset({"x", "q"}), "b": None, "d": frozenset({"v"})},
    )
    assert lines == [
        "m <- a: missing ['y'], extra ['q']",
        "m <- b: reads every column, expected {z}",
        "m <- c: not read at all, expected {w}",
        "m <- d: unexpected upstream, reads {v}",
    ]


def test_diff_derivations_names_output_and_upstream() -> None:
    lines = diff_derivations(
        "m",
        {"o": {"a": frozenset({"x"})}, "p": {}},
        {"o": {"a": frozenset({"y"})}, "q": {}},
    )
    assert lines == [
        "m.o <- a: missing ['x'], extra ['y']",
        "m.p: output column expected, not inferred",
        "m.q: output column inferred, not expected",
    ]
