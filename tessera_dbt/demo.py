"""The end-to-end story on example_project/, printed step by step (the README's first command).

1. build v1 and sync: contracts published, consumers inferred from column lineage;
2. a change to a column nobody reads passes without a proposal;
3. a breaking change (``customer_id`` integer -> varchar) is blocked, naming teams, models and columns;
4. the affected teams acknowledge with the CLI;
5. the run passes and the new contract versions publish.

Works on a copy of the project in a temporary folder, so the repository is never touched.
Exits 0 when the story went as told, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tessera_core import (
    Decision,
    Registry,
    build_picture,
    flush_if_configured,
    open_registry,
    render_html,
    render_mermaid,
    render_report,
    table,
)
from tessera_dbt.config import DbtSettings, load_settings
from tessera_dbt.demo_receiver import Receiver
from tessera_dbt.runner import RunOutcome, run_gated

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"
DIM = "models/marts/platform/dim_customers"
FCT = "models/marts/platform/fct_orders"


class StoryError(Exception):
    """The demo did not go as the story says."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StoryError(message)


def step(number: int, title: str) -> None:
    print(f"\n{'=' * 100}\n{number}. {title}\n{'=' * 100}", flush=True)


def edit(path: Path, old: str, new: str, *, count: int = 1) -> None:
    text = path.read_text()
    changed, n = re.subn(old, new, text, count=count)
    expect(n == count, f"demo edit did not apply to {path.name}: {old!r}")
    path.write_text(changed)


def consumers_table(registry: Registry, assets: list[str]) -> str:
    rows = []
    for fqn in assets:
        for r in registry.registrations(fqn):
            cols = ", ".join(sorted(r.columns)) if r.columns is not None else "(all columns)"
            rows.append((fqn.rsplit(".", 1)[-1], r.team, r.consumer, r.consumer_kind.value, cols))
    return table(["asset", "team", "consumer", "kind", "columns read"], rows, max_width=80)


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def gated(settings: DbtSettings, command: str) -> RunOutcome:
    started = time.perf_counter()
    outcome = run_gated(
        settings, command=command, extra_args=["--quiet"], progress=lambda m: print(m, flush=True)
    )
    print(f"   ({command} behind the gate took {time.perf_counter() - started:.1f} s)")
    return outcome


def tessctl(registry: str, *args: str) -> str:
    cmd = [sys.executable, "-m", "tessera_core.cli", "--registry", registry, *args]
    print("$ tessctl " + " ".join(args), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    print(done.stdout.rstrip())
    expect(done.returncode == 0, f"tessctl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


SECRET_ENV = "TESSERA_DEMO_WEBHOOK_SECRET"


def notify_config(project: Path, receiver: Receiver) -> Path:
    """Every team's webhook points at the local receiver; the secret comes from the environment."""
    path = project / ".tessera" / "notify.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    teams = "".join(
        f"  {team}:\n    webhook:\n      url: {receiver.url}/{team}\n      secret_env: {SECRET_ENV}\n"
        for team in ("platform", "analytics", "ml")
    )
    path.write_text("teams:\n" + teams)
    return path


def deliver(settings: DbtSettings, config: Path, receiver: Receiver) -> list[str]:
    """Flush what is left in the outbox and show what reached the receiver since last time.

    ``tessera-dbt`` sends notifications itself after each write; the flush here only catches
    what the CLI (``tessctl ack``) queued without a notify config in its working directory.
    """
    flush_if_configured(settings.registry, config)
    got = receiver.unseen()
    for item in got:
        mark = "signature ok" if item.signed else "BAD SIGNATURE"
        print(f"  webhook -> {item.team:<10} {item.event:<22} ({mark}) {item.body.get('subject', '')}")
    return [f"{r.team}:{r.event}" for r in got]


def story(work: Path) -> None:
    project = work / "example_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", ".tessera", "*.duckdb"))
    os.environ.pop("TESSERA_EXAMPLE_DB", None)
    os.environ.pop("TESSERA_REGISTRY", None)
    os.environ.setdefault(SECRET_ENV, "demo-secret-for-the-local-receiver")
    settings = load_settings(project)
    registry = open_registry(settings.registry)
    print(f"project copy: {project}\nregistry:     {settings.registry} (embedded SQLite)")
    with Receiver(os.environ[SECRET_ENV]) as receiver:
        config = notify_config(project, receiver)
        print(f"webhooks:     every team -> {receiver.url}/<team> (signed, HMAC-SHA256)")
        tell(work, project, settings, registry, config, receiver)


def tell(
    work: Path, project: Path, settings: DbtSettings, registry: Registry, config: Path, receiver: Receiver
) -> None:

    step(1, "Build v1 and sync: contracts published, consumers inferred from the SQL")
    first = gated(settings, "build")
    expect(first.exit_code == 0, f"the first build failed: {first.error or first.to_dict()['check']}")
    assert first.sync is not None
    published = {
        uid.split(".")[-1]: r.contract.version for uid, r in first.sync.published.items() if r.contract
    }
    print("contracts published: " + ", ".join(f"{n} {v}" for n, v in sorted(published.items())))
    marts = [a.fqn for a in registry.assets() if a.fqn.endswith((".dim_customers", ".fct_orders"))]
    expect(len(marts) == 2, f"expected dim_customers and fct_orders as assets, got {marts}")
    print("\nwho reads the contracted marts (inferred from compiled SQL, column by column):")
    print(consumers_table(registry, sorted(marts)))
    print("\nnotifications: the owners learn who reads their assets")
    sent = deliver(settings, config, receiver)
    expect(
        any(s == "platform:consumer.registered" for s in sent), f"platform was not told of consumers: {sent}"
    )

    step(2, "A change to a column nobody reads: drop fct_orders.gift_card_amount")
    edit(
        project / f"{FCT}.sql",
        r"\n    cast\(coalesce\(payments\.gift_card_amount, 0\) as decimal\(18, 2\)\) as gift_card_amount,",
        "",
    )
    edit(
        project / f"{FCT}.yml"
        if (project / f"{FCT}.yml").exists()
        else project / "models/marts/platform/_platform.yml",
        r"      - name: gift_card_amount\n        data_type: decimal\(18,2\)\n",
        "",
    )
    second = gated(settings, "build")
    expect(second.exit_code == 0 and not second.check.blocked, "dropping an unread column was blocked")
    fct = next(c for c in second.check.changed if c.node.name == "fct_orders")
    print(render_report(fct.report))
    expect(
        fct.report.decision is Decision.PASS and fct.report.proposal is None,
        "expected a pass without proposal",
    )

    step(3, "A breaking change: customer_id integer -> varchar in dim_customers and fct_orders")
    edit(
        project / f"{DIM}.sql",
        r"cast\(customers\.customer_id as integer\)",
        "cast(customers.customer_id as varchar)",
    )
    edit(
        project / f"{FCT}.sql",
        r"cast\(orders\.customer_id as integer\)",
        "cast(orders.customer_id as varchar)",
    )
    yml = project / "models/marts/platform/_platform.yml"
    edit(yml, r"(- name: customer_id\n(?:        .*\n)*?        data_type: )integer", r"\1varchar", count=2)
    third = gated(settings, "run")
    expect(third.exit_code == 1 and len(third.check.blocked) == 2, "the breaking change was not blocked")
    for blocked in third.check.blocked:
        print()
        print(render_report(blocked.report))
    teams = sorted({t for b in third.check.blocked for t in b.report.awaiting})
    expect(teams == ["analytics", "ml"], f"expected analytics and ml to be asked, got {teams}")
    proposals = {uid: r.proposal.id for uid, r in third.proposals.items() if r.proposal}
    print(
        "\nthe dbt run was refused; proposals opened: "
        + ", ".join(f"{u.split('.')[-1]} -> {p}" for u, p in proposals.items())
    )
    print("\nnotifications to the affected teams:")
    sent = deliver(settings, config, receiver)
    expect(
        {"analytics:proposal.opened", "ml:proposal.opened"} <= set(sent), f"teams were not notified: {sent}"
    )
    dim_uid = next(u for u in proposals if u.endswith(".dim_customers"))
    dim_report = next(b.report for b in third.check.blocked if b.node.unique_id == dim_uid)
    page = work / "impact-dim_customers.html"
    page.write_text(render_html(build_picture(registry.get_proposal(proposals[dim_uid]))))
    print(f"\nthe impact picture (Mermaid, as in a pull-request comment; as a page: {page}):")
    print(render_mermaid(build_picture(dim_report)))

    step(4, "The affected teams acknowledge with the CLI")
    for pid in proposals.values():
        for team in registry.get_proposal(pid).awaiting:
            tessctl(settings.registry, "ack", pid, "--team", team, "--note", f"{team} checked its models")
    tessctl(settings.registry, "proposals", "list")
    print("\nnotifications to the producer:")
    sent = deliver(settings, config, receiver)
    expect(
        any(s.startswith("platform:") for s in sent),
        f"the producer was not told of the acknowledgments: {sent}",
    )

    step(5, "The run passes and the new contract versions publish")
    fifth = gated(settings, "build")
    expect(fifth.exit_code == 0, f"the build after acknowledgment failed: {fifth.error}")
    assert fifth.sync is not None
    for uid, result in sorted(fifth.sync.published.items()):
        if result.action == "published" and result.contract:
            print(f"published {uid.split('.')[-1]} {result.contract.version}")
    for fqn in sorted(marts):
        print(f"\n$ tessctl history {fqn}")
        rows = [
            (c.version, c.change_class, c.proposal_id or "", c.published_by or "")
            for c in registry.contract_history(fqn)
        ]
        print(table(["version", "class", "proposal", "by"], rows))
    versions = {fqn.rsplit(".", 1)[-1]: registry.current_contract(fqn).version for fqn in marts}  # type: ignore[union-attr]
    expect(versions == {"dim_customers": "2.0.0", "fct_orders": "3.0.0"}, f"unexpected versions {versions}")
    print("\nnotifications of the publication:")
    deliver(settings, config, receiver)
    print("\nThe story went as told: the breaking change waited for analytics and ml, then shipped.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Where to copy the project (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="Keep the working copy")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tessera-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        story(work)
    except StoryError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
