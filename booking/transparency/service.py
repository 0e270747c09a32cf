"""The public numbers, counted by the database per month (in the court's time) and comarca:
only counts and durations leave this module, never a row about a person.

The figures are kept for TRANSPARENCY_CACHE_SECONDS per process: counting a year of
slots at a whole country's scale reads millions of rows, and nobody needs them live.
"""

from __future__ import annotations

import threading
import time as clock
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import String, func, literal_column, select

from ..availability.models import Slot
from ..bookings.models import Booking, UrgentRequest
from ..bookings.service import EVER_CONFIRMED
from ..clock import court_zone, local_today
from ..complaints.models import Complaint, ComplaintEvent
from ..complaints.service import CHANNEL_LABELS
from ..courts import service as courts
from ..courts.models import Magistrate, Unit
from ..database import utcnow
from ..extensions import db
from .figures import Table, month_key, month_label, months_between, table

MAX_MONTHS = 36
_cache: dict[tuple, tuple[float, list[Table]]] = {}
_cache_lock = threading.Lock()


def period(months: int, today: date | None = None) -> tuple[date, date]:
    """The last `months` months, this one included (it is still running)."""
    today = today or local_today()
    first = date(today.year, today.month, 1)
    for _ in range(months - 1):
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return first, today


def tables(first_day: date, last_day: date, comarca_id: int | None = None) -> list[Table]:
    key = (first_day, last_day, comarca_id)
    seconds = current_app.config["TRANSPARENCY_CACHE_SECONDS"]
    with _cache_lock:
        cached = _cache.get(key)
        if cached and clock.monotonic() - cached[0] < seconds:
            return cached[1]
    built = _build(first_day, last_day, comarca_id)
    with _cache_lock:
        _cache[key] = (clock.monotonic(), built)
    return built


def forget_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _month_of(column):
    """'YYYY-MM' of an instant in the court's time. PostgreSQL converts with the zone's
    rules; SQLite (text in UTC) shifts by the zone's offset today, exact for Mato Grosso,
    which has had no daylight saving time since 2019."""
    zone = court_zone()
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(zone.key, column), "YYYY-MM")
    offset = int(utcnow().astimezone(zone).utcoffset().total_seconds() // 60)
    return func.strftime("%Y-%m", func.datetime(column, f"{offset:+d} minutes"),
                         type_=String)


def _build(first_day: date, last_day: date, comarca_id: int | None) -> list[Table]:
    zone = court_zone()
    start = datetime.combine(first_day, time(0), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), zone)
    months = {month_key(m): month_label(month_key(m)) for m in months_between(first_day, last_day)}
    comarcas = {c.id: c.name for c in courts.list_comarcas()
                if comarca_id is None or c.id == comarca_id}

    def in_comarca(statement, unit_column):
        statement = statement.join(Unit, Unit.id == unit_column)
        return statement.where(Unit.comarca_id == comarca_id) if comarca_id else statement

    # Complaints: received by filing month, channel and comarca; resolved by closing month;
    # hours from filing to the first public answer.
    by_month, by_channel, by_comarca = (defaultdict(lambda: defaultdict(int)) for _ in range(3))
    received = select(_month_of(Complaint.created_at), Complaint.channel, Unit.comarca_id,
                      func.count()).outerjoin(Unit, Unit.id == Complaint.unit_id)
    if comarca_id:
        received = received.where(Unit.comarca_id == comarca_id)
    for month, channel, comarca, count in db.session.execute(received.where(
            Complaint.created_at >= start, Complaint.created_at < end)
            .group_by(literal_column("1"), Complaint.channel, Unit.comarca_id)):
        by_month[month]["received"] += count
        by_channel[channel]["received"] += count
        by_comarca[str(comarca)]["received"] += count
    resolved = select(_month_of(Complaint.closed_at), Complaint.channel, Unit.comarca_id,
                      func.count()).outerjoin(Unit, Unit.id == Complaint.unit_id).where(
        Complaint.status == "resolved", Complaint.closed_at >= start, Complaint.closed_at < end)
    if comarca_id:
        resolved = resolved.where(Unit.comarca_id == comarca_id)
    for month, channel, comarca, count in db.session.execute(
            resolved.group_by(literal_column("1"), Complaint.channel, Unit.comarca_id)):
        by_month[month]["resolved"] += count
        by_channel[channel]["resolved"] += count
        by_comarca[str(comarca)]["resolved"] += count
    first_answer = (select(ComplaintEvent.complaint_id, func.min(ComplaintEvent.at).label("at"))
                    .where(ComplaintEvent.public_answer.is_not(None))
                    .group_by(ComplaintEvent.complaint_id).subquery())
    answered = select(_month_of(Complaint.created_at), Complaint.created_at, first_answer.c.at) \
        .join(first_answer, first_answer.c.complaint_id == Complaint.id) \
        .outerjoin(Unit, Unit.id == Complaint.unit_id) \
        .where(Complaint.created_at >= start, Complaint.created_at < end)
    if comarca_id:
        answered = answered.where(Unit.comarca_id == comarca_id)
    for month, filed, answer_at in db.session.execute(answered):
        by_month[month].setdefault("hours", []).append(_hours(filed, answer_at))

    # Scheduled attendance: slots offered, booked, held and missed, by the appointment's month.
    attendance_month, attendance_comarca = (defaultdict(lambda: defaultdict(int))
                                            for _ in range(2))
    offered = in_comarca(select(_month_of(Slot.start_at), Unit.comarca_id, func.count())
                         .join(Magistrate, Magistrate.id == Slot.magistrate_id),
                         Magistrate.unit_id)
    for month, comarca, count in db.session.execute(offered.where(
            Slot.start_at >= start, Slot.start_at < end)
            .group_by(literal_column("1"), Unit.comarca_id)):
        attendance_month[month]["offered"] += count
        attendance_comarca[str(comarca)]["offered"] += count
    outcomes = in_comarca(select(_month_of(Booking.start_at), Unit.comarca_id, Booking.status,
                                 func.count()).join(Magistrate,
                                                    Magistrate.id == Booking.magistrate_id),
                          Magistrate.unit_id)
    for month, comarca, status, count in db.session.execute(outcomes.where(
            Booking.start_at >= start, Booking.start_at < end, EVER_CONFIRMED,
            Booking.status != "cancelled")
            .group_by(literal_column("1"), Unit.comarca_id, Booking.status)):
        for target in (attendance_month[month], attendance_comarca[str(comarca)]):
            target["booked"] += count
            if status in ("attended", "no_show"):
                target[status] += count

    # Urgent requests: received, answered, and hours to the answer, by month received.
    urgent_month = defaultdict(lambda: defaultdict(int))
    urgent = in_comarca(select(_month_of(UrgentRequest.created_at), UrgentRequest.created_at,
                               UrgentRequest.answered_at)
                        .join(Magistrate, Magistrate.id == UrgentRequest.magistrate_id),
                        Magistrate.unit_id)
    for month, created, answered_at in db.session.execute(urgent.where(
            UrgentRequest.created_at >= start, UrgentRequest.created_at < end)):
        row = urgent_month[month]
        row["received"] += 1
        if answered_at is not None:
            row["answered"] += 1
            row.setdefault("hours", []).append(_hours(created, answered_at))

    comarca_labels = {str(k): v for k, v in sorted(comarcas.items(), key=lambda kv: kv[1])}
    if comarca_id is None:
        comarca_labels["None"] = "Sem unidade informada"
    return [
        table("complaints_by_month", "Reclamações por mês", "Mês",
              [("received", "Recebidas"), ("resolved", "Resolvidas"),
               ("median_hours_to_answer", "Mediana de horas até a resposta")],
              by_month, months, "received", medians={"median_hours_to_answer": "hours"}),
        table("complaints_by_channel", "Reclamações por canal", "Canal",
              [("received", "Recebidas"), ("resolved", "Resolvidas")],
              by_channel, CHANNEL_LABELS, "received"),
        table("complaints_by_comarca", "Reclamações por comarca", "Comarca",
              [("received", "Recebidas"), ("resolved", "Resolvidas")],
              by_comarca, comarca_labels, "received"),
        table("attendance_by_month", "Atendimento agendado por mês", "Mês",
              [("offered", "Horários oferecidos"), ("booked", "Agendados"),
               ("attended", "Realizados"), ("no_show", "Não comparecimentos")],
              attendance_month, months, "booked"),
        table("attendance_by_comarca", "Atendimento agendado por comarca", "Comarca",
              [("offered", "Horários oferecidos"), ("booked", "Agendados"),
               ("attended", "Realizados"), ("no_show", "Não comparecimentos")],
              attendance_comarca, {k: v for k, v in comarca_labels.items() if k != "None"},
              "booked"),
        table("urgent_by_month", "Pedidos urgentes por mês", "Mês",
              [("received", "Recebidos"), ("answered", "Respondidos"),
               ("median_hours_to_answer", "Mediana de horas até a resposta")],
              urgent_month, months, "received", medians={"median_hours_to_answer": "hours"}),
    ]


def _hours(first: datetime, last: datetime) -> float:
    return max(0.0, (last - first).total_seconds() / 3600)


def comarca_name(comarca_id: int | None) -> str | None:
    comarca = courts.get_comarca(comarca_id) if comarca_id else None
    return comarca.name if comarca else None

