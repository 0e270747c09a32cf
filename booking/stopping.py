"""A stop asked of this process (TERM to the scheduler). Long jobs look between items and
hand back what they have not started, so that a restart neither loses nor repeats work.

The stop is asked from signal handlers, which run on the main thread between two of its
steps, possibly while it holds a lock: a handler that took a lock (threading.Event.set does)
could wait for itself forever, and the process would ignore TERM. So the request is a plain
flag, set without a lock, and a pause looks at it every PAUSE_STEP seconds.
"""

from __future__ import annotations

import time

PAUSE_STEP = 0.05
_requested = False


def request_stop() -> None:
    """Safe in a signal handler: one assignment, no lock."""
    global _requested
    _requested = True


def stop_requested() -> bool:
    return _requested


def wait_for_stop(seconds: float) -> bool:
    """Pause for up to `seconds`, ending within PAUSE_STEP when a stop is asked; True if one
    was."""
    deadline = time.monotonic() + seconds
    while not _requested and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, PAUSE_STEP))
    return _requested


def forget_stop() -> None:
    """For a process that runs the scheduler again (tests)."""
    global _requested
    _requested = False
