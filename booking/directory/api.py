"""The directory for the administration (role admin): comarcas, units and their channels,
magistrates, and the spreadsheet import and export."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..accounts.auth import current_api_user, require_staff
from ..courts import directory, directory_file
from ..courts import service as courts
from ..errors import problem_response
from ..extensions import db
from ..openapi import STAFF_SECURITY
from ..pagination import TOTAL_COUNT_HEADER, with_total
from .schemas import (
    ChangeResultSchema,
    ChannelAdminSchema,
    ChannelListSchema,
    ComarcaAdminSchema,
    ComarcaChangeSchema,
    ComarcaQuerySchema,
    ExportQuerySchema,
    ImportQuerySchema,
    ImportResultSchema,
    MagistrateAdminSchema,
    MagistrateChangeSchema,
    MagistrateQuerySchema,
    UnitAdminSchema,
    UnitChangeSchema,
    UnitQuerySchema,
)

blp = Blueprint("directory", __name__, url_prefix="/api/v1",
                description="Diretório do tribunal (administração): comarcas, unidades, canais, "
                            "magistrados; importação e exportação de planilhas.")
ADMIN = [require_staff("admin")]


def _or_404(row, message: str):
    if row is None:
        abort(404, message=message)
    return row


@blp.route("/admin/comarcas")
class AdminComarcas(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ComarcaQuerySchema(), location="query")
    @blp.response(200, ComarcaAdminSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """The comarcas, active or not, by name, a page at a time."""
        return with_total(*directory.comarcas_page(**args))

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ComarcaAdminSchema())
    @blp.response(201, ComarcaAdminSchema)
    def post(self, data):
        """Create a comarca (name, and the foro code of the CNJ number's OOOO field)."""
        comarca = directory.save_comarca(data, current_api_user())
        db.session.commit()
        return comarca


@blp.route("/admin/comarcas/<int:comarca_id>")
class AdminComarca(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ComarcaChangeSchema(partial=True))
    @blp.response(200, ComarcaAdminSchema)
    def patch(self, data, comarca_id):
        """Change a comarca; is_active false keeps it in the statistics."""
        comarca = _or_404(courts.get_comarca(comarca_id), "Comarca não encontrada.")
        directory.save_comarca(data, current_api_user(), comarca)
        db.session.commit()
        return comarca


@blp.route("/admin/units")
class AdminUnits(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(UnitQuerySchema(), location="query")
    @blp.response(200, UnitAdminSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """The units, active or not, with their channels, a page at a time."""
        return with_total(*directory.units_page(**args))

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(UnitAdminSchema())
    @blp.response(201, UnitAdminSchema)
    def post(self, data):
        """Create a unit."""
        result = directory.save_unit(data, current_api_user())
        db.session.commit()
        return result["unit"]


@blp.route("/admin/units/<int:unit_id>")
class AdminUnit(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, UnitAdminSchema)
    def get(self, unit_id):
        """One unit, active or not."""
        return _or_404(courts.get_unit(unit_id), "Unidade não encontrada.")

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(UnitChangeSchema(partial=True))
    @blp.response(200, ChangeResultSchema)
    def patch(self, data, unit_id):
        """Change or deactivate a unit; with is_active false, future_bookings says whether its
        magistrates' future bookings are kept or cancelled (with a reason the lawyers read)."""
        unit = _or_404(courts.get_unit(unit_id), "Unidade não encontrada.")
        choice, reason = data.pop("future_bookings", "keep"), data.pop("reason", None)
        result = directory.save_unit(data, current_api_user(), unit, future_bookings=choice,
                                     reason=reason)
        db.session.commit()
        return result


@blp.route("/admin/units/<int:unit_id>/channels")
class AdminUnitChannels(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, ChannelAdminSchema(many=True))
    def get(self, unit_id):
        """The unit's channels, in order."""
        return _or_404(courts.get_unit(unit_id), "Unidade não encontrada.").channels

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ChannelListSchema())
    @blp.response(200, ChannelAdminSchema(many=True))
    def put(self, data, unit_id):
        """Replace the unit's channels with these, in this order."""
        unit = _or_404(courts.get_unit(unit_id), "Unidade não encontrada.")
        directory.replace_channels(unit, data["channels"], current_api_user())
        db.session.commit()
        return unit.channels


@blp.route("/admin/magistrates")
class AdminMagistrates(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(MagistrateQuerySchema(), location="query")
    @blp.response(200, MagistrateAdminSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """The magistrates, active or not, a page at a time."""
        return with_total(*directory.magistrates_page(**args))

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(MagistrateAdminSchema())
    @blp.response(201, MagistrateAdminSchema)
    def post(self, data):
        """Register a magistrate."""
        data.setdefault("timezone", current_app.config["COURT_TIMEZONE"])
        result = directory.save_magistrate(data, current_api_user())
        db.session.commit()
        return result["magistrate"]


@blp.route("/admin/magistrates/<int:magistrate_id>")
class AdminMagistrate(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, MagistrateAdminSchema)
    def get(self, magistrate_id):
        """One magistrate, active or not."""
        return _or_404(courts.get_magistrate(magistrate_id), "Magistrado não encontrado.")

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(MagistrateChangeSchema(partial=True))
    @blp.response(200, ChangeResultSchema)
    def patch(self, data, magistrate_id):
        """Change, move (unit_id) or retire (is_active false) a magistrate; future_bookings
        says whether their future bookings are kept or cancelled with a reason."""
        magistrate = _or_404(courts.get_magistrate(magistrate_id), "Magistrado não encontrado.")
        choice, reason = data.pop("future_bookings", "keep"), data.pop("reason", None)
        result = directory.save_magistrate(data, current_api_user(), magistrate,
                                           future_bookings=choice, reason=reason)
        db.session.commit()
        return result


def uploaded_files() -> list[tuple[str, bytes]]:
    """The files of a multipart upload (its size limit is set in create_app's hooks)."""
    files = [(storage.filename or "arquivo", storage.read())
             for storage in request.files.getlist("files") if storage]
    if not files:
        abort(422, errors={"files": ["Envie ao menos um arquivo (CSV ou XLSX)."]})
    return files


def import_answer(plan: directory.Plan, applied: bool) -> dict:
    return {"applied": applied, "summary": plan.summary(), "errors": plan.errors,
            "changes": [{"kind": c.kind, "action": c.action, "key": c.key, "line": c.line,
                         "source": c.source, "fields": c.fields}
                        for c in plan.changes if c.action != "unchanged"]}


@blp.route("/admin/directory/import")
class AdminDirectoryImport(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY, requestBody={"content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": {"files": {
            "type": "array", "items": {"type": "string", "format": "binary"}}}}}}})
    @blp.arguments(ImportQuerySchema(), location="query")
    @blp.response(200, ImportResultSchema)
    def post(self, args):
        """Import the directory from CSV files or an XLSX workbook; dry_run=true only shows
        what would be created, changed and deactivated. A file with any error applies nothing:
        422, every error (file, line, column) under errors.files."""
        plan = directory.read_and_plan(uploaded_files())
        if plan.errors:
            db.session.rollback()
            return problem_response(422, "O arquivo tem erros; nada foi importado.",
                                    errors={"files": plan.errors})
        if args["dry_run"]:
            db.session.rollback()
            return import_answer(plan, False)
        directory.apply_import(plan, current_api_user())
        db.session.commit()
        return import_answer(plan, True)


@blp.route("/admin/directory/export")
class AdminDirectoryExport(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY, responses={"200": {
        "description": "A planilha do diretório, no formato que a importação lê.",
        "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                    "text/csv": {}}}})
    @blp.arguments(ExportQuerySchema(), location="query")
    def get(self, args):
        """The whole directory as the import reads it: XLSX, or one CSV per kind."""
        return export_response(args["format"], args.get("kind"))


def export_response(fmt: str, kind: str | None):
    tables = directory.export_tables()
    if fmt == "csv":
        kind = kind or "unidades"
        response = current_app.response_class(directory_file.write_csv(kind, tables[kind]),
                                              mimetype="text/csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        filename = f"diretorio-{kind}.csv"
    else:
        response = current_app.response_class(
            directory_file.write_xlsx(tables),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        filename = "diretorio.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
