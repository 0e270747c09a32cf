"""Several sender processes drain one outbox: the scheduler starts them and stops them with
it, each message goes once, and a person's older message in flight holds the newer back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.senders import SenderProcesses
from booking.notifications.service import claim_due, due_messages, queue
from tests.test_graceful_stop import REPO, Scheduler, wait_for
from tests.test_outbox_drain import queue_many


def notice(topic: str, version: int, number: int = 0) -> None:
    queue(dedupe_key=f"{topic}:v{version}:{number}", kind="notice", to="maria@example.com",
          subject=f"Versão {version}", text="Mensagem de teste.", topic=topic, version=version)


def due_ids() -> set[int]:
    return set(db.session.scalars(due_messages(utcnow(), 100)))


def test_an_older_version_being_sent_holds_the_newer_back_until_it_went(app):
    with app.app_context():
        notice("booking:1:lawyer", 1)
        db.session.commit()
        (first,) = claim_due(utcnow(), 10)  # another sender is sending it now
        notice("booking:1:lawyer", 2)
        db.session.commit()
        newer = db.session.scalar(select(OutboxMessage).where(OutboxMessage.version == 2))
        # the one in flight is not superseded under the sender's feet...
        assert db.session.get(OutboxMessage, first.id).status == "pending"
        # ...and the newer waits for it, while other topics go
        notice("booking:2:lawyer", 1)
        db.session.commit()
        other = db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.topic == "booking:2:lawyer"))
        assert due_ids() == {other}
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == first.id)
                           .values(status="sent", claim_id=None, claimed_until=None))
        db.session.commit()
        assert due_ids() == {other, newer.id}


def test_an_older_version_backing_off_is_replaced_not_waited_for(app):
    with app.app_context():
        notice("booking:1:lawyer", 1)
        db.session.commit()
        older = db.session.scalar(select(OutboxMessage))
        older.next_attempt_at, older.attempts = utcnow() + timedelta(minutes=4), 2
        db.session.commit()
        notice("booking:1:lawyer", 2)
        db.session.commit()
        newer = db.session.scalar(select(OutboxMessage).where(OutboxMessage.version == 2))
        assert db.session.get(OutboxMessage, older.id).status == "superseded"
        assert due_ids() == {newer.id}


def test_a_lease_that_ran_out_no_longer_holds_the_newer_back(app):
    with app.app_context():
        notice("booking:1:lawyer", 1)
        db.session.commit()
        claim_due(utcnow() - timedelta(minutes=10), 10)  # a sender that died long ago
        notice("booking:1:lawyer", 2)
        db.session.commit()
        statuses = dict(db.session.execute(select(OutboxMessage.version,
                                                  OutboxMessage.status)).all())
        assert statuses == {1: "superseded", 2: "pending"}
        assert len(due_ids()) == 1


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:  # gone meanwhile
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_the_scheduler_sends_with_its_helpers_each_message_once_and_stops_them(
        app, database_url, smtp_server, tmp_path):
    count = 300
    queue_many(app, count, to=lambda number: f"pessoa{number % 40}@example.com")
    smtp_server.sink.delay = 0.02  # each message takes a moment: the senders overlap
    scheduler = Scheduler(database_url, smtp_server, tmp_path / "scheduler.lock",
                          OUTBOX_SENDER_PROCESSES="3", OUTBOX_SMTP_CONNECTIONS="3",
                          OUTBOX_BATCH_SIZE="10")
    helpers: set[int] = set()
    try:
        pid = scheduler.process.pid
        assert wait_for(lambda: len(children_of(pid)) == 2), scheduler.printed()
        helpers = children_of(pid)
        for helper in helpers:
            assert b"outbox-sender" in Path(f"/proc/{helper}/cmdline").read_bytes()
        assert wait_for(lambda: len(smtp_server.received) >= count, 90), scheduler.printed()
        assert scheduler.terminate(60) == 0, scheduler.printed()
    finally:
        scheduler.close()
    assert not any(alive(pid) for pid in helpers)  # stopped with it, not left behind
    ids = Counter(received.message["Message-ID"] for received in smtp_server.received)
    assert len(ids) == count and set(ids.values()) == {1}
    # Several processes sent at once: each has one connection (3 in all over 3 processes),
    # so a connection's messages interleaved with another's mean two processes at work.
    peers = [received.peer for received in smtp_server.received]
    assert any(peers[i] != peers[i + 1] and peers[i] in peers[i + 2:]
               for i in range(len(peers) - 2))
    with app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}


def test_a_sender_whose_scheduler_is_gone_stops_by_itself(app, database_url, tmp_path):
    env = {**os.environ, "BOOKING_ENV": "test", "DATABASE_URL": database_url,
           "SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock")}
    # started by this test, it is told that another process is its scheduler
    stranger = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "outbox-sender",
                               "--parent", str(os.getpid() + 999_999)], cwd=REPO, env=env,
                              capture_output=True, timeout=60)
    assert stranger.returncode == 0
    assert b"is gone" in stranger.stderr + stranger.stdout


def test_a_sender_that_died_is_started_again_and_all_are_stopped(tmp_path):
    marker = tmp_path / "starts"
    # a stand-in command that notes each start, then dies (the first) or waits for TERM
    script = ("import sys, time, pathlib\n"
              f"p = pathlib.Path({str(marker)!r})\n"
              "n = len(p.read_text()) if p.exists() else 0\n"
              "p.write_text('x' * (n + 1))\n"
              "sys.exit(3) if n == 0 else time.sleep(120)\n")
    senders = SenderProcesses(1, [sys.executable, "-c", script])
    senders.start()
    try:
        first = senders.processes[0]
        assert first.wait(30) == 3
        senders.revive()
        second = senders.processes[0]
        assert second.pid != first.pid
        assert wait_for(lambda: marker.exists() and marker.read_text() == "xx")
        senders.revive()  # alive: left alone
        assert senders.processes[0] is second
    finally:
        senders.stop(timeout=10)
    assert second.returncode == -signal.SIGTERM
