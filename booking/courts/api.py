"""Public directory routes: units with their channels, and magistrates."""

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..cnj import CaseNumberError
from ..pagination import TOTAL_COUNT_HEADER, with_total
from . import service
from .schemas import (
    CaseUnitsSchema,
    MagistrateQuerySchema,
    MagistrateSchema,
    UnitQuerySchema,
    UnitSchema,
)

blp = Blueprint("courts", __name__, url_prefix="/api/v1",
                description="Unidades judiciárias, seus canais de atendimento e magistrados.")


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(UnitQuerySchema(), location="query")
    @blp.response(200, UnitSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """List units and their attendance channels, by name or comarca."""
        return with_total(*service.list_units(**args))


@blp.route("/units/<int:unit_id>")
class UnitById(MethodView):
    @blp.response(200, UnitSchema)
    def get(self, unit_id):
        """One unit with its channels."""
        unit = service.get_unit(unit_id)
        if unit is None or not unit.is_active:
            abort(404, message="Unidade não encontrada.")
        return unit


@blp.route("/magistrates")
class Magistrates(MethodView):
    @blp.arguments(MagistrateQuerySchema(), location="query")
    @blp.response(200, MagistrateSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """List magistrates who publish an agenda."""
        return with_total(*service.list_magistrates(**args))


@blp.route("/magistrates/<int:magistrate_id>")
class MagistrateById(MethodView):
    @blp.response(200, MagistrateSchema)
    def get(self, magistrate_id):
        """One magistrate."""
        magistrate = service.get_magistrate(magistrate_id)
        if magistrate is None or not magistrate.takes_bookings:
            abort(404, message="Magistrado não encontrado.")
        return magistrate


@blp.route("/cases/<case_number>/units")
class CaseUnits(MethodView):
    @blp.response(200, CaseUnitsSchema)
    @blp.alt_response(404, description="Nenhuma comarca do diretório tem o código de foro "
                                        "do número.")
    @blp.alt_response(422, description="Número inválido ou de outro tribunal.")
    def get(self, case_number):
        """Which units may hear a case: its number's foro code (OOOO) names the comarca."""
        try:
            number, comarca, units = service.units_for_case(case_number)
        except CaseNumberError as error:
            abort(422, errors={"case_number": [str(error)]})
        except service.CaseNotHere as error:
            abort(404, message=str(error))
        return {"case_number": str(number), "comarca": comarca, "units": units}
