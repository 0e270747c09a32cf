"""The court's directory: queries, and the few changes other domains ask for."""

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from .. import cnj
from ..audit import service as audit
from ..extensions import db
from ..pagination import page_of, paginate
from ..security import new_token, token_hash
from . import search
from .models import CHANNEL_KIND_LABELS as CHANNEL_KIND_LABELS  # for other domains' pages
from .models import Comarca, Magistrate, Unit


def list_units(*, q: str | None = None, comarca: str | None = None,
               page: int = 1, per_page: int = 20):
    statement = (
        select(Unit)
        .join(Unit.comarca)
        .options(selectinload(Unit.channels), selectinload(Unit.comarca),
                 selectinload(Unit.magistrates))
        .order_by(Comarca.name, Unit.instance, Unit.name)
    )
    statement = statement.where(Unit.is_active.is_(True))
    for term in search.terms(q):  # every word, anywhere in the name, comarca or magistrates
        statement = statement.where(Unit.search_text.like(f"% {term}%"))
    if comarca:
        statement = statement.where(func.lower(Comarca.name) == comarca.strip().lower())
    return paginate(statement, page, per_page)


class CaseNotHere(Exception):
    """A valid number of this court whose foro the directory does not know (Portuguese)."""


def units_for_case(case_number: str) -> tuple[cnj.CaseNumber, Comarca, list[Unit]]:
    """Where a case is heard: the CNJ number's origin code (OOOO) names the foro, in Mato
    Grosso a comarca; its active units, with channels and magistrates, in one query each.
    Raises cnj.CaseNumberError for a bad number or another court's, CaseNotHere for a foro
    the directory does not have. The number never says which vara: that choice is the
    person's."""
    number = cnj.parse_for_court(case_number, current_app.config["COURT_CASE_CODE"])
    comarca = db.session.scalar(select(Comarca).where(Comarca.foro_code == number.origin,
                                                      Comarca.is_active.is_(True)))
    if comarca is None:
        raise CaseNotHere(
            f"Nenhuma comarca com o código de foro {number.origin} está no diretório do "
            "tribunal. Confira o número ou procure a unidade pelo nome.")
    units = db.session.scalars(
        select(Unit).where(Unit.comarca_id == comarca.id, Unit.is_active.is_(True))
        .options(selectinload(Unit.channels), selectinload(Unit.magistrates))
        .order_by(Unit.instance, Unit.name)).all()
    return number, comarca, list(units)


def get_unit(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id)


def list_magistrates(*, unit_id: int | None = None, q: str | None = None,
                     page: int = 1, per_page: int = 20):
    statement = (
        select(Magistrate)
        .join(Unit, Unit.id == Magistrate.unit_id)
        .where(Magistrate.publishes_agenda.is_(True), Magistrate.is_active.is_(True),
               Unit.is_active.is_(True))
        .options(selectinload(Magistrate.unit))
        .order_by(Magistrate.name)
    )
    if unit_id:
        statement = statement.where(Magistrate.unit_id == unit_id)
    wanted = search.terms(q)
    if not wanted:
        return paginate(statement, page, per_page)
    # Typed as people type ("joao da silva" finds "João da Silva"): the units whose search
    # text has every word (one query), then the magistrates whose own name has them.
    for term in wanted:
        statement = statement.where(Unit.search_text.like(f"% {term}%"))
    found = [m for m in db.session.scalars(statement)
             if all(f" {term}" in f" {search.normalize(m.name)}" for term in wanted)]
    return page_of(found, page, per_page), len(found)


def get_magistrate(magistrate_id: int, *, with_unit: bool = False) -> Magistrate | None:
    """with_unit: the unit and its comarca come in the same query (pages that show them)."""
    options = [joinedload(Magistrate.unit).joinedload(Unit.comarca)] if with_unit else None
    return db.session.get(Magistrate, magistrate_id, options=options)


def unit_choices() -> list[Unit]:
    """Every active unit with its comarca, in the directory's order: a form's choice of unit
    (all of them, however many the court has; no channels or magistrates loaded)."""
    return list(db.session.scalars(
        select(Unit).join(Unit.comarca).where(Unit.is_active.is_(True))
        .options(contains_eager(Unit.comarca)).order_by(Comarca.name, Unit.instance, Unit.name)))


def unit_names(unit_ids) -> dict[int, str]:
    """The names of these units, active or not (a list of complaints names each one's)."""
    ids = sorted({unit_id for unit_id in unit_ids if unit_id is not None})
    return dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) \
        if ids else {}


def list_comarcas() -> list[Comarca]:
    return list(db.session.scalars(select(Comarca).order_by(Comarca.name)))


def get_comarca(comarca_id: int) -> Comarca | None:
    return db.session.get(Comarca, comarca_id)



def magistrate_with_email(email: str) -> Magistrate | None:
    return db.session.scalar(select(Magistrate).where(Magistrate.email == email.lower()))


def magistrates_with_email() -> list[Magistrate]:
    """Magistrates who can receive e-mail (their daily agenda, for one)."""
    return list(db.session.scalars(select(Magistrate).where(Magistrate.email.is_not(None))
                                   .order_by(Magistrate.id)))


def magistrate_ids_in(comarca_id: int | None) -> list[int]:
    """Every magistrate of a comarca (or of the whole court when None)."""
    statement = select(Magistrate.id).order_by(Magistrate.id)
    if comarca_id is not None:
        statement = statement.join(Unit, Unit.id == Magistrate.unit_id).where(
            Unit.comarca_id == comarca_id)
    return list(db.session.scalars(statement))


def load_magistrates(magistrate_ids: list[int]) -> list[Magistrate]:
    """These magistrates with their units, in one query: a caller that keeps the list keeps
    them in the session's identity map (which holds its objects weakly) for its work."""
    return list(db.session.scalars(select(Magistrate).options(joinedload(Magistrate.unit))
                                   .where(Magistrate.id.in_(magistrate_ids))))


def magistrate_zones(comarca_id: int | None) -> dict[int, str]:
    """Each magistrate's time zone, in a comarca (or the whole court when None)."""
    statement = select(Magistrate.id, Magistrate.timezone)
    if comarca_id is not None:
        statement = statement.join(Unit, Unit.id == Magistrate.unit_id).where(
            Unit.comarca_id == comarca_id)
    return {row.id: row.timezone for row in db.session.execute(statement)}


def rotate_feed_token(magistrate: Magistrate, user) -> str:
    """A new token for the magistrate's calendar feed; the old subscription URL stops working."""
    token = new_token()
    magistrate.feed_token_hash = token_hash(token)
    audit.record("feed.rotated", "magistrate", magistrate.id, user=user)
    return token


def all_units() -> list[Unit]:
    """Every unit with its comarca (exports that name them)."""
    return list(db.session.scalars(select(Unit).options(joinedload(Unit.comarca))))
