"""Routes of the agenda: public open slots; rules and exceptions for the magistrate's side;
court closures for the administration."""

import json
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..accounts.auth import current_api_user, ensure_acts_for, require_staff
from ..courts import service as courts
from ..database import connection_for_reads, utcnow
from ..extensions import db
from ..openapi import STAFF_SECURITY
from ..requesters import DEFAULT_ACCEPTED
from . import busy, service
from .schemas import (
    AvailabilitySchema,
    BookingFormSchema,
    BusySourceSchema,
    ClosureSchema,
    ExceptionSchema,
    QuestionsSchema,
    SlotQuerySchema,
    SlotSchema,
)

blp = Blueprint("availability", __name__, url_prefix="/api/v1",
                description="Agenda dos magistrados: horários abertos, regras e exceções; "
                            "fechamentos do tribunal ou de uma comarca (administração).")


def _magistrate_or_404(magistrate_id: int):
    magistrate = courts.get_magistrate(magistrate_id)
    if magistrate is None:
        abort(404, message="Magistrado não encontrado.")
    return magistrate


def _managed_magistrate(magistrate_id: int):
    """The magistrate, if the caller (already authenticated) acts for them."""
    magistrate = _magistrate_or_404(magistrate_id)
    ensure_acts_for(current_api_user(), magistrate.id)
    return magistrate


def slot_rows_as_json(rows) -> str:
    """The hot path: rows to a JSON array, each distinct slot rendered once per process."""
    zone = current_app.config["COURT_TIMEZONE"]
    return "[" + ",".join([_slot_json(row, zone) for row in rows]) + "]"


@lru_cache(maxsize=16384)
def _slot_json(row: tuple[datetime, datetime, bool, bool], zone: str) -> str:
    """One slot as SlotSchema would write it; the same slots recur across magistrates."""
    start, end, video, in_person = row
    court_zone = ZoneInfo(zone)
    modes = [mode for mode, on in (("video", video), ("in_person", in_person)) if on]
    return json.dumps({"start": start.astimezone(court_zone).isoformat(timespec="seconds"),
                       "end": end.astimezone(court_zone).isoformat(timespec="seconds"),
                       "modes": modes}, separators=(",", ":"))


@blp.route("/magistrates/<int:magistrate_id>/slots")
class Slots(MethodView):
    @blp.arguments(SlotQuerySchema(), location="query")
    @blp.alt_response(200, schema=SlotSchema(many=True), success=True,
                      description="Horários que ainda podem ser agendados.")
    @blp.alt_response(404, description="Magistrado não encontrado.")
    def get(self, args, magistrate_id):
        """Open slots a lawyer can book now, for at most 62 days."""
        with connection_for_reads(db.engine) as connection:
            rows = service.public_listing(
                magistrate_id, lambda today: SlotQuerySchema.resolve(args, today), connection)
        if rows is None:
            abort(404, message="Magistrado não encontrado.")
        return current_app.response_class(slot_rows_as_json(rows), mimetype="application/json")


@blp.route("/magistrates/<int:magistrate_id>/availability")
class Availability(MethodView):
    decorators = [require_staff("magistrate", "assistant")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, AvailabilitySchema)
    def get(self, magistrate_id):
        """The magistrate's rules and weekly windows."""
        magistrate = _managed_magistrate(magistrate_id)
        return availability_document(magistrate)

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(AvailabilitySchema())
    @blp.response(200, AvailabilitySchema)
    def put(self, data, magistrate_id):
        """Replace the rules and windows; future open slots are republished at once."""
        magistrate = _managed_magistrate(magistrate_id)
        service.replace_rules(magistrate, data, current_api_user())
        db.session.commit()
        return availability_document(magistrate)


@blp.route("/magistrates/<int:magistrate_id>/form")
class BookingForm(MethodView):
    @blp.response(200, BookingFormSchema)
    @blp.alt_response(404, description="Magistrado não encontrado.")
    def get(self, magistrate_id):
        """What this magistrate's booking form asks: who may book, how many participants,
        and the magistrate's own questions (answers go in `answers` of POST /bookings, by
        question id)."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None or not magistrate.takes_bookings:
            abort(404, message="Magistrado não encontrado.")
        rule = service.rule_of(magistrate.id)
        return {"magistrate_id": magistrate.id,
                "requester_types": (rule.accepted_requesters if rule else None)
                or list(DEFAULT_ACCEPTED),
                "max_participants": current_app.config["MAX_PARTICIPANTS"],
                "questions": service.questions_of(magistrate.id)}


@blp.route("/magistrates/<int:magistrate_id>/questions")
class Questions(MethodView):
    decorators = [require_staff("magistrate", "assistant")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(QuestionsSchema())
    @blp.response(200, QuestionsSchema)
    @blp.alt_response(409, description="A agenda ainda não foi publicada.")
    def put(self, data, magistrate_id):
        """Replace the magistrate's questions (up to ten); old bookings keep their answers."""
        magistrate = _managed_magistrate(magistrate_id)
        saved = service.replace_questions(magistrate, data["questions"], current_api_user())
        db.session.commit()
        return {"questions": saved}


def availability_document(magistrate) -> dict:
    rule = service.rule_of(magistrate.id)
    windows = service.windows_of(magistrate.id)
    base = {"slot_minutes": 30, "buffer_minutes": 0, "min_notice_hours": 24,
            "horizon_days": 60, "max_per_day": None, "meeting_url": None, "address": None,
            "published_until": None, "accepted_requesters": None}
    if rule is not None:
        base = {name: getattr(rule, name) for name in base}
    base["accepted_requesters"] = base["accepted_requesters"] or list(DEFAULT_ACCEPTED)
    return {**base, "timezone": magistrate.timezone, "weekly_windows": [
        {"weekday": w.weekday, "start": w.start_time, "end": w.end_time,
         "modes": [m for m, on in (("video", w.offers_video), ("in_person", w.offers_in_person))
                   if on]} for w in windows]}


@blp.route("/magistrates/<int:magistrate_id>/exceptions")
class Exceptions(MethodView):
    decorators = [require_staff("magistrate", "assistant")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, ExceptionSchema(many=True))
    def get(self, magistrate_id):
        """Blocked periods and extra openings that have not ended."""
        magistrate = _managed_magistrate(magistrate_id)
        return [_exception_out(e) for e in service.exceptions_of(magistrate.id, since=utcnow())]

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ExceptionSchema())
    @blp.response(201, ExceptionSchema)
    def post(self, data, magistrate_id):
        """Block a period or open an extra one; slots are republished at once."""
        magistrate = _managed_magistrate(magistrate_id)
        exception = service.add_exception(magistrate, data, current_api_user())
        db.session.commit()
        return _exception_out(exception)


@blp.route("/magistrates/<int:magistrate_id>/exceptions/<int:exception_id>")
class ExceptionById(MethodView):
    decorators = [require_staff("magistrate", "assistant")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(204)
    def delete(self, magistrate_id, exception_id):
        """Remove an exception; slots are republished at once."""
        magistrate = _managed_magistrate(magistrate_id)
        if not service.remove_exception(magistrate, exception_id, current_api_user()):
            abort(404, message="Exceção não encontrada.")
        db.session.commit()


def _exception_out(exception) -> dict:
    return {"id": exception.id, "kind": exception.kind, "start_at": exception.start_at,
            "end_at": exception.end_at, "reason": exception.reason,
            "modes": [m for m, on in (("video", exception.offers_video),
                                      ("in_person", exception.offers_in_person)) if on]}


@blp.route("/magistrates/<int:magistrate_id>/busy-sources")
class BusySources(MethodView):
    decorators = [require_staff("magistrate", "assistant")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, BusySourceSchema(many=True))
    def get(self, magistrate_id):
        """The magistrate's own calendars read for busy times, with how the last read went."""
        return busy.sources_of(_managed_magistrate(magistrate_id).id)

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(BusySourceSchema())
    @blp.response(201, BusySourceSchema)
    def post(self, data, magistrate_id):
        """Add a calendar (.ics address or CalDAV); it is read at once and then every few
        minutes, and its busy times close the overlapping open slots."""
        magistrate = _managed_magistrate(magistrate_id)
        source = busy.add_source(magistrate, data, current_api_user())
        busy.refresh(source)
        db.session.commit()
        return source


@blp.route("/magistrates/<int:magistrate_id>/busy-sources/<int:source_id>")
class BusySourceById(MethodView):
    decorators = [require_staff("magistrate", "assistant")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(204)
    def delete(self, magistrate_id, source_id):
        """Stop reading a calendar; its busy times stop closing slots."""
        if not busy.remove_source(_managed_magistrate(magistrate_id), source_id,
                                  current_api_user()):
            abort(404, message="Calendário não encontrado.")
        db.session.commit()


@blp.route("/closures")
class Closures(MethodView):
    decorators = [require_staff("admin")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, ClosureSchema(many=True))
    def get(self):
        """Closures from today on."""
        return service.closures(since=utcnow().date())

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ClosureSchema())
    @blp.response(201, ClosureSchema)
    def post(self, data):
        """Close the court, or one comarca, for some days; agendas are republished.
        bookings_hit says how many confirmed bookings fall on those days; with dry_run nothing
        is saved, otherwise on_bookings is applied to all of them."""
        closure, hit = service.add_closure(data, current_api_user())
        answer = {name: getattr(closure, name) for name in (
            "id", "comarca_id", "reason", "first_day", "last_day", "on_bookings",
            "bookings_reason", "bookings_total", "bookings_done", "bookings_finished_at")}
        answer["bookings_hit"] = hit
        if data["dry_run"]:
            db.session.rollback()
            answer["id"] = None
        else:
            db.session.commit()
        return answer


@blp.route("/closures/<int:closure_id>")
class ClosureById(MethodView):
    decorators = [require_staff("admin")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, ClosureSchema)
    def get(self, closure_id):
        """One closure, with how far its decision for the bookings has been applied."""
        closure = service.get_closure(closure_id)
        if closure is None:
            abort(404, message="Fechamento não encontrado.")
        return closure

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(204)
    def delete(self, closure_id):
        """Reopen: remove a closure; agendas are republished."""
        if not service.remove_closure(closure_id, current_api_user()):
            abort(404, message="Fechamento não encontrado.")
        db.session.commit()
