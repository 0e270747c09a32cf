"""What the Corregedoria reads: exports of reports, and attendance offered by the
booking side. CSV opens right in a Brazilian spreadsheet: UTF-8 with BOM, `;`
between fields, dates as dd/mm/aaaa."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ..availability.models import Slot
from ..bookings.models import Booking
from ..courts.models import Magistrate, Unit
from ..database import utcnow
from ..extensions import db
from .service import CHANNEL_LABELS, KIND_LABELS, STATUS_LABELS

CSV_COLUMNS = ["Protocolo", "Situação", "Canal", "Tipo de falha", "Unidade", "Comarca",
               "Ocorrida em", "Registrada em", "Encerrada em", "Descrição", "Resposta pública"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else ""


def complaints_csv(complaints) -> bytes:
    zone = ZoneInfo(current_app.config["COURT_TIMEZONE"])
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in complaints:
        unit = units.get(c.unit_id)
        writer.writerow([_cell(v) for v in (
            c.protocol, STATUS_LABELS[c.status], CHANNEL_LABELS[c.channel], KIND_LABELS[c.kind],
            unit.name if unit else "", unit.comarca.name if unit else "",
            _when(c.occurred_at, zone), _when(c.created_at, zone), _when(c.closed_at, zone),
            c.description, c.public_answer)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def attendance(first_day: date, last_day: date, now: datetime | None = None) -> list[dict]:
    """Per magistrate: slots offered, booked, cancelled by the court, no-shows, and the
    days until the first open slot: what shows that attendance was offered."""
    now = now or utcnow()
    zone = ZoneInfo(current_app.config["COURT_TIMEZONE"])
    start = datetime.combine(first_day, time(0), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), zone)
    offered = dict(db.session.execute(
        select(Slot.magistrate_id, func.count()).where(Slot.start_at >= start, Slot.start_at < end)
        .group_by(Slot.magistrate_id)).all())
    outcomes: dict[int, dict[str, int]] = {}
    for magistrate_id, status, cancelled_by, count in db.session.execute(
            select(Booking.magistrate_id, Booking.status, Booking.cancelled_by, func.count())
            .where(Booking.start_at >= start, Booking.start_at < end)
            .group_by(Booking.magistrate_id, Booking.status, Booking.cancelled_by)):
        row = outcomes.setdefault(magistrate_id, {"booked": 0, "cancelled_by_court": 0,
                                                  "no_show": 0})
        if status != "cancelled":
            row["booked"] += count
        elif cancelled_by == "court":
            row["cancelled_by_court"] += count
        if status == "no_show":
            row["no_show"] += count
    first_open = dict(db.session.execute(
        select(Slot.magistrate_id, func.min(Slot.start_at))
        .where(Slot.state == "open", Slot.start_at >= now).group_by(Slot.magistrate_id)).all())
    rows = []
    for magistrate, unit in db.session.execute(
            select(Magistrate, Unit).join(Unit, Unit.id == Magistrate.unit_id)
            .order_by(Unit.name, Magistrate.name)):
        result = outcomes.get(magistrate.id, {"booked": 0, "cancelled_by_court": 0, "no_show": 0})
        soonest = first_open.get(magistrate.id)
        rows.append({
            "unit_id": unit.id, "unit": unit.name, "magistrate_id": magistrate.id,
            "magistrate": f"{magistrate.title} {magistrate.name}",
            "slots_offered": offered.get(magistrate.id, 0), **result,
            "days_to_first_open_slot": (round((soonest - now).total_seconds() / 86400, 1)
                                        if soonest else None),
        })
    return rows
