"""An HTTP receiver of webhooks on loopback that verifies each delivery with the
`standardwebhooks` library, as a subscriber of the court would. It can also answer 500,
take too long, or redirect, to try the sender's rules."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Delivery:
    at: float
    headers: dict
    body: bytes
    event: dict | None  # the verified event; None when verification failed
    error: str | None = None


@dataclass
class WebhookReceiver:
    secret: str = ""
    behaviour: str = "ok"  # ok, fail (500), slow (sleeps `delay`), redirect (to `location`)
    delay: float = 0
    location: str = ""
    deliveries: list[Delivery] = field(default_factory=list)

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                event, error = None, None
                try:
                    event = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError as failure:
                    error = str(failure)
                receiver.deliveries.append(Delivery(time.monotonic(), headers, body, event, error))
                if receiver.behaviour == "slow":
                    time.sleep(receiver.delay)
                if receiver.behaviour == "redirect":
                    self.send_response(307)
                    self.send_header("Location", receiver.location)
                elif receiver.behaviour == "fail":
                    self.send_response(500)
                else:
                    self.send_response(401 if error else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/eventos"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def verified(self) -> list[dict]:
        return [d.event for d in self.deliveries if d.event is not None]
