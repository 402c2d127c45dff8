"""A webhook receiver on loopback for the demo: what a team's endpoint would see."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tessera_core import verify_signature


@dataclass
class Received:
    team: str
    event: str
    delivery: str
    signed: bool
    body: dict[str, Any] = field(default_factory=dict)


class Receiver:
    """Collects POSTs to ``/<team>`` and checks each signature with the shared demo secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self._shown = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                signed = verify_signature(raw, self.headers.get("X-Tessera-Signature", ""), outer.secret)
                outer.received.append(
                    Received(
                        team=self.path.strip("/"),
                        event=self.headers.get("X-Tessera-Event", ""),
                        delivery=self.headers.get("X-Tessera-Delivery", ""),
                        signed=signed,
                        body=json.loads(raw or b"{}"),
                    )
                )
                self.send_response(204 if signed else 401)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def unseen(self) -> list[Received]:
        """What arrived since the last call."""
        new = self.received[self._shown :]
        self._shown = len(self.received)
        return new
