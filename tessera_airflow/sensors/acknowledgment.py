"""Hold a DAG until every team a breaking change affects has acknowledged its proposal."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from tessera_airflow.hooks.tessera import TesseraHook
from tessera_airflow.triggers.acknowledgment import (
    AckState,
    TesseraAcknowledgmentTrigger,
    acknowledgment_state,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


class TesseraAcknowledgmentSensor(BaseSensorOperator):
    """Succeeds once the proposal is approved (or published) by every affected team.

    Give ``proposal_id`` (templated, e.g. from the publish task's XCom
    ``{{ ti.xcom_pull(task_ids='publish')['proposal']['id'] }}``) or ``asset`` (the newest
    proposal on it; no proposal at all means nothing to wait for). A rejected, withdrawn or
    expired proposal fails the task at once. Works in ``poke`` and ``reschedule`` mode, and with
    ``deferrable=True`` it waits in the triggerer (``TesseraAcknowledgmentTrigger``). When
    ``timeout`` passes, the task fails naming the teams that have not answered. The proposal
    (as a dict) is the XCom return value.
    """

    template_fields: Sequence[str] = ("proposal_id", "asset", "tessera_conn_id")
    ui_color = "#f0e4d7"

    def __init__(
        self,
        *,
        proposal_id: str | None = None,
        asset: str | None = None,
        tessera_conn_id: str = TesseraHook.default_conn_name,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not proposal_id and not asset:
            raise ValueError(f"{self.task_id}: pass proposal_id or asset to wait for acknowledgments")
        self.proposal_id = proposal_id
        self.asset = asset
        self.tessera_conn_id = tessera_conn_id
        self.deferrable = deferrable
        self._last: AckState | None = None

    def poke(self, context: Context) -> PokeReturnValue | bool:
        hook = TesseraHook(self.tessera_conn_id)
        try:
            state = acknowledgment_state(hook.get_conn(), proposal_id=self.proposal_id, asset=self.asset)
        finally:
            hook.close()
        self._last = state
        if state.status == "closed":
            raise AirflowFailException(state.message)
        self.log.info("%s", state.message)
        if state.done:
            return PokeReturnValue(True, xcom_value=state.proposal)
        return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as exc:
                raise AirflowSensorTimeout(self._timeout_message()) from exc
        started = time.time()
        result = self.poke(context)
        if result:
            return result.xcom_value if isinstance(result, PokeReturnValue) else None
        assert self._last is not None and self._last.proposal_id is not None
        self.defer(
            trigger=TesseraAcknowledgmentTrigger(
                proposal_id=self._last.proposal_id,
                tessera_conn_id=self.tessera_conn_id,
                poke_interval=self.poke_interval,
                deadline=started + self.timeout,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        if not event:
            raise AirflowFailException(f"{self.task_id}: the acknowledgment trigger ended without an event")
        state = AckState.from_dict(event)
        self._last = state
        if state.status == "timeout":
            raise AirflowSensorTimeout(self._timeout_message())
        if state.status in ("closed", "error"):
            raise AirflowFailException(state.message)
        self.log.info("%s", state.message)
        return state.proposal

    def _timeout_message(self) -> str:
        what = self.proposal_id or f"the proposal on {self.asset}"
        waiting = ""
        if self._last is not None and self._last.awaiting:
            what = f"proposal {self._last.proposal_id}"
            waiting = f"; still waiting for {', '.join(self._last.awaiting)}"
        return (
            f"{what} was not acknowledged within {self.timeout:g}s{waiting}. Ask those teams to run "
            "tessctl ack, or raise the sensor's timeout"
        )
