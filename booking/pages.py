"""Pages that belong to no single domain: the portal of channels, the privacy notice,
and the staff home page, which gathers what each domain has for the person signed in."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from .accounts.auth import login_required_page
from .accounts.models import ROLE_NAMES
from .audit import service as audit
from .bookings import conflicts, urgent
from .bookings import service as bookings
from .clock import local_today
from .courts import service as courts
from .courts.schemas import UnitQuerySchema
from .errors import flatten_errors
from .extensions import db
from .pagination import page_number

pages_blp = Blueprint("pages", __name__)


@pages_blp.get("/favicon.ico")
def favicon():
    """The icon the pages link to, also where browsers and bots look for it by default."""
    return current_app.send_static_file("favicon.svg"), 200, {
        "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"}


@pages_blp.get("/")
def home():
    """The portal of attendance channels: every unit, searchable by comarca and name.

    The search is checked by the API's own schema: what /api/v1/units refuses with a
    422, this page refuses with a 400 and the message beside the field.
    """
    q = request.args.get("busca", "").strip()
    comarca = request.args.get("comarca", "").strip()
    errors, status = {}, 200
    try:
        UnitQuerySchema(only=("q", "comarca")).load(
            {name: value for name, value in (("q", q), ("comarca", comarca)) if value})
    except ValidationError as error:
        errors, status = {"busca" if k == "q" else k: v
                          for k, v in flatten_errors(error.messages).items()}, 400
        q = comarca = ""
    page = page_number()
    units, total = courts.list_units(q=q or None, comarca=comarca or None, page=page, per_page=20)
    return render_template(
        "portal.html", units=units, total=total, page=page, per_page=20, q=q,
        comarca=comarca, comarcas=courts.list_comarcas(), errors=errors,
    ), status


@pages_blp.get("/privacidade")
def privacy():
    """What personal data is kept, why, and for how long (LGPD)."""
    return render_template("privacy.html")


@pages_blp.get("/equipe")
@login_required_page()
def staff_home():
    """Where staff land after signing in: their agendas, and what waits for them."""
    managed = (current_user.assists if current_user.role == "assistant"
               else [current_user.magistrate] if current_user.magistrate else [])
    today = []
    for magistrate in managed:
        zone = ZoneInfo(magistrate.timezone)
        start = datetime.combine(local_today(magistrate.timezone), time(0), zone)
        tomorrow = start + timedelta(days=1)
        rows = [b for b in db.session.scalars(bookings.bookings_of(
            magistrate.id, first=start, last=tomorrow)) if b.status != "cancelled"]
        # A free day still says when the next appointment is (only its time is shown).
        upcoming = None if rows else db.session.scalars(bookings.bookings_of(
            magistrate.id, first=tomorrow, status="confirmed").limit(1)).first()
        today.append((magistrate, rows, upcoming))
    audit.record_read(current_user, "booking", [b.id for _, rows, _ in today for b in rows])
    return render_template("staff_home.html", user=current_user, managed=managed, today=today,
                           urgent_open=urgent.open_count([m.id for m in managed]),
                           conflicts_open=conflicts.open_count([m.id for m in managed]),
                           role_name=ROLE_NAMES.get(current_user.role, current_user.role))
