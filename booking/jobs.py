"""The scheduler's jobs: plain functions run inside an app context.

Each job claims its own rows in the database, so running it twice by
mistake does no harm. Add a job by writing the function and listing it in JOBS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Job:
    """A job and when it runs; a cron job's hours are the court's (COURT_TIMEZONE)."""

    name: str
    func: Callable[[], object]
    trigger: str
    trigger_args: dict = field(default_factory=dict)


def purge_expired_tokens() -> None:
    """Expired and revoked API tokens are useless; drop them."""
    from .accounts.service import purge_expired_tokens as purge
    from .accounts.service import purge_login_throttles

    purge()
    purge_login_throttles()


def roll_slot_horizon() -> None:
    """Publish the days that entered each magistrate's booking horizon since yesterday."""
    from .availability.service import roll_horizon_forward

    roll_horizon_forward()


def send_outbox() -> None:
    """Deliver what is due in the outbox, batch after batch while there is work."""
    from .notifications.service import drain

    drain()


def queue_reminders() -> None:
    """Queue the reminders of bookings that come within the reminder windows."""
    from .bookings.messages import queue_reminders as queue

    queue()


def queue_daily_agendas() -> None:
    """Each magistrate's agenda of the day, at the local hour set by DAILY_AGENDA_HOUR."""
    from .bookings.messages import queue_daily_agendas as queue

    queue()


def refresh_busy_sources() -> None:
    """Read the magistrates' own calendars whose refresh time has come."""
    from .availability.busy import refresh_due

    refresh_due()


def expire_rebook_requests() -> None:
    """Cancel the bookings whose lawyer did not choose another time by the deadline."""
    from .bookings.conflicts import expire_rebook_requests as expire

    expire()


def apply_closure_decisions() -> None:
    """Apply an admin's decision (cancel, keep, ask) to the many bookings a closure covers."""
    from .bookings.conflicts import apply_closure_decisions as apply

    apply()


def expire_holds() -> None:
    """Holds nobody confirmed in time give their slots back."""
    from .bookings.service import expire_holds as expire

    expire()


def offer_open_times() -> None:
    """Tell the waitlists of times that opened in their ranges, and of those taken since."""
    from .bookings.waitlist import offer_open_times as offer

    offer()


def flag_overdue_urgent_requests() -> None:
    """Tell the magistrate and the office of urgent requests past their answer deadline."""
    from .bookings.urgent import flag_overdue

    flag_overdue()


def purge_idempotency_records() -> None:
    """Replayable answers hold manage tokens: keep them only for IDEMPOTENCY_TTL_HOURS."""
    from .bookings.service import purge_idempotency_records as purge

    purge()


def complaint_digest() -> None:
    """The Corregedoria's weekly summary of reports."""
    from .complaints.service import weekly_digest

    weekly_digest()


def apply_retention() -> None:
    """LGPD: anonymise personal data past RETENTION_DAYS; purge old e-mail bodies."""
    from .privacy.service import anonymize_expired

    anonymize_expired()


def purge_webhook_deliveries() -> None:
    """Forget webhook delivery attempts older than WEBHOOK_DELIVERY_RETENTION_DAYS."""
    from datetime import timedelta

    from flask import current_app

    from .database import utcnow
    from .webhooks.service import purge_deliveries

    purge_deliveries(utcnow() - timedelta(
        days=current_app.config["WEBHOOK_DELIVERY_RETENTION_DAYS"]))


JOBS: list[Job] = [
    Job("send_outbox", send_outbox, "interval", {"seconds": 5}),
    Job("apply_closure_decisions", apply_closure_decisions, "interval", {"seconds": 5}),
    Job("expire_holds", expire_holds, "interval", {"minutes": 1}),
    Job("offer_open_times", offer_open_times, "interval", {"minutes": 1}),
    Job("queue_reminders", queue_reminders, "interval", {"minutes": 5}),
    Job("queue_daily_agendas", queue_daily_agendas, "cron", {"minute": 0}),
    Job("purge_idempotency_records", purge_idempotency_records, "interval", {"hours": 1}),
    Job("refresh_busy_sources", refresh_busy_sources, "interval", {"minutes": 1}),
    Job("expire_rebook_requests", expire_rebook_requests, "interval", {"minutes": 10}),
    Job("flag_overdue_urgent_requests", flag_overdue_urgent_requests, "interval",
        {"minutes": 10}),
    Job("apply_retention", apply_retention, "cron", {"hour": 3, "minute": 30}),
    Job("purge_webhook_deliveries", purge_webhook_deliveries, "cron", {"hour": 3, "minute": 45}),
    Job("complaint_digest", complaint_digest, "cron",
        {"day_of_week": "mon", "hour": 8, "minute": 0}),
    Job("purge_expired_tokens", purge_expired_tokens, "interval", {"hours": 1}),
    Job("roll_slot_horizon", roll_slot_horizon, "cron", {"hour": 0, "minute": 15}),
]
