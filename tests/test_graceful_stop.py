"""TERM during work loses nothing and repeats nothing: gunicorn answers the bookings it took
(every booking stored was answered 201, every 201 is stored), and the scheduler sends the
message it is sending, hands the rest of its batch back, and the next scheduler sends each
message exactly once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from booking.bookings.models import Booking
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import queue as queue_message
from tests.support.factories import DIRECT
from tests.support.live_server import LiveServer
from tests.support.smtp import SmtpServer
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)
from tests.test_live_server import call

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
MESSAGES = 16


def wait_for(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


class Scheduler:
    """`flask --app wsgi scheduler` as an operator runs it, in its own process."""

    def __init__(self, database_url: str, smtp: SmtpServer, lock_file: Path, **settings: str):
        self.env = {**os.environ, "BOOKING_ENV": "test", "DATABASE_URL": database_url,
                    "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
                    "SCHEDULER_LOCK_FILE": str(lock_file), **settings}
        self.output = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi",
                                         "scheduler"], cwd=REPO, env=self.env,
                                        stdout=self.output, stderr=subprocess.STDOUT)

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the scheduler ignored TERM:\n{self.printed()}") from None

    def printed(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.close()


def test_the_scheduler_stops_between_messages_and_the_next_sends_each_once(app, database_url,
                                                                             tmp_path):
    with app.app_context():
        for number in range(MESSAGES):
            queue_message(dedupe_key=f"stop-test:{number}", kind="notice",
                          to=f"pessoa{number}@example.com", subject=f"Aviso {number}",
                          text="Mensagem de teste.")
        db.session.commit()
    smtp = SmtpServer(delay=0.25)  # a slow mail server: TERM lands in the middle of a batch
    smtp.start()
    first = second = None
    try:
        first = Scheduler(database_url, smtp, tmp_path / "scheduler.lock")
        assert wait_for(lambda: len(smtp.received) >= 3), first.printed()
        assert first.terminate() == 0, first.printed()
        delivered_before_stop = len(smtp.received)
        with app.app_context():
            rows = db.session.scalars(select(OutboxMessage)).all()
            sent = [row for row in rows if row.status == "sent"]
            waiting = [row for row in rows if row.status == "pending"]
            # Every message the server took is marked sent; the rest were handed back at
            # once, not left under a lease until it expires.
            assert len(sent) == delivered_before_stop < MESSAGES
            assert waiting and all(row.claimed_until is None for row in waiting)
            db.session.rollback()

        second = Scheduler(database_url, smtp, tmp_path / "scheduler.lock")
        assert wait_for(lambda: len(smtp.received) >= MESSAGES), second.printed()
        assert second.terminate() == 0
    finally:
        for scheduler in (first, second):
            if scheduler is not None:
                scheduler.close()
        smtp.stop()
    ids = Counter(received.message["Message-ID"] for received in smtp.received)
    assert len(ids) == MESSAGES and set(ids.values()) == {1}
    with app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}


def test_gunicorn_answers_every_booking_it_took_before_stopping(app, database_url,
                                                                desk):  # noqa: F811
    slots = queue.Queue()
    for slot in range(min(len(desk["slots"]), 40)):
        slots.put(slot)
    answers: list[tuple[int, int | None]] = []  # (status, booking id); 0: no answer
    server = LiveServer(database_url, workers=2)
    server.start()

    def lawyer():
        while True:
            try:
                slot = slots.get_nowait()
            except queue.Empty:
                return
            try:
                status, _, body = call("POST", f"{server.url}/api/v1/bookings",
                                       form(desk, slot, lawyer={"email": f"a{slot}@example.com"}),
                                       headers=DIRECT)
            except OSError:  # refused or reset: the server had stopped taking requests
                answers.append((0, None))
                continue
            booking_id = int(body.split(b'"id":')[1].split(b",")[0]) if status == 201 else None
            answers.append((status, booking_id))

    threads = [threading.Thread(target=lawyer) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        assert wait_for(lambda: sum(1 for status, _ in answers if status == 201) >= 4)
        os.kill(server.process.pid, signal.SIGTERM)  # what `systemctl stop` sends
        for thread in threads:
            thread.join(60)
        server.process.wait(30)
    finally:
        server.stop()
    assert all(status in (201, 0) for status, _ in answers), answers
    answered = {booking_id for status, booking_id in answers if status == 201}
    with app.app_context():
        stored = set(db.session.scalars(select(Booking.id)))
    assert stored == answered and len(answered) >= 4
    assert (0, None) in answers  # the stop did come in the middle of the load


# A process pestered with signals whose handler asks a stop, while its main thread pauses
# with wait_for_stop, as an outbox sender's does between batches.
_PESTERED = """
import os, signal, sys, threading, time
from booking.stopping import forget_stop, request_stop, wait_for_stop

signal.signal(signal.SIGUSR1, lambda *_: request_stop())
def pester():
    while True:
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.0001)
threading.Thread(target=pester, daemon=True).start()
end = time.monotonic() + 2
while time.monotonic() < end:
    for _ in range(200):
        wait_for_stop(0)
    forget_stop()
print("stopped cleanly")
"""


def test_a_stop_asked_by_a_signal_handler_never_waits_for_the_thread_it_interrupted():
    """The outbox sender once ignored TERM: its handler set a threading.Event whose lock the
    interrupted main thread held (inside Event.wait), and waited for itself. A stop asked
    from a signal handler takes no lock, however the signals fall."""
    done = subprocess.run([sys.executable, "-c", _PESTERED], cwd=Path(__file__).parents[1],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "stopped cleanly" in done.stdout, done.stderr[-2000:]


def test_a_pause_ends_soon_after_a_stop_is_asked_from_another_thread():
    from booking.stopping import forget_stop, request_stop, wait_for_stop

    started = time.monotonic()
    threading.Timer(0.2, request_stop).start()
    try:
        assert wait_for_stop(30) is True
        assert time.monotonic() - started < 5
    finally:
        forget_stop()
    assert wait_for_stop(0.01) is False
