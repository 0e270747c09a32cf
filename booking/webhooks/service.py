"""Webhooks: the admin registers subscribers; each event the service publishes is written
to the outbox in the transaction that caused it, one message for the event naming the
subscribers that want it; the sender fans it out into one message per subscriber (fan_out),
each delivered signed by the Standard Webhooks rules (`webhook-id`, `webhook-timestamp`,
`webhook-signature`: HMAC-SHA256 of "id.timestamp.body" with the subscriber's secret).
One row per event keeps a booking's transaction (SQLite's write lock) as short with three
subscribers as with one.

A subscriber's events go out in the order they happened: the events fan out in the order
they were written (one sequence for all), and each subscriber's messages follow their own
sequence, each subscriber in its own thread, so that one failing or slow receiver delays
nobody else.
Requests go only to the address an admin registered, with a timeout, and never follow a
redirect. Payloads carry ids and states: never a manage token or a person's contact, and a
case under seal only to a subscriber allowed to see it.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import String, Text, case, cast, delete, func, select
from standardwebhooks.webhooks import Webhook

from ..audit import service as audit
from ..database import reads_before_writing, utcnow
from ..domain import InvalidField
from ..extensions import db
from ..notifications import service as notifications
from ..pagination import paginate
from ..security import seal, unseal
from .models import WebhookDelivery, WebhookSubscriber

KIND = "webhook"
# One event for every subscriber that wants it, fanned out by the sender (fan_out); not a
# prefix of KIND, so that the outbox tells the two channels apart.
FANOUT_KIND = "fanout_webhook"
FANOUT_SEQUENCE = "webhook-events"
# Every event a subscriber may ask for, with what it means (shown on the admin's page).
EVENTS = {
    "booking.held": "Horário reservado, aguardando a confirmação por e-mail",
    "booking.hold_expired": "Reserva não confirmada a tempo (horário liberado)",
    "booking.confirmed": "Agendamento confirmado",
    "booking.rescheduled": "Agendamento remarcado",
    "booking.cancelled": "Agendamento cancelado",
    "booking.attended": "Atendimento realizado",
    "booking.no_show": "Advogado não compareceu",
    "urgent_request.created": "Pedido urgente recebido",
    "urgent_request.answered": "Pedido urgente respondido",
    "complaint.created": "Reclamação registrada",
    "complaint.status_changed": "Reclamação mudou de situação",
    "directory.changed": "Diretório alterado (comarcas, unidades, canais, magistrados)",
}
# Fields of an event's data that describe a case under seal.
SEALED_FIELDS = ("case_number", "subject")


class DeliveryFailed(Exception):
    """The subscriber did not take the event (the outbox retries with backoff)."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def check_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("Informe um endereço http:// ou https:// completo.", "url")
    if parts.username or parts.password or parts.fragment:
        raise InvalidField("O endereço não pode ter usuário, senha ou fragmento (#).", "url")
    return url


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise InvalidField(f"Eventos desconhecidos: {', '.join(unknown)}.", "events")
    if not events:
        raise InvalidField("Escolha pelo menos um evento.", "events")
    return sorted(set(events))


_SUBSCRIBERS = select(WebhookSubscriber).order_by(WebhookSubscriber.id)


def subscribers() -> list[WebhookSubscriber]:
    return list(db.session.scalars(_SUBSCRIBERS))


def subscribers_page(*, page: int = 1,
                     per_page: int = 20) -> tuple[list[WebhookSubscriber], int]:
    """One page of the subscribers, oldest first, and how many there are."""
    return paginate(_SUBSCRIBERS, page, per_page)


def get_subscriber(subscriber_id: int) -> WebhookSubscriber | None:
    return db.session.get(WebhookSubscriber, subscriber_id)


def create_subscriber(data: dict, user) -> tuple[WebhookSubscriber, str]:
    """The new subscriber and its secret, which is shown this once."""
    secret = new_secret()
    subscriber = WebhookSubscriber(
        name=data["name"].strip(), url=check_url(data["url"]),
        events=check_events(data["events"]), secret=seal(secret),
        share_sealed_cases=bool(data.get("share_sealed_cases")), is_active=True)
    db.session.add(subscriber)
    db.session.flush()
    audit.record("webhook.created", "webhook_subscriber", subscriber.id, user=user,
                 details=f"{subscriber.name}: {', '.join(subscriber.events)}")
    return subscriber, secret


def change_subscriber(subscriber: WebhookSubscriber, data: dict, user) -> WebhookSubscriber:
    if "name" in data:
        subscriber.name = data["name"].strip()
    if "url" in data:
        subscriber.url = check_url(data["url"])
    if "events" in data:
        subscriber.events = check_events(data["events"])
    for flag in ("share_sealed_cases", "is_active"):
        if flag in data:
            setattr(subscriber, flag, bool(data[flag]))
    audit.record("webhook.changed", "webhook_subscriber", subscriber.id, user=user,
                 details=", ".join(sorted(data)))
    return subscriber


def rotate_secret(subscriber: WebhookSubscriber, user) -> str:
    """A new secret replaces the old one at once (events still waiting are signed with it)."""
    secret = new_secret()
    subscriber.secret = seal(secret)
    audit.record("webhook.secret_rotated", "webhook_subscriber", subscriber.id, user=user)
    return secret


def _deliveries_of(subscriber_id: int):
    return (select(WebhookDelivery).where(WebhookDelivery.subscriber_id == subscriber_id)
            .order_by(WebhookDelivery.id.desc()))


def deliveries(subscriber_id: int, limit: int = 100) -> list[WebhookDelivery]:
    """The subscriber's latest delivery attempts, newest first (its page)."""
    return list(db.session.scalars(_deliveries_of(subscriber_id).limit(limit)))


def deliveries_page(subscriber_id: int, *, page: int = 1,
                    per_page: int = 20) -> tuple[list[WebhookDelivery], int]:
    """One page of the subscriber's delivery attempts, newest first, and how many there are."""
    return paginate(_deliveries_of(subscriber_id), page, per_page)


def purge_deliveries(before: datetime) -> int:
    """Deletes the attempts made before `before` (WEBHOOK_DELIVERY_RETENTION_DAYS): a row
    per attempt would otherwise grow with every booking for as long as the court runs."""
    return db.session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.attempted_at < before)).rowcount


class Subscriber(NamedTuple):
    id: int
    share_sealed_cases: bool


# The active subscribers as one text column, a line each ("id|sealed|events as JSON"): a
# caller on a hot path (a booking's context read) reads it within its own statement, one
# round trip less; subscribers_in reads the column back.
ACTIVE_SUBSCRIBERS_COLUMN = (
    select(func.aggregate_strings(
        cast(WebhookSubscriber.id, String) + "|"
        + case((WebhookSubscriber.share_sealed_cases.is_(True), "1"), else_="0") + "|"
        + cast(WebhookSubscriber.events, Text), "\n"))
    .where(WebhookSubscriber.is_active.is_(True))
    .scalar_subquery().label("webhook_subscribers"))
_ACTIVE_SUBSCRIBERS = select(ACTIVE_SUBSCRIBERS_COLUMN)


def subscribers_in(column: str | None, event_type: str) -> list[Subscriber]:
    """The subscribers of ACTIVE_SUBSCRIBERS_COLUMN's answer that want this event."""
    assert event_type in EVENTS, event_type
    wanted = []
    for line in (column or "").splitlines():
        subscriber_id, sealed, events = line.split("|", 2)
        if event_type in json.loads(events):
            wanted.append(Subscriber(int(subscriber_id), sealed == "1"))
    return wanted


def subscribers_of(event_type: str) -> list[Subscriber]:
    """The active subscribers that want this event, read on their own."""
    return subscribers_in(db.session.scalar(_ACTIVE_SUBSCRIBERS), event_type)


def publish(event_type: str, data: dict, *, under_seal: bool = False,
            subscribers: list | None = None) -> int:
    """Queue the event for every active subscriber that wants it, in the caller's
    transaction; returns how many subscribers. `data` holds ids and states only.
    `subscribers`: what subscribers_of or subscribers_in answered before the caller's write
    transaction (a booking reads them outside SQLite's write lock; a subscriber switched
    off meanwhile is skipped when its event is delivered)."""
    messages = event_messages(event_type, data, under_seal=under_seal, subscribers=subscribers)
    if messages:
        notifications.queue_payloads(messages)
    return len(messages[0]["payload"]["subscribers"]) if messages else 0


def event_messages(event_type: str, data: dict, *, under_seal: bool = False,
                   subscribers: list | None = None) -> list[dict]:
    """publish's outbox message, not queued (for a caller that queues it in one statement
    with its own, as a booking's invites): one for the event, or none when no subscriber
    wants it. Every subscriber gets the same webhook-id, as Standard Webhooks' own service
    does: one event, one id."""
    assert event_type in EVENTS, event_type
    wanted = subscribers_of(event_type) if subscribers is None else subscribers
    if not wanted:
        return []
    event_id = new_event_id()
    return [{
        "dedupe_key": f"event:{event_id}", "kind": FANOUT_KIND, "to": "webhooks",
        "subject": event_type, "sequence_key": FANOUT_SEQUENCE,
        "payload": {"webhook_id": event_id,
                    "subscribers": [[s.id, s.share_sealed_cases] for s in wanted],
                    "event": {"type": event_type, "timestamp": utcnow().isoformat(),
                              "data": {**data, "under_seal": under_seal}}}}]


def fan_out(payload: dict, message) -> None:
    """The outbox's delivery of an event: one message per subscriber, in its own sequence.
    Written in the transaction that marks the event sent (the outbox commits it), so that
    a sender that dies leaves neither; keys already written (an admin sent the event again)
    are skipped. A case under seal reaches only the subscribers allowed to see it."""
    event, event_id = payload["event"], payload["webhook_id"]
    hidden = {key: value for key, value in event["data"].items() if key not in SEALED_FIELDS}
    messages = []
    for subscriber_id, sees_sealed in payload["subscribers"]:
        shown = event if sees_sealed or not event["data"].get("under_seal") else {
            **event, "data": hidden}
        messages.append({
            "dedupe_key": f"webhook:{subscriber_id}:{event_id}", "kind": KIND,
            "to": f"webhook:{subscriber_id}", "subject": event["type"],
            "sequence_key": f"webhook:{subscriber_id}",
            "payload": {"subscriber_id": subscriber_id, "webhook_id": event_id,
                        "event": shown}})
    notifications.queue_payloads(messages, new_topics=True, skip_written=True)


def new_event_id() -> str:
    """A Standard Webhooks message id: unique (random digits), and in the order events
    happen (the clock's nanoseconds first, fixed width), so that its outbox dedupe key lands
    at the end of the unique index. A wholly random id put each event on a random page of
    that index: one more page written per subscriber and booking, under SQLite's write
    lock, and read from disk once the outbox outgrows the cache."""
    return f"msg_{time.time_ns():016x}{secrets.token_hex(6)}"


def publish_directory_change(entity: str, entity_id: int | None, action: str,
                             **details) -> None:
    """`directory.changed`: which row (or an import's counts), never its contents."""
    publish("directory.changed", {"entity": entity, "id": entity_id, "action": action,
                                  **({"summary": details["summary"]} if "summary" in details
                                     else {})})


def deliver(payload: dict, message) -> None:
    """The outbox's delivery of one event: sign, POST, note the attempt; raise unless 2xx."""
    message_id = message.id
    with reads_before_writing(db.session()):
        subscriber = db.session.get(WebhookSubscriber, payload["subscriber_id"])
        if subscriber is None or not subscriber.is_active:
            return  # a removed subscriber's events are dropped, not retried
        subscriber_id, url, secret = subscriber.id, subscriber.url, unseal(subscriber.secret)
    db.session.commit()  # no transaction stays open while the receiver answers
    if secret is None:
        raise DeliveryFailed("O segredo do assinante não pôde ser lido (chave trocada?).")
    body = json.dumps(payload["event"], ensure_ascii=False, separators=(",", ":"))
    sent_at = datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "agendamento-tjmt-webhooks",
        "webhook-id": payload["webhook_id"],
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(payload["webhook_id"], sent_at, body),
    }
    import requests  # here, not at the top: web workers never deliver (about 5 MB each)

    started = time.monotonic()
    status, error = None, None
    try:
        answer = requests.post(url, data=body.encode("utf-8"), headers=headers,
                               timeout=(3, current_app.config["WEBHOOK_TIMEOUT_SECONDS"]),
                               allow_redirects=False)
        status = answer.status_code
        if 300 <= status < 400:
            error = "Redirecionamento não seguido: registre o endereço final."
        elif not 200 <= status < 300:
            error = f"O assinante respondeu {status}."
    except requests.RequestException as failure:
        error = f"{type(failure).__name__}: sem resposta do assinante."
    db.session.add(WebhookDelivery(
        subscriber_id=subscriber_id, outbox_message_id=message_id,
        webhook_id=payload["webhook_id"], event_type=payload["event"]["type"],
        status_code=status, error=error,
        duration_ms=int((time.monotonic() - started) * 1000)))
    db.session.commit()
    if error:
        raise DeliveryFailed(error)
