"""An HTTP receiver of webhooks on loopback that verifies each delivery with the
`standardwebhooks` library, as a subscriber of the court would. It can also answer 500,
take too long, or redirect, to try the sender's rules."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.http_receiver import LoopbackHttpServer, QuietHandler


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

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.body()
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
                    self.answer(307, {"Location": receiver.location})
                else:
                    self.answer(500 if receiver.behaviour == "fail" else 401 if error else 204)

        self.http = LoopbackHttpServer(Handler, "/eventos")
        self.url = self.http.url
        return self

    def stop(self) -> None:
        self.http.stop()

    @property
    def verified(self) -> list[dict]:
        return [d.event for d in self.deliveries if d.event is not None]
