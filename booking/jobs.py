"""The scheduler's jobs: plain functions run inside an app context.

Each job claims its own rows in the database, so running it twice by
mistake does no harm. Add a job by writing the function and listing it in JOBS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], object]
    trigger: str
    trigger_args: dict = field(default_factory=dict)


def purge_expired_tokens() -> None:
    """Expired and revoked API tokens are useless; drop them."""
    from .accounts.service import purge_expired_tokens as purge

    purge()


def roll_slot_horizon() -> None:
    """Publish the days that entered each magistrate's booking horizon since yesterday."""
    from .availability.service import roll_horizon_forward

    roll_horizon_forward()


JOBS: list[Job] = [
    Job("purge_expired_tokens", purge_expired_tokens, "interval", {"hours": 1}),
    Job("roll_slot_horizon", roll_slot_horizon, "cron",
        {"hour": 0, "minute": 15, "timezone": "America/Cuiaba"}),
]
