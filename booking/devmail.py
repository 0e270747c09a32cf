"""A local mail catcher for development: every message becomes an .eml file.

A newcomer runs `make run`, books a slot and opens the invite the booking
sent, without any mail server. Production points MAIL_SERVER elsewhere.
"""

import logging
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)


class FileMailbox:
    """aiosmtpd handler that writes each received message to a folder."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = 0

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self._count += 1
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            path = self.directory / f"{stamp}-{self._count:04d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        log.info("mail to %s saved as %s", ", ".join(envelope.rcpt_tos), path.name)
        return "250 Message accepted for delivery"


def serve_forever(host: str, port: int, directory: str) -> None:
    controller = Controller(FileMailbox(directory), hostname=host, port=port)
    controller.start()
    print(f"Mail catcher on {host}:{port}; messages saved in {directory}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
