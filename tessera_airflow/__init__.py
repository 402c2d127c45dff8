"""Tessera for Airflow: a provider with a ``tessera`` connection, contract operators, an
acknowledgment sensor (deferrable) and consumer registration from the SQL of DAG tasks.

Everything decides through ``tessera_core``; this package only translates to Airflow.
Names load on first use, so listing the provider does not import the operators.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "TesseraHook": "tessera_airflow.hooks.tessera",
    "RegistryTarget": "tessera_airflow.hooks.tessera",
    "TesseraContractCheckOperator": "tessera_airflow.operators.contract",
    "TesseraPublishContractOperator": "tessera_airflow.operators.contract",
    "TesseraRegisterConsumerOperator": "tessera_airflow.operators.contract",
    "TesseraRegisterSqlConsumersOperator": "tessera_airflow.operators.contract",
    "TesseraAcknowledgmentSensor": "tessera_airflow.sensors.acknowledgment",
    "TesseraAcknowledgmentTrigger": "tessera_airflow.triggers.acknowledgment",
    "AckState": "tessera_airflow.triggers.acknowledgment",
    "acknowledgment_state": "tessera_airflow.triggers.acknowledgment",
    "TaskReads": "tessera_airflow.lineage",
    "task_reads": "tessera_airflow.lineage",
    "register_sql_tasks": "tessera_airflow.lineage",
    "register_sql_consumers": "tessera_airflow.lineage",
}

__all__ = [
    "AckState",
    "RegistryTarget",
    "TaskReads",
    "TesseraAcknowledgmentSensor",
    "TesseraAcknowledgmentTrigger",
    "TesseraContractCheckOperator",
    "TesseraHook",
    "TesseraPublishContractOperator",
    "TesseraRegisterConsumerOperator",
    "TesseraRegisterSqlConsumersOperator",
    "acknowledgment_state",
    "register_sql_consumers",
    "register_sql_tasks",
    "task_reads",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tessera_airflow' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from tessera_airflow.hooks.tessera import RegistryTarget, TesseraHook
    from tessera_airflow.lineage import TaskReads, register_sql_consumers, register_sql_tasks, task_reads
    from tessera_airflow.operators.contract import (
        TesseraContractCheckOperator,
        TesseraPublishContractOperator,
        TesseraRegisterConsumerOperator,
        TesseraRegisterSqlConsumersOperator,
    )
    from tessera_airflow.sensors.acknowledgment import TesseraAcknowledgmentSensor
    from tessera_airflow.triggers.acknowledgment import (
        AckState,
        TesseraAcknowledgmentTrigger,
        acknowledgment_state,
    )
