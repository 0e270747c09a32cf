"""The short booking form as the API takes it, and bookings as it gives them."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask import current_app
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from .. import cnj, requesters
from ..clock import court_zone
from ..database import utcnow
from ..fields import CourtDate, CourtDateTime, MailboxAddress, RecordId
from ..formatting import MODES, e164
from ..notifications import text_gateway
from ..pagination import PageArgsSchema
from . import oab
from .models import BOOKING_STATUSES, URGENT_STATUSES


class LawyerSchema(Schema):
    """Who asks (the field keeps its first name, `lawyer`): a lawyer gives the OAB number;
    a public defender, prosecutor or attorney the institution and registration; a party
    without a lawyer the CPF (see requester_type)."""

    name = fields.String(required=True, validate=validate.Length(min=3, max=200),
                         metadata={"example": "Maria Aparecida Souza"})
    oab = fields.String(load_default=None, allow_none=True, metadata={
        "example": "12345/MT", "description": "Obrigatório para advogados."})
    institution = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(min=3, max=200), metadata={
        "example": "Defensoria Pública do Estado de Mato Grosso",
        "description": "Defensores, Ministério Público e procuradores."})
    registration = fields.String(load_default=None, allow_none=True, metadata={
        "example": "4455", "description": "Matrícula funcional (até 12 caracteres)."})
    cpf = fields.String(load_default=None, allow_none=True, metadata={
        "example": "529.982.247-25", "description": "Parte sem advogado(a)."})
    email = MailboxAddress(required=True)
    phone = fields.String(required=True, metadata={"example": "+55 65 99999-0000"})

    @validates("oab")
    def _oab(self, value, **kwargs):
        if value is None:
            return
        try:
            oab.normalize(value)
        except oab.OabError as error:
            raise ValidationError(str(error)) from None

    @validates("phone")
    def _phone(self, value, **kwargs):
        if normalize_phone(value) is None:
            raise ValidationError("Telefone inválido; informe DDD e número, por exemplo "
                                  "(65) 99999-0000.")

    @post_load
    def normalize(self, data, **kwargs):
        data["name"] = " ".join(data["name"].split())
        if data.get("oab"):
            data["oab"] = oab.normalize(data["oab"])
        data["email"] = data["email"].strip().lower()
        data["phone"] = normalize_phone(data["phone"])
        return data


@lru_cache(maxsize=4096)
def normalize_phone(text: str) -> str | None:
    """E.164 (+5565999990000) for a valid Brazilian (or international) number, else None.

    Cached: the validator and the normaliser both ask, and phonenumbers is slow."""
    return e164(text)


def validate_case_number(value: str) -> None:
    """A CNJ number of this court (COURT_CASE_CODE), or a message saying what is wrong."""
    try:
        cnj.parse_for_court(value, current_app.config["COURT_CASE_CODE"])
    except cnj.CaseNumberError as error:
        raise ValidationError(str(error)) from None


REQUESTER_TYPE_ERROR = f"Deve ser um de: {', '.join(requesters.TYPES)}."
REQUESTER_TYPE_FIELD = dict(
    validate=validate.OneOf(requesters.ACCEPTED_NAMES, error=REQUESTER_TYPE_ERROR), metadata={
        "enum": list(requesters.TYPES),
        "description": "Quem pede: advogado(a), defensor(a) público(a), Ministério Público, "
                       "procurador(a) ou advogado(a) público(a) (a instituição diz qual: "
                       "União, Estado, Município, autarquia), ou parte sem advogado(a) "
                       "(onde o magistrado aceita). state_attorney e municipal_attorney, os "
                       "nomes da primeira versão, valem como public_attorney."})


class RequesterSchema(LawyerSchema):
    """`requester`, the contract's name for who asks: the fields of `lawyer` and the type."""

    type = fields.String(load_default="lawyer", **REQUESTER_TYPE_FIELD)


class WhoAsksSchema(Schema):
    """Who asks, in a booking or an urgent request: `requester` (with its `type`) or, as the
    first version had it, `lawyer` with `requester_type`. Both spellings load to `lawyer`
    (identified for its type) and `requester_type`, and errors name the field the client
    sent; `requester_type_field` says where the type came from. A subclass's post_load calls
    identify() first (marshmallow does not order two post_load hooks)."""

    requester = fields.Nested(RequesterSchema, load_default=None, metadata={
        "description": "Quem pede o atendimento, com o seu tipo (type). Envie requester ou "
                       "lawyer, não os dois."})
    lawyer = fields.Nested(LawyerSchema, load_default=None, metadata={
        "description": "Como a primeira versão recebia quem pede (o tipo em requester_type); "
                       "continua aceito."})
    requester_type = fields.String(load_default=None, **REQUESTER_TYPE_FIELD)

    @staticmethod
    def identify(data: dict) -> None:
        person_field = _who_asks(data)
        data["lawyer"] = identified(data["requester_type"], data["lawyer"], field=person_field)
        # Where a refusal of the type by the agenda is reported (bookings.service).
        data["requester_type_field"] = ("requester.type" if person_field == "requester"
                                        else "requester_type")

    def handle_error(self, error, data, **kwargs):
        """A body refused for other fields also says what its requester's type lacks (the
        OAB number, the CPF...): that check runs after loading, so without this a form with a
        blank name and a blank OAB number was told of the OAB only on its next try."""
        _add_requester_errors(error.messages, data)


class BookingRequestSchema(WhoAsksSchema):
    """The booking body; who asks as WhoAsksSchema says. The other e-mail addresses come as
    `guests` or, with the first version's name, `participants`: both load to
    `participants`."""

    magistrate_id = RecordId(required=True)
    start = CourtDateTime(required=True, metadata={"example": "2027-03-02T14:00:00-04:00"})
    mode = fields.String(required=True, validate=validate.OneOf(MODES),
                         metadata={"enum": list(MODES)})
    case_number = fields.String(required=True, validate=validate_case_number,
                                metadata={"example": "0001234-03.2026.8.11.0041",
                                          "description": "Número único CNJ, com ou sem pontuação."})
    subject = fields.String(required=True, validate=validate.Length(min=3, max=500))
    under_seal = fields.Boolean(load_default=False, metadata={
        "description": "Processo em segredo de justiça: número e assunto não aparecem em "
                       "convites nem e-mails."})
    consent = fields.Boolean(required=True, metadata={
        "enum": [True],
        "description": "Consentimento com o uso dos dados para o agendamento (LGPD); "
                       "precisa ser true."})
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=10)),
                          values=fields.Raw(allow_none=True), load_default=dict,
                          validate=validate.Length(max=20), metadata={
        "description": "Respostas às perguntas do(a) magistrado(a), pelo id da pergunta "
                       "(GET /api/v1/magistrates/{id}/form): texto, opção, true/false ou data "
                       "AAAA-MM-DD.", "example": {"q1": True}})
    guests = fields.List(MailboxAddress(), load_default=None, metadata={
        "description": "E-mails de coadvogados ou outros participantes (até MAX_PARTICIPANTS, "
                       "3 por padrão): recebem o convite e as mudanças, sem o link de gestão.",
        "example": ["coadvogado@example.com"]})
    participants = fields.List(MailboxAddress(), load_default=None, metadata={
        "description": "O mesmo que guests, com o nome da primeira versão; envie um dos dois."})
    notify_by = fields.String(load_default=None, allow_none=True, metadata={
        "enum": list(text_gateway.CHANNELS),
        "description": "Receber também a confirmação, os lembretes e as mudanças por WhatsApp "
                       "ou SMS no telefone informado (só quando o tribunal oferece)."})

    @validates("notify_by")
    def _notify_by(self, value, **kwargs):
        offered = text_gateway.offered_channels(current_app.config)
        if value is not None and value not in offered:
            raise ValidationError(
                f"Aviso por {text_gateway.CHANNELS.get(value, value)} não está disponível; "
                + (f"escolha {' ou '.join(offered.values())}." if offered
                   else "você receberá os avisos por e-mail."))

    @validates("consent")
    def _consent(self, value, **kwargs):
        if value is not True:
            raise ValidationError("Para agendar, é preciso concordar com o uso dos dados "
                                  "informados para este atendimento (LGPD).")

    @post_load
    def normalize(self, data, **kwargs):
        self.identify(data)
        data["case_number"] = str(cnj.parse(data["case_number"]))
        data["subject"] = data["subject"].strip()
        guests_field = "guests" if data["guests"] is not None else "participants"
        if data["guests"] is not None and data["participants"] is not None:
            raise ValidationError("Envie guests ou participants (o nome antigo), não os dois.",
                                  "guests")
        addresses = data.pop("guests") or data["participants"] or []
        lawyer_email = data["lawyer"]["email"]
        data["participants"] = [address for index, address in enumerate(addresses)
                                if address != lawyer_email and address not in addresses[:index]]
        most = current_app.config["MAX_PARTICIPANTS"]
        if len(data["participants"]) > most:  # counted once repeats are gone
            raise ValidationError(f"Informe no máximo {most} participantes.", guests_field)
        return data


def _add_requester_errors(messages: dict, data) -> None:
    """identified()'s messages for the body as sent, beside those of the fields (each
    field keeps the message it already has)."""
    if not isinstance(data, dict) or (data.get("requester") is None) == (data.get("lawyer") is None):
        return  # not a form, or the missing or doubled person is the message
    field = "requester" if data.get("requester") is not None else "lawyer"
    person, known = data[field], messages.get(field, {})
    if not isinstance(person, dict) or not isinstance(known, dict):
        return
    given = person.get("type") if field == "requester" else data.get("requester_type")
    kind = requesters.canonical(given) if isinstance(given, str | None) else None
    if kind not in requesters.TYPES:
        return
    try:
        identified(kind, {key: value for key, value in person.items() if isinstance(value, str)},
                   field=field)
    except ValidationError as refused:
        found = {key: value for key, value in refused.messages[field].items() if key not in known}
        if found:
            messages[field] = {**known, **found}
    except oab.OabError:
        pass  # a malformed number: the oab field's own validator already said so


def _who_asks(data: dict) -> str:
    """Who asks, from `requester` or `lawyer` (exactly one), moved to `lawyer` with its type
    in `requester_type`; answers the name the client used, for the errors."""
    requester, lawyer = data.pop("requester"), data["lawyer"]
    if requester is not None and lawyer is not None:
        raise ValidationError("Envie requester ou lawyer (o nome antigo), não os dois.",
                              "requester")
    if requester is None and lawyer is None:
        raise ValidationError("Campo obrigatório: quem pede o atendimento (requester).",
                              "requester")
    if requester is None:
        data["requester_type"] = requesters.canonical(data["requester_type"])
        return "lawyer"
    kind = requesters.canonical(requester.pop("type"))
    if data["requester_type"] is not None and requesters.canonical(data["requester_type"]) != kind:
        raise ValidationError("Informe o tipo só em requester.type.", "requester_type")
    data["lawyer"], data["requester_type"] = requester, kind
    return "requester"


def identified(requester_type: str, person: dict, *, field: str = "lawyer") -> dict:
    """The person with their registration where a lawyer's OAB number goes (`oab`), checked
    for their type; a ValidationError names the field (lawyer.cpf, requester.institution...)."""
    person = dict(person)
    if requester_type == "lawyer":
        if not person.get("oab"):
            raise ValidationError({field: {"oab": [
                "Informe o número da OAB com a seccional, por exemplo 12345/MT."]}})
        person["oab"] = oab.normalize(person["oab"])
        person["institution"] = None
    elif requester_type == "party":
        try:
            person["oab"] = requesters.cpf_digits(person.get("cpf") or "")
        except requesters.CpfError as error:
            raise ValidationError({field: {"cpf": [str(error)]}}) from None
        person["institution"] = None
    else:
        problems = {}
        if not (person.get("institution") or "").strip():
            problems["institution"] = ["Informe a instituição (por exemplo, Defensoria Pública "
                                       "do Estado de Mato Grosso)."]
        registration = (person.get("registration") or "").strip()
        if not requesters.REGISTRATION.fullmatch(registration):
            problems["registration"] = ["Informe a matrícula funcional (até 12 letras, "
                                        "números, pontos ou traços)."]
        if problems:
            raise ValidationError({field: problems})
        person["oab"], person["institution"] = registration, person["institution"].strip()
    return person


class LawyerOutSchema(Schema):
    name = fields.String()
    oab = fields.String(metadata={"description": "OAB, matrícula ou CPF (só dígitos), "
                                                "conforme requester_type."})
    institution = fields.String(allow_none=True)
    email = fields.String()
    phone = fields.String()


class RequesterOutSchema(LawyerOutSchema):
    type = fields.String(metadata={"enum": list(requesters.TYPES)})


class MagistrateRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    title = fields.String()


class BookingSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": list(BOOKING_STATUSES)})
    magistrate = fields.Nested(MagistrateRefSchema)
    start = CourtDateTime(attribute="start_at")
    end = CourtDateTime(attribute="end_at")
    mode = fields.String()
    requester = fields.Nested(RequesterOutSchema, metadata={
        "description": "Quem pediu, com o tipo; lawyer e requester_type repetem o mesmo, "
                       "como a primeira versão os dava."})
    lawyer = fields.Nested(LawyerOutSchema)
    case_number = fields.String()
    subject = fields.String()
    under_seal = fields.Boolean()
    notify_by = fields.String(allow_none=True, metadata={
        "description": "Canal de mensagens escolhido pelo advogado (whatsapp, sms) ou null."})
    guests = fields.List(fields.String(), metadata={
        "description": "Outros participantes que recebem o convite."})
    participants = fields.List(fields.String(), metadata={
        "description": "O mesmo que guests, com o nome da primeira versão."})
    answers = fields.List(fields.Dict(), metadata={
        "description": "As perguntas do(a) magistrado(a) e as respostas, como foram feitas."})
    requester_type = fields.String(metadata={"enum": list(requesters.TYPES)})
    created_at = CourtDateTime()
    cancelled_at = CourtDateTime(allow_none=True)
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    ics_url = fields.String()


class BookingCreatedSchema(BookingSchema):
    manage_token = fields.String(metadata={"description": "Segredo do advogado; mostrado uma vez."})
    manage_url = fields.String()


class BookingHeldSchema(BookingCreatedSchema):
    hold_expires_at = CourtDateTime(metadata={
        "description": "Só numa reserva (status held): até quando ela espera o código "
                       "(BOOKING_HOLD_MINUTES)."})
    confirm_url = fields.String(metadata={
        "description": "Só numa reserva (status held): onde confirmar, POST {\"code\"} "
                       "com o token de gestão.",
        "example": "/api/v1/bookings/42/confirm"})


class LinksRequestSchema(Schema):
    """A lawyer who lost the booking's e-mail asks for the links again (links.py)."""
    email = MailboxAddress(required=True)


class ConfirmSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20), metadata={
        "description": "O código de 6 dígitos enviado ao e-mail informado.",
        "example": "482913"})


class NewCodeSchema(Schema):
    """A new code went, a hold's or a waiting-list entry's (POST .../new-code)."""
    hold_expires_at = CourtDateTime(metadata={
        "description": "Até quando a reserva (ou a inscrição) espera o código: o mesmo limite "
                       "de antes."})
    new_codes_left = fields.Integer(metadata={
        "description": "Quantos códigos novos ainda podem ser pedidos."})


class CancelSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class RescheduleSchema(Schema):
    start = CourtDateTime(required=True)
    mode = fields.String(load_default=None, validate=validate.OneOf(MODES))


class AttendanceSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("attended", "no_show")))


class BookingQuerySchema(Schema):
    from_ = CourtDate(data_key="from")
    to = CourtDate()
    status = fields.String(validate=validate.OneOf(BOOKING_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class WaitlistJoinSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=3, max=200))
    email = MailboxAddress(required=True)
    first_day = CourtDate(required=True, metadata={"example": "2027-03-01"})
    last_day = CourtDate(required=True, metadata={"example": "2027-03-31"})
    consent = fields.Boolean(required=True, metadata={"enum": [True]})

    @validates("consent")
    def _consent(self, value, **kwargs):
        if value is not True:
            raise ValidationError("Para entrar na lista, é preciso concordar com o uso do "
                                  "nome e do e-mail para os avisos (LGPD).")

    @validates_schema(skip_on_field_errors=False)
    def _period(self, data, **kwargs):
        """Told with the other fields' errors; the court's today here, the magistrate's
        again when joining (waitlist.join)."""
        problems = waitlist_period_problems(data.get("first_day"), data.get("last_day"),
                                            utcnow().astimezone(court_zone()).date())
        if problems:
            raise ValidationError({field: [message] for field, message in problems.items()})


# A wait is for so many days at most.
WAITLIST_MAX_DAYS = 90


def waitlist_period_problems(first: date | None, last: date | None,
                             today: date) -> dict[str, str]:
    """What is wrong with a waitlist's days, per field (a day missing or refused is told
    by its own field)."""
    problems = {}
    if first is not None and first < today:
        problems["first_day"] = "O período não pode começar no passado."
    if first is not None and last is not None and (
            last < first or (last - first).days > WAITLIST_MAX_DAYS):
        problems["last_day"] = (f"O período termina depois do início e tem no máximo "
                                f"{WAITLIST_MAX_DAYS} dias.")
    return problems


class WaitlistEntrySchema(Schema):
    id = fields.Integer()
    magistrate_id = fields.Integer()
    first_day = CourtDate()
    last_day = CourtDate()
    status = fields.String(metadata={"enum": ["held", "waiting", "booked", "left", "expired"]})
    manage_token = fields.String(metadata={"description": "Para confirmar e sair; mostrado uma vez."})
    confirm_url = fields.String()


class UrgentRequestInSchema(WhoAsksSchema):
    """An urgent request; who asks as WhoAsksSchema says (a defender or a prosecutor as well
    as a lawyer, as the agenda accepts)."""

    case_number = fields.String(required=True, validate=validate_case_number)
    reason = fields.String(required=True, validate=validate.Length(min=10, max=1000),
                           metadata={"description": "Por que o atendimento não pode esperar."})
    under_seal = fields.Boolean(load_default=False)
    consent = fields.Boolean(required=True, metadata={
        "enum": [True], "description": "Concordância com o uso dos dados para este pedido "
                                       "(LGPD), como no agendamento."})

    @validates("consent")
    def _consent(self, value, **kwargs):
        if value is not True:
            raise ValidationError("Para enviar o pedido, é preciso concordar com o uso dos "
                                  "dados informados (LGPD).")

    @post_load
    def normalize(self, data, **kwargs):
        self.identify(data)
        data["case_number"] = str(cnj.parse(data["case_number"]))
        data["reason"] = data["reason"].strip()
        return data


class UrgentRequestSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": ["open", "answered"]})
    requester_type = fields.String(metadata={"enum": list(requesters.TYPES)})
    lawyer = fields.Function(lambda r: {"name": r.lawyer_name, "oab": r.lawyer_oab,
                                        "institution": r.requester_institution,
                                        "email": r.lawyer_email, "phone": r.lawyer_phone})
    case_number = fields.String()
    reason = fields.String()
    under_seal = fields.Boolean()
    answer = fields.String(allow_none=True)
    created_at = CourtDateTime()
    answered_at = CourtDateTime(allow_none=True)
    answer_due_at = CourtDateTime(allow_none=True, metadata={
        "description": "Prazo de resposta (URGENT_ANSWER_HOURS, em dias úteis do tribunal)."})
    overdue = fields.Function(lambda r: r.status == "open" and r.answer_due_at is not None
                              and r.answer_due_at < utcnow(),
                              metadata={"type": "boolean",
                                        "description": "Aberto e com o prazo vencido."})


class UrgentAnswerSchema(Schema):
    answer = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class UrgentQuerySchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(URGENT_STATUSES))


class FeedQuerySchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=10, max=200))


class FeedTokenSchema(Schema):
    token = fields.String()
    url = fields.String()
