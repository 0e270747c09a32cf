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


# The integration key every test database holds (tests/conftest.py puts it in the migrated
# template): a request with DIRECT books confirmed at once, as the court's portal would; a
# request without it holds the slot until the e-mailed code is typed.
TEST_INTEGRATION_KEY = "int_portal-de-testes-0123456789abcdef"
DIRECT = {"X-Integration-Key": TEST_INTEGRATION_KEY}


def make_integration_key() -> None:
    from booking.accounts.models import IntegrationKey
    from booking.security import token_hash

    db.session.add(IntegrationKey(name="Portal de testes",
                                  key_hash=token_hash(TEST_INTEGRATION_KEY)))
    db.session.flush()


def confirmation_code(booking_id: int) -> str:
    """The code the hold's latest e-mail carries, read from the outbox (sealed there until sent);
    tests that run no mail server read it here, the browser tests read the e-mail."""
    from booking.notifications.models import OutboxMessage
    from booking.security import unseal

    key = f"booking:{booking_id}:code"  # the first code; a new one asked for adds ":<n>"
    message = db.session.scalar(select(OutboxMessage).where(
        (OutboxMessage.dedupe_key == key) | OutboxMessage.dedupe_key.startswith(key + ":"))
        .order_by(OutboxMessage.id.desc()).limit(1))
    return unseal(message.payload["sealed_code"])


def confirm_by_code(app, client, location: str):
    """What the requester does after the booking form: open the confirmation page the form
    led to and type the code from the e-mail. Returns the answer to that POST (a redirect
    to the confirmation page when the code was right)."""
    import re

    booking_id = int(re.search(r"/agendamentos/(\d+)/confirmar", location).group(1))
    assert client.get(location).status_code == 200
    with app.app_context():
        code = confirmation_code(booking_id)
    return client.post(location, data={"code": code})


def a_recent_failure() -> str:
    """When a reported failure happened: ten days ago in Cuiabá (reports must be recent,
    COMPLAINT_MAX_AGE_DAYS, so a fixed date would stop working in a year)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from booking.database import utcnow

    moment = (utcnow() - timedelta(days=10)).astimezone(ZoneInfo("America/Cuiaba"))
    return moment.replace(hour=14, minute=0, second=0, microsecond=0).isoformat()
