"""Public pages of the directory: a unit with its channels and magistrates."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_smorest import abort

from ..cnj import CaseNumberError
from . import service

blp = Blueprint("courts_pages", __name__)

NO_LONGER_BOOKABLE = ("{who} não recebe agendamentos por este serviço. "
                      "Procure a unidade pelos seus canais de atendimento.")


def bookable_magistrate_or_404(magistrate_id: int, *, with_unit: bool = False):
    """For the public pages about one magistrate: 404, saying why when they left the agenda."""
    magistrate = service.get_magistrate(magistrate_id, with_unit=with_unit)
    if magistrate is None:
        abort(404)
    if not magistrate.takes_bookings:
        abort(404, message=NO_LONGER_BOOKABLE.format(who=magistrate.this_one.capitalize()))
    return magistrate


@blp.get("/unidades/<int:unit_id>")
def unit_page(unit_id: int):
    unit = service.get_unit(unit_id)
    if unit is None or not unit.is_active:
        abort(404)
    magistrates = [m for m in unit.magistrates if m.takes_bookings]
    return render_template("courts/unit.html", unit=unit, magistrates=magistrates)


@blp.get("/processo")
def case_page():
    """From a case number to the comarca where it is heard and its units (a comarca of one
    unit goes straight to it); a bad number gets its message beside the field."""
    typed = request.args.get("numero", "")[:40]
    if not typed.strip():
        return render_template("courts/case.html", typed="", errors={}), 200
    try:
        number, comarca, units = service.units_for_case(typed)
    except (CaseNumberError, service.CaseNotHere) as error:
        return render_template("courts/case.html", typed=typed,
                               errors={"numero": [str(error)]}), 422
    if len(units) == 1:
        return redirect(url_for("courts_pages.unit_page", unit_id=units[0].id))
    return render_template("courts/case.html", typed=typed, errors={}, number=number,
                           comarca=comarca, units=units)
