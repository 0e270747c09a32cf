"""Page arguments for API list routes (`?page=`, `?per_page=` up to 100) and one page of a query."""

from marshmallow import Schema, fields, validate

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


def paginate(statement, page: int, per_page: int):
    """One page of a select() and the total count of rows it would give (Flask-SQLAlchemy's)."""
    result = db.paginate(statement, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE,
                         error_out=False)
    return result.items, result.total


def page_of(items: list, page: int, per_page: int) -> list:
    """One page of a list matched in Python (words matched as people type them)."""
    return items[(page - 1) * per_page:page * per_page]


def with_total(items, total: int):
    """The (body, headers) pair that flask-smorest turns into a paginated answer."""
    return items, {"X-Total-Count": str(total)}


def page_number(argument: str = "pagina") -> int:
    """The page asked for on an HTML list (`?pagina=`), 1 when absent or not a number."""
    from flask import request

    value = request.args.get(argument, "1")
    return int(value) if value.isdigit() and 0 < int(value) <= 100_000 else 1
