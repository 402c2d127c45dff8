"""Races between processes (spawned) and threads on one registry file.

One pool of spawned processes serves every race; a barrier makes the workers
of a round start their operation together. Each race runs several rounds,
each on a fresh file.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from multiprocessing.pool import Pool
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from registry_samples import DROP_STATUS, ORDERS, V1, V2, affected

from tessera_core.errors import TesseraError
from tessera_core.registry.base import AckResponse, ProposalStatus, RegisterOutcome, Registration
from tessera_core.registry.sqlite import SqliteRegistry

WORKERS = 3
ROUNDS = 3
BARRIER_SECONDS = 20

_barriers: dict[int, Barrier] = {}


def _init_worker(barriers: dict[int, Barrier]) -> None:
    _barriers.update(barriers)


def _together(parties: int) -> None:
    _barriers[parties].wait(BARRIER_SECONDS)


def _outcome(error: TesseraError) -> str:
    return type(error).__name__


def _acknowledge(path: str, proposal_id: str, team: str) -> str:
    with SqliteRegistry(path) as reg:
        _together(2)
        return reg.acknowledge(proposal_id, team, AckResponse.APPROVED, by=team).status.value


def _publish(path: str, proposal_id: str, version: str) -> str:
    with SqliteRegistry(path) as reg:
        _together(WORKERS)
        try:
            return reg.publish_proposal(proposal_id, version)[1].version
        except TesseraError as error:
            return _outcome(error)


def _register(path: str) -> str:
    with SqliteRegistry(path) as reg:
        _together(WORKERS)
        return reg.register(
            Registration(ORDERS, "finance", "fct_revenue", columns=frozenset({"status"}))
        ).value


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    context = multiprocessing.get_context("spawn")
    barriers = {2: context.Barrier(2), WORKERS: context.Barrier(WORKERS)}
    with context.Pool(WORKERS, initializer=_init_worker, initargs=(barriers,)) as workers:
        yield workers


def _proposal_on_v1(path: Path, *teams: str) -> str:
    with SqliteRegistry(path) as reg:
        reg.publish_contract(ORDERS, V1, "1.0.0", change_class="initial")
        proposal, _ = reg.open_proposal(ORDERS, V2, DROP_STATUS, affected(*teams), base_version="1.0.0")
        return proposal.id


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_the_last_two_acknowledgments_at_once_are_both_kept(pool: Pool, tmp_path: Path, round_: int) -> None:
    path = tmp_path / "registry.db"
    proposal_id = _proposal_on_v1(path, "core", "finance", "growth")
    with SqliteRegistry(path) as reg:
        reg.acknowledge(proposal_id, "core", AckResponse.APPROVED)

    statuses = pool.starmap(
        _acknowledge, [(str(path), proposal_id, "finance"), (str(path), proposal_id, "growth")]
    )

    assert sorted(statuses) == ["approved", "pending"]  # whoever came second saw the first
    with SqliteRegistry(path) as reg:
        proposal = reg.get_proposal(proposal_id)
    assert proposal.status is ProposalStatus.APPROVED
    assert {a.team: a.response for a in proposal.acknowledgments} == dict.fromkeys(
        ("core", "finance", "growth"), AckResponse.APPROVED
    )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_racing_publishers_publish_exactly_once(pool: Pool, tmp_path: Path, round_: int) -> None:
    path = tmp_path / "registry.db"
    proposal_id = _proposal_on_v1(path)  # nobody affected: approved from the start

    results = pool.starmap(_publish, [(str(path), proposal_id, f"2.0.{n}") for n in range(WORKERS)])

    winners = [r for r in results if r.startswith("2.0.")]
    assert len(winners) == 1
    assert Counter(results)["InvalidStateError"] == WORKERS - 1
    with SqliteRegistry(path) as reg:
        assert [c.version for c in reg.contract_history(ORDERS)] == ["1.0.0", winners[0]]
        assert reg.get_proposal(proposal_id).published_version == winners[0]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_registers_of_one_key_store_one_row(pool: Pool, tmp_path: Path, round_: int) -> None:
    path = tmp_path / "registry.db"
    SqliteRegistry(path).close()

    outcomes = pool.starmap(_register, [(str(path),)] * WORKERS)

    assert Counter(outcomes) == {RegisterOutcome.ADDED.value: 1, RegisterOutcome.UNCHANGED.value: WORKERS - 1}
    with SqliteRegistry(path) as reg:
        assert len(reg.registrations(include_retired=True)) == 1


def test_threads_sharing_one_registry_lose_no_write(registry: SqliteRegistry) -> None:
    start = threading.Barrier(WORKERS)
    outcomes: list[RegisterOutcome] = []

    def register_many(thread: int) -> None:
        start.wait(BARRIER_SECONDS)
        for n in range(10):
            outcomes.append(registry.register(Registration(ORDERS, f"team{thread}", f"model{n}")))
            outcomes.append(registry.register(Registration(ORDERS, "shared", "model")))

    threads = [threading.Thread(target=register_many, args=(t,)) for t in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(registry.registrations(ORDERS)) == WORKERS * 10 + 1
    assert Counter(outcomes)[RegisterOutcome.ADDED] == WORKERS * 10 + 1


def test_connections_of_finished_threads_are_closed(registry: SqliteRegistry) -> None:
    for n in range(8):
        thread = threading.Thread(target=registry.ensure_team, args=(f"team{n}",))
        thread.start()
        thread.join()
    registry.teams()  # this thread's connection; the finished threads' ones are closed by now
    assert len(registry._connections) <= 2
    assert len(registry.teams()) == 8
