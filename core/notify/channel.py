"""What every channel does: turn a delivery's payload into one HTTP POST, and say why it failed.

Failures become ``DeliveryError`` messages that are safe to store, print and
log: they name the URL's scheme and host only (a Slack webhook URL's path is
its credential) and never the request's headers or body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import requests

from tessera_core.notify.errors import DeliveryError

USER_AGENT = "tessera-integrations-notify/1"
MAX_ERROR_BODY = 200  # characters of a failed response kept in the outbox


class Channel(Protocol):
    """One way to reach a team. ``name`` is the outbox's channel column (``webhook``, ``slack``)."""

    name: str

    def send(self, payload: dict[str, Any], *, session: requests.Session, timeout: float) -> None:
        """Deliver ``payload`` (``Delivery.payload()``) or raise ``DeliveryError``."""
        ...


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    shown: str,
) -> None:
    """POST ``body`` to ``url``; any answer other than 2xx raises DeliveryError naming only ``shown``.

    Redirects are not followed: the signed body would go to an address nobody configured.
    """
    try:
        response = session.post(
            url,
            data=body,
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=(timeout, timeout),
            allow_redirects=False,
        )
    except requests.Timeout:
        raise DeliveryError(f"{shown} did not answer within {timeout:g}s") from None
    except requests.ConnectionError:
        raise DeliveryError(f"could not connect to {shown}") from None
    except requests.RequestException as error:
        raise DeliveryError(f"sending to {shown} failed ({type(error).__name__})") from None
    with response:
        if 200 <= response.status_code < 300:
            return
        if 300 <= response.status_code < 400:
            raise DeliveryError(
                f"{shown} answered HTTP {response.status_code} (a redirect, not followed); configure the "
                "final URL",
                status=response.status_code,
            )
        text = " ".join(response.text[:MAX_ERROR_BODY].split())
        said = f": {text}" if text else ""
        code = response.status_code
        raise DeliveryError(f"{shown} answered HTTP {code}{said}", status=code)


__all__ = ["USER_AGENT", "Channel", "post"]
