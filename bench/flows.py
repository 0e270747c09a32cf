"""The benchmark's longer flows (issue #21), each on a database `bench.run` has loaded.

- the public's two steps, a hold and its confirmation with the e-mailed code;
- the service with every newer feature switched on (busy-time sources on every
  magistrate, webhook subscribers, WhatsApp/SMS, the magistrates' questions) and off
  again, in turns (`bench.run.features_in_turns`);
- the busy-time refresh of 400 calendars served over HTTP on loopback;
- a court-wide closure with 3,000 bookings cancelled and told to everyone through a real
  SMTP server on loopback, from the admin's request to the last message accepted;
- a py-spy profile of the booking route under load;
- what each part of a booking costs, measured by leaving it out in turns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import (
    INTEGRATION_KEY,
    REPO,
    SECRET,
    Gunicorn,
    answered,
    booking_bodies,
    service_env,
    warm_and_measured_bodies,
    wrk,
)
from config import Config
from tests.support.postgres import free_port

CUIABA = ZoneInfo("America/Cuiaba")
BENCH_CODE = "135790"
CALENDAR = REPO / "tests" / "calendars" / "outlook-weekly-hearing.ics"


def bench_app(url: str, **config):
    """The service's app on the bench's database, for flows that call its functions."""
    from booking import create_app
    from config import TestConfig

    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return create_app({**settings, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                       **config})


def engine_for(url: str):
    from sqlalchemy import create_engine

    from booking.database import configure_engine

    engine = create_engine(url)
    configure_engine(engine, 15000)
    return engine


# --- the public's two steps -----------------------------------------------------------

def holds_and_confirms(service: Gunicorn, url: str, workdir: Path, prefix: str = "h") -> dict:
    """Hold distinct slots for DURATION, each from its own address as the public's would
    come, then confirm each hold once with its code. `service`: the service or the
    ceiling (same paths); `prefix`: of the holders' addresses, distinct per run.

    The code goes by e-mail, which a load generator cannot read: between the two runs
    (untimed) each hold's code hash is set to that of a code the bench knows, with the
    service's own key and formula. The pair's rate is that of one hold and one confirm
    in sequence on the same workers: 1 / (1/holds + 1/confirms)."""
    bodies = workdir / f"holds-{prefix}.jsonl"
    booking_bodies(url, bodies, prefix=prefix)
    captured = workdir / "holds-out"
    hold = wrk(service.url, "holds.lua", {"BODIES": str(bodies), "TARGET_PATH": "/api/v1/bookings",
                                          "HOLDS_OUT": str(captured), "FORWARDED_FOR": "1"})
    holds = []
    for part in workdir.glob("holds-out.*"):
        holds += [line.split() for line in part.read_text().splitlines()
                  if len(line.split()) == 2]
        part.unlink()  # the next database's run writes its own
    if not holds:
        return {"hold": hold, "confirm": None, "pair_rps": 0, "holds_captured": 0}
    engine = engine_for(url)
    from sqlalchemy import bindparam, text

    held = [int(booking_id) for booking_id, _token in holds]
    with engine.begin() as connection:
        uids = connection.execute(text("SELECT id, ical_uid FROM booking WHERE id IN :ids")
                                  .bindparams(bindparam("ids", expanding=True)), {"ids": held})
        connection.execute(text("UPDATE booking SET confirm_code_hash = :h WHERE id = :id"), [
            {"id": booking_id, "h": hmac.new(SECRET.encode(), f"{uid}:{BENCH_CODE}".encode(),
                                             hashlib.sha256).hexdigest()}
            for booking_id, uid in uids.all()])
    engine.dispose()
    confirms = workdir / "confirms.txt"
    confirms.write_text("".join(f"{booking_id} {token} {BENCH_CODE}\n"
                                for booking_id, token in holds))
    confirm = wrk(service.url, "confirms.lua", {"CONFIRMS": str(confirms)})
    holds_rate, confirms_rate = answered(hold, "201"), answered(confirm, "200")
    pair = 1 / (1 / holds_rate + 1 / confirms_rate) if holds_rate and confirms_rate else 0
    return {"hold": hold, "confirm": confirm, "pair_rps": round(pair, 1),
            "holds_captured": len(holds)}


# --- every newer feature switched on -------------------------------------------------------

QUESTIONS = [
    {"id": "q1", "label": "Qual é a fase do processo?", "kind": "choice", "required": True,
     "options": ["Conhecimento", "Execução", "Recurso"]},
    {"id": "q2", "label": "Há réu preso?", "kind": "yes_no", "required": True, "options": []},
    {"id": "q3", "label": "Resumo do pedido", "kind": "long_text", "required": False,
     "options": []},
]
ANSWERS = {"q1": "Execução", "q2": "Não", "q3": "Pedido de liminar sobre bloqueio de contas."}


def switch_features_on(url: str, calendars_url: str) -> dict:
    """Questions on every agenda, a busy-time source with busy times on every magistrate,
    three webhook subscribers of every booking event; the bodies answer the questions and
    ask for WhatsApp (the service is started with a messaging gateway)."""
    from sqlalchemy import insert, select, text, update

    from booking.availability.models import AvailabilityRule, BusyPeriod, BusySource
    from booking.courts.models import Magistrate
    from booking.extensions import db
    from booking.webhooks.service import EVENTS, create_subscriber

    app = bench_app(url)
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(update(AvailabilityRule).values(questions=QUESTIONS))
        magistrate_ids = list(db.session.scalars(select(Magistrate.id).order_by(Magistrate.id)))
        # next check far ahead: the listing and booking figures measure the request path
        db.session.execute(insert(BusySource), [
            {"magistrate_id": m, "kind": "ics", "url": f"{calendars_url}/m{m}.ics",
             "next_check_at": now + timedelta(days=30), "failures": 0, "write_back": False,
             "created_at": now} for m in magistrate_ids])
        sources = db.session.execute(select(BusySource.id, BusySource.magistrate_id)).all()
        db.session.execute(insert(BusyPeriod), [
            {"source_id": s.id, "magistrate_id": s.magistrate_id,
             "start_at": now + timedelta(days=d, hours=2), "end_at": now + timedelta(days=d, hours=3)}
            for s in sources for d in (3, 10, 17, 24)])
        for number in range(3):
            create_subscriber({"name": f"Sistema {number + 1}", "url": "http://127.0.0.1:9/hook",
                               "events": [e for e in EVENTS if e.startswith("booking.")]}, None)
        db.session.commit()
        counts = {"busy_sources": len(sources), "webhook_subscribers": 3,
                  "questions_per_form": len(QUESTIONS)}
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    return counts


def features_env() -> dict:
    return {"MESSAGING_GATEWAY_URL": "http://127.0.0.1:9/send"}


FEATURE_FIELDS = {"answers": ANSWERS, "notify_by": "whatsapp"}


def switch_features_off(url: str) -> None:
    """Undo switch_features_on: no busy-time source, subscriber or question is left (the
    next turn measures without them; the closure figure is the e-mails')."""
    from sqlalchemy import delete, update

    from booking.availability.models import AvailabilityRule, BusyPeriod, BusySource
    from booking.extensions import db
    from booking.webhooks.models import WebhookSubscriber

    app = bench_app(url)
    with app.app_context():
        db.session.execute(delete(BusyPeriod))
        db.session.execute(delete(BusySource))
        db.session.execute(delete(WebhookSubscriber))
        db.session.execute(update(AvailabilityRule).values(questions=None))
        db.session.commit()
        db.engine.dispose()


# --- 400 calendars ---------------------------------------------------------------------

def busy_refresh(url: str, sources: int = 400) -> dict:
    """Serve `sources` Outlook-shaped calendars (a weekly hearing with an exception) over
    HTTP on loopback, make that many sources due, and time the scheduler's job."""
    from sqlalchemy import delete, insert, select, update

    from booking.availability.busy import refresh_due
    from booking.availability.models import BusySource
    from booking.courts.models import Magistrate
    from booking.extensions import db
    from tests.support.calendars import IcsServer

    folder = Path(tempfile.mkdtemp(prefix="bench-calendars-"))
    server = IcsServer(folder)
    server.start()
    app = bench_app(url, BUSY_SOURCE_ALLOWED_HOSTS="127.0.0.1", BUSY_SOURCE_ALLOW_HTTP=True)
    today = datetime.now(CUIABA).date()
    try:
        with app.app_context():
            magistrate_ids = list(db.session.scalars(select(Magistrate.id).order_by(Magistrate.id)))
            owners = [magistrate_ids[i % len(magistrate_ids)] for i in range(sources)]
            db.session.execute(delete(BusySource))
            now = datetime.now(UTC)
            db.session.execute(insert(BusySource), [
                {"magistrate_id": m, "kind": "ics", "url": server.publish(
                    f"s{i}.ics", _calendar(today, i)), "next_check_at": None, "failures": 0,
                 "write_back": False, "created_at": now} for i, m in enumerate(owners)])
            db.session.commit()
            started = time.monotonic()
            refreshed = refresh_due()
            seconds = time.monotonic() - started
            failing = db.session.scalar(select(db.func.count()).select_from(BusySource).where(
                BusySource.failures > 0))
            first_error = db.session.scalar(select(BusySource.last_error).where(
                BusySource.failures > 0).limit(1))
            db.session.execute(update(BusySource).values(next_check_at=now + timedelta(days=30)))
            db.session.commit()
            interval = app.config["BUSY_SOURCE_REFRESH_MINUTES"] * 60
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stop()
    return {"sources": refreshed, "seconds": round(seconds, 1), "failing": failing,
            "first_error": first_error, "interval_seconds": interval}


def _calendar(today: date, number: int) -> str:
    weekday = number % 5
    first = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    text = CALENDAR.read_text(encoding="utf-8")
    values = {"UNTIL": (first + timedelta(weeks=12)).strftime("%Y%m%d"),
              "BYDAY": ["MO", "TU", "WE", "TH", "FR"][weekday],
              "EXDATE": (first + timedelta(weeks=1)).strftime("%Y%m%d"),
              "FIRST": first.strftime("%Y%m%d")}
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.replace("\n", "\r\n")


# --- a court-wide closure, told to everyone ------------------------------------------------

class SmtpSink:
    """aiosmtpd on loopback that accepts every message and notes when the last came."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.count += 1
                    sink.last_at = time.monotonic()
                return "250 OK"

        self.lock = threading.Lock()
        self.count, self.last_at = 0, None
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def closure(url: str, bookings: int = 3000, timeout: float = 900) -> dict:
    """Book `bookings` appointments on one working day, then close the whole court on it
    with "cancel": the admin's answer time, and the time from the request to the last
    message accepted by the SMTP server (each booking: lawyer, magistrate and office);
    then lift it: the admin's answer time again."""
    day, booked = _book_a_full_day(url, bookings)
    token = _admin_token(url)
    with SmtpSink() as sink:
        env = {**service_env(url), "MAIL_PORT": str(sink.port),
               "SCHEDULER_LOCK_FILE": str(Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
                                          / "scheduler.lock")}
        service = Gunicorn("wsgi:app", env)
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=REPO,
            env={**os.environ, **env}, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            time.sleep(3)  # the scheduler's first round: nothing is pending
            started = time.monotonic()
            request = urllib.request.Request(
                service.url + "/api/v1/closures", method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                data=json.dumps({"comarca_id": None, "first_day": day.isoformat(),
                                 "last_day": day.isoformat(), "reason": "Falta de energia",
                                 "on_bookings": "cancel",
                                 "bookings_reason": "O fórum estará fechado."}).encode())
            with urllib.request.urlopen(request, timeout=120) as answer:
                created = json.loads(answer.read())
            answered = time.monotonic() - started
            expected = _wait_for_every_message(url, sink, started, timeout)
            applied = _applied_seconds(url, created["id"])  # read before the lift deletes it
            lifted = _lift(service.url, token, created["id"])
        finally:
            os.killpg(scheduler.pid, signal.SIGTERM)
            scheduler.wait(timeout=60)
            service.stop()
    last = (sink.last_at - started) if sink.last_at else None
    return {"applied_seconds": applied, "day": day.isoformat(), "bookings": booked,
            "bookings_hit": created["bookings_hit"],
            "answer_seconds": round(answered, 2), "lift_seconds": round(lifted, 2),
            "messages_expected": expected,
            "messages_received": sink.count,
            "last_message_seconds": round(last, 1) if last is not None else None,
            "sender_processes": Config.OUTBOX_SENDER_PROCESSES,
            "smtp_connections": Config.OUTBOX_SMTP_CONNECTIONS}


def _applied_seconds(url: str, closure_id: int) -> float | None:
    """From the closure's creation to the scheduler's last batch of its decision."""
    from sqlalchemy import text

    engine = engine_for(url)
    with engine.connect() as connection:
        applied = connection.execute(text(
            "SELECT created_at, bookings_finished_at FROM court_closure WHERE id = :id"),
            {"id": closure_id}).first()
    engine.dispose()
    if not applied or not applied[1]:
        return None
    return round((_instant(applied[1]) - _instant(applied[0])).total_seconds(), 1)


def _lift(service_url: str, token: str, closure_id: int) -> float:
    """The admin lifts the closure (the court opened after all): every agenda gets the day
    back; seconds until the answer."""
    started = time.monotonic()
    request = urllib.request.Request(f"{service_url}/api/v1/closures/{closure_id}",
                                     method="DELETE", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        answer.read()
    return time.monotonic() - started


def _instant(value) -> datetime:
    """A timestamp read back with plain SQL (SQLite gives text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _wait_for_every_message(url: str, sink: SmtpSink, started: float, timeout: float) -> int:
    """Until the closure's decision is applied and every e-mail it queued was accepted."""
    from sqlalchemy import text

    engine = engine_for(url)
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as connection:
                unfinished = connection.execute(text(
                    "SELECT count(*) FROM court_closure WHERE bookings_total > 0 "
                    "AND bookings_finished_at IS NULL")).scalar_one()
                waiting = connection.execute(text(
                    "SELECT count(*) FROM outbox_message WHERE status = 'pending' "
                    "AND kind NOT LIKE '%webhook%' AND kind NOT LIKE 'text%'")).scalar_one()
                expected = connection.execute(text(
                    "SELECT count(*) FROM outbox_message WHERE kind = 'booking_cancelled'"
                )).scalar_one()
            if not unfinished and not waiting and sink.count >= expected:
                return expected
            time.sleep(0.5)
        return expected
    finally:
        engine.dispose()


def _book_a_full_day(url: str, bookings: int) -> tuple[date, int]:
    """Confirmed bookings on one working day two weeks ahead, spread over every magistrate,
    written directly (as datagen does); the outbox is emptied first, so that only the
    closure's messages are measured."""
    from sqlalchemy import func, insert, select, text

    from booking.availability.court_calendar import closed_days
    from booking.availability.models import Slot
    from booking.bookings.models import Booking
    from booking.courts.models import Magistrate
    from booking.extensions import db

    app = bench_app(url)
    day = datetime.now(CUIABA).date() + timedelta(days=14)
    while day in closed_days(day, day):
        day += timedelta(days=1)
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(text("UPDATE outbox_message SET status = 'sent' "
                                "WHERE status = 'pending'"))
        magistrates = db.session.execute(select(Magistrate.id, Magistrate.timezone)
                                         .order_by(Magistrate.id)).all()
        already = db.session.scalar(select(func.count()).select_from(Booking).where(
            Booking.status == "confirmed",
            Booking.start_at >= datetime.combine(day, datetime.min.time(), CUIABA),
            Booking.start_at < datetime.combine(day + timedelta(days=1), datetime.min.time(),
                                                CUIABA)))
        bookings -= already  # the day has `bookings` confirmed in all
        taken = set(db.session.execute(select(Slot.magistrate_id, Slot.start_at)).all())
        per_magistrate = -(-bookings // len(magistrates))
        slots = []
        for magistrate in magistrates:
            zone = ZoneInfo(magistrate.timezone)
            start = datetime.combine(day, datetime.min.time(), zone).replace(hour=6)
            made = 0
            while made < per_magistrate and len(slots) < bookings:
                instant = start.astimezone(UTC)
                if (magistrate.id, instant) not in taken:
                    slots.append({"magistrate_id": magistrate.id, "start_at": instant,
                                  "end_at": instant + timedelta(minutes=10),
                                  "offers_video": True, "offers_in_person": False,
                                  "state": "booked"})
                    made += 1
                start += timedelta(minutes=10)
        db.session.execute(insert(Slot), slots)
        wanted = {(s["magistrate_id"], s["start_at"]) for s in slots}
        made_rows = [r for r in db.session.execute(
            select(Slot.id, Slot.magistrate_id, Slot.start_at, Slot.end_at).where(
                Slot.state == "booked", Slot.start_at >= min(s["start_at"] for s in slots),
                Slot.start_at <= max(s["start_at"] for s in slots)))
            if (r.magistrate_id, r.start_at) in wanted]
        db.session.execute(insert(Booking), [
            {"slot_id": r.id, "magistrate_id": r.magistrate_id, "start_at": r.start_at,
             "end_at": r.end_at, "mode": "video", "status": "confirmed",
             "lawyer_name": f"Advogada Fechamento {n}", "lawyer_oab": f"{n + 1}/MT",
             "lawyer_email": f"f{n}@bench.com", "lawyer_phone": "(65) 99999-0000",
             "case_number": "0001234-03.2026.8.11.0041", "subject": "Despacho",
             "under_seal": False, "requester_type": "lawyer", "consent_at": now,
             "manage_token_hash": hashlib.sha256(f"closure-{n}".encode()).hexdigest(),
             "ical_uid": f"closure-{n}@bench", "ical_sequence": 0, "created_at": now,
             "updated_at": now, "confirm_attempts": 0, "confirmed_at": now}
            for n, r in enumerate(made_rows)])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return day, len(made_rows) + already


def _admin_token(url: str) -> str:
    from booking.accounts.service import create_user, issue_token
    from booking.extensions import db

    app = bench_app(url)
    with app.app_context():
        admin = create_user(email=f"admin-{time.time_ns()}@bench.jus.br", password=None,
                            role="admin", name="Administração")
        token, _ = issue_token(admin)
        db.session.commit()
        db.engine.dispose()
    return token


# --- where the booking route spends its time ------------------------------------------------

def profile(url: str, workdir: Path, duration: int = 15) -> dict:
    """Sample gunicorn's workers with py-spy (idle time left out) while wrk books distinct
    slots; the functions most often on the stack, with their share. py-spy attaches once
    the workers have booked for a second, so that their start (imports, the first
    statements compiled) is not taken for a booking's cost."""
    warm, bodies = warm_and_measured_bodies(url, workdir, "p")
    raw = workdir / "profile.txt"
    service = Gunicorn("wsgi:app", service_env(url))
    try:
        wrk(service.url, "bodies.lua", {"BODIES": str(warm), "TARGET_PATH": "/api/v1/bookings",
                                        "INTEGRATION_KEY": INTEGRATION_KEY}, connections=4,
            duration="1s")
        sampler = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
             str(service.process.pid), "--subprocesses", "--rate", "200", "--duration",
             str(duration), "--format", "raw", "--output", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            run = wrk(service.url, "bodies.lua", {
                "BODIES": str(bodies), "TARGET_PATH": "/api/v1/bookings",
                "INTEGRATION_KEY": INTEGRATION_KEY}, duration=f"{duration}s")
        finally:
            try:
                sampler.wait(timeout=duration + 60)
            except subprocess.TimeoutExpired:
                sampler.kill()
                sampler.wait()
    finally:
        service.stop()
    return {"run": run, "warm": True, **top_frames(raw.read_text() if raw.exists() else "")}


def top_frames(raw: str, count: int = 15) -> dict:
    """From py-spy's raw output ("frame;frame;... samples" per line), the samples taken
    inside a request (below Flask.wsgi_app): for each function, the share of them it is on
    the stack (inclusive) and at the top (self)."""
    inclusive, own = Counter(), Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [_short(frame) for frame in stack.split(";")]
        inside = next((i for i, f in enumerate(frames) if f.startswith("Flask.wsgi_app")), None)
        if inside is None or not samples.isdigit():
            continue
        n = int(samples)
        total += n
        frames = frames[inside + 1:] or frames[inside:]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0)
    return {"samples": total,
            "inclusive": [(f, share(n)) for f, n in inclusive.most_common(count)],
            "self": [(f, share(n)) for f, n in own.most_common(count)]}


def _short(frame: str) -> str:
    """"Session.execute (sqlalchemy/orm/session.py:2373)" -> "Session.execute (orm/session.py)"."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    return f"{name} ({'/'.join(path.split('/')[-2:])})" if where else name


# --- what each part of a booking costs ---------------------------------------------------

def booking_parts(url: str, workdir: Path) -> dict:
    """bench.parts in a process of its own, started with the service's settings (they are
    read from the environment at import, as gunicorn's workers read them)."""
    from bench.parts import BLOCK, BLOCKS, PARTS

    bodies = workdir / "parts-bodies.jsonl"
    booking_bodies(url, bodies, count=300 + BLOCK * BLOCKS * (len(PARTS) + 1), prefix="q")
    done = subprocess.run([sys.executable, "-m", "bench.parts", str(bodies)], cwd=REPO,
                          env={**os.environ, **service_env(url), "CEILING_DATABASE_URL": url},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench.parts failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
