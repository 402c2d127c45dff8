"""Wait, in the triggerer, until every team a proposal affects has acknowledged it.

``acknowledgment_state`` reads one proposal and says whether the wait is over; the sensor
calls it on every poke and the trigger in a loop. Approved, published and forced proposals
end the wait; rejected, withdrawn and expired ones end it with a failure; pending ones
keep it going and name the teams still to answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from tessera_airflow.hooks.tessera import TesseraHook
from tessera_core import NotFoundError, ProposalStatus, Registry, TesseraError, proposal_dict

DONE = frozenset({ProposalStatus.APPROVED, ProposalStatus.PUBLISHED, ProposalStatus.FORCED})
CLOSED = frozenset({ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN, ProposalStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class AckState:
    """Where the wait stands. ``status``: acknowledged | waiting | closed | none (no proposal)."""

    status: str
    message: str
    proposal_id: str | None = None
    awaiting: tuple[str, ...] = ()
    proposal: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status in ("acknowledged", "none")

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "proposal_id": self.proposal_id,
            "awaiting": list(self.awaiting),
            "proposal": self.proposal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AckState:
        return cls(
            status=data["status"],
            message=data["message"],
            proposal_id=data.get("proposal_id"),
            awaiting=tuple(data.get("awaiting") or ()),
            proposal=data.get("proposal"),
        )


def acknowledgment_state(
    registry: Registry, *, proposal_id: str | None = None, asset: str | None = None
) -> AckState:
    """The state of proposal ``proposal_id``, or of the newest proposal on ``asset``."""
    if proposal_id:
        try:
            proposal = registry.get_proposal(proposal_id)
        except NotFoundError as exc:
            raise TesseraError(
                f"proposal {proposal_id} is not in the registry ({exc}); check the proposal id the sensor "
                "was given (e.g. the publish task's XCom)"
            ) from exc
    elif asset:
        found = registry.proposals(asset)
        if not found:
            return AckState("none", f"no proposal is open on {asset}: nothing to acknowledge")
        proposal = found[-1]
    else:
        raise TesseraError("pass a proposal id or an asset to wait for acknowledgments")
    payload = proposal_dict(proposal)
    if proposal.status in DONE:
        message = f"proposal {proposal.id} on {proposal.asset_fqn} is {proposal.status.value}"
        return AckState("acknowledged", message, proposal.id, (), payload)
    if proposal.status in CLOSED:
        reason = f": {proposal.reason}" if proposal.reason else ""
        message = (
            f"proposal {proposal.id} on {proposal.asset_fqn} was {proposal.status.value}{reason}; "
            "nothing will be acknowledged, publish a new schema to open a new proposal"
        )
        return AckState("closed", message, proposal.id, (), payload)
    awaiting = proposal.awaiting
    message = (
        f"proposal {proposal.id} on {proposal.asset_fqn} waits for {', '.join(awaiting)}: "
        f"tessctl ack {proposal.id} --team <team>"
    )
    return AckState("waiting", message, proposal.id, awaiting, payload)


class TesseraAcknowledgmentTrigger(BaseTrigger):
    """Polls the registry every ``poke_interval`` seconds until the proposal is acknowledged.

    ``deadline`` (epoch seconds, default ``None``: no limit) ends the wait with a ``timeout``
    event that names the teams still waiting. Every event's payload is an ``AckState`` dict,
    plus ``"status": "timeout"`` or ``"status": "error"`` (with the message) when it ended early.
    """

    def __init__(
        self,
        *,
        proposal_id: str,
        tessera_conn_id: str = TesseraHook.default_conn_name,
        poke_interval: float = 60.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.proposal_id = proposal_id
        self.tessera_conn_id = tessera_conn_id
        self.poke_interval = poke_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "proposal_id": self.proposal_id,
                "tessera_conn_id": self.tessera_conn_id,
                "poke_interval": self.poke_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        registry: Registry | None = None
        try:
            target = await TesseraHook(self.tessera_conn_id).aget_target()
            registry = await asyncio.to_thread(target.open)
            while True:
                state = await asyncio.to_thread(acknowledgment_state, registry, proposal_id=self.proposal_id)
                if state.status != "waiting":
                    yield _event(state.to_dict())
                    return
                self.log.info("%s", state.message)
                if self.deadline is not None and time.time() >= self.deadline:
                    yield _event({**state.to_dict(), "status": "timeout"})
                    return
                await asyncio.sleep(self._pause())
        except TesseraError as exc:
            yield _event(AckState("error", str(exc), self.proposal_id).to_dict())
        finally:
            if registry is not None:
                _close(registry)

    def _pause(self) -> float:
        if self.deadline is None:
            return self.poke_interval
        return max(0.0, min(self.poke_interval, self.deadline - time.time()))


def _event(payload: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


def _close(registry: Registry) -> None:
    closer = getattr(registry, "close", None)
    if callable(closer):
        closer()


__all__ = ["AckState", "TesseraAcknowledgmentTrigger", "acknowledgment_state"]
