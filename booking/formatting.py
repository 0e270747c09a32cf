"""Dates and times the Brazilian way, for pages, e-mails and invites.

"terça-feira, 2 de março de 2027, 14:00, horário de Cuiabá". Babel holds the
locale data; this module only decides which pieces a person sees.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_timezone_location

LOCALE = "pt_BR"

# The two ways an appointment happens, and how a person reads them.
MODE_LABELS = {"video": "Por vídeo", "in_person": "Presencial"}
MODES = tuple(MODE_LABELS)


@lru_cache(maxsize=64)
def zone_label(zone_name: str) -> str:
    """'horário de Cuiabá' for America/Cuiaba."""
    city = get_timezone_location(zone_name, locale=LOCALE, return_city=True)
    return f"horário de {city}"


@lru_cache(maxsize=1024)
def long_date(day: date) -> str:
    """'terça-feira, 2 de março de 2027' (Babel is slow, and pages repeat the same days)."""
    return format_date(day, format="full", locale=LOCALE)


def short_date(day: date) -> str:
    """'02/03/2027'."""
    return day.strftime("%d/%m/%Y")


def local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone_name))


def time_label(moment: datetime, zone_name: str) -> str:
    """'14:00' in the given zone."""
    return local(moment, zone_name).strftime("%H:%M")


def moment_label(moment: datetime, zone_name: str) -> str:
    """'terça-feira, 2 de março de 2027, 14:00, horário de Cuiabá'."""
    at = local(moment, zone_name)
    return f"{long_date(at.date())}, {at:%H:%M}, {zone_label(zone_name)}"


def load_locale_data() -> None:
    """Have Babel read its Portuguese data now (a web worker's start), not inside a fresh
    worker's first booking, which formats its messages while it holds SQLite's write lock."""
    format_date(date(2000, 1, 3), format="full", locale=LOCALE)
    get_timezone_location("America/Cuiaba", locale=LOCALE, return_city=True)


def modes_label(modes) -> str:
    return " ou ".join(MODE_LABELS[mode].lower() for mode in modes)


def e164(text: str | None, *, strict: bool = True) -> str | None:
    """'+5565999990000' from a number as typed ('(65) 99999-0000'), Brazilian unless it says
    otherwise; None when it is not a valid number (`strict=False`: not even a possible one,
    for numbers a unit wrote, like '0800 ...')."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text or "", "BR")
    except phonenumbers.NumberParseException:
        return None
    if not (phonenumbers.is_valid_number(number) if strict
            else phonenumbers.is_possible_number(number)):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def dialable(text: str | None) -> str | None:
    """A unit's phone or WhatsApp number for tel: and wa.me links; None leaves it as text."""
    return e164(text, strict=False)


def phone_label(e164: str | None) -> str:
    """'(65) 99999-0000' for +5565999990000; other countries in international form."""
    import phonenumbers

    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "BR")
    except phonenumbers.NumberParseException:
        return e164
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 55
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def age_label(start: datetime, end: datetime) -> str:
    """How long something has been open, as a desk reads it: '40 min', '5 h', '3 dias'."""
    seconds = max(0, (end - start).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} dias"
