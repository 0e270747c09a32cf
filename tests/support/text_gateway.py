"""A messaging gateway on loopback, as the court's WhatsApp/SMS provider would be: it takes
the JSON the service posts and keeps it, with the token it came with."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TextGateway:
    def __init__(self, status: int = 202):
        self.status = status
        self.received: list[dict] = []
        self.tokens: list[str] = []

    def start(self) -> TextGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.received.append(json.loads(body))
                gateway.tokens.append(self.headers.get("Authorization", ""))
                self.send_response(gateway.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
