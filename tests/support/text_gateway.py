"""A messaging gateway on loopback, as the court's WhatsApp/SMS provider would be: it takes
the JSON the service posts and keeps it, with the token it came with."""

from __future__ import annotations

import json

from tests.support.http_receiver import LoopbackHttpServer, QuietHandler


class TextGateway:
    def __init__(self, status: int = 202):
        self.status = status
        self.received: list[dict] = []
        self.tokens: list[str] = []

    def start(self) -> TextGateway:
        gateway = self

        class Handler(QuietHandler):
            def do_POST(self):
                gateway.received.append(json.loads(self.body()))
                gateway.tokens.append(self.headers.get("Authorization", ""))
                self.answer(gateway.status)

        self.http = LoopbackHttpServer(Handler, "/v1/messages")
        self.url = self.http.url
        return self

    def stop(self) -> None:
        self.http.stop()
