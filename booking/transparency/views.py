"""The public page of the numbers and its CSV: the same tables, the same small-count rule."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from ..courts import service as courts
from . import service
from .figures import as_csv, chart

blp = Blueprint("transparency_pages", __name__)

MONTH_CHOICES = (3, 6, 12, 24, 36)


def _choices() -> tuple[dict, dict]:
    """The period and comarca asked for, and a message per field that could not be used
    (the default is used instead, and the page says so)."""
    errors, months, comarca_id = {}, 12, None
    raw_months = request.args.get("meses", "").strip()
    if raw_months:
        if raw_months.isdigit() and 1 <= int(raw_months) <= service.MAX_MONTHS:
            months = int(raw_months)
        else:
            errors["meses"] = f"Escolha de 1 a {service.MAX_MONTHS} meses; mostramos 12."
    raw_comarca = request.args.get("comarca", "").strip()
    if raw_comarca:
        if raw_comarca.isdigit() and len(raw_comarca) < 10 and courts.get_comarca(int(raw_comarca)):
            comarca_id = int(raw_comarca)
        else:
            errors["comarca"] = "Comarca não encontrada; mostramos todo o tribunal."
    return {"months": months, "comarca_id": comarca_id}, errors


@blp.get("/transparencia")
def transparency_page():
    choice, errors = _choices()
    first_day, last_day = service.period(choice["months"])
    tables = service.tables(first_day, last_day, choice["comarca_id"])
    return render_template(
        "transparency/page.html", tables=[(t, chart(t)) for t in tables], errors=errors,
        choice=choice, first_day=first_day, last_day=last_day,
        month_choices=sorted({*MONTH_CHOICES, choice["months"]}),
        comarcas=courts.list_comarcas(), comarca=service.comarca_name(choice["comarca_id"]),
    ), 422 if errors else 200


@blp.get("/transparencia.csv")
def transparency_csv():
    choice, errors = _choices()
    if errors:
        return {"errors": errors}, 422
    first_day, last_day = service.period(choice["months"])
    response = current_app.response_class(
        as_csv(service.tables(first_day, last_day, choice["comarca_id"])), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="transparencia.csv"'
    return response
