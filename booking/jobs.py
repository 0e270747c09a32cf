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


JOBS: list[Job] = [
    Job("purge_expired_tokens", purge_expired_tokens, "interval", {"hours": 1}),
]
