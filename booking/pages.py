"""Public pages that belong to no single domain: the home page and the portal."""

from flask import Blueprint, render_template, request

from .courts import service as courts

pages_blp = Blueprint("pages", __name__)


@pages_blp.get("/")
def home():
    """The portal of attendance channels: every unit, searchable by comarca and name."""
    q = request.args.get("q", "").strip()[:100]
    comarca = request.args.get("comarca", "").strip()[:120]
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    units, total = courts.list_units(q=q or None, comarca=comarca or None, page=page, per_page=20)
    return render_template(
        "portal.html", units=units, total=total, page=page, per_page=20, q=q,
        comarca=comarca, comarcas=courts.list_comarcas(),
    )


@pages_blp.get("/privacidade")
def privacy():
    """What personal data is kept, why, and for how long (LGPD)."""
    return render_template("privacy.html")
