"""A person's authenticator app, for the tests: the code to type now, never one typed
before (the service accepts each code once, RFC 6238 section 5.2)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pyotp

# The last time step typed, by secret: what a person who just signed in would not type again.
_LAST_TYPED: dict[str, int] = {}


def code_for(secret: str) -> str:
    """The current step's code, or the next step's when the current one was typed already
    (the service accepts one step either side of its own); when both were, waits for the
    next step, as a person waits for the app's next code."""
    totp = pyotp.TOTP(secret)
    while True:
        now = time.time()
        current = totp.timecode(datetime.fromtimestamp(now, UTC))
        for step in (current, current + 1):
            if step > _LAST_TYPED.get(secret, -1):
                _LAST_TYPED[secret] = step
                return totp.generate_otp(step)
        time.sleep(totp.interval - now % totp.interval + 0.05)


def typed(secret: str, code: str) -> None:
    """A code typed by hand in a test (to try it again): the helper will not give it."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.now(UTC))
    for step in (current - 1, current, current + 1):
        if totp.generate_otp(step) == code:
            _LAST_TYPED[secret] = max(step, _LAST_TYPED.get(secret, -1))
