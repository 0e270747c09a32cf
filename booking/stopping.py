"""A stop asked of this process (TERM to the scheduler). Long jobs look between items and
hand back what they have not started, so that a restart neither loses nor repeats work."""

from __future__ import annotations

import threading

_requested = threading.Event()


def request_stop() -> None:
    _requested.set()


def stop_requested() -> bool:
    return _requested.is_set()


def wait_for_stop(seconds: float) -> bool:
    """Pause for up to `seconds`, ending at once when a stop is asked; True if one was."""
    return _requested.wait(seconds)


def forget_stop() -> None:
    """For a process that runs the scheduler again (tests)."""
    _requested.clear()
