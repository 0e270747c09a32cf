"""Sender processes beside the scheduler: the outbox drained on more than one core.

Turning a message into an e-mail (its invite, its MIME) is Python work, and one process
does it on one core whatever its threads: a court-wide closure's thousands of messages
need more. The scheduler starts OUTBOX_SENDER_PROCESSES - 1 processes of
`flask outbox-sender` beside its own sending job, and stops them with it. Claims keep
them apart (each sender takes its own batch; a person's older message in flight holds the
newer back: `service.due_messages`), so an operator may also run more of them anywhere.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

from ..extensions import db
from ..stopping import stop_requested, wait_for_stop
from .service import drain

log = logging.getLogger(__name__)

# How long a sender with nothing to send waits before it looks again.
IDLE_PAUSE_SECONDS = 2.0


def run_sender(parent_pid: int | None = None) -> None:
    """Drain the outbox until a stop is asked (TERM) or, when started by a scheduler, that
    scheduler is gone (it died without stopping us: its successor starts its own)."""
    while not stop_requested():
        if parent_pid is not None and os.getppid() != parent_pid:
            log.warning("the scheduler that started this sender is gone; stopping")
            return
        try:
            outcome = drain()
        except Exception:  # the database went away for a moment: look again after a pause
            db.session.rollback()
            log.exception("the outbox sender failed; trying again")
            outcome = {"sent": 0, "failed": 0}
        finally:
            db.session.remove()
        if not outcome["sent"]:
            wait_for_stop(IDLE_PAUSE_SECONDS)


def sender_command_line(app_import_path: str | None) -> list[str]:
    """`flask outbox-sender` for the same application as this process's command."""
    app = ["--app", app_import_path] if app_import_path else []
    return [sys.executable, "-m", "flask", *app, "outbox-sender"]


class SenderProcesses:
    """The scheduler's extra senders: started with it, revived when one died, stopped
    (TERM, so that each finishes the message it is sending) before it lets go of its lock."""

    def __init__(self, count: int, command: list[str]):
        self.count, self.command = count, command
        self.processes: list[subprocess.Popen] = []

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen([*self.command, "--parent", str(os.getpid())])

    def start(self) -> None:
        self.processes = [self._spawn() for _ in range(self.count)]
        if self.processes:
            log.info("started %s outbox sender process(es): %s", len(self.processes),
                     ", ".join(str(process.pid) for process in self.processes))

    def revive(self) -> None:
        """Start again any that exited (a crash); not while stopping."""
        for position, process in enumerate(self.processes):
            if process.poll() is not None and not stop_requested():
                log.warning("outbox sender %s exited with %s; starting another", process.pid,
                            process.returncode)
                self.processes[position] = self._spawn()

    def stop(self, timeout: float = 60) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.error("outbox sender %s ignored TERM for %s s; killing it", process.pid,
                          timeout)
                process.kill()
                process.wait()
        self.processes = []
