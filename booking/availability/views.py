"""Agenda pages: the public agenda of a magistrate, the magistrate's rules and
exceptions with a preview, and the administration's court closures."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_smorest import abort
from marshmallow import ValidationError

from ..accounts.auth import login_required_page, managed_magistrate
from ..clock import local_today
from ..courts import service as courts
from ..courts.views import bookable_magistrate_or_404
from ..database import utcnow
from ..domain import DomainError, InvalidField
from ..errors import flatten_errors
from ..extensions import db
from ..formatting import zone_label
from . import busy, service, weeks
from .api import availability_document
from .forms import (
    exception_from_form,
    row_errors,
    rules_from_form,
    window_rows_for_page,
)
from .questions import KINDS as QUESTION_KINDS
from .schemas import (
    AvailabilitySchema,
    BusySourceSchema,
    ClosureSchema,
    ExceptionSchema,
    QuestionsSchema,
)

blp = Blueprint("availability_pages", __name__)


@blp.get("/magistrados/<int:magistrate_id>/agenda")
def public_agenda(magistrate_id: int):
    """Open slots by day, one week at a time.

    Without `?semana=` it opens on the week of the first open time (not on a
    week that has ended, nor on weeks the recess or a closure empties), and
    days already past are not listed.
    """
    magistrate = bookable_magistrate_or_404(magistrate_id, with_unit=True)
    week = weeks.open_week(magistrate, weeks.asked_week(request.args.get("semana")), utcnow())
    book_url = url_for("bookings_pages.book_page", magistrate_id=magistrate.id)  # once, not per slot
    for slots in week.days.values():
        for slot in slots:
            slot["book_url"] = f"{book_url}?inicio={quote(slot['start'].isoformat(), safe='')}"
    return render_template(
        "availability/agenda.html", magistrate=magistrate, days=week.days, monday=week.monday,
        closed=week.closed, previous_week=week.previous_week, next_week=week.next_week,
        next_open_week=week.next_open_week, zone_label=zone_label(magistrate.timezone))


@blp.route("/equipe/magistrados/<int:magistrate_id>/disponibilidade", methods=["GET", "POST"])
@login_required_page("magistrate", "assistant")
def rules_page(magistrate_id: int):
    """Weekly windows and settings, with a preview of the slots they publish."""
    magistrate = managed_magistrate(magistrate_id)
    document = availability_document(magistrate)
    errors: dict[str, list[str]] = {}
    preview = None
    status = 200
    if request.method == "POST":
        raw, rows = rules_from_form(request.form)
        try:
            data = AvailabilitySchema().load(raw)
        except ValidationError as error:
            errors, status = row_errors(error.messages, rows, "weekly_windows", "win", "start"), 422
            document = {**document, **{k: v for k, v in raw.items() if k != "weekly_windows"},
                        "weekly_windows": raw["weekly_windows"]}
        else:
            if request.form.get("action") == "save":
                result = service.replace_rules(magistrate, data, current_user)
                db.session.commit()
                flash(f"Regras salvas. {result.created} horários publicados até "
                      f"{service.rule_of(magistrate.id).published_until:%d/%m/%Y}.", "success")
                return redirect(url_for("availability_pages.rules_page",
                                        magistrate_id=magistrate.id))
            preview = service.preview(magistrate, data)
            document = {**document, **data}
    return _rules_page(magistrate, document=document, errors=errors, preview=preview,
                       status=status)


def _rules_page(magistrate, *, document: dict | None = None, errors: dict | None = None,
                preview=None, typed: dict | None = None, status: int = 200):
    """The rules page with its smaller forms (questions, exceptions, calendars). `typed`: one
    of those refused, shown again as typed with its errors beside the fields (a redirect
    would have lost what was typed): {"form": name, "values": ..., "errors": ...}."""
    document = document or availability_document(magistrate)
    return render_template(
        "availability/rules.html", magistrate=magistrate, doc=document, errors=errors or {},
        window_rows=window_rows_for_page(document["weekly_windows"]), preview=preview,
        preview_days=service.PREVIEW_DAYS,
        exceptions=service.exceptions_of(magistrate.id, since=utcnow()),
        sources=busy.sources_of(magistrate.id),
        zone_label=zone_label(magistrate.timezone),
        questions=service.questions_of(magistrate.id), question_rows=QUESTION_ROWS,
        question_kinds=QUESTION_KINDS,
        typed=typed or {"form": None, "values": {}, "errors": {}},
    ), status


def _refused(magistrate, form: str, values, errors: dict[str, list[str]]):
    """A smaller form refused: the page again (422), with `values` typed and `errors` keyed
    by the id of the input they are about."""
    db.session.rollback()
    return _rules_page(magistrate, status=422,
                       typed={"form": form, "values": values, "errors": errors})


def _errors_by_input(messages: dict[str, list[str]], inputs: dict[str, str]) -> dict:
    """Errors keyed by field, re-keyed by the input that shows them ("_schema": above the
    form, for a field that has no input of its own)."""
    keyed: dict[str, list[str]] = {}
    for field, texts in messages.items():
        keyed.setdefault(inputs.get(field, "_schema"), []).extend(texts)
    return keyed


# The exception form's inputs for ExceptionSchema's fields (start and end are a day and a
# time each: the message goes beside the day).
_EXCEPTION_INPUTS = {"kind": "kind", "start": "start_day", "end": "end_day",
                     "reason": "reason", "modes": "exception-modes"}
_SOURCE_INPUTS = {"kind": "source-kind", "url": "source-url", "username": "source-username",
                  "password": "source-password", "write_back": "source-write_back"}


@blp.get("/equipe/magistrados/<int:magistrate_id>/excecoes")
@blp.get("/equipe/magistrados/<int:magistrate_id>/perguntas")
@blp.get("/equipe/magistrados/<int:magistrate_id>/calendarios")
def back_to_rules_page(magistrate_id: int):
    """A refused form comes back at the address it was sent to: reloading that address (a
    GET) returns to the rules page, not to "method not allowed"."""
    return redirect(url_for("availability_pages.rules_page", magistrate_id=magistrate_id))


@blp.post("/equipe/magistrados/<int:magistrate_id>/excecoes")
@login_required_page("magistrate", "assistant")
def add_exception_page(magistrate_id: int):
    magistrate = managed_magistrate(magistrate_id)
    raw = exception_from_form(request.form, magistrate.timezone)
    try:
        data = ExceptionSchema().load(raw)
        service.add_exception(magistrate, data, current_user)
    except ValidationError as error:
        return _refused(magistrate, "exception", request.form,
                        _errors_by_input(flatten_errors(error.messages), _EXCEPTION_INPUTS))
    except InvalidField as error:
        return _refused(magistrate, "exception", request.form,
                        _errors_by_input({error.field: [str(error)]}, _EXCEPTION_INPUTS))
    db.session.commit()
    flash("Exceção registrada e agenda republicada.", "success")
    return redirect(url_for("availability_pages.rules_page", magistrate_id=magistrate.id) + "#excecoes")


QUESTION_ROWS = 10


@blp.post("/equipe/magistrados/<int:magistrate_id>/perguntas")
@login_required_page("magistrate", "assistant")
def questions_page(magistrate_id: int):
    """The magistrate's own questions on the booking form (rows left blank are dropped)."""
    magistrate = managed_magistrate(magistrate_id)
    typed = [{"label": request.form.get(f"q-{row}-label", "").strip(),
              "kind": request.form.get(f"q-{row}-kind", "short_text"),
              "required": bool(request.form.get(f"q-{row}-required")),
              "options": [o for o in request.form.get(f"q-{row}-options", "").split(";")
                          if o.strip()]} for row in range(QUESTION_ROWS)]
    rows = [row for row, question in enumerate(typed) if question["label"]]  # blank: dropped
    try:
        data = QuestionsSchema().load({"questions": [typed[row] for row in rows]})
        service.replace_questions(magistrate, data["questions"], current_user)
    except ValidationError as error:
        errors: dict[str, list[str]] = {}
        for key, texts in row_errors(error.messages, rows, "questions", "q", "label").items():
            # a row's, beside its input; the list's own (how many), above the form
            errors.setdefault(key if key.startswith("q-") else "_schema", []).extend(texts)
        return _refused(magistrate, "questions", typed, errors)
    except DomainError as error:
        return _refused(magistrate, "questions", typed, {"_schema": [str(error)]})
    db.session.commit()
    flash(f"Perguntas salvas: {len(rows)}. Os próximos agendamentos já as mostram.", "success")
    return redirect(url_for("availability_pages.rules_page", magistrate_id=magistrate.id)
                    + "#perguntas")


@blp.post("/equipe/magistrados/<int:magistrate_id>/calendarios")
@login_required_page("magistrate", "assistant")
def add_source_page(magistrate_id: int):
    """Add the magistrate's own calendar; it is read at once."""
    magistrate = managed_magistrate(magistrate_id)
    raw = {"kind": request.form.get("kind", ""), "url": request.form.get("url", "").strip(),
           "username": request.form.get("username", "").strip() or None,
           "password": request.form.get("password") or None,
           "write_back": request.form.get("write_back") == "sim"}
    try:
        source = busy.add_source(magistrate, BusySourceSchema().load(raw), current_user)
        busy.refresh(source)
        db.session.commit()
    except ValidationError as error:
        return _refused(magistrate, "source", request.form,
                        _errors_by_input(flatten_errors(error.messages), _SOURCE_INPUTS))
    except InvalidField as error:
        return _refused(magistrate, "source", request.form,
                        _errors_by_input({error.field: [str(error)]}, _SOURCE_INPUTS))
    else:
        if source.failures:
            flash(f"Calendário registrado, mas a primeira leitura falhou: {source.last_error}.",
                  "error")
        else:
            flash("Calendário registrado e lido; seus compromissos já fecham os horários.",
                  "success")
    return redirect(url_for("availability_pages.rules_page", magistrate_id=magistrate.id)
                    + "#calendarios")


@blp.post("/equipe/magistrados/<int:magistrate_id>/calendarios/<int:source_id>/remover")
@login_required_page("magistrate", "assistant")
def remove_source_page(magistrate_id: int, source_id: int):
    magistrate = managed_magistrate(magistrate_id)
    if not busy.remove_source(magistrate, source_id, current_user):
        abort(404)
    db.session.commit()
    flash("Calendário removido; a agenda foi republicada.", "success")
    return redirect(url_for("availability_pages.rules_page", magistrate_id=magistrate.id)
                    + "#calendarios")


@blp.post("/equipe/magistrados/<int:magistrate_id>/excecoes/<int:exception_id>/remover")
@login_required_page("magistrate", "assistant")
def remove_exception_page(magistrate_id: int, exception_id: int):
    magistrate = managed_magistrate(magistrate_id)
    if not service.remove_exception(magistrate, exception_id, current_user):
        abort(404)
    db.session.commit()
    flash("Exceção removida e agenda republicada.", "success")
    return redirect(url_for("availability_pages.rules_page", magistrate_id=magistrate.id) + "#excecoes")


@blp.route("/equipe/fechamentos", methods=["GET", "POST"])
@login_required_page("admin")
def closures_page():
    """Court-wide or comarca closures beyond the holiday calendar: the period first, then,
    with the count of confirmed bookings it covers, what to do with them. A refused form
    comes back as typed, with each message beside its field."""
    status, errors, deciding, hit = 200, {}, False, None
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        saving = request.form.get("action") == "save"
        raw = {"comarca_id": request.form.get("comarca_id") or None,
               "first_day": request.form.get("first_day") or None,
               "last_day": request.form.get("last_day") or None,
               "reason": (request.form.get("reason") or "").strip() or None,
               "on_bookings": request.form.get("on_bookings") or "flag",
               "bookings_reason": (request.form.get("bookings_reason") or "").strip() or None,
               "dry_run": not saving}
        try:
            data = ClosureSchema().load(raw)
            closure, hit = service.add_closure(data, current_user)
        except ValidationError as error:
            errors, status, deciding = flatten_errors(error.messages), 422, saving
        except InvalidField as error:
            db.session.rollback()
            errors, status, deciding = {error.field: [str(error)]}, 422, saving
        else:
            if not saving:  # the preview: only the count, nothing kept
                db.session.rollback()
                deciding = True
            else:
                db.session.commit()
                message = ("Fechamento registrado; os horários livres desses dias saíram das "
                           f"agendas ({hit} agendamento(s) no período).")
                if closure.bookings_pending:
                    message += (f" A decisão está sendo aplicada a {closure.bookings_total} "
                                "agendamento(s) em segundo plano; acompanhe o andamento abaixo.")
                flash(message, "success")
                return redirect(url_for("availability_pages.closures_page"))
    return render_template("availability/closures.html",
                           closures=service.closures(since=local_today()),
                           comarcas=courts.list_comarcas(), values=values, errors=errors,
                           deciding=deciding, bookings_hit=hit), status


@blp.get("/equipe/fechamentos/<int:closure_id>/andamento")
@login_required_page("admin")
def closure_progress_page(closure_id: int):
    """How far the decision for a closure's bookings got (the page's progress bar asks)."""
    closure = service.get_closure(closure_id)
    if closure is None:
        abort(404)
    return {"total": closure.bookings_total, "done": closure.bookings_done,
            "finished": closure.bookings_finished_at is not None}


@blp.post("/equipe/fechamentos/<int:closure_id>/remover")
@login_required_page("admin")
def remove_closure_page(closure_id: int):
    if not service.remove_closure(closure_id, current_user):
        abort(404)
    db.session.commit()
    flash("Fechamento removido; as agendas afetadas foram republicadas.", "success")
    return redirect(url_for("availability_pages.closures_page"))
