"""A person's authenticator app, for the tests: the code to type now, never one typed
before (the service accepts each code once, RFC 6238 section 5.2)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pyotp

# The last time step typed, by secret: what a person who just signed in would not type again.
_LAST_TYPED: dict[str, int] = {}


def fresh_code(secret: str) -> str | None:
    """The current step's code, or the next step's when the current one was typed already
    (the service accepts one step either side of its own); None when both were."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.now(UTC))
    for step in (current, current + 1):
        if step > _LAST_TYPED.get(secret, -1):
            _LAST_TYPED[secret] = step
            return totp.generate_otp(step)
    return None


def code_for(secret: str) -> str:
    """A fresh code; when there is none yet, waits for the app's next one, as a person
    would (up to one step, 30 seconds)."""
    while (code := fresh_code(secret)) is None:
        interval = pyotp.TOTP(secret).interval
        time.sleep(interval - time.time() % interval + 0.05)
    return code


def typed(secret: str, code: str) -> None:
    """A code typed by hand in a test (to try it again): the helper will not give it."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.now(UTC))
    for step in (current - 1, current, current + 1):
        if totp.generate_otp(step) == code:
            _LAST_TYPED[secret] = max(step, _LAST_TYPED.get(secret, -1))
