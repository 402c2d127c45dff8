"""What notification code raises on purpose; every message names the file, team or channel at fault."""

from __future__ import annotations

from tessera_core.errors import TesseraError


class NotifyError(TesseraError):
    """Notifications could not be configured, stored or delivered."""


class NotifyConfigError(NotifyError):
    """A notification config file (``.tessera/notify.yml``) that cannot be used. Nothing was sent."""


class DeliveryError(NotifyError):
    """One delivery attempt failed. The message is safe to store and print: no URL path, no secret.

    ``status`` is the receiver's HTTP status, ``None`` when no answer came.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


__all__ = ["DeliveryError", "NotifyConfigError", "NotifyError"]
