"""The court's directory, managed by its staff: comarcas, units, channels, magistrates.

Nothing is deleted that bookings or complaints refer to: units and magistrates
are deactivated, which takes them off the portal and the booking routes and
keeps them in the Corregedoria's statistics. When a magistrate leaves (moves
to another unit, retires, stops publishing) the admin says what happens to
their future bookings: kept, or cancelled with a reason the lawyers receive.
Cancelling is the bookings package's work; it registers the function here
(`register_departure_handler`), so courts imports nothing above it.

An import is planned first (`plan_import`: every row checked, every change
listed) and applied only when the whole plan has no error, in the caller's
one transaction. Rows are matched by the comarca's name, the unit's code and
the magistrate's e-mail, so the same file imported twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import service as audit
from ..domain import InvalidField
from ..extensions import db
from ..pagination import page_of, paginate
from . import directory_file, search
from .directory_file import KINDS, REQUIRED, Row, Sheet
from .models import CHANNEL_KINDS, Channel, Comarca, Magistrate, Unit

# Channel kinds as a spreadsheet names them, and the service's own names.
CHANNEL_KIND_NAMES = {"telefone": "phone", "e-mail": "email", "email": "email",
                      "whatsapp": "whatsapp", "balcao_virtual": "virtual_counter",
                      "balcão virtual": "virtual_counter", "balcao virtual": "virtual_counter",
                      "agendamento": "booking", **{kind: kind for kind in CHANNEL_KINDS}}
CHANNEL_KIND_EXPORT = {"phone": "telefone", "email": "email", "whatsapp": "whatsapp",
                       "virtual_counter": "balcao_virtual", "booking": "agendamento"}
YES = {"sim", "s", "1", "x", "true", "verdadeiro", "yes"}
NO = {"nao", "não", "n", "0", "false", "falso", "no"}

# fn(magistrate_ids, reason, user) -> how many future bookings it cancelled.
_departure_handlers: list[Callable[[list[int], str, object], int]] = []
# fn(entity, entity_id, action, **details): a change of the directory, in its transaction.
_change_listeners: list[Callable[..., None]] = []


def register_departure_handler(handler: Callable[[list[int], str, object], int]) -> None:
    """Bookings registers how to cancel the future bookings of magistrates who leave."""
    if handler not in _departure_handlers:
        _departure_handlers.append(handler)


def register_change_listener(listener: Callable[..., None]) -> None:
    """Told of every change to the directory (the webhooks' `directory.changed`)."""
    if listener not in _change_listeners:
        _change_listeners.append(listener)


def _changed(entity: str, entity_id: int | None, created: bool, **details) -> None:
    for listener in _change_listeners:
        listener(entity, entity_id, "created" if created else "changed", **details)


def _cancel_future_bookings(magistrate_ids: list[int], reason: str | None, user) -> int:
    if not (reason or "").strip():
        raise InvalidField("Informe o motivo do cancelamento; os advogados vão lê-lo.",
                           "reason")
    return sum(handler(magistrate_ids, reason.strip(), user) for handler in _departure_handlers)


# --- one record at a time (the admin's API and pages) ---------------------------------

def _unique(model, column, value, current_id=None, field_name: str = "", message: str = ""):
    if value is None:
        return
    existing = db.session.scalar(select(model.id).where(column == value))
    if existing is not None and existing != current_id:
        raise InvalidField(message, field_name)


def save_comarca(data: dict, user, comarca: Comarca | None = None) -> Comarca:
    """Create a comarca, or change one (name, foro code, active)."""
    creating = comarca is None
    comarca = comarca or Comarca()
    _unique(Comarca, Comarca.name, data.get("name", comarca.name), comarca.id, "name",
            "Já existe uma comarca com este nome.")
    _unique(Comarca, Comarca.foro_code, data.get("foro_code"), comarca.id, "foro_code",
            "Outra comarca já tem este código de foro.")
    for name in ("name", "foro_code", "is_active"):
        if name in data:
            setattr(comarca, name, data[name])
    db.session.add(comarca)
    db.session.flush()
    audit.record("directory.comarca_created" if creating else "directory.comarca_changed",
                 "comarca", comarca.id, user=user, details=_loggable(data))
    _changed("comarca", comarca.id, creating)
    return comarca


def save_unit(data: dict, user, unit: Unit | None = None, *, future_bookings: str = "keep",
              reason: str | None = None) -> dict:
    """Create or change a unit. Deactivating it takes its magistrates off the agenda too;
    their future bookings are kept or cancelled, as the admin chose."""
    creating = unit is None
    unit = unit or Unit()
    if "comarca_id" in data and db.session.get(Comarca, data["comarca_id"]) is None:
        raise InvalidField("Comarca não encontrada.", "comarca_id")
    _unique(Unit, Unit.code, data.get("code"), unit.id, "code",
            "Outra unidade já tem este código.")
    leaving = not creating and unit.is_active and data.get("is_active") is False
    cancelled = 0
    if leaving and future_bookings == "cancel":
        cancelled = _cancel_future_bookings([m.id for m in unit.magistrates], reason, user)
    for name in ("code", "name", "comarca_id", "instance", "office_email", "address",
                 "is_active"):
        if name in data:
            setattr(unit, name, data[name])
    db.session.add(unit)
    db.session.flush()
    audit.record("directory.unit_created" if creating else "directory.unit_changed", "unit",
                 unit.id, user=user, details={**_loggable(data), "cancelled": cancelled})
    _changed("unit", unit.id, creating)
    return {"unit": unit, "cancelled_bookings": cancelled}


def replace_channels(unit: Unit, channels: list[dict], user) -> Unit:
    """The unit's channels become exactly these, in this order."""
    unit.channels = [Channel(kind=c["kind"], value=c["value"], hours=c.get("hours"),
                             position=c.get("position", index))
                     for index, c in enumerate(channels)]
    db.session.flush()
    audit.record("directory.channels_replaced", "unit", unit.id, user=user,
                 details={"count": len(channels)})
    _changed("unit", unit.id, False)
    return unit


def save_magistrate(data: dict, user, magistrate: Magistrate | None = None, *,
                    future_bookings: str = "keep", reason: str | None = None) -> dict:
    """Create or change a magistrate. Moving them to another unit, retiring them or taking
    their agenda down keeps their history; their future bookings are kept or cancelled."""
    creating = magistrate is None
    magistrate = magistrate or Magistrate()
    if "unit_id" in data and db.session.get(Unit, data["unit_id"]) is None:
        raise InvalidField("Unidade não encontrada.", "unit_id")
    if "email" in data:
        data = {**data, "email": data["email"].lower() if data["email"] else None}
        _unique(Magistrate, Magistrate.email, data["email"], magistrate.id, "email",
                "Outro magistrado já tem este e-mail.")
    moving = not creating and "unit_id" in data and data["unit_id"] != magistrate.unit_id
    leaving = not creating and magistrate.is_active and magistrate.publishes_agenda and (
        data.get("is_active") is False or data.get("publishes_agenda") is False)
    cancelled = 0
    if (moving or leaving) and future_bookings == "cancel":
        cancelled = _cancel_future_bookings([magistrate.id], reason, user)
    previous_unit = magistrate.unit_id
    for name in ("name", "title", "email", "unit_id", "timezone", "publishes_agenda",
                 "is_active"):
        if name in data:
            setattr(magistrate, name, data[name])
    db.session.add(magistrate)
    db.session.flush()
    details = {**_loggable(data), "cancelled": cancelled}
    if moving:
        details["moved_from_unit"] = previous_unit
    audit.record("directory.magistrate_created" if creating else "directory.magistrate_changed",
                 "magistrate", magistrate.id, user=user, details=details)
    _changed("magistrate", magistrate.id, creating)
    return {"magistrate": magistrate, "cancelled_bookings": cancelled}


def _loggable(data: dict) -> dict:
    return {key: value for key, value in data.items() if isinstance(value, str | int | bool)}


def comarcas(*, q: str | None = None, is_active: bool | None = None) -> list[Comarca]:
    """Every comarca, active or not; `q` keeps those with every word typed in the name,
    `is_active` those active (true) or deactivated (false)."""
    statement = select(Comarca).order_by(Comarca.name, Comarca.id)
    if is_active is not None:
        statement = statement.where(Comarca.is_active.is_(is_active))
    terms = search.terms(q)
    return [comarca for comarca in db.session.scalars(statement)
            if search.has_every_word(terms, comarca.name)]


def comarca_choices() -> list[tuple[int, str]]:
    """Every comarca a unit may belong to, deactivated ones marked so (a comarca is
    prepared, units and all, before it opens), in alphabetical order as people read it."""
    rows = db.session.execute(select(Comarca.id, Comarca.name, Comarca.is_active))
    return [(row.id, row.name if row.is_active else f"{row.name} (inativa)")
            for row in sorted(rows, key=lambda row: (search.normalize(row.name), row.id))]


def comarcas_page(*, q: str | None = None, is_active: bool | None = None, page: int = 1,
                  per_page: int = 20) -> tuple[list[Comarca], int]:
    """One page of comarcas and how many match (a court has at most a few hundred: they
    are matched in Python, as on the directory's page)."""
    found = comarcas(q=q, is_active=is_active)
    return page_of(found, page, per_page), len(found)


def _units_statement(q: str | None, comarca_id: int | None, is_active: bool | None):
    statement = select(Unit).options(selectinload(Unit.comarca), selectinload(Unit.channels))
    for term in search.terms(q):
        statement = statement.where(Unit.search_text.like(f"% {term}%"))
    if comarca_id:
        statement = statement.where(Unit.comarca_id == comarca_id)
    if is_active is not None:
        statement = statement.where(Unit.is_active.is_(is_active))
    return statement.order_by(Unit.name, Unit.id)  # the id: a stable order from page to page


def units(*, q: str | None = None, comarca_id: int | None = None) -> list[Unit]:
    """Every unit, active or not, for the administration; `q` keeps those with every word
    typed in their name, comarca or active magistrates' names (as the public's search)."""
    return list(db.session.scalars(_units_statement(q, comarca_id, None)))


def unit_choices(keeping: int | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    """The units a magistrate may be placed in, by comarca (names of units repeat from one
    comarca to the next): the active ones, and `keeping` (the magistrate's own unit) even if
    deactivated since, marked so, for a form that shows it chosen and does not move them
    elsewhere unasked. A light read: no channels, no magistrates. In alphabetical order as
    people read it ("Água Boa" among the A's: SQLite's byte order puts it after the Z's)."""
    rows = db.session.execute(
        select(Unit.id, Unit.name, Unit.is_active, Comarca.name.label("comarca"))
        .join(Comarca, Comarca.id == Unit.comarca_id)
        .where(Unit.is_active.is_(True) | (Unit.id == keeping)).order_by(Unit.id))
    groups: dict[str, list[tuple[int, str]]] = {}
    for row in sorted(rows, key=lambda row: (search.normalize(row.comarca),
                                             search.normalize(row.name))):
        label = row.name if row.is_active else f"{row.name} (inativa)"
        groups.setdefault(row.comarca, []).append((row.id, label))
    return list(groups.items())


def units_page(*, q: str | None = None, comarca_id: int | None = None,
               is_active: bool | None = None, page: int = 1,
               per_page: int = 20) -> tuple[list[Unit], int]:
    """One page of units() (narrowed by `is_active` too) and how many match, in SQL."""
    return paginate(_units_statement(q, comarca_id, is_active), page, per_page)


def magistrates(*, q: str | None = None, comarca_id: int | None = None) -> list[Magistrate]:
    """Every magistrate, active or not, with the unit: for the administration (the directory,
    and whom a staff account may be or assist); `q` keeps those with every word typed in
    their name, unit or comarca."""
    statement = select(Magistrate).options(selectinload(Magistrate.unit)
                                           .selectinload(Unit.comarca))
    if comarca_id:
        statement = statement.join(Magistrate.unit).where(Unit.comarca_id == comarca_id)
    found = db.session.scalars(statement.order_by(Magistrate.name, Magistrate.id))
    if not (terms := search.terms(q)):
        return list(found)
    return [magistrate for magistrate in found if search.has_every_word(
        terms, magistrate.name, magistrate.unit.name, magistrate.unit.comarca.name)]


def magistrates_page(*, q: str | None = None, comarca_id: int | None = None,
                     unit_id: int | None = None, is_active: bool | None = None,
                     page: int = 1, per_page: int = 20) -> tuple[list[Magistrate], int]:
    """One page of magistrates() (narrowed by unit and `is_active` too) and how many match.

    The words are matched as magistrates() matches them, in Python, over names read
    without ORM objects (a country's 20,000 are a light read); only the page's magistrates
    are then loaded, with their units and comarcas."""
    statement = (select(Magistrate.id, Magistrate.name, Unit.name, Comarca.name)
                 .join(Unit, Unit.id == Magistrate.unit_id)
                 .join(Comarca, Comarca.id == Unit.comarca_id)
                 .order_by(Magistrate.name, Magistrate.id))
    if comarca_id:
        statement = statement.where(Unit.comarca_id == comarca_id)
    if unit_id:
        statement = statement.where(Magistrate.unit_id == unit_id)
    if is_active is not None:
        statement = statement.where(Magistrate.is_active.is_(is_active))
    terms = search.terms(q)
    matching = [row[0] for row in db.session.execute(statement)
                if search.has_every_word(terms, *row[1:])]
    wanted = page_of(matching, page, per_page)
    loaded = {magistrate.id: magistrate for magistrate in db.session.scalars(
        select(Magistrate).where(Magistrate.id.in_(wanted)).options(
            selectinload(Magistrate.unit).selectinload(Unit.comarca)))} if wanted else {}
    return [loaded[magistrate_id] for magistrate_id in wanted], len(matching)


# --- import ----------------------------------------------------------------------------

@dataclass
class Change:
    kind: str
    action: str  # create, update, deactivate, unchanged
    key: str
    line: int
    source: str
    fields: list[str] = field(default_factory=list)


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # What apply() writes, by kind, once the plan has no error.
    records: dict[str, list[tuple[Row, dict]]] = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def summary(self) -> dict:
        return {action: self.count(action)
                for action in ("create", "update", "deactivate", "unchanged")}


def _error(plan: Plan, row: Row, column: str, message: str) -> None:
    plan.errors.append(f"{row.source}, linha {row.line}, coluna \u201c{column}\u201d: {message}")


def _flag(plan: Plan, row: Row, column: str, default: bool = True) -> bool:
    text = row.values.get(column, "").strip().lower()
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    _error(plan, row, column, "use sim ou não.")
    return default


def _text(plan: Plan, row: Row, column: str, limit: int) -> str | None:
    text = row.values.get(column, "").strip()
    if any(ord(ch) < 32 for ch in text):
        _error(plan, row, column, "há caracteres de controle no texto.")
        return None
    if len(text) > limit:
        _error(plan, row, column, f"no máximo {limit} caracteres.")
        return None
    if not text and column in REQUIRED[row.kind]:
        _error(plan, row, column, "é obrigatório.")
        return None
    return text or None


def _email(plan: Plan, row: Row, column: str) -> str | None:
    text = _text(plan, row, column, 254)
    if text is None:
        return None
    try:
        return validate_email(text, check_deliverability=False,
                              allow_smtputf8=False).normalized.lower()
    except EmailNotValidError:
        _error(plan, row, column, f"e-mail inválido: {text}.")
        return None


def _phone(plan: Plan, row: Row, column: str, text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "BR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        _error(plan, row, column, f"telefone inválido: {text}.")
        return None
    return text


def plan_import(sheets: list[Sheet]) -> Plan:
    """Check every row against the file and the database; list what would change."""
    plan = Plan()
    known_comarcas = {c.name.lower(): c for c in db.session.scalars(select(Comarca))}
    known_units = {u.code: u for u in db.session.scalars(
        select(Unit).options(selectinload(Unit.channels))) if u.code}
    known_magistrates = {m.email.lower(): m for m in db.session.scalars(select(Magistrate))
                         if m.email}
    file_comarcas: dict[str, int] = {}
    file_units: dict[str, int] = {}
    file_foros: dict[str, int] = {}
    seen_magistrates: dict[str, int] = {}
    by_kind = {sheet.kind: sheet for sheet in sheets}

    for row in by_kind.get("comarcas", Sheet("comarcas", "")).rows:
        name = _text(plan, row, "nome", 120)
        foro = _text(plan, row, "codigo_foro", 4)
        if foro is not None and not (foro.isdigit() and len(foro) == 4):
            _error(plan, row, "codigo_foro", "use os quatro dígitos do foro, como 0041.")
        elif foro is not None and foro in file_foros:
            _error(plan, row, "codigo_foro", f"repetido (já na linha {file_foros[foro]}).")
        elif foro is not None:
            file_foros[foro] = row.line
        active = _flag(plan, row, "ativa")
        if name is None:
            continue
        if name.lower() in file_comarcas:
            _error(plan, row, "nome", f"comarca repetida (já na linha {file_comarcas[name.lower()]}).")
            continue
        file_comarcas[name.lower()] = row.line
        values = {"name": name, "foro_code": foro, "is_active": active}
        _record(plan, row, name, known_comarcas.get(name.lower()), values)

    for row in by_kind.get("unidades", Sheet("unidades", "")).rows:
        code = _text(plan, row, "codigo", 20)
        name = _text(plan, row, "nome", 200)
        comarca = _text(plan, row, "comarca", 120)
        grade = row.values.get("grau", "").strip().rstrip("º°").strip()
        email = _email(plan, row, "email") if row.values.get("email", "").strip() else None
        address = _text(plan, row, "endereco", 300)
        active = _flag(plan, row, "ativa")
        if grade not in ("1", "2"):
            _error(plan, row, "grau", "use 1 (primeiro grau) ou 2 (segundo grau).")
        if comarca is not None and comarca.lower() not in file_comarcas and \
                comarca.lower() not in known_comarcas:
            _error(plan, row, "comarca", f"comarca desconhecida: {comarca}.")
        if code is not None and code in file_units:
            _error(plan, row, "codigo", f"código repetido (já na linha {file_units[code]}).")
            continue
        if code is None or name is None or comarca is None or grade not in ("1", "2"):
            continue
        file_units[code] = row.line
        values = {"code": code, "name": name, "comarca": comarca.lower(),
                  "instance": int(grade), "office_email": email, "address": address,
                  "is_active": active}
        _record(plan, row, code, known_units.get(code), values)

    channels_by_unit: dict[str, list[tuple[Row, dict]]] = {}
    for row in by_kind.get("canais", Sheet("canais", "")).rows:
        code = _text(plan, row, "codigo_unidade", 20)
        kind_text = row.values.get("tipo", "").strip().lower()
        kind = CHANNEL_KIND_NAMES.get(kind_text)
        value = _text(plan, row, "valor", 300)
        hours = _text(plan, row, "horario", 200)
        order = row.values.get("ordem", "").strip()
        if kind is None:
            _error(plan, row, "tipo", f"tipo de canal desconhecido: {kind_text or '(vazio)'}; "
                                      "use telefone, email, whatsapp, balcao_virtual ou "
                                      "agendamento.")
        if code is not None and code not in file_units and code not in known_units:
            _error(plan, row, "codigo_unidade", f"unidade desconhecida: {code}.")
            code = None
        if order and not (order.isdigit() and len(order) <= 3):
            _error(plan, row, "ordem", "use um número inteiro.")
            order = ""
        if value is not None and kind == "email" and _email(plan, row, "valor") is None:
            value = None
        if value is not None and kind in ("phone", "whatsapp"):
            value = _phone(plan, row, "valor", value)
        if code is None or kind is None or value is None:
            continue
        channels_by_unit.setdefault(code, []).append((row, {
            "kind": kind, "value": value, "hours": hours,
            "position": int(order) if order else len(channels_by_unit.get(code, []))}))
    for code, channel_rows in channels_by_unit.items():
        wanted = sorted(((c["position"], c["kind"], c["value"], c["hours"])
                         for _, c in channel_rows))
        unit = known_units.get(code)
        current = sorted((c.position, c.kind, c.value, c.hours) for c in unit.channels) \
            if unit else []
        first = channel_rows[0][0]
        action = "unchanged" if wanted == current else ("update" if unit else "create")
        plan.changes.append(Change("canais", action, code, first.line, first.source))
        plan.records.setdefault("canais", []).append((first, {
            "code": code, "channels": [c for _, c in channel_rows]}))

    for row in by_kind.get("magistrados", Sheet("magistrados", "")).rows:
        email = _email(plan, row, "email")
        name = _text(plan, row, "nome", 200)
        title = _text(plan, row, "cargo", 60)
        code = _text(plan, row, "codigo_unidade", 20)
        zone = row.values.get("fuso", "").strip() or current_app.config["COURT_TIMEZONE"]
        publishes = _flag(plan, row, "publica_agenda")
        active = _flag(plan, row, "ativo")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            _error(plan, row, "fuso", f"fuso horário desconhecido: {zone}; use, por exemplo, "
                                      "America/Cuiaba.")
            zone = None
        if code is not None and code not in file_units and code not in known_units:
            _error(plan, row, "codigo_unidade", f"unidade desconhecida: {code}; ela precisa "
                                                "estar no arquivo ou já cadastrada.")
            code = None
        if email is not None and email in seen_magistrates:
            _error(plan, row, "email", f"e-mail repetido (já na linha {seen_magistrates[email]}).")
            continue
        if email is None or name is None or title is None or code is None or zone is None:
            continue
        seen_magistrates[email] = row.line
        values = {"email": email, "name": name, "title": title, "unit_code": code,
                  "timezone": zone, "publishes_agenda": publishes, "is_active": active}
        _record(plan, row, email, known_magistrates.get(email), values)
    return plan


_COMPARED = {"comarcas": {"name": "name", "foro_code": "foro_code", "is_active": "is_active"},
             "unidades": {"code": "code", "name": "name", "instance": "instance",
                          "office_email": "office_email", "address": "address",
                          "is_active": "is_active"},
             "magistrados": {"email": "email", "name": "name", "title": "title",
                             "timezone": "timezone", "publishes_agenda": "publishes_agenda",
                             "is_active": "is_active"}}


def _record(plan: Plan, row: Row, key: str, existing, values: dict) -> None:
    if existing is None:
        action, changed = "create", list(values)
    else:
        changed = [name for name, attribute in _COMPARED[row.kind].items()
                   if getattr(existing, attribute) != values[name]]
        if row.kind == "unidades" and existing.comarca.name.lower() != values["comarca"]:
            changed.append("comarca")
        if row.kind == "magistrados" and (existing.unit.code if existing.unit else None) \
                != values["unit_code"]:
            changed.append("unit_code")
        if not changed:
            action = "unchanged"
        elif existing.is_active and values.get("is_active") is False:
            action = "deactivate"
        else:
            action = "update"
    plan.changes.append(Change(row.kind, action, key, row.line, row.source, changed))
    plan.records.setdefault(row.kind, []).append((row, values))


def apply_import(plan: Plan, user) -> dict:
    """Write a plan without errors, in the caller's transaction (the caller commits)."""
    if plan.errors:
        raise InvalidField("O arquivo tem erros; nada foi importado.", "file")
    comarcas_by_name = {c.name.lower(): c for c in db.session.scalars(select(Comarca))}
    for _, values in plan.records.get("comarcas", []):
        comarca = comarcas_by_name.get(values["name"].lower()) or Comarca()
        comarca.name, comarca.foro_code = values["name"], values["foro_code"]
        comarca.is_active = values["is_active"]
        db.session.add(comarca)
        comarcas_by_name[values["name"].lower()] = comarca
    db.session.flush()
    units_by_code = {u.code: u for u in db.session.scalars(
        select(Unit).options(selectinload(Unit.channels))) if u.code}
    for _, values in plan.records.get("unidades", []):
        unit = units_by_code.get(values["code"]) or Unit(code=values["code"])
        unit.comarca = comarcas_by_name[values["comarca"]]
        for name in ("name", "instance", "office_email", "address", "is_active"):
            setattr(unit, name, values[name])
        db.session.add(unit)
        units_by_code[values["code"]] = unit
    db.session.flush()
    for _, values in plan.records.get("canais", []):
        unit = units_by_code[values["code"]]
        current = sorted((c.position, c.kind, c.value, c.hours) for c in unit.channels)
        wanted = sorted((c["position"], c["kind"], c["value"], c["hours"])
                        for c in values["channels"])
        if current != wanted:
            unit.channels = [Channel(**channel) for channel in values["channels"]]
    magistrates_by_email = {m.email.lower(): m for m in db.session.scalars(select(Magistrate))
                            if m.email}
    for _, values in plan.records.get("magistrados", []):
        magistrate = magistrates_by_email.get(values["email"]) or Magistrate()
        magistrate.unit = units_by_code[values["unit_code"]]
        for name in ("email", "name", "title", "timezone", "publishes_agenda", "is_active"):
            setattr(magistrate, name, values[name])
        db.session.add(magistrate)
    db.session.flush()
    summary = plan.summary()
    audit.record("directory.imported", "directory", None, user=user, details=summary)
    if any(summary.get(key) for key in ("create", "update", "deactivate")):
        _changed("directory", None, False, summary=summary)
    return summary


def read_and_plan(files: list[tuple[str, bytes]]) -> Plan:
    """The files read and checked; a file that cannot be read at all is one error."""
    config = current_app.config
    try:
        sheets = directory_file.read_files(files, max_bytes=config["DIRECTORY_IMPORT_MAX_BYTES"],
                                           max_rows=config["DIRECTORY_IMPORT_MAX_ROWS"])
    except directory_file.FileRefused as error:
        return Plan(errors=[str(error)])
    return plan_import(sheets)


# --- export ----------------------------------------------------------------------------

def export_tables() -> dict[str, list[dict]]:
    """The whole directory as rows of the import's columns: export, edit, import again."""
    def flag(value: bool) -> str:
        return "sim" if value else "não"

    all_units = sorted(units(), key=lambda unit: (unit.code or "", unit.name))
    tables: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for comarca in comarcas():
        tables["comarcas"].append({"nome": comarca.name, "codigo_foro": comarca.foro_code,
                                   "ativa": flag(comarca.is_active)})
    for unit in all_units:
        tables["unidades"].append({
            "codigo": unit.code, "nome": unit.name, "comarca": unit.comarca.name,
            "grau": unit.instance, "email": unit.office_email, "endereco": unit.address,
            "ativa": flag(unit.is_active)})
        for channel in unit.channels:
            tables["canais"].append({
                "codigo_unidade": unit.code, "tipo": CHANNEL_KIND_EXPORT[channel.kind],
                "valor": channel.value, "horario": channel.hours, "ordem": channel.position})
    for magistrate in magistrates():
        tables["magistrados"].append({
            "email": magistrate.email, "nome": magistrate.name, "cargo": magistrate.title,
            "codigo_unidade": magistrate.unit.code, "fuso": magistrate.timezone,
            "publica_agenda": flag(magistrate.publishes_agenda),
            "ativo": flag(magistrate.is_active)})
    return tables
