"""The ``tessera`` connection type: which registry to use, with which key, failing open or closed.

A connection names the registry in one of two places:

- ``host``: a Tessera server URL (``https://tessera.example.com``; a host without a scheme gets
  ``https://``), with ``port`` and ``schema`` appended as ``:port`` and ``/path``;
- ``extra["registry"]``: a SQLite registry path (or a URL), which wins over ``host``.

The API key goes in ``password``; ``extra["fail_open"]`` (default false) lets the contract check
pass with a loud warning when the registry cannot be reached. ``AIRFLOW_CONN_TESSERA_DEFAULT``
works in both forms, e.g. ``tessera://?registry=%2Fdata%2Fregistry.db&fail_open=true`` or
``{"conn_type": "tessera", "host": "https://tessera.example.com", "password": "..."}``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from tessera_core import (
    GateSettings,
    RegistryError,
    RegistryUnavailableError,
    TesseraError,
    flush_after_write,
    open_registry,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from tessera_core import Registry

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def _extra(extra: dict[str, Any], key: str) -> Any:
    """An extra as the connection form stores it (``extra__tessera__key``) or as typed by hand."""
    if key in extra:
        return extra[key]
    return extra.get(f"extra__tessera__{key}")


def _flag(value: Any, *, conn_id: str, key: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TesseraError(f"connection {conn_id!r}: extra {key}={value!r} is not a boolean; use true or false")


@dataclass(frozen=True, slots=True)
class RegistryTarget:
    """What a ``tessera`` connection resolves to: the registry spec, its API key, and fail-open."""

    conn_id: str
    spec: str
    api_key: str | None = None
    fail_open: bool = False

    @classmethod
    def from_connection(cls, conn: Connection) -> RegistryTarget:
        extra = conn.extra_dejson
        spec = _extra(extra, "registry")
        if not spec and conn.host:
            host = conn.host if "://" in conn.host else f"https://{conn.host}"
            spec = host + (f":{conn.port}" if conn.port else "") + (f"/{conn.schema}" if conn.schema else "")
        if not spec:
            raise TesseraError(
                f"connection {conn.conn_id!r} names no Tessera registry: set its host to the server URL, "
                'or its extra to {"registry": "<path of a SQLite registry>"}'
            )
        return cls(
            conn_id=conn.conn_id,
            spec=str(spec),
            api_key=conn.password or None,
            fail_open=_flag(_extra(extra, "fail_open"), conn_id=conn.conn_id, key="fail_open"),
        )

    def open(self) -> Registry:
        """Open the registry; a path that cannot be created or opened is ``RegistryUnavailableError``."""
        try:
            return open_registry(self.spec, api_key=self.api_key)
        except (OSError, RegistryError) as exc:
            raise RegistryUnavailableError(
                f"connection {self.conn_id!r}: cannot open the Tessera registry {self.spec} ({exc}); "
                "fix the connection's host or extra.registry"
            ) from exc

    def settings(self, *, fail_open: bool | None = None) -> GateSettings:
        return GateSettings(fail_open=self.fail_open if fail_open is None else fail_open)


class TesseraHook(BaseHook):
    """A Tessera registry behind an Airflow connection.

    ``fail_open`` (default ``None``: the connection's ``extra.fail_open``) overrides the connection.
    ``get_conn()`` opens the registry once per hook; ``close()`` releases it.
    """

    conn_name_attr = "tessera_conn_id"
    default_conn_name = "tessera_default"
    conn_type = "tessera"
    hook_name = "Tessera"

    def __init__(self, tessera_conn_id: str = default_conn_name, *, fail_open: bool | None = None) -> None:
        super().__init__()
        self.tessera_conn_id = tessera_conn_id
        self.fail_open = fail_open
        self._registry: Registry | None = None

    @cached_property
    def target(self) -> RegistryTarget:
        return RegistryTarget.from_connection(self.get_connection(self.tessera_conn_id))

    async def aget_target(self) -> RegistryTarget:
        """The target from inside an event loop (a trigger), without blocking it."""
        return RegistryTarget.from_connection(await self.aget_connection(self.tessera_conn_id))

    @property
    def settings(self) -> GateSettings:
        return self.target.settings(fail_open=self.fail_open)

    def get_conn(self) -> Registry:
        if self._registry is None:
            self._registry = self.target.open()
        return self._registry

    def close(self) -> None:
        """Close the registry, then send the notifications its writes queued (SQLite registry with a
        notify config: $TESSERA_NOTIFY_CONFIG or .tessera/notify.yml); a failure never fails the task."""
        opened = self._registry is not None
        closer = getattr(self._registry, "close", None)
        if callable(closer):
            closer()
        self._registry = None
        if opened:
            flush_after_write(self.target.spec, os.environ.get("TESSERA_NOTIFY_CONFIG"))

    def test_connection(self) -> tuple[bool, str]:
        try:
            registry = self.get_conn()
            count = len(registry.assets())
        except TesseraError as exc:
            return False, str(exc)
        finally:
            self.close()
        return True, f"connected to {self.target.spec} ({count} assets)"
