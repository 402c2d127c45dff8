"""Lineage benchmark: analyze_project vs bare parsing vs per-column sqlglot.lineage.

    python benchmarks/lineage_bench.py --sizes 500 5000

Each size runs in its own subprocess (so peak RSS is per size) on a synthetic dbt
project (``synthetic_manifest.py``, seeded). Per size it prints:

- cold ``analyze_project`` (empty cache): wall and CPU seconds, models/s;
- bare ``sqlglot.parse_one`` of the same SQL in a plain loop, and the ratio
  lineage / parse;
- ``sqlglot.lineage.lineage()`` called once per output column on a sample of
  models, against ``analyze_query`` on the same models with the same schema; the
  per-model averages are extrapolated to the whole project;
- warm re-run (every model cached): wall and CPU seconds;
- peak RSS of the subprocess.

Bare parsing and the cold run alternate for ``--rounds`` rounds and the best
round of each counts, so a busy neighbour on a shared machine skews both alike.
Targets (one core): lineage <= 2x parse, >= 10x faster than per-column lineage,
>= 200 models/s at 5,000 models, warm re-run <= 1 s, peak RSS <= 1 GB. Wall
times include waiting for a CPU; CPU times do not, so targets are checked on CPU.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlglot
import sqlglot.lineage
import sqlglot.parser

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic_manifest import write_manifest  # noqa: E402

from tessera_core.lineage.project import ModelLineage, analyze_project  # noqa: E402
from tessera_core.lineage.query import analyze_query  # noqa: E402
from tessera_core.manifest import Project, load_manifest  # noqa: E402

Timed = tuple[Any, float, float]  # result, wall seconds, CPU seconds


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed(function: Any, *args: Any, **kwargs: Any) -> Timed:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _best(runs: list[Timed]) -> Timed:
    """The run with the least CPU time."""
    return min(runs, key=lambda run: run[2])


def _bare_parse(sqls: list[str], dialect: str) -> None:
    for sql in sqls:
        sqlglot.parse_one(sql, read=dialect)


def _upstream_schema(project: Project, lineage: dict[str, ModelLineage], uid: str) -> dict[str, list[str]]:
    """relation -> columns of what ``uid`` reads, as analyze_project knew them."""
    schema: dict[str, list[str]] = {}
    for other in lineage[uid].upstream:
        node = project.nodes.get(other)
        if node is None or not node.relation:
            continue
        upstream = lineage.get(other)
        if project.catalog.get(other):
            columns = list(project.catalog[other])
        elif upstream is not None and upstream.ok and upstream.outputs:
            columns = list(upstream.outputs)
        else:
            columns = [c.name for c in node.columns]
        if columns:
            schema[node.relation] = columns
    return schema


def _nested(schema: dict[str, list[str]]) -> dict[str, Any]:
    """The same schema in sqlglot's nested ``{db: {schema: {table: {column: type}}}}`` form."""
    nested: dict[str, Any] = {}
    for relation, columns in schema.items():
        database, schema_name, table = relation.split(".")
        nested.setdefault(database, {}).setdefault(schema_name, {})[table] = dict.fromkeys(columns, "VARCHAR")
    return nested


def _per_column_comparison(
    project: Project, lineage: dict[str, ModelLineage], sample_size: int
) -> dict[str, Any]:
    """sqlglot.lineage.lineage() once per output column vs analyze_query, on the same sampled models."""
    candidates = [
        uid
        for uid, model in lineage.items()
        if model.ok
        and model.outputs
        and project.nodes[uid].relation
        and "__dbt__cte__" not in (project.nodes[uid].compiled_sql or "")
    ]
    step = max(1, len(candidates) // sample_size)
    sample = candidates[::step][:sample_size]
    ours = theirs = 0.0
    columns = failures = 0
    for done, uid in enumerate(sample, start=1):
        sql = project.nodes[uid].compiled_sql or ""
        schema = _upstream_schema(project, lineage, uid)
        start = time.process_time()
        analyze_query(sql, dialect=project.dialect, schema=schema, name=uid)
        ours += time.process_time() - start
        nested = _nested(schema)
        start = time.process_time()
        for column in lineage[uid].outputs:
            columns += 1
            try:
                sqlglot.lineage.lineage(column, sql, schema=nested, dialect=project.dialect)
            except Exception:
                failures += 1
        theirs += time.process_time() - start
        _log(f"    per-column lineage: {done}/{len(sample)} models ({columns} columns)")
    return {
        "sample": len(sample),
        "columns": columns,
        "failures": failures,
        "ours_per_model": ours / max(1, len(sample)),
        "theirs_per_model": theirs / max(1, len(sample)),
    }


def run_one(size: int, seed: int, sample: int, rounds: int) -> dict[str, Any]:
    """Everything measured for one project size (run inside its own process)."""
    with tempfile.TemporaryDirectory(prefix="lineage-bench-") as scratch:
        root = Path(scratch)
        _log(f"[{size}] generating the synthetic manifest (seed {seed})")
        manifest = write_manifest(size, root / "manifest.json", seed=seed)
        project = load_manifest(manifest)
        sqls = [
            n.compiled_sql
            for n in project.nodes.values()
            if n.resource_type in ("model", "snapshot") and n.compiled_sql
        ]
        step = max(1, len(sqls) // 5)
        parse: Timed | None = None
        cold: Timed | None = None  # only the best round's result is kept, so RSS stays one run's
        for round_ in range(1, rounds + 1):

            def progress(done: int, total: int, round_: int = round_) -> None:
                if done % step == 0 or done == total:
                    _log(f"[{size}] round {round_}/{rounds}: analyze_project (cold) {done}/{total}")

            _log(f"[{size}] round {round_}/{rounds}: bare sqlglot.parse_one of {len(sqls)} models")
            gc.collect()
            timed = _timed(_bare_parse, sqls, project.dialect)
            parse = _best([timed, parse] if parse else [timed])
            gc.collect()
            timed = _timed(analyze_project, project, cache_dir=root / f"cache-{round_}", progress=progress)
            cold = _best([timed, cold] if cold else [timed])
            del timed
            gc.collect()
        assert parse is not None and cold is not None
        _, parse_wall, parse_cpu = parse
        result, cold_wall, cold_cpu = cold
        _log(f"[{size}] warm re-run")
        warm, warm_wall, warm_cpu = _timed(analyze_project, project, cache_dir=root / f"cache-{rounds}")
        _log(f"[{size}] per-column sqlglot.lineage on a sample of {sample} models")
        comparison = _per_column_comparison(project, result.models, sample)
        return {
            "size": size,
            "models": len(sqls),
            "parse_wall": parse_wall,
            "parse_cpu": parse_cpu,
            "cold_wall": cold_wall,
            "cold_cpu": cold_cpu,
            "warm_wall": warm_wall,
            "warm_cpu": warm_cpu,
            "warm_hits": warm.cache_hits,
            "not_ok": sum(1 for m in result.models.values() if not m.ok),
            "with_warnings": sum(1 for m in result.models.values() if m.warnings),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            **comparison,
        }


def _report(r: dict[str, Any]) -> list[str]:
    n = r["models"]
    ratio_cpu = r["cold_cpu"] / r["parse_cpu"]
    ratio_wall = r["cold_wall"] / r["parse_wall"]
    speedup = r["theirs_per_model"] / r["ours_per_model"] if r["ours_per_model"] else float("inf")
    rate_cpu = n / r["cold_cpu"]

    def check(ok: bool, label: str, value: str) -> str:
        return f"    [{'ok  ' if ok else 'MISS'}] {label:<32}: {value}"

    lines = [
        f"== {r['size']} models ({n} with compiled SQL; {r['not_ok']} fell back to table level, "
        f"{r['with_warnings']} with warnings)",
        f"  bare parse_one        {r['parse_wall']:8.2f} s wall {r['parse_cpu']:8.2f} s CPU"
        f"   {n / r['parse_cpu']:6.0f} models/s (CPU)",
        f"  analyze_project cold  {r['cold_wall']:8.2f} s wall {r['cold_cpu']:8.2f} s CPU"
        f"   {rate_cpu:6.0f} models/s (CPU), {n / r['cold_wall']:.0f} (wall)",
        f"  warm re-run           {r['warm_wall']:8.3f} s wall {r['warm_cpu']:8.3f} s CPU"
        f"   ({r['warm_hits']} cache hits)",
        f"  per-column lineage    {r['theirs_per_model'] * 1000:8.1f} ms/model vs analyze_query "
        f"{r['ours_per_model'] * 1000:.1f} ms/model (CPU), on {r['sample']} sampled models "
        f"({r['columns']} columns, {r['failures']} failed)",
        f"                        extrapolated per model to all {n}: {r['theirs_per_model'] * n:.0f} s "
        f"vs {r['ours_per_model'] * n:.1f} s",
        f"  peak RSS              {r['peak_rss_mb']:8.0f} MB",
        "  targets (CPU time, one core):",
        check(ratio_cpu <= 2, "lineage / parse <= 2x", f"{ratio_cpu:.2f}x (wall {ratio_wall:.2f}x)"),
        check(speedup >= 10, "vs per-column lineage >= 10x", f"{speedup:.0f}x"),
    ]
    if r["size"] >= 5000:
        lines.append(check(rate_cpu >= 200, ">= 200 models/s at 5,000", f"{rate_cpu:.0f} models/s"))
    lines.append(check(r["warm_cpu"] <= 1, "warm re-run <= 1 s", f"{r['warm_cpu']:.3f} s"))
    lines.append(check(r["peak_rss_mb"] <= 1024, "peak RSS <= 1 GB", f"{r['peak_rss_mb']:.0f} MB"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=8, help="models in the per-column lineage sample")
    parser.add_argument("--rounds", type=int, default=3, help="alternating parse / cold rounds per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:
        print(json.dumps(run_one(args.one, args.seed, args.sample, args.rounds)))
        return

    parser_file = sqlglot.parser.__file__ or ""
    compiled = "compiled by sqlglotc" if parser_file.endswith((".so", ".pyd")) else "pure Python"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"sqlglot {sqlglot.__version__} ({compiled}); Python {sys.version.split()[0]}; load average {load}")
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--seed", str(args.seed)]
        command += ["--sample", str(args.sample), "--rounds", str(args.rounds)]
        finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        result = json.loads(finished.stdout.strip().splitlines()[-1])
        print("\n".join(_report(result)), flush=True)


if __name__ == "__main__":
    main()
