"""Queries over the court's directory."""

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..pagination import paginate
from .models import Comarca, Magistrate, Unit


def _contains(column, text: str):
    """Case-insensitive substring match that behaves the same on SQLite and PostgreSQL."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def list_units(*, q: str | None = None, comarca: str | None = None,
               page: int = 1, per_page: int = 20):
    statement = (
        select(Unit)
        .join(Unit.comarca)
        .options(selectinload(Unit.channels), selectinload(Unit.comarca))
        .order_by(Comarca.name, Unit.instance, Unit.name)
    )
    if q:
        statement = statement.where(_contains(Unit.name, q))
    if comarca:
        statement = statement.where(func.lower(Comarca.name) == comarca.strip().lower())
    return paginate(statement, page, per_page)


def get_unit(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id)


def list_magistrates(*, unit_id: int | None = None, q: str | None = None,
                     page: int = 1, per_page: int = 20):
    statement = (
        select(Magistrate)
        .where(Magistrate.publishes_agenda.is_(True))
        .options(selectinload(Magistrate.unit))
        .order_by(Magistrate.name)
    )
    if unit_id:
        statement = statement.where(Magistrate.unit_id == unit_id)
    if q:
        statement = statement.where(_contains(Magistrate.name, q))
    return paginate(statement, page, per_page)


def get_magistrate(magistrate_id: int, *, with_unit: bool = False) -> Magistrate | None:
    """with_unit: the unit and its comarca come in the same query (pages that show them)."""
    options = [joinedload(Magistrate.unit).joinedload(Unit.comarca)] if with_unit else None
    return db.session.get(Magistrate, magistrate_id, options=options)


def list_comarcas() -> list[Comarca]:
    return list(db.session.scalars(select(Comarca).order_by(Comarca.name)))


def get_comarca(comarca_id: int) -> Comarca | None:
    return db.session.get(Comarca, comarca_id)

