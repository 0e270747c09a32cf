"""Complaints: filing with a protocol number, the public lookup, the review
workflow with its history, and the queries behind the Corregedoria's desk."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, render_template
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from ..accounts import service as accounts
from ..audit import service as audit
from ..clock import court_zone
from ..courts.models import CHANNEL_KIND_LABELS, Unit
from ..database import utcnow
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db
from ..notifications import service as notifications
from ..security import new_token, token_hash, tokens_match
from ..urls import external_url
from ..webhooks import service as webhooks
from . import files
from .attachments import CleanFile
from .models import Complaint, ComplaintEvent, ProtocolCounter

# new -> in_review -> resolved | dismissed
MOVES = {"new": {"in_review"}, "in_review": {"resolved", "dismissed"}}
STATUS_LABELS = {"new": "Recebida", "in_review": "Em análise", "resolved": "Resolvida",
                 "dismissed": "Arquivada"}
# A complaint may also be about no channel of the directory ("other").
CHANNEL_LABELS = {**CHANNEL_KIND_LABELS, "other": "Outro"}
KIND_LABELS = {"connection_drop": "Queda de conexão", "unavailable": "Canal indisponível",
               "no_answer": "Sem resposta", "other": "Outro"}


REMOVED = "[removido]"


def next_protocol(now: datetime) -> str:
    """RC-2027-000123: a per-year counter bumped atomically (one upsert, both databases)."""
    year = now.astimezone(court_zone()).year
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(ProtocolCounter).values(year=year, last_value=1)
    statement = statement.on_conflict_do_update(
        index_elements=[ProtocolCounter.year],
        set_={"last_value": ProtocolCounter.last_value + 1},
    ).returning(ProtocolCounter.last_value)
    value = db.session.execute(statement).scalar_one()
    return f"RC-{year}-{value:06d}"


@dataclass
class Filed:
    complaint: Complaint
    lookup_token: str
    short_code: str


# Letters and digits nobody confuses (no O/0, I/1): 32 of them, eight per code.
SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_short_code() -> str:
    code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def short_code_hash(protocol: str, code: str) -> str | None:
    """The keyed hash of a short code as typed ('abcd 2345', 'ABCD-2345'); None when it
    cannot be one. Keyed: 40 bits would not resist a search against a leaked table."""
    typed = "".join(c for c in (code or "").upper() if c.isalnum())
    if len(typed) != 8 or any(c not in SHORT_CODE_ALPHABET for c in typed):
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"complaint:{protocol}:{typed}".encode(), hashlib.sha256).hexdigest()


def file_complaint(data: dict, now: datetime | None = None,
                   evidence: list[CleanFile] = ()) -> Filed:
    """A new report with its protocol, short code and files (checked by files.check)."""
    now = now or utcnow()
    reporter = data.get("reporter") or {}
    token = new_token()
    protocol = next_protocol(now)
    short_code = new_short_code()
    complaint = Complaint(
        protocol=protocol, lookup_token_hash=token_hash(token),
        short_code_hash=short_code_hash(protocol, short_code),
        channel=data["channel"], kind=data["kind"], unit_id=data.get("unit_id"),
        occurred_at=data["occurred_at"],
        occurred_time_known=data.get("occurred_time_known", True),
        description=data["description"], reporter_name=reporter.get("name"),
        reporter_email=reporter.get("email"), reporter_role=reporter.get("role"),
        status="new", created_at=now, updated_at=now)
    db.session.add(complaint)
    db.session.flush()
    filing = ComplaintEvent(complaint_id=complaint.id, from_status=None, to_status="new", at=now)
    db.session.add(filing)
    db.session.flush()
    files.keep(complaint, filing, list(evidence))
    audit.record("complaint.filed", "complaint", complaint.id, actor="public")
    _publish(complaint, "complaint.created")
    _tell_reporter(complaint, "filed", token, version=0, short_code=short_code)
    return Filed(complaint, token, short_code)


def occurred_label(complaint: Complaint) -> str:
    """When the failure happened, in the court's zone: '02/03/2027 14:10', or the day with
    'hora não informada' when the reporter did not give the hour."""
    at = complaint.occurred_at.astimezone(court_zone())
    return f"{at:%d/%m/%Y %H:%M}" if complaint.occurred_time_known \
        else f"{at:%d/%m/%Y}, hora não informada"


def _publish(complaint: Complaint, event_type: str, **extra) -> None:
    """For the court's other systems: the protocol, channel, unit and status; never the
    reporter or the description."""
    webhooks.publish(event_type, {
        "complaint_id": complaint.id, "protocol": complaint.protocol,
        "status": complaint.status, "channel": complaint.channel, "kind": complaint.kind,
        "unit_id": complaint.unit_id, **({"previous_status": extra["previous"]}
                                         if "previous" in extra else {})})


def lookup(protocol: str, token: str) -> Complaint | None:
    """The complaint for its protocol and either the first link's token, the short code,
    or the signed link of a later e-mail."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.protocol == protocol.strip().upper()))
    if complaint is None:
        return None
    if tokens_match(token or "", complaint.lookup_token_hash):
        return complaint
    typed = short_code_hash(complaint.protocol, token)
    if typed and complaint.short_code_hash and hmac.compare_digest(typed,
                                                                   complaint.short_code_hash):
        return complaint
    if _signed_protocol(token) == complaint.protocol:
        return complaint
    return None


def _link_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="complaint-follow")


def follow_token(complaint: Complaint) -> str:
    """A token for the links of later e-mails (a question, a new status): only the first
    token's hash is kept, so these are signed and last COMPLAINT_REPLY_LINK_DAYS."""
    return _link_signer().dumps(complaint.protocol)


def _signed_protocol(token: str | None) -> str | None:
    if not token or "." not in token:
        return None
    max_age = current_app.config["COMPLAINT_REPLY_LINK_DAYS"] * 86400
    try:
        return _link_signer().loads(token, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return None


def send_link(complaint: Complaint, email: str, token: str,
              short_code: str | None = None) -> bool:
    """A reporter who left no e-mail asks for the follow link by e-mail, from the page
    shown right after filing; False when the complaint already has an address."""
    if complaint.reporter_email:
        return False
    complaint.reporter_email = email
    _tell_reporter(complaint, "filed", token, version=0, short_code=short_code)
    audit.record("complaint.link_requested", "complaint", complaint.id, actor="public")
    return True


def lookup_url(complaint: Complaint, token: str) -> str:
    """The reporter's link to follow the complaint: protocol and lookup token."""
    return external_url("complaints_pages.follow", protocolo=complaint.protocol, token=token)


def review(complaint: Complaint, *, user, status: str | None = None, note: str | None = None,
           public_answer: str | None = None, assigned_to_id: int | None = None,
           question: str | None = None, now: datetime | None = None) -> ComplaintEvent:
    """One step of the review: a move, a note, a public answer, an assignment, a question
    to the reporter; kept whole."""
    now = now or utcnow()
    previous = complaint.status
    assigning = assigned_to_id is not None and assigned_to_id != complaint.assigned_to_id
    if question and not complaint.reporter_email:
        raise InvalidField("O reclamante não deixou e-mail: não há como enviar a pergunta. "
                           "Registre uma nota interna.", "question")
    if question and (complaint.closed_at or status in ("resolved", "dismissed")):
        raise NotAllowedNow("A reclamação está encerrada: o reclamante não pode mais "
                            "responder.", "closed")
    if status is not None and status != previous:
        if status not in MOVES.get(previous, set()):
            raise NotAllowedNow(f"Não é possível passar de “{STATUS_LABELS[previous]}” para "
                                f"“{STATUS_LABELS.get(status, status)}”.", "illegal_move")
        complaint.status = status
        if status in ("resolved", "dismissed"):
            complaint.closed_at = now
    if assigning:
        assignee = accounts.get_user(assigned_to_id)
        if assignee is None or assignee.role not in ("corregedoria", "admin"):
            raise InvalidField("Responsável inválido: escolha alguém da Corregedoria.",
                               "assigned_to_id")
        if not assignee.is_active:  # nobody would read the reporter's replies
            raise InvalidField("Esta conta está desativada: escolha alguém ativo da "
                               "Corregedoria.", "assigned_to_id")
        complaint.assigned_to_id = assigned_to_id
    if public_answer:
        complaint.public_answer = public_answer
    complaint.updated_at = now
    event = ComplaintEvent(complaint_id=complaint.id, actor_id=user.id, from_status=previous,
                           to_status=complaint.status, note=note or None,
                           public_answer=public_answer or None, question=question or None,
                           assigned_to_id=assigned_to_id if assigning else None, at=now)
    db.session.add(event)
    db.session.flush()
    audit.record("complaint.reviewed", "complaint", complaint.id, user=user,
                 details={"from": previous, "to": complaint.status,
                          **({"assigned_to": assigned_to_id} if assigning else {})})
    if question:
        _tell_reporter(complaint, f"question-{event.id}", None, version=event.id,
                       question=question)
    elif complaint.status != previous or public_answer:
        _tell_reporter(complaint, f"event-{event.id}", None, version=event.id)
    if complaint.status != previous:
        _publish(complaint, "complaint.status_changed", previous=previous)
    return event


def forward_to_unit(complaint: Complaint, *, user, message: str | None = None,
                    now: datetime | None = None) -> ComplaintEvent:
    """The report sent to its unit's office by e-mail, for the unit to act on the failure,
    recorded in the history as an internal note. The reporter's name and address stay with
    the Corregedoria (the unit needs the failure, not the person)."""
    now = now or utcnow()
    unit = db.session.get(Unit, complaint.unit_id) if complaint.unit_id else None
    if unit is None or not unit.office_email:
        raise InvalidField("A reclamação não tem unidade com e-mail de secretaria cadastrado.",
                           "unit_id")
    event = ComplaintEvent(complaint_id=complaint.id, actor_id=user.id,
                           from_status=complaint.status, to_status=complaint.status,
                           note=f"Encaminhada à secretaria da unidade ({unit.office_email})."
                                + (f" Mensagem: {message}" if message else ""), at=now)
    db.session.add(event)
    complaint.updated_at = now
    db.session.flush()
    notifications.queue(
        dedupe_key=f"complaint:{complaint.id}:forward-{event.id}", kind="complaint_forward",
        to=unit.office_email,
        subject=f"Reclamação {complaint.protocol} encaminhada pela Corregedoria",
        text=render_template(
            "email/complaint_forward.txt", complaint=complaint, unit=unit, message=message,
            sender=user, channel_label=CHANNEL_LABELS[complaint.channel],
            kind_label=KIND_LABELS[complaint.kind], occurred=occurred_label(complaint),
            corregedoria_email=current_app.config["CORREGEDORIA_EMAIL"],
            court_name=current_app.config["COURT_NAME"]))
    audit.record("complaint.forwarded", "complaint", complaint.id, user=user,
                 details={"to": unit.office_email})
    return event


def reply(complaint: Complaint, message: str, evidence: list[CleanFile] = (),
          now: datetime | None = None) -> ComplaintEvent:
    """The reporter's message (an answer to a question, or more of the story) with its
    files, while the complaint is open; the Corregedoria hears of it by e-mail."""
    now = now or utcnow()
    if complaint.closed_at or complaint.anonymized_at:
        raise NotAllowedNow("Esta reclamação já foi encerrada e não recebe mais mensagens.",
                            "closed")
    message = (message or "").strip()
    if not message and not evidence:
        raise InvalidField("Escreva sua mensagem ou anexe um arquivo.", "message")
    event = ComplaintEvent(complaint_id=complaint.id, from_status=complaint.status,
                           to_status=complaint.status, reporter_message=message or None, at=now)
    db.session.add(event)
    complaint.updated_at = now
    db.session.flush()
    files.keep(complaint, event, list(evidence))
    audit.record("complaint.reporter_replied", "complaint", complaint.id, actor="public")
    assignee = accounts.get_user(complaint.assigned_to_id) if complaint.assigned_to_id else None
    notifications.queue(
        dedupe_key=f"complaint:{complaint.id}:reply-{event.id}", kind="complaint_reply",
        # the person in charge; the office's address when there is none or they have left
        to=assignee.email if assignee is not None and assignee.is_active
        else current_app.config["CORREGEDORIA_EMAIL"],
        subject=f"Protocolo {complaint.protocol}: o reclamante respondeu",
        text=render_template(
            "email/complaint_reply.txt", complaint=complaint, files=len(evidence),
            link=external_url("complaints_pages.complaint_page", complaint_id=complaint.id),
            court_name=current_app.config["COURT_NAME"]))
    return event


def public_history(complaint: Complaint) -> list[ComplaintEvent]:
    """The steps the reporter sees: moves, public answers, questions, their own messages
    and files; never an internal note."""
    return [event for event in complaint.events if event.seen_by_reporter]


def _tell_reporter(complaint: Complaint, key: str, token: str | None, version: int,
                   short_code: str | None = None, question: str | None = None) -> None:
    """The reporter hears of each change when they left an e-mail (through the outbox); a
    newer status supersedes an older one still waiting, so the latest status wins. Every
    message links to the follow page (the first with its token and short code, the later
    ones with a signed token); a question is never superseded."""
    if not complaint.reporter_email:
        return
    values = {"complaint": complaint, "status_label": STATUS_LABELS[complaint.status],
              "link": lookup_url(complaint, token or follow_token(complaint)),
              "first": key == "filed", "question": question,
              "short_code": short_code,
              "follow_page": external_url("complaints_pages.follow",
                                          protocolo=complaint.protocol),
              "channel_label": CHANNEL_LABELS[complaint.channel],
              "court_name": current_app.config["COURT_NAME"]}
    if key == "filed":
        subject, topic = f"Reclamação registrada: protocolo {complaint.protocol}", "filed"
    elif question:
        subject = f"Protocolo {complaint.protocol}: a Corregedoria tem uma pergunta"
        topic = key
    else:
        subject = f"Protocolo {complaint.protocol}: {STATUS_LABELS[complaint.status].lower()}"
        topic = "status"
    notifications.queue(dedupe_key=f"complaint:{complaint.id}:{key}", kind="complaint_update",
                        to=complaint.reporter_email, subject=subject,
                        text=render_template("email/complaint_update.txt", **values),
                        # The filing (with the lookup link) and each question are never
                        # superseded; of the status changes still waiting, the latest wins.
                        topic=f"complaint:{complaint.id}:{topic}", version=version)


# --- the desk's queries --------------------------------------------------------------

def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), court_zone())


def holders() -> set[int]:
    """Everyone in charge of a complaint, open or closed (a reviewer who left included: the
    desk still finds their complaints), from ix_complaint_assigned_created."""
    return set(db.session.scalars(select(Complaint.assigned_to_id).distinct()
                                  .where(Complaint.assigned_to_id.is_not(None))))


def filtered(filters: dict):
    """The list's select() with every filter the desk offers (period = filing date, local)."""
    statement = select(Complaint)
    for name in ("status", "channel", "kind", "unit_id", "assigned_to_id"):
        if filters.get(name):
            statement = statement.where(getattr(Complaint, name) == filters[name])
    if filters.get("unassigned"):
        statement = statement.where(Complaint.assigned_to_id.is_(None))
    if filters.get("comarca_id"):
        statement = statement.join(Unit, Unit.id == Complaint.unit_id).where(
            Unit.comarca_id == filters["comarca_id"])
    if filters.get("from_"):
        statement = statement.where(Complaint.created_at >= _day_start(filters["from_"]))
    if filters.get("to"):
        statement = statement.where(
            Complaint.created_at < _day_start(filters["to"] + timedelta(days=1)))
    return statement.order_by(Complaint.created_at.desc(), Complaint.id.desc())


def stats(group_by: str, filters: dict, now: datetime | None = None) -> dict:
    """Counts per group, the median time to resolution, and the flagged units."""
    now = now or utcnow()
    complaints = db.session.scalars(filtered(filters)).all()
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    groups: dict[str, dict] = {}
    for c in complaints:
        if group_by == "unit":
            key = str(c.unit_id or "") or "sem unidade"
            label = units[c.unit_id].name if c.unit_id in units else "Sem unidade informada"
        elif group_by == "comarca":
            unit = units.get(c.unit_id)
            key = str(unit.comarca_id) if unit else "sem comarca"
            label = unit.comarca.name if unit else "Sem unidade informada"
        elif group_by == "week":
            local = c.created_at.astimezone(court_zone()).date()
            monday = local - timedelta(days=local.weekday())
            key, label = monday.isoformat(), f"Semana de {monday:%d/%m/%Y}"
        elif group_by == "channel":
            key, label = c.channel, CHANNEL_LABELS[c.channel]
        else:
            key, label = c.kind, KIND_LABELS[c.kind]
        group = groups.setdefault(key, {"key": key, "label": label, "count": 0})
        group["count"] += 1
    ordered = sorted(groups.values(), key=(lambda g: g["key"]) if group_by == "week"
                     else (lambda g: (-g["count"], g["label"])))
    return {"group_by": group_by, "total": len(complaints), "groups": ordered,
            "median_hours_to_resolution": median_hours_to_resolution(complaints),
            "flagged_units": flagged_units(now)}


def median_hours_to_resolution(complaints) -> float | None:
    durations = [(c.closed_at - c.created_at).total_seconds() / 3600
                 for c in complaints if c.status == "resolved" and c.closed_at]
    return round(statistics.median(durations), 1) if durations else None


def flagged_units(now: datetime) -> list[dict]:
    """Units whose reports in the last 7 days reach COMPLAINT_FLAG_THRESHOLD."""
    threshold = current_app.config["COMPLAINT_FLAG_THRESHOLD"]
    rows = db.session.execute(
        select(Unit.id, Unit.name, func.count(Complaint.id))
        .join(Complaint, Complaint.unit_id == Unit.id)
        .where(Complaint.created_at >= now - timedelta(days=7))
        .group_by(Unit.id, Unit.name)
        .having(func.count(Complaint.id) >= threshold)
        .order_by(func.count(Complaint.id).desc())).all()
    return [{"unit_id": row[0], "name": row[1], "count": row[2]} for row in rows]


def weekly_digest(now: datetime | None = None) -> bool:
    """The Corregedoria's Monday e-mail: new, open and overdue reports, flagged units."""
    now = now or utcnow()
    overdue_before = now - timedelta(days=current_app.config["COMPLAINT_OVERDUE_DAYS"])
    open_statuses = ("new", "in_review")
    new = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.created_at >= now - timedelta(days=7)))
    still_open = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.status.in_(open_statuses)))
    overdue = db.session.scalars(select(Complaint).where(
        Complaint.status.in_(open_statuses), Complaint.created_at < overdue_before)
        .order_by(Complaint.created_at)).all()
    week = now.astimezone(court_zone()).date().isocalendar()
    values = {"new": new, "still_open": still_open, "overdue": overdue,
              "flagged": flagged_units(now), "days": current_app.config["COMPLAINT_OVERDUE_DAYS"],
              "status_labels": STATUS_LABELS, "court_name": current_app.config["COURT_NAME"],
              "zone": current_app.config["COURT_TIMEZONE"]}
    return notifications.queue(
        dedupe_key=f"digest:{week.year}-W{week.week:02d}", kind="complaint_digest",
        to=current_app.config["CORREGEDORIA_EMAIL"],
        subject=f"Resumo semanal das reclamações — semana {week.week}/{week.year}",
        text=render_template("email/complaint_digest.txt", **values))


# --- retention ------------------------------------------------------------------------

def anonymize_closed_before(cutoff: datetime, now: datetime, open_cutoff: datetime) -> int:
    """The reporter's data, files and every free text (notes, answers, questions, replies) of
    complaints closed before the cutoff, and of those still open that were filed before
    open_cutoff (COMPLAINT_OPEN_RETENTION_DAYS): a report nobody closed is not kept forever.
    Channel, unit, dates and statuses stay for the statistics."""
    expired = (Complaint.anonymized_at.is_(None)
               & ((Complaint.closed_at < cutoff)
                  | (Complaint.closed_at.is_(None) & (Complaint.created_at < open_cutoff))))
    ids = select(Complaint.id).where(expired).scalar_subquery()
    files.remove_of(ids)
    db.session.execute(
        update(ComplaintEvent).where(ComplaintEvent.complaint_id.in_(ids))
        .values(note=None, public_answer=None, question=None, reporter_message=None)
        .execution_options(synchronize_session=False))
    return db.session.execute(
        update(Complaint).where(expired)
        .values(reporter_name=None, reporter_email=None, description=REMOVED,
                public_answer=None, anonymized_at=now)
        .execution_options(synchronize_session=False)).rowcount
