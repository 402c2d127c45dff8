"""The gated run / build wrapper: refuse, run everything except the blocked, publish after success.

One module story on one copy of example_project/:

1. ``build`` v1 through the wrapper: contracts publish after the run;
2. dim_customers.customer_id becomes varchar (breaking for analytics and ml) and fct_orders drops
   gift_card_amount (nobody reads it); ``run`` is refused: nothing builds, a proposal opens;
3. ``tessera-dbt build --exclude-blocked``: everything but dim_customers and its descendants builds,
   and the new fct_orders contract publishes;
4. analytics and ml acknowledge; ``run`` passes and dim_customers 2.0.0 publishes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tessera_core import ProposalStatus, Registry, acknowledge, open_registry
from tessera_dbt.runner import RunOutcome, run_gated

from .conftest import (
    DIM,
    FCT,
    cli,
    copy_example,
    drop_fct_gift_card_amount,
    node_names,
    retype_dim_customer_id,
    settings_for,
    warehouse_columns,
)

pytestmark = pytest.mark.slow

DIM_UID = "model.jaffle_contracts.dim_customers"
QUIET = ["--quiet"]


@dataclass(frozen=True)
class Warehouse:
    dim: dict[str, str]
    fct: dict[str, str]


@dataclass(frozen=True)
class Story:
    registry: Registry
    first: RunOutcome
    refused: RunOutcome
    after_refused: Warehouse
    excluded: dict[str, Any]  # `tessera-dbt build --exclude-blocked --json`
    excluded_exit: int
    after_excluded: Warehouse
    fct_history_after_excluded: list[str]
    final: RunOutcome
    after_final: Warehouse


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, module_registry_spec: str) -> Story:
    work = tmp_path_factory.mktemp("runner")
    project = copy_example(work)
    settings = settings_for(project, module_registry_spec)
    registry = open_registry(settings.registry)

    def warehouse() -> Warehouse:
        dim, fct = (warehouse_columns(project, name) for name in ("dim_customers", "fct_orders"))
        return Warehouse(dim, fct)

    first = run_gated(settings, command="build", extra_args=QUIET)
    retype_dim_customer_id(project)
    drop_fct_gift_card_amount(project)
    refused = run_gated(settings, command="run", extra_args=QUIET)
    after_refused = warehouse()
    excluded = cli(settings, "build", "--exclude-blocked", "--json", "--", "--quiet")
    after_excluded = warehouse()
    fct_history = [c.version for c in registry.contract_history(FCT)]
    proposal = refused.proposals[DIM_UID].proposal
    assert proposal is not None
    for team in ("analytics", "ml"):
        acknowledge(registry, proposal.id, team, note=f"{team} is ready for a varchar customer_id")
    final = run_gated(settings, command="run", extra_args=QUIET)
    return Story(
        registry,
        first,
        refused,
        after_refused,
        json.loads(excluded.stdout),
        excluded.exit_code,
        after_excluded,
        fct_history,
        final,
        warehouse(),
    )


def test_first_build_publishes_contracts_after_the_run(story: Story) -> None:
    assert story.first.exit_code == 0
    assert story.first.sync is not None
    published = {uid: r.action for uid, r in story.first.sync.published.items()}
    assert set(published.values()) == {"published"}
    kinds = {uid.split(".")[0] for uid in published}
    assert kinds == {"model", "seed", "source"}
    assert len(published) == 13


def test_blocked_change_refuses_the_run(story: Story) -> None:
    assert story.refused.refused
    assert story.refused.exit_code == 1
    assert [c.node.unique_id for c in story.refused.check.blocked] == [DIM_UID]


def test_refused_run_builds_nothing(story: Story) -> None:
    assert story.refused.built == ()
    assert story.refused.sync is None
    assert story.after_refused.dim["customer_id"] == "INTEGER"
    assert "gift_card_amount" in story.after_refused.fct


def test_refused_run_opens_a_proposal_for_the_affected_teams(story: Story) -> None:
    opened = story.refused.proposals[DIM_UID]
    assert opened.action == "proposal_opened"
    assert opened.proposal is not None
    assert opened.proposal.affected_teams == ("analytics", "ml")
    assert opened.proposal.base_version == "1.0.0"


def test_exclude_blocked_skips_the_blocked_model_and_its_descendants(story: Story) -> None:
    assert story.excluded_exit == 0
    assert story.excluded["excluded"] == ["dim_customers+"]
    built = node_names(story.excluded["built"])
    assert not built & {"dim_customers", "rpt_customer_revenue", "ml_customer_features"}
    assert story.after_excluded.dim["customer_id"] == "INTEGER"


def test_exclude_blocked_builds_and_publishes_the_rest(story: Story) -> None:
    built = node_names(story.excluded["built"])
    assert {"stg_orders", "stg_customers", "fct_orders", "rpt_daily_orders", "raw_orders"} <= built
    assert "gift_card_amount" not in story.after_excluded.fct
    fct = story.excluded["sync"]["contracts"]["model.jaffle_contracts.fct_orders"]
    assert (fct["action"], fct["version"]) == ("published", "2.0.0")
    assert DIM_UID not in story.excluded["sync"]["contracts"]


def test_publish_after_success_adds_a_version_to_the_history(story: Story) -> None:
    assert story.fct_history_after_excluded == ["1.0.0", "2.0.0"]


def test_run_passes_once_every_affected_team_acknowledged(story: Story) -> None:
    assert story.final.exit_code == 0
    assert not story.final.check.blocked
    assert story.after_final.dim["customer_id"] == "VARCHAR"


def test_acknowledged_change_publishes_as_the_next_major_version(story: Story) -> None:
    history = story.registry.contract_history(DIM)
    assert [c.version for c in history] == ["1.0.0", "2.0.0"]
    proposal = story.refused.proposals[DIM_UID].proposal
    assert proposal is not None
    assert history[-1].proposal_id == proposal.id
    assert story.registry.get_proposal(proposal.id).status is ProposalStatus.PUBLISHED
