"""`GET /api/v1/public/stats`: the transparency page's numbers for other sites and apps."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from ..courts import service as courts
from ..fields import RecordId
from . import service
from .figures import HIDDEN, as_json

blp = Blueprint("transparency", __name__, url_prefix="/api/v1",
                description="Números públicos: reclamações, atendimento agendado e pedidos "
                            "urgentes, sem dados pessoais.")


class PublicStatsQuery(Schema):
    months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=service.MAX_MONTHS),
                            metadata={"description": "Os últimos N meses, o atual incluído."})
    comarca_id = RecordId(load_default=None, allow_none=True,
                          metadata={"description": "Vazio: todo o tribunal."})


class PublicStatsSchema(Schema):
    first_day = fields.Date()
    last_day = fields.Date()
    comarca_id = fields.Integer(allow_none=True)
    small_counts = fields.String(metadata={
        "description": f"Contagens de 1 a 4 aparecem como \"{HIDDEN}\"; medianas de menos de "
                       "5 casos, como null."})
    tables = fields.Dict(metadata={
        "description": "Por tabela (complaints_by_month, complaints_by_channel, "
                       "complaints_by_comarca, attendance_by_month, attendance_by_comarca, "
                       "urgent_by_month), as linhas com seus indicadores."})


@blp.route("/public/stats")
class PublicStats(MethodView):
    @blp.arguments(PublicStatsQuery, location="query")
    @blp.response(200, PublicStatsSchema)
    def get(self, args):
        """The public numbers per month, channel and comarca (no personal data)."""
        if args["comarca_id"] is not None and courts.get_comarca(args["comarca_id"]) is None:
            abort(404, message="Comarca não encontrada.")
        first_day, last_day = service.period(args["months"])
        return {"first_day": first_day, "last_day": last_day, "comarca_id": args["comarca_id"],
                "small_counts": HIDDEN,
                "tables": as_json(service.tables(first_day, last_day, args["comarca_id"]))}
