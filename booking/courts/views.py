"""Public pages of the directory: a unit with its channels and magistrates."""

from flask import Blueprint, abort, render_template

from . import service

blp = Blueprint("courts_pages", __name__)


@blp.get("/unidades/<int:unit_id>")
def unit_page(unit_id: int):
    unit = service.get_unit(unit_id)
    if unit is None:
        abort(404)
    magistrates = [m for m in unit.magistrates if m.publishes_agenda]
    return render_template("courts/unit.html", unit=unit, magistrates=magistrates)
