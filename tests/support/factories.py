"""Small builders of rows the tests need, written through the real models."""

from __future__ import annotations

import unicodedata
from datetime import time

from sqlalchemy import select

from booking.accounts.service import create_user, issue_token
from booking.courts.models import Channel, Comarca, Magistrate, Unit
from booking.extensions import db

PASSWORD = "correct horse battery"


def make_unit(name="1ª Vara Cível de Cuiabá", comarca="Cuiabá", instance=1,
              office_email="cba.1civel@example.jus.br") -> Unit:
    existing = db.session.query(Comarca).filter_by(name=comarca).one_or_none()
    unit = Unit(name=name, comarca=existing or Comarca(name=comarca), instance=instance,
                office_email=office_email)
    unit.channels = [
        Channel(kind="phone", value="(65) 3648-6000", hours="Segunda a sexta, 12h às 19h"),
        Channel(kind="email", value=office_email, position=1),
    ]
    db.session.add(unit)
    db.session.flush()
    return unit


def _free_email(name: str) -> str:
    """ana.souza@example.jus.br for "Ana Souza"; a number added when already taken."""
    base = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    local = ".".join(base.split())
    email, number = f"{local}@example.jus.br", 1
    while db.session.scalar(select(Magistrate.id).where(Magistrate.email == email)):
        number += 1
        email = f"{local}{number}@example.jus.br"
    return email


def make_magistrate(unit: Unit | None = None, name="Ana Souza", title="Juíza de Direito",
                    timezone="America/Cuiaba", email: str | None = None) -> Magistrate:
    magistrate = Magistrate(name=name, title=title, unit=unit or make_unit(),
                            email=email or _free_email(name), timezone=timezone)
    db.session.add(magistrate)
    db.session.flush()
    return magistrate


def make_staff(role: str, email: str | None = None, **kwargs):
    user = create_user(email=email or f"{role}@example.jus.br", password=PASSWORD, role=role,
                       **kwargs)
    db.session.flush()
    return user


def staff_token(user) -> str:
    plain, _ = issue_token(user)
    db.session.flush()
    return plain


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


AFTERNOONS = [{"weekday": day, "start": time(13), "end": time(17), "modes": ["video", "in_person"]}
              for day in range(5)]


def make_rules(magistrate, windows=None, now=None, **settings):
    """Give a magistrate weekday afternoons (or the given windows) and publish them."""
    from booking.availability.service import replace_rules

    data = {"slot_minutes": 30, "buffer_minutes": 0, "min_notice_hours": 24, "horizon_days": 60,
            "max_per_day": None, "meeting_url": "https://sala.example.jus.br/1",
            "address": "Fórum de Cuiabá", "weekly_windows": AFTERNOONS if windows is None
            else windows, **settings}
    result = replace_rules(magistrate, data, None, now=now)
    db.session.flush()
    return result
