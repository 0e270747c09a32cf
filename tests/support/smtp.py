"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, raw."""

from __future__ import annotations

import asyncio
import email
import threading
from dataclasses import dataclass
from email import policy

from aiosmtpd.controller import Controller

from tests.support.postgres import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    peer: tuple | None = None  # the client's (address, port): one per SMTP connection

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)


class MailSink:
    def __init__(self, delay: float = 0) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.delay = delay  # seconds each message takes, like a busy court mail server

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content,
                                          tuple(session.peer) if session.peer else None))
        return "250 Message accepted for delivery"


class SmtpServer:
    """start() and stop() may be called again: the port stays the same."""

    def __init__(self, delay: float = 0) -> None:
        self.port = free_port()
        self.sink = MailSink(delay)
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        return list(self.sink.received)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.sink.received if address in r.rcpt_tos]
