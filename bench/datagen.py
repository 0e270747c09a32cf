"""Believable data at two scales, loaded fast, for the benchmark.

state:   300 magistrates in 45 units, 90 days of published slots, 30,000 bookings
country: 20,000 magistrates in 2,700 units, 60 days of published slots,
         2,000,000 bookings (half past, half future) and 100,000 complaints

The schema comes from the migrations, as everywhere; rows go in with COPY on
PostgreSQL and executemany on SQLite, in big transactions.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

CUIABA = ZoneInfo("America/Cuiaba")


@dataclass(frozen=True)
class Scale:
    name: str
    magistrates: int
    units: int
    bookings: int
    complaints: int
    # The state's runs book more slots than 60 days hold (booking, the pair and the features
    # in turns, on the service and the ceiling); the listing reads the first four weeks alike.
    published_days: int = 60


SCALES = {
    "state": Scale("state", 300, 45, 30_000, 1_500, published_days=90),
    "country": Scale("country", 20_000, 2_700, 2_000_000, 100_000),
}
SLOT_TIMES = [time(13, 0), time(13, 30), time(14, 0), time(14, 30), time(15, 0), time(15, 30),
              time(16, 0), time(16, 30)]


def _rows_in_chunks(rows, size=50_000):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load(connection, table: str, columns: list[str], rows) -> int:
    """Bulk-insert rows (tuples) into table through the DB-API connection."""
    count = 0
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    placeholders = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    for chunk in _rows_in_chunks(rows):
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                           [_sqlite_row(r) for r in chunk])
        count += len(chunk)
    return count


def _sqlite_value(value):
    """The exact text SQLAlchemy's SQLite types write, or lookups by equality would miss."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sqlite_row(row):
    return tuple(_sqlite_value(v) for v in row)


def weekdays(first: date, days: int):
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() < 5:
            yield day


def generate(engine, scale: Scale, today: date | None = None, seed: int = 7) -> dict:
    """Fill an empty, migrated database; returns what was written."""
    rng = random.Random(seed)
    today = today or datetime.now(CUIABA).date()
    now = datetime.now(UTC)
    future_days = list(weekdays(today + timedelta(days=2), scale.published_days))
    past_days = list(weekdays(today - timedelta(days=90), 88))
    per_magistrate = scale.bookings // scale.magistrates
    counts = {}
    with engine.begin() as connection:
        comarcas = max(10, scale.units // 20)
        counts["comarca"] = load(connection, "comarca", ["id", "name"],
                                 ((i, f"Comarca {i:04d}") for i in range(1, comarcas + 1)))
        counts["unit"] = load(connection, "unit", ["id", "name", "comarca_id", "instance", "office_email"],
                              ((i, f"Vara {i:05d}", 1 + i % comarcas, 1 if i % 10 else 2,
                                f"vara{i}@bench.jus.br") for i in range(1, scale.units + 1)))
        counts["channel"] = load(connection, "channel", ["unit_id", "kind", "value", "hours", "position"],
                                 (row for i in range(1, scale.units + 1) for row in (
                                     (i, "phone", "(65) 3000-0000", "12h às 19h", 0),
                                     (i, "email", f"vara{i}@bench.jus.br", None, 1))))
        counts["magistrate"] = load(
            connection, "magistrate", ["id", "name", "title", "email", "unit_id", "timezone",
                                       "publishes_agenda"],
            ((i, f"Magistrado {i:05d}", "Juiz de Direito", f"juiz{i}@bench.jus.br",
              1 + i % scale.units, "America/Cuiaba", True) for i in range(1, scale.magistrates + 1)))
        counts["availability_rule"] = load(
            connection, "availability_rule", ["magistrate_id", "slot_minutes", "buffer_minutes",
                                              "min_notice_hours", "horizon_days", "meeting_url",
                                              "updated_at", "published_until"],
            ((i, 30, 0, 24, scale.published_days + 2, f"https://sala.bench.jus.br/{i}", now,
              future_days[-1])
             for i in range(1, scale.magistrates + 1)))
        counts["weekly_window"] = load(
            connection, "weekly_window", ["magistrate_id", "weekday", "start_time", "end_time",
                                          "offers_video", "offers_in_person"],
            ((i, day, time(13), time(17), True, True) for i in range(1, scale.magistrates + 1)
             for day in range(5)))

        future_slots = [(day, at) for day in future_days for at in SLOT_TIMES]
        booked_future = per_magistrate // 2
        slot_id = 0
        bookings = []

        def slot_rows():
            nonlocal slot_id
            for magistrate in range(1, scale.magistrates + 1):
                taken = set(rng.sample(range(len(future_slots)), min(booked_future, len(future_slots))))
                for index, (day, at) in enumerate(future_slots):
                    slot_id += 1
                    start = datetime.combine(day, at, CUIABA)
                    state = "booked" if index in taken else "open"
                    if index in taken:
                        bookings.append((slot_id, magistrate, start, "confirmed"))
                    yield (slot_id, magistrate, start, start + timedelta(minutes=30), True, True, state)

        counts["slot"] = load(connection, "slot", ["id", "magistrate_id", "start_at", "end_at",
                                                   "offers_video", "offers_in_person", "state"],
                              slot_rows())
        past_per_magistrate = per_magistrate - booked_future
        past_times = [(day, at) for day in past_days for at in SLOT_TIMES]
        for magistrate in range(1, scale.magistrates + 1):
            # Distinct times: a magistrate's active bookings never overlap (PostgreSQL checks).
            for day, at in rng.sample(past_times, min(past_per_magistrate, len(past_times))):
                start = datetime.combine(day, at, CUIABA)
                status = rng.choices(["attended", "no_show", "cancelled"], [80, 8, 12])[0]
                bookings.append((None, magistrate, start, status))

        def booking_rows():
            for number, (slot, magistrate, start, status) in enumerate(bookings, start=1):
                yield (number, slot, magistrate, start, start + timedelta(minutes=30), "video", status,
                       f"Advogado {number}", f"{number % 99999 + 1}/MT", f"adv{number}@bench.com",
                       "+5565999990000", "0001234-03.2026.8.11.0041", "Despacho", False, now,
                       secrets.token_hex(32), f"{uuid.uuid4()}@bench", 0, False, False, now, now,
                       "court" if status == "cancelled" else None)

        counts["booking"] = load(
            connection, "booking",
            ["id", "slot_id", "magistrate_id", "start_at", "end_at", "mode", "status",
             "lawyer_name", "lawyer_oab", "lawyer_email", "lawyer_phone", "case_number", "subject",
             "under_seal", "consent_at", "manage_token_hash", "ical_uid", "ical_sequence",
             "first_reminder_sent", "second_reminder_sent", "created_at", "updated_at",
             "cancelled_by"], booking_rows())

        def complaint_rows():
            year = today.year
            for number in range(1, scale.complaints + 1):
                created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 180))
                status = rng.choice(["new", "in_review", "resolved", "dismissed"])
                yield (number, f"RC-{year}-{number:06d}", secrets.token_hex(32),
                       rng.choice(["virtual_counter", "phone", "email", "whatsapp"]),
                       rng.choice(["connection_drop", "unavailable", "no_answer"]),
                       1 + number % scale.units, created, "Falha no canal.", status, created, created,
                       created + timedelta(hours=30) if status in ("resolved", "dismissed") else None)

        counts["complaint"] = load(
            connection, "complaint",
            ["id", "protocol", "lookup_token_hash", "channel", "kind", "unit_id", "occurred_at",
             "description", "status", "created_at", "updated_at", "closed_at"], complaint_rows())
        if connection.dialect.name == "postgresql":
            for table in ("comarca", "unit", "magistrate", "slot", "booking", "complaint", "channel",
                          "weekly_window"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return counts
