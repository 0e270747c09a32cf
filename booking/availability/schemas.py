"""What the availability routes take and give, and the rules they enforce on input."""

from __future__ import annotations

from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from .. import requesters
from ..fields import CourtDate, CourtDateTime, RecordId
from ..formatting import MODES
from . import questions
from .service import LISTING_MAX_DAYS

WEEKDAY_NAMES = ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
                 "sábado", "domingo")


class ModesField(fields.List):
    """A non-empty list of distinct modes."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(validate=validate.OneOf(MODES)),
                         validate=validate.Length(min=1, error="Escolha ao menos um modo."),
                         metadata={"example": ["video", "in_person"]}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return sorted(set(result), key=MODES.index)


class WeeklyWindowSchema(Schema):
    weekday = fields.Integer(required=True, validate=validate.Range(
        min=0, max=4, error="O atendimento é de segunda (0) a sexta-feira (4)."),
        metadata={"description": "0 = segunda-feira ... 4 = sexta-feira"})
    start = fields.Time(required=True, format="%H:%M", metadata={"example": "13:00"})
    end = fields.Time(required=True, format="%H:%M", metadata={"example": "17:00"})
    modes = ModesField(required=True)

    @validates_schema(skip_on_field_errors=False)  # told with the fields' errors
    def start_before_end(self, data, **kwargs):
        if "start" in data and "end" in data and data["start"] >= data["end"]:
            raise ValidationError("O fim deve ser depois do início.", "end")


WINDOW_KEYS = frozenset(WeeklyWindowSchema().fields)


class AvailabilitySchema(Schema):
    """A magistrate's booking rules and weekly windows (replaced as a whole by PUT)."""

    slot_minutes = fields.Integer(required=True, validate=validate.Range(min=15, max=120))
    buffer_minutes = fields.Integer(load_default=0, validate=validate.Range(min=0, max=120))
    min_notice_hours = fields.Integer(load_default=24, validate=validate.Range(min=0, max=720))
    horizon_days = fields.Integer(load_default=60, validate=validate.Range(min=1, max=365))
    max_per_day = fields.Integer(load_default=None, allow_none=True,
                                 validate=validate.Range(min=1, max=100))
    meeting_url = fields.Url(load_default=None, allow_none=True, schemes={"https"},
                             validate=validate.Length(max=500))
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=300))
    accepted_requesters = fields.List(
        fields.String(validate=validate.OneOf(
            requesters.ACCEPTED_NAMES,
            error=f"Deve ser um de: {', '.join(requesters.TYPES)}.")),
        load_default=lambda: list(requesters.DEFAULT_ACCEPTED),
        validate=validate.Length(min=1, error="Escolha ao menos um tipo de solicitante."),
        metadata={"description": "Quem pode agendar: lawyer, public_defender, prosecutor, "
                                 "public_attorney, party (parte sem advogado, só se "
                                 "escolhido). state_attorney e municipal_attorney valem como "
                                 "public_attorney."})
    weekly_windows = fields.List(fields.Nested(WeeklyWindowSchema), required=True,
                                 validate=validate.Length(max=30))
    timezone = fields.String(dump_only=True)
    published_until = CourtDate(dump_only=True, allow_none=True)

    @post_load
    def requesters_by_todays_names(self, data, **kwargs):
        if "accepted_requesters" in data:
            data["accepted_requesters"] = requesters.canonical_list(data["accepted_requesters"])
        return data

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def windows_fit_together(self, data, original_data, **kwargs):
        """Overlapping windows and the place each mode needs, told with the fields' own
        errors: a refused duration no longer hides them until the next try. A field refused
        on its own is missing from `data` and gets no second message here."""
        loaded = [w if isinstance(w, dict) else {} for w in data.get("weekly_windows") or []]
        sent = original_data.get("weekly_windows") if isinstance(original_data, dict) else None
        # A window refused whole may be missing from the list: compare only when the count is
        # as sent, so that each index is the one the client sent.
        whole = ([(i, w) for i, w in enumerate(loaded) if WINDOW_KEYS <= w.keys()]
                 if isinstance(sent, list) and len(sent) == len(loaded) else [])
        errors: dict[str, list[str]] = {}
        for position, (i, window) in enumerate(whole):
            for _, other in whole[:position]:
                if window["weekday"] == other["weekday"] and window["start"] < other["end"] \
                        and other["start"] < window["end"]:
                    errors[f"weekly_windows.{i}.start"] = [
                        f"Sobrepõe outro horário de {WEEKDAY_NAMES[window['weekday']]}."]
        modes = {mode for window in loaded for mode in window.get("modes", ())}
        if "video" in modes and "meeting_url" in data and not data["meeting_url"]:
            errors["meeting_url"] = ["Informe o link da sala de vídeo, pois há horários por vídeo."]
        if "in_person" in modes and "address" in data and not (data["address"] or "").strip():
            errors["address"] = ["Informe o endereço, pois há horários presenciais."]
        if errors:
            raise ValidationError(errors)


class SlotQuerySchema(Schema):
    from_ = CourtDate(data_key="from", metadata={
        "description": "Primeiro dia (AAAA-MM-DD), local. Padrão: hoje."})
    to = CourtDate(metadata={"description": "Último dia, inclusive. Padrão: 4 semanas depois de from."})

    @validates_schema(skip_on_field_errors=False)  # told with the fields' errors
    def range_is_sane(self, data, **kwargs):
        first, last = data.get("from_"), data.get("to")
        if first and last:
            if last < first:
                raise ValidationError("A data final deve ser igual ou posterior à inicial.", "to")
            if (last - first).days + 1 > LISTING_MAX_DAYS:
                raise ValidationError(
                    f"O período pode ter no máximo {LISTING_MAX_DAYS} dias.", "to")

    @staticmethod
    def resolve(args: dict, today: date) -> tuple[date, date]:
        first = args.get("from_") or today
        return first, args.get("to") or first + timedelta(days=27)


class SlotSchema(Schema):
    start = CourtDateTime()
    end = CourtDateTime()
    modes = fields.List(fields.String(validate=validate.OneOf(MODES)))


class ExceptionSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(("block", "extra")),
                         metadata={"description": "block: período bloqueado; extra: abertura extra"})
    start = CourtDateTime(required=True, attribute="start_at")
    end = CourtDateTime(required=True, attribute="end_at")
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=300),
                           metadata={"example": "Sessão do Tribunal do Júri"})
    modes = ModesField(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)  # told with the fields' errors
    def period_is_sane(self, data, **kwargs):
        start, end = data.get("start_at"), data.get("end_at")
        if start and end:
            if end <= start:
                raise ValidationError("O fim deve ser depois do início.", "end")
            if end - start > timedelta(days=366):
                raise ValidationError("O período pode ter no máximo um ano.", "end")


class ClosureSchema(Schema):
    id = fields.Integer(dump_only=True)
    comarca_id = RecordId(load_default=None, allow_none=True,
                                metadata={"description": "Vazio: o tribunal inteiro."})
    first_day = CourtDate(required=True)
    last_day = CourtDate(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=300),
                           metadata={"example": "Feriado municipal"})
    on_bookings = fields.String(
        load_default="flag",
        validate=validate.OneOf(("flag", "keep", "cancel", "ask")),
        metadata={"description": "Para os agendamentos confirmados nos dias fechados: flag "
                                 "(cada magistrado decide), keep, cancel (com bookings_reason) "
                                 "ou ask (o advogado escolhe outro horário)."})
    bookings_reason = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(max=500))
    dry_run = fields.Boolean(load_default=False, load_only=True,
                             metadata={"description": "Só conta os agendamentos atingidos."})
    bookings_hit = fields.Integer(dump_only=True)
    bookings_total = fields.Integer(dump_only=True, metadata={
        "description": "Agendamentos a que a decisão ainda seria aplicada quando o fechamento "
                       "foi registrado; muitos são aplicados em segundo plano."})
    bookings_done = fields.Integer(dump_only=True)
    bookings_finished_at = fields.DateTime(dump_only=True, allow_none=True)

    @validates_schema(skip_on_field_errors=False)  # told with the fields' errors
    def days_in_order(self, data, **kwargs):
        if data.get("first_day") and data.get("last_day"):
            if data["last_day"] < data["first_day"]:
                raise ValidationError("O último dia deve ser igual ou posterior ao primeiro.",
                                      "last_day")
            if (data["last_day"] - data["first_day"]).days > 366:
                raise ValidationError("O fechamento pode ter no máximo um ano.", "last_day")


class BusySourceSchema(Schema):
    """A calendar read for the magistrate's busy times; the password never comes back."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(("ics", "caldav")),
                         metadata={"description": "ics: endereço publicado (Outlook, Google); "
                                                  "caldav: um calendário CalDAV."})
    url = fields.Url(required=True, schemes={"https", "http"},
                     validate=validate.Length(max=1000))
    username = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=200))
    password = fields.String(load_default=None, allow_none=True, load_only=True,
                             validate=validate.Length(max=500),
                             metadata={"description": "Senha ou token (CalDAV); guardado "
                                                      "cifrado, nunca devolvido."})
    write_back = fields.Boolean(load_default=False,
                                metadata={"description": "CalDAV: grava cada agendamento "
                                                         "também neste calendário."})
    checked_at = CourtDateTime(dump_only=True, allow_none=True)
    succeeded_at = CourtDateTime(dump_only=True, allow_none=True)
    failures = fields.Integer(dump_only=True)
    last_error = fields.String(dump_only=True, allow_none=True)


class QuestionSchema(Schema):
    """One of the magistrate's questions; `id` (q1, q2...) is given by its position."""

    id = fields.String(dump_only=True, metadata={"example": "q1"})
    label = fields.String(required=True, validate=validate.Length(min=3, max=200),
                          metadata={"example": "Há réu preso no processo?"})
    kind = fields.String(required=True, validate=validate.OneOf(list(questions.KINDS)),
                         metadata={"enum": list(questions.KINDS)})
    required = fields.Boolean(load_default=False)
    options = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                          load_default=list, validate=validate.Length(max=10),
                          metadata={"description": "As opções de uma pergunta choice (2 a 10)."})

    @validates_schema
    def choices_have_options(self, data, **kwargs):
        if data.get("kind") == "choice" and len([o for o in data.get("options", [])
                                                 if o.strip()]) < 2:
            raise ValidationError("Informe ao menos duas opções.", "options")


class QuestionsSchema(Schema):
    questions = fields.List(fields.Nested(QuestionSchema), required=True,
                            validate=validate.Length(max=questions.MAX_QUESTIONS, error=(
                                f"No máximo {questions.MAX_QUESTIONS} perguntas.")))


class BookingFormSchema(Schema):
    """What a magistrate's booking form asks, for the court's other front ends."""

    magistrate_id = fields.Integer()
    requester_types = fields.List(fields.String(), metadata={
        "description": "Os tipos de solicitante que a agenda aceita."})
    max_participants = fields.Integer()
    questions = fields.List(fields.Nested(QuestionSchema))
