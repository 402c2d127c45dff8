"""A real HTTP server on 127.0.0.1, in a thread, answering with a ``FakeTessera``.

It records every request it receives (``seen``) and can be told to misbehave
for the next matching requests (``fail``): answer a status (503 with
``Retry-After``, 429, 500 …) or a recorded exchange verbatim, drop the
connection before handling the request, handle it and then drop the
connection (the write happened but the client never hears), or answer late.
``max_page`` caps every page so that clients must follow pagination.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .tessera_fake import RECORDED, FakeTessera


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    kind: str  # status | recorded | drop | drop_after | slow
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class Loopback:
    def __init__(
        self, fake: FakeTessera, *, max_page: int | None = None, tls: tuple[Path, Path] | None = None
    ) -> None:
        self.fake = fake
        self.max_page = max_page
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        scheme = "http"
        if tls is not None:  # (certificate, key) in PEM files
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Loopback:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(
        self,
        method: str,
        path: str,
        kind: str = "status",
        *,
        status: int = 503,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Misbehave on the next ``times`` requests whose method and path (a regex) match."""
        self.faults.append(
            Fault(method, re.compile(path), kind, status, dict(headers or {}), body, times, delay)
        )

    def replay(self, method: str, path: str, name: str) -> None:
        """Answer the next matching request with the recorded exchange ``name``, verbatim."""
        exchange = RECORDED[name]
        self.fail(method, path, "status", status=exchange["status"], body=exchange["response"])

    def calls(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if (method is None or s.method == method) and (path is None or re.fullmatch(path, s.path))
        ]

    def _fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path.fullmatch(path):
                    fault.times -= 1
                    return fault
        return None

    def _answer(self, seen: Seen) -> tuple[int, Any]:
        query = dict(seen.query)
        if self.max_page is not None and "limit" in query:
            query["limit"] = str(min(int(query["limit"]), self.max_page))
        with self._lock:
            return self.fake.handle(seen.method, seen.path, query, seen.body, seen.headers)


def _handler(loop: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body leave in one packet (flushed after each request)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw) if raw else None,
            )
            loop.seen.append(seen)
            fault = loop._fault(self.command, parts.path)
            if fault is not None and fault.kind == "drop":
                self._drop()
                return
            if fault is not None and fault.kind == "drop_after":
                loop._answer(seen)
                self._drop()
                return
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
                fault = None
            if fault is not None:
                status, body, headers = fault.status, fault.body, fault.headers
            else:
                (status, body), headers = loop._answer(seen), {}
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _drop(self) -> None:
            self.close_connection = True
            self.connection.close()

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    return Handler


@contextmanager
def running(
    fake: FakeTessera, *, max_page: int | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[Loopback]:
    loop = Loopback(fake, max_page=max_page, tls=tls).start()
    try:
        yield loop
    finally:
        loop.stop()
