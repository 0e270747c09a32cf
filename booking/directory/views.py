"""The directory's pages for the administration (role admin): the overview with the
spreadsheet import (a dry run first) and export, and one form each for a comarca, a unit
with its channels, and a magistrate. The same schemas and functions as the API."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_smorest import abort
from marshmallow import ValidationError

from ..accounts.auth import login_required_page
from ..courts import directory, search
from ..courts import service as courts
from ..courts.directory_file import KINDS
from ..domain import DomainError
from ..errors import flatten_errors, form_errors
from ..extensions import db
from ..pagination import page_number
from .api import export_response
from .schemas import (
    CHANNEL_KINDS,
    ChannelAdminSchema,
    ComarcaAdminSchema,
    ComarcaChangeSchema,
    MagistrateAdminSchema,
    MagistrateChangeSchema,
    UnitAdminSchema,
    UnitChangeSchema,
)

blp = Blueprint("directory_pages", __name__)

CHANNEL_ROWS = 6
YES_NO = [("sim", "Sim"), ("nao", "Não")]
DEPARTURE = [("keep", "Manter os agendamentos futuros"),
             ("cancel", "Cancelar os agendamentos futuros e avisar os advogados")]


@dataclass
class Field:
    """One input of a directory form, as the shared template draws it."""

    name: str
    label: str
    kind: str = "text"  # text, email, select, textarea
    options: list[tuple[str, str]] = field(default_factory=list)
    # a select's options in labelled groups, after `options` (which then holds a prompt)
    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    required: bool = False
    maxlength: int | None = None
    hint: str | None = None


def _flag(value: str | None) -> bool:
    return value == "sim"


def _render_form(title: str, fields: list[Field], values: dict, errors: dict, status: int,
                 back: str, **extra):
    return render_template("directory/edit.html", title=title, fields=fields, values=values,
                           errors=errors, back=back, **extra), status


def _save(schema, raw: dict, save, success: str, target: str):
    """Load the form with the API's schema, save through the owner's function, or say why not."""
    try:
        data = schema.load({k: v for k, v in raw.items() if v is not None})
        result = save(data)
        db.session.commit()
    except ValidationError as error:
        return flatten_errors(error.messages), 422
    except DomainError as error:
        return form_errors(error)
    cancelled = result.get("cancelled_bookings") if isinstance(result, dict) else None
    flash(success + (f" {cancelled} agendamento(s) futuro(s) cancelado(s); os advogados "
                     "serão avisados." if cancelled else ""), "success")
    return redirect(target), None


@blp.get("/equipe/diretorio")
@login_required_page("admin")
def overview():
    """Everything in the directory, or what a search finds in it; the spreadsheet import
    and export."""
    return _overview_page()


@blp.get("/equipe/diretorio/importar")
def back_to_overview():
    """An import's plan is shown at this address; reloading it returns to the directory."""
    return redirect(url_for("directory_pages.overview"))


@blp.post("/equipe/diretorio/importar")
@login_required_page("admin")
def import_page():
    """A dry run shows the plan row by row; applying writes it all or nothing."""
    files = [(f.filename or "arquivo", f.read()) for f in request.files.getlist("files") if f]
    if not files:
        flash("Escolha ao menos um arquivo CSV ou XLSX.", "error")
        return redirect(url_for("directory_pages.overview"))
    plan = directory.read_and_plan(files)
    dry_run = request.form.get("dry_run") == "sim"
    if plan.errors or dry_run:
        db.session.rollback()
    else:
        directory.apply_import(plan, current_user)
        db.session.commit()
        summary = plan.summary()
        flash(f"Diretório importado: {summary['create']} criados, {summary['update']} "
              f"alterados, {summary['deactivate']} desativados, {summary['unchanged']} sem "
              "mudança.", "success")
        return redirect(url_for("directory_pages.overview"))
    return _overview_page(plan, dry_run), 422 if plan.errors else 200


SEARCH_MAX = 100
# Units and magistrates a page of the directory lists (a state has hundreds of each, the
# country tens of thousands); each list has its own pages, the comarcas come whole.
LIST_PAGE = 100


def _overview_page(plan=None, dry_run: bool = False) -> str:
    """The directory's lists, narrowed by the search's words and comarca when given (an
    import's plan is shown over the whole directory)."""
    q = request.args.get("busca", "").strip()[:SEARCH_MAX] if plan is None else ""
    every_comarca = directory.comarcas()
    chosen = request.args.get("comarca", "") if plan is None else ""
    comarca_id = next((c.id for c in every_comarca if str(c.id) == chosen), None)
    units_page = page_number("pagina_unidades") if plan is None else 1
    magistrates_page = page_number("pagina_magistrados") if plan is None else 1
    units, units_total = directory.units_page(q=q, comarca_id=comarca_id, page=units_page,
                                              per_page=LIST_PAGE)
    magistrates, magistrates_total = directory.magistrates_page(
        q=q, comarca_id=comarca_id, page=magistrates_page, per_page=LIST_PAGE)
    return render_template(
        "directory/overview.html", every_comarca=every_comarca,
        comarcas=[c for c in directory.comarcas(q=q) if comarca_id in (None, c.id)],
        units=units, units_total=units_total, units_page=units_page,
        magistrates=magistrates, magistrates_total=magistrates_total,
        magistrates_page=magistrates_page, per_page=LIST_PAGE, q=q,
        comarca_id=comarca_id, searching=bool(search.terms(q) or comarca_id), kinds=KINDS,
        plan=plan, dry_run=dry_run)


@blp.get("/equipe/diretorio/exportar.<fmt>")
@login_required_page("admin")
def export_page(fmt: str):
    if fmt not in ("xlsx", "csv") or request.args.get("tipo", "unidades") not in KINDS:
        abort(404)
    return export_response(fmt, request.args.get("tipo"))


# --- comarcas ---------------------------------------------------------------------------

COMARCA_FIELDS = [
    Field("name", "Nome", required=True, maxlength=120),
    Field("foro_code", "Código do foro", maxlength=4,
          hint="Os quatro dígitos do campo OOOO do número CNJ dos processos desta comarca."),
    Field("is_active", "Ativa", "select", YES_NO),
]


@blp.route("/equipe/diretorio/comarcas/nova", methods=["GET", "POST"])
@blp.route("/equipe/diretorio/comarcas/<int:comarca_id>", methods=["GET", "POST"])
@login_required_page("admin")
def comarca_page(comarca_id: int | None = None):
    comarca = courts.get_comarca(comarca_id) if comarca_id else None
    if comarca_id and comarca is None:
        abort(404)
    values = {"name": comarca.name, "foro_code": comarca.foro_code or "",
              "is_active": "sim" if comarca.is_active else "nao"} if comarca else {
        "is_active": "sim"}
    errors, status = {}, 200
    if request.method == "POST":
        values = request.form.to_dict()
        raw = {"name": values.get("name", "").strip(),
               "foro_code": values.get("foro_code", "").strip() or None,
               "is_active": _flag(values.get("is_active"))}
        schema = ComarcaChangeSchema(partial=True) if comarca else ComarcaAdminSchema()
        outcome, status = _save(schema, raw, lambda d: directory.save_comarca(
            d, current_user, comarca), "Comarca salva.", url_for("directory_pages.overview"))
        if status is None:
            return outcome
        errors = outcome
    return _render_form(f"Comarca {comarca.name}" if comarca else "Nova comarca", COMARCA_FIELDS,
                        values, errors, status, url_for("directory_pages.overview"))


# --- units ------------------------------------------------------------------------------

def _unit_fields() -> list[Field]:
    return [
        Field("code", "Código da unidade", required=True, maxlength=20,
              hint="O código da unidade no tribunal e no CNJ: a importação de planilhas o usa."),
        Field("name", "Nome", required=True, maxlength=200),
        Field("comarca_id", "Comarca", "select", [("", "Escolha a comarca"), *(
            (str(comarca_id), label) for comarca_id, label in directory.comarca_choices())],
              required=True),
        Field("instance", "Grau", "select", [("1", "Primeiro grau"), ("2", "Segundo grau")]),
        Field("office_email", "E-mail da secretaria", "email", maxlength=254),
        Field("address", "Endereço", maxlength=300),
        Field("is_active", "Ativa", "select", YES_NO,
              hint="Desativada, sai do portal e não recebe agendamentos; fica nas estatísticas."),
    ]


def _channels_from_form(form) -> tuple[list[dict], dict]:
    channels, errors = [], {}
    for index in range(CHANNEL_ROWS):
        kind, value = form.get(f"channel_kind_{index}", ""), form.get(f"channel_value_{index}", "")
        if not kind and not value.strip():
            continue
        try:
            channels.append(ChannelAdminSchema().load({
                "kind": kind, "value": value.strip(), "position": len(channels),
                "hours": form.get(f"channel_hours_{index}", "").strip() or None}))
        except ValidationError as error:
            for name, texts in flatten_errors(error.messages).items():
                errors[f"channel_{name}_{index}"] = texts
    return channels, errors


@blp.route("/equipe/diretorio/unidades/nova", methods=["GET", "POST"])
@blp.route("/equipe/diretorio/unidades/<int:unit_id>", methods=["GET", "POST"])
@login_required_page("admin")
def unit_page(unit_id: int | None = None):
    unit = courts.get_unit(unit_id) if unit_id else None
    if unit_id and unit is None:
        abort(404)
    values = {"code": unit.code or "", "name": unit.name, "comarca_id": str(unit.comarca_id),
              "instance": str(unit.instance), "office_email": unit.office_email or "",
              "address": unit.address or "", "is_active": "sim" if unit.is_active else "nao",
              **{f"channel_{part}_{i}": getattr(c, part) or "" for i, c in enumerate(unit.channels)
                 for part in ("kind", "value", "hours")}} if unit else {"is_active": "sim",
                                                                        "instance": "1"}
    errors, status = {}, 200
    if request.method == "POST":
        values = request.form.to_dict()
        channels, errors = _channels_from_form(request.form)
        raw = {"code": values.get("code", "").strip(), "name": values.get("name", "").strip(),
               "comarca_id": values.get("comarca_id") or None,  # the prompt: none chosen
               "instance": values.get("instance"),
               "office_email": values.get("office_email", "").strip() or None,
               "address": values.get("address", "").strip() or None,
               "is_active": _flag(values.get("is_active"))}
        if unit:
            raw.update(future_bookings=values.get("future_bookings", "keep"),
                       reason=values.get("reason", "").strip() or None)

        def save(data):
            choice, reason = data.pop("future_bookings", "keep"), data.pop("reason", None)
            result = directory.save_unit(data, current_user, unit, future_bookings=choice,
                                         reason=reason)
            directory.replace_channels(result["unit"], channels, current_user)
            return result

        if not errors:
            schema = UnitChangeSchema(partial=True) if unit else UnitAdminSchema()
            outcome, status = _save(schema, raw, save, "Unidade salva.",
                                    url_for("directory_pages.overview"))
            if status is None:
                return outcome
            errors = outcome
        else:
            status = 422
    return _render_form(unit.name if unit else "Nova unidade", _unit_fields(), values, errors,
                        status, url_for("directory_pages.overview"), channels=True,
                        channel_rows=range(CHANNEL_ROWS), channel_kinds=[
                            (kind, courts.CHANNEL_KIND_LABELS[kind]) for kind in CHANNEL_KINDS],
                        departure=DEPARTURE if unit else None)


# --- magistrates ------------------------------------------------------------------------

def _magistrate_fields(magistrate=None) -> list[Field]:
    """The magistrate's form; its own unit stays a choice even if deactivated since."""
    units = [(comarca, [(str(unit_id), name) for unit_id, name in choices])
             for comarca, choices in directory.unit_choices(
                 keeping=magistrate.unit_id if magistrate else None)]
    return [
        Field("name", "Nome", required=True, maxlength=200),
        Field("title", "Cargo", required=True, maxlength=60, hint="Ex.: Juíza de Direito"),
        Field("email", "E-mail", "email", required=True, maxlength=254,
              hint="Identifica o magistrado na importação e no login do tribunal."),
        Field("unit_id", "Unidade", "select", [("", "Escolha a unidade")], groups=units,
              required=True, hint="Agrupadas por comarca."),
        Field("timezone", "Fuso horário", maxlength=64, hint="Ex.: America/Cuiaba"),
        Field("publishes_agenda", "Publica agenda", "select", YES_NO),
        Field("is_active", "Ativo", "select", YES_NO,
              hint="Desative quando o magistrado se aposentar ou deixar o tribunal."),
    ]


@blp.route("/equipe/diretorio/magistrados/novo", methods=["GET", "POST"])
@blp.route("/equipe/diretorio/magistrados/<int:magistrate_id>", methods=["GET", "POST"])
@login_required_page("admin")
def magistrate_page(magistrate_id: int | None = None):
    from flask import current_app

    magistrate = courts.get_magistrate(magistrate_id) if magistrate_id else None
    if magistrate_id and magistrate is None:
        abort(404)
    values = {"name": magistrate.name, "title": magistrate.title, "email": magistrate.email or "",
              "unit_id": str(magistrate.unit_id), "timezone": magistrate.timezone,
              "publishes_agenda": "sim" if magistrate.publishes_agenda else "nao",
              "is_active": "sim" if magistrate.is_active else "nao"} if magistrate else {
        "timezone": current_app.config["COURT_TIMEZONE"], "publishes_agenda": "sim",
        "is_active": "sim"}
    errors, status = {}, 200
    if request.method == "POST":
        values = request.form.to_dict()
        raw = {"name": values.get("name", "").strip(), "title": values.get("title", "").strip(),
               "email": values.get("email", "").strip(),
               "unit_id": values.get("unit_id") or None,  # the prompt: none chosen
               "timezone": values.get("timezone", "").strip() or
               current_app.config["COURT_TIMEZONE"],
               "publishes_agenda": _flag(values.get("publishes_agenda")),
               "is_active": _flag(values.get("is_active"))}
        if magistrate:
            raw.update(future_bookings=values.get("future_bookings", "keep"),
                       reason=values.get("reason", "").strip() or None)

        def save(data):
            choice, reason = data.pop("future_bookings", "keep"), data.pop("reason", None)
            return directory.save_magistrate(data, current_user, magistrate,
                                             future_bookings=choice, reason=reason)

        schema = MagistrateChangeSchema(partial=True) if magistrate else MagistrateAdminSchema()
        outcome, status = _save(schema, raw, save, "Magistrado salvo.",
                                url_for("directory_pages.overview"))
        if status is None:
            return outcome
        errors = outcome
    title = f"{magistrate.title} {magistrate.name}" if magistrate else "Novo magistrado"
    return _render_form(title, _magistrate_fields(magistrate), values, errors, status,
                        url_for("directory_pages.overview"),
                        departure=DEPARTURE if magistrate else None)
