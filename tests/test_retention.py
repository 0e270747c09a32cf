"""Retention that leaves nothing behind: every column that can hold the public's data is in
the inventory, and after the period none of it is left in any table."""

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import JSON, Text, select, update

import booking.models  # noqa: F401 (every table in the metadata)
from booking import cnj
from booking.audit.models import AuditEntry
from booking.bookings.models import Booking
from booking.bookings.service import purge_idempotency_records
from booking.complaints.models import Complaint
from booking.database import utcnow
from booking.extensions import db
from booking.privacy.inventory import KEPT, PERSONAL_DATA, PERSONAL_KIND
from booking.privacy.service import anonymize_expired
from tests.support.factories import DIRECT, bearer, make_magistrate, make_rules, make_staff, staff_token

README = Path(__file__).resolve().parent.parent / "README.md"
CASE = f"0009999-{cnj.check_digits('0009999', '2026', '8', '11', '0041')}.2026.8.11.0041"
LAWYER = {"name": "Marcador Advogada", "oab": "54321/MT", "email": "marcador@example.com",
          "phone": "(65) 98765-4321"}
# What must be gone from every table, as patterns: each appears in some personal column
# before the job. The OAB number's five digits also turn up by chance in random ids (a
# Message-ID's twenty random digits held "...154321895..." once, a hash's hex
# "...de54321ec9..." another time), so that trace counts only as a word of its own.
TRACES = ("marcador", r"\b54321\b", "987654321", "0009999", re.escape("123.456.789-09"))


def test_every_column_of_a_personal_kind_is_in_the_inventory():
    unclassified = [f"{table.name}.{column.name}" for table in db.metadata.sorted_tables
                    for column in table.columns
                    if (PERSONAL_KIND.search(column.name) or isinstance(column.type, Text | JSON))
                    and f"{table.name}.{column.name}" not in PERSONAL_DATA | KEPT]
    assert unclassified == [], "add them to booking/privacy/inventory.py and to retention"
    stale = [key for key in PERSONAL_DATA | KEPT
             if key.partition(".")[2] not in db.metadata.tables[key.partition(".")[0]].c]
    assert stale == []


def test_the_readme_lists_every_personal_column():
    readme = README.read_text(encoding="utf-8")
    assert [key for key in PERSONAL_DATA if f"`{key}`" not in readme] == []


def fill_every_personal_column(app, client) -> dict:
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        magistrate_token = staff_token(make_staff("magistrate", magistrate_id=magistrate.id))
        corregedoria_token = staff_token(make_staff("corregedoria"))
        db.session.commit()
        magistrate_id = magistrate.id
    slots = client.get(f"/api/v1/magistrates/{magistrate_id}/slots").get_json()
    ids = []
    for slot, key in zip(slots[:2], ("chave-1", "chave-2"), strict=True):
        created = client.post("/api/v1/bookings", json={
            "magistrate_id": magistrate_id, "start": slot["start"], "mode": "video",
            "lawyer": LAWYER, "case_number": CASE, "consent": True,
            "subject": "Marcador: cliente CPF 123.456.789-09 pede liminar"},
            headers={**DIRECT, "Idempotency-Key": key})
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
    cancelled = client.post(f"/api/v1/bookings/{ids[1]}/cancel", headers=bearer(magistrate_token),
                            json={"reason": "Marcador: a parte 123.456.789-09 desistiu"})
    assert cancelled.status_code == 200, cancelled.get_json()
    with app.app_context():  # texts the service writes itself, filled here the same way
        db.session.execute(update(Booking).where(Booking.id == ids[0]).values(
            conflict_reason="Marcador: compromisso no calendário",
            video_url="https://meet.example.jus.br/marcador"))
        db.session.commit()

    urgent = client.post(f"/api/v1/magistrates/{magistrate_id}/urgent-requests", json={
        "lawyer": LAWYER, "case_number": CASE,
        "reason": "Marcador: réu preso, CPF 123.456.789-09", "consent": True})
    assert urgent.status_code == 201, urgent.get_json()
    answered = client.post(f"/api/v1/urgent-requests/{urgent.get_json()['id']}/answer",
                           headers=bearer(magistrate_token), json={"answer": "Marcador: amanhã"})
    assert answered.status_code == 200, answered.get_json()

    reporter = {"name": "Marcador Cidadão", "email": "marcador.cidadao@example.com"}
    complaints = []
    for _ in range(2):  # one the Corregedoria closes, one nobody ever closes
        filed = client.post("/api/v1/complaints", json={
            "channel": "phone", "kind": "no_answer",
            "occurred_at": (utcnow() - timedelta(days=1)).isoformat(),
            "description": "Marcador: ninguém atendeu; meu CPF é 123.456.789-09",
            "reporter": reporter})
        assert filed.status_code == 201, filed.get_json()
        with app.app_context():
            complaints.append(db.session.scalar(select(Complaint.id).where(
                Complaint.protocol == filed.get_json()["protocol"])))
    for status in ("in_review", "resolved"):
        reviewed = client.patch(f"/api/v1/complaints/{complaints[0]}",
                                headers=bearer(corregedoria_token), json={
                                    "status": status, "note": "Marcador: nota interna",
                                    "public_answer": "Marcador: resposta ao cidadão"})
        assert reviewed.status_code == 200, reviewed.get_json()
    return {"bookings": ids, "complaints": complaints}


def every_stored_value(app) -> str:
    with app.app_context():
        return "\n".join(repr(tuple(row)) for table in db.metadata.sorted_tables
                         for row in db.session.execute(select(table))).casefold()


def test_after_the_period_no_personal_data_is_left_in_any_table(app, client):
    made = fill_every_personal_column(app, client)
    before = every_stored_value(app)
    assert all(re.search(trace, before) for trace in TRACES)  # seen while it is kept

    with app.app_context():
        later = utcnow() + timedelta(days=app.config["RETENTION_DAYS"]
                                     + app.config["COMPLAINT_OPEN_RETENTION_DAYS"])
        counts = anonymize_expired(now=later)
        purge_idempotency_records(now=later)
        db.session.commit()
        assert counts["bookings"] == 2 and counts["complaints"] == 2
        assert counts["urgent_requests"] == 1 and counts["audit_entries"] > 0

    after = every_stored_value(app)
    left = {trace: re.findall(rf".{{0,60}}{trace}.{{0,60}}", after)
            for trace in TRACES if re.search(trace, after)}
    assert left == {}

    with app.app_context():  # what the statistics need stays
        kept = db.session.get(Booking, made["bookings"][1])
        assert kept.status == "cancelled" and kept.mode == "video"
        statuses = [db.session.get(Complaint, i).status for i in made["complaints"]]
        assert statuses == ["resolved", "new"]
        pseudonyms = set(db.session.scalars(select(AuditEntry.actor).where(
            AuditEntry.actor.like("lawyer:%"))))
        assert len(pseudonyms) == 1 and next(iter(pseudonyms)).startswith("lawyer:#")
        again = anonymize_expired(now=later)  # nothing twice; only the first run's own entry
        assert again == {**dict.fromkeys(counts, 0), "audit_entries": 1}
