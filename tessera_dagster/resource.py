"""``TesseraResource``: where the registry is and how the gate behaves when it cannot be reached."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource
from pydantic import Field, field_validator

from tessera_core import (
    DEFAULT_PATH,
    GateSettings,
    Registry,
    RegistryUnavailableError,
    TesseraError,
    check_dialect,
    flush_after_write,
    open_registry,
)

REGISTRY_ENV = "TESSERA_REGISTRY"
API_KEY_ENV = "TESSERA_API_KEY"


class TesseraResource(ConfigurableResource["TesseraResource"]):
    """The Tessera registry that contract checks and the proposal sensor talk to.

    ``registry``: a SQLite path or a Tessera server URL; unset, ``$TESSERA_REGISTRY``, else
    ``.tessera/registry.db``. ``api_key``: for a server; unset, ``$TESSERA_API_KEY`` (prefer that, or
    ``EnvVar``, so the key never shows in run config; it is never logged). ``fail_open``: when the registry
    cannot be reached, pass checks with a warning instead of blocking (default: block). ``dialect``: the
    SQL dialect of the type strings in ``dagster/column_schema`` metadata.
    """

    registry: str | None = Field(default=None, description="SQLite path or Tessera server URL")
    api_key: str | None = Field(default=None, description="API key for a Tessera server")
    fail_open: bool = Field(default=False, description="pass checks when the registry is unreachable")
    dialect: str = Field(default="duckdb", description="SQL dialect of column type strings")

    @field_validator("dialect")
    @classmethod
    def _known_dialect(cls, value: str) -> str:
        try:
            return check_dialect(value)
        except TesseraError as exc:  # pydantic reports ValueErrors as config errors
            raise ValueError(f"TesseraResource.dialect: {exc}") from None

    @property
    def registry_spec(self) -> str:
        return self.registry or os.environ.get(REGISTRY_ENV) or str(DEFAULT_PATH)

    @property
    def gate_settings(self) -> GateSettings:
        return GateSettings(fail_open=self.fail_open)

    @contextmanager
    def connect(self) -> Iterator[Registry]:
        """The registry, closed again afterwards. A registry that cannot be opened is unreachable."""
        spec = self.registry_spec
        try:
            registry = open_registry(spec, api_key=self.api_key or os.environ.get(API_KEY_ENV))
        except (OSError, RegistryUnavailableError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise RegistryUnavailableError(
                f"cannot open the Tessera registry {spec}: {reason}; set "
                f"TesseraResource.registry (or ${REGISTRY_ENV}) to a writable path or a server URL"
            ) from None
        try:
            yield registry
        finally:
            close = getattr(registry, "close", None)
            if callable(close):
                close()
            # send what the check's writes queued (SQLite registry + notify config); never fails the check
            flush_after_write(spec, os.environ.get("TESSERA_NOTIFY_CONFIG"))
