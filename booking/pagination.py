"""Page arguments for list routes: `?page=` and `?per_page=` (at most 100)."""

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from .extensions import db

MAX_PER_PAGE = 100

TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "Total de itens que atendem aos filtros, em todas as páginas.",
        "schema": {"type": "integer"},
    }
}


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def paginate(statement, page: int, per_page: int, *, scalars: bool = True):
    """One page of a select() and the total count of rows it would give."""
    total = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    page_statement = statement.limit(per_page).offset((page - 1) * per_page)
    rows = db.session.scalars(page_statement) if scalars else db.session.execute(page_statement)
    return rows.all(), total


def with_total(items, total: int):
    """The (body, headers) pair that flask-smorest turns into a paginated answer."""
    return items, {"X-Total-Count": str(total)}
