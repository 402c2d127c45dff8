"""Calls to a Tessera server: timeouts, bounded retries, pagination, errors that name the call.

Every request carries ``timeout``. What is retried, and how:

- a read (``GET``, or a write the caller marks idempotent) is retried on a
  connection error, a timeout and on 429 / 502 / 503 / 504, with exponential
  backoff (``backoff * 2**n`` seconds) or the server's ``Retry-After`` when
  that is longer (capped at ``MAX_RETRY_AFTER``);
- a write is retried blindly only when the server cannot have acted on it: a
  429 (the rate limiter answers before the request is handled) or a
  connection that was never opened;
- any other failure of a write (a 5xx, a timeout, a dropped connection) is an
  unknown outcome. ``write`` then asks the caller's ``happened`` check, which
  reads the server's state: if the write happened, it returns ``None`` (the
  caller reads the result back); if not, it sends the write again, within
  the same budget of ``retries``.

A server that stays unreachable raises ``RegistryUnavailableError`` (the gate
fails closed on it); a refusal raises the matching ``RegistryError`` subclass,
its message naming the call (``POST /api/v1/teams``), the status and the
server's error code and message. The API key travels only in the
``Authorization`` header of requests to the configured base URL (redirects
are not followed) and never appears in a log line or an error message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions

from tessera_core.errors import (
    ConflictError,
    InvalidStateError,
    NotFoundError,
    RegistryError,
    RegistryUnavailableError,
)

log = logging.getLogger("tessera.registry.http")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
PAGE_SIZE = 100  # the server's maximum ``limit``
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is cut to this
MAX_PAGES = 10_000  # a guard against a server that ignores ``offset``

Params = Mapping[str, str | int | bool | None]


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer of the server: ``call`` is ``"METHOD /path"``, ``body`` the decoded JSON (or None)."""

    call: str
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str | None:
        """The server's error code (``DUPLICATE_TEAM``), when the body carries one."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return str(code) if code is not None else None

    @property
    def message(self) -> str:
        """The server's error message; for a validation error, each field and what is wrong with it."""
        body = self.body
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict) and error.get("message"):
                return str(error["message"])
            detail = body.get("detail")
            if isinstance(detail, list):
                return "; ".join(_validation_item(item) for item in detail)
            if detail is not None:
                return str(detail)
        return str(body)[:300] if body is not None else "(no body)"

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; RegistryError naming the call when it is not one."""
        if not isinstance(self.body, dict):
            raise RegistryError(
                f"{self.call} answered {self.status} with {type(self.body).__name__} where a JSON object "
                "was expected; is the base URL a Tessera server (…/api/v1 lives under it)?"
            )
        return self.body


def _validation_item(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = ".".join(str(part) for part in item.get("loc", ()))
    return f"{where}: {item.get('msg', item)}" if where else str(item.get("msg", item))


class Transport:
    """The HTTP side of ``HttpRegistry``; see the module doc for the retry rules.

    ``sleep`` is how waiting happens (``time.sleep``); tests pass their own clock.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        verify: bool | str = True,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.origin = _origin(base_url)
        if timeout <= 0:
            raise RegistryError(f"timeout for {self.origin} must be more than 0 seconds, got {timeout}")
        if retries < 0:
            raise RegistryError(f"retries for {self.origin} must be 0 or more, got {retries}")
        if backoff < 0:
            raise RegistryError(f"backoff for {self.origin} must be 0 or more seconds, got {backoff}")
        if api_key is not None and (not api_key.strip() or any(c in api_key for c in "\r\n")):
            raise RegistryError(
                f"the API key for {self.origin} is empty or spans lines; pass the key itself "
                "(e.g. from TESSERA_API_KEY), without quotes or line breaks"
            )
        if api_key and urlsplit(self.origin).scheme == "http" and not _loopback(self.origin):
            log.warning(
                "tessera: %s is plain http: the API key would cross the network unencrypted; use https",
                self.origin,
            )
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.verify = verify
        self._key = api_key
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    # the calls

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        accept: Sequence[int] = (),
        idempotent: bool | None = None,
    ) -> Reply:
        """Send one request; a reply that is 2xx or in ``accept`` comes back, anything else raises.

        A non-idempotent request whose outcome is unknown raises RegistryError
        (use ``write`` with a ``happened`` check to settle it instead).
        """
        reply = self._exchange(method, path, params, body, accept, idempotent, happened=None)
        assert reply is not None
        return reply

    def write(
        self,
        method: str,
        path: str,
        *,
        happened: Callable[[], bool],
        params: Params | None = None,
        body: Any = None,
        accept: Sequence[int] = (),
    ) -> Reply | None:
        """A write whose unknown outcome ``happened`` settles; ``None``: it happened, read the result back."""
        return self._exchange(method, path, params, body, accept, False, happened=happened)

    def get(self, path: str, *, params: Params | None = None, accept: Sequence[int] = ()) -> Reply:
        return self.call("GET", path, params=params, accept=accept)

    def page(self, path: str, params: Params | None, offset: int) -> tuple[list[Any], int | None]:
        """One page of a paginated listing: its results and the server's ``total`` (if it says)."""
        reply = self.get(path, params={**(params or {}), "limit": PAGE_SIZE, "offset": offset})
        data = reply.json_object()
        results = data.get("results")
        if not isinstance(results, list):
            raise RegistryError(
                f"{reply.call} answered without a 'results' list (keys: {', '.join(sorted(data))}); "
                "is the base URL a Tessera server?"
            )
        total = data.get("total")
        return results, total if isinstance(total, int) else None

    def pages(self, path: str, params: Params | None = None) -> Iterator[Any]:
        """Every item of a paginated listing, following ``offset`` to the end."""
        offset = 0
        for _ in range(MAX_PAGES):
            results, total = self.page(path, params, offset)
            yield from results
            offset += len(results)
            if not results or (total is not None and offset >= total):
                return
            if total is None and len(results) < PAGE_SIZE:
                return
        raise RegistryError(
            f"GET {path} kept returning pages after {MAX_PAGES} of them; the server ignores 'offset'"
        )

    # one exchange, with its retries

    def _exchange(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Any,
        accept: Sequence[int],
        idempotent: bool | None,
        *,
        happened: Callable[[], bool] | None,
    ) -> Reply | None:
        method = method.upper()
        call = f"{method} {path}"
        safe = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            wait = self.backoff * 2 ** (attempt - 1)
            try:
                response = self._send(method, path, params, body)
            except requests.RequestException as error:
                why = f"{type(error).__name__}: {self._redact(str(error))}"
                if safe or _never_sent(error):
                    if last:
                        raise self._unreachable(call, attempts, why) from error
                    self._retrying(call, why, wait, attempt)
                    continue
                if self._settled(call, why, happened, last):
                    return None
                self._retrying(call, why, wait, attempt)
                continue
            reply = Reply(call, response.status_code, _decode(response))
            log.debug("tessera: %s -> %s", call, reply.status)
            if reply.ok or reply.status in accept:
                return reply
            if reply.status in RETRY_STATUSES and (safe or reply.status == 429):
                if last:
                    raise self._unreachable(call, attempts, self._said(reply))
                wait = max(wait, _retry_after(response.headers.get("Retry-After")))
                self._retrying(call, self._said(reply), wait, attempt)
                continue
            if reply.status >= 500 and not safe:
                if self._settled(call, self._said(reply), happened, last):
                    return None
                wait = max(wait, _retry_after(response.headers.get("Retry-After")))
                self._retrying(call, self._said(reply), wait, attempt)
                continue
            raise self._refusal(reply)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _send(self, method: str, path: str, params: Params | None, body: Any) -> requests.Response:
        headers = {"Accept": "application/json"}
        if self._key is not None:
            headers["Authorization"] = f"Bearer {self._key}"
        return self._session.request(
            method,
            self.origin + path,
            params={k: _param(v) for k, v in (params or {}).items() if v is not None},
            json=body,
            headers=headers,
            timeout=self.timeout,
            verify=self.verify,
            allow_redirects=False,
        )

    def _settled(self, call: str, why: str, happened: Callable[[], bool] | None, last: bool) -> bool:
        """After an unknown outcome: True if the write happened; False to send it again; else raise."""
        if happened is None:
            raise RegistryError(
                f"{call} on {self.origin}: the outcome is unknown ({why}); the server may or may not have "
                "applied it. Check the server's state before sending it again"
            )
        try:
            done = happened()
        except RegistryUnavailableError as error:
            raise RegistryUnavailableError(
                f"{call} on {self.origin}: the outcome is unknown ({why}) and the state could not be read "
                f"back ({error}); check the server before retrying"
            ) from error
        if done:
            log.warning("tessera: %s: %s, but the server's state shows it was applied", call, why)
            return True
        if last:
            raise RegistryError(
                f"{call} on {self.origin} failed {self.retries + 1} times ({why}); the server's state shows "
                "it was not applied. Retry later or look at the server's logs"
            )
        return False

    def _retrying(self, call: str, why: str, wait: float, attempt: int) -> None:
        log.warning(
            "tessera: %s: %s; retrying in %.2fs (attempt %d of %d)",
            call,
            why,
            wait,
            attempt + 1,
            self.retries + 1,
        )
        self._sleep(wait)

    def _unreachable(self, call: str, attempts: int, why: str) -> RegistryUnavailableError:
        return RegistryUnavailableError(
            f"{call}: the Tessera server at {self.origin} could not be reached after {attempts} attempt(s) "
            f"({why}); check the URL, the network and the server's health"
        )

    def _said(self, reply: Reply) -> str:
        code = f" {reply.code}" if reply.code else ""
        return f"answered {reply.status}{code}: {self._redact(reply.message)}"

    def _refusal(self, reply: Reply) -> RegistryError:
        text = f"{reply.call} on {self.origin} {self._said(reply)}"
        if reply.status == 404:
            return NotFoundError(text)
        if reply.status == 409:
            return ConflictError(text)
        if reply.status == 412 or (reply.status == 400 and reply.code == "PROPOSAL_NOT_PENDING"):
            return InvalidStateError(text)
        if reply.status in (401, 403):
            return RegistryError(
                f"{text}; check the API key (TESSERA_API_KEY): it must belong to the team acting here, "
                "or have admin scope"
            )
        return RegistryError(text)

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def segment(value: str) -> str:
    """A path segment, percent-encoded (ids come from the server, but never trust a slash)."""
    return quote(str(value), safe="")


def _param(value: str | int | bool) -> str | int:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


def _never_sent(error: requests.RequestException) -> bool:
    """Did the request fail before any byte reached the server (so a retry cannot duplicate it)?"""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _retry_after(value: str | None) -> float:
    """Seconds to wait for a ``Retry-After`` (seconds or an HTTP date); 0 when absent or unreadable."""
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _origin(base_url: str) -> str:
    """``base_url`` without a trailing slash; RegistryError for anything but a plain http(s) URL."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(
            f"{base_url!r} is not a Tessera server URL; expected https://host[:port] (the API lives "
            "under /api/v1)"
        )
    if parts.username or parts.password:
        raise RegistryError(
            f"the Tessera server URL for {parts.hostname} carries credentials; remove them from the URL "
            "and pass the API key as api_key (read from TESSERA_API_KEY)"
        )
    if parts.query or parts.fragment:
        raise RegistryError(f"the Tessera server URL for {parts.hostname} must not have a query or fragment")
    path = parts.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _loopback(origin: str) -> bool:
    return urlsplit(origin).hostname in ("localhost", "127.0.0.1", "::1")


__all__ = ["PAGE_SIZE", "RETRY_STATUSES", "Reply", "Transport", "segment"]
