"""The sender drains while there is work, over several SMTP connections at once, each
person's messages in order on one of them; it stops at once when the mail server is down."""

from __future__ import annotations

from booking.extensions import db
from booking.notifications.service import count_by_status, drain, queue


def queue_many(app, count: int, to=lambda n: f"pessoa{n}@example.com") -> None:
    with app.app_context():
        for number in range(count):
            queue(dedupe_key=f"drain:{number}", kind="notice", to=to(number),
                  subject=f"Aviso {number:03d}", text="Mensagem de teste.")
        db.session.commit()


def test_one_run_sends_every_batch_over_several_connections(mail_app, smtp_server):
    mail_app.config.update(OUTBOX_BATCH_SIZE=20, OUTBOX_SMTP_CONNECTIONS=3,
                           OUTBOX_SENDER_PROCESSES=1)  # this process sends alone
    # Every fourth message goes to the same person: theirs must arrive in order.
    queue_many(mail_app, 100, to=lambda n: "mesma@example.com" if n % 4 == 0
               else f"pessoa{n}@example.com")
    with mail_app.app_context():
        assert drain(budget_seconds=60) == {"sent": 100, "failed": 0}
        assert count_by_status() == {"sent": 100}
    received = smtp_server.received
    assert len(received) == 100
    assert len({r.peer for r in received}) >= 2  # not one connection after another only
    theirs = [r.message["Subject"] for r in smtp_server.to("mesma@example.com")]
    assert theirs == sorted(theirs) and len(theirs) == 25


def test_a_mail_server_that_is_down_stops_the_run_at_the_first_batch(mail_app, smtp_server):
    smtp_server.stop()
    mail_app.config.update(OUTBOX_BATCH_SIZE=20, OUTBOX_SMTP_CONNECTIONS=2)
    queue_many(mail_app, 60)
    with mail_app.app_context():
        assert drain(budget_seconds=60) == {"sent": 0, "failed": 20}
        assert count_by_status() == {"pending": 60}
    smtp_server.start()
