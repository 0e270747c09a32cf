"""The public numbers: counts per month, channel and comarca, small ones hidden, the page
and its CSV telling the same, nothing about a person, and bad input answered clearly."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.extensions import db
from booking.transparency.figures import (
    HIDDEN,
    as_csv,
    chart,
    months_between,
    shown,
    shown_median,
    table,
)
from tests.support.factories import bearer, make_magistrate, make_staff, make_unit, staff_token
from tests.test_complaints import report

CUIABA = ZoneInfo("America/Cuiaba")


# --- the pure rules -----------------------------------------------------------------------

def test_small_counts_are_hidden_and_medians_need_five_cases():
    assert [shown(n) for n in (0, 1, 4, 5, 31)] == [0, HIDDEN, HIDDEN, 5, 31]
    assert shown_median([1.0, 2.0, 3.0, 4.0]) is None
    assert shown_median([1.0, 2.0, 3.0, 4.0, 50.0]) == 3.0


def test_months_run_across_the_year_end():
    assert months_between(date(2026, 11, 20), date(2027, 2, 3)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]


def test_the_csv_has_every_published_number_in_brazilian_form():
    data = table("t", "Reclamações por mês", "Mês",
                 [("received", "Recebidas"), ("hours", "Mediana de horas")],
                 {"2026-11": {"received": 7, "h": [1.25, 2.0, 3.0, 4.0, 5.0]},
                  "2026-12": {"received": 2, "h": [1.0]}},
                 {"2026-11": "nov/2026", "2026-12": "dez/2026"}, "received",
                 medians={"hours": "h"})
    rows = list(csv.reader(io.StringIO(as_csv([data]).decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Tabela", "Linha", "Indicador", "Valor"],
                    ["Reclamações por mês", "nov/2026", "Recebidas", "7"],
                    ["Reclamações por mês", "nov/2026", "Mediana de horas", "3,0"],
                    ["Reclamações por mês", "dez/2026", "Recebidas", HIDDEN],
                    ["Reclamações por mês", "dez/2026", "Mediana de horas", "—"]]
    drawn = chart(data)
    assert [(bar.text, bar.share) for bar in drawn.bars] == [("7", 100), (HIDDEN, 0)]
    assert drawn.description == "Reclamações por mês — recebidas: nov/2026: 7; dez/2026: <5"


# --- the service, on both databases -----------------------------------------------------------

@pytest.fixture
def published(app, client):
    """Eight reports (six about a Cuiabá unit by the virtual counter, five of them answered
    and resolved; two by phone about Sinop), and six appointments in the middle of last
    month (five held, one missed), so that the period of two months holds them all."""
    with app.app_context():
        cuiaba = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        sinop = make_unit("Vara Única de Sinop", "Sinop")
        judge = make_magistrate(unit=cuiaba)
        desk = staff_token(make_staff("corregedoria"))
        db.session.commit()
        ids = {"cuiaba": cuiaba.comarca_id, "sinop": sinop.comarca_id, "judge": judge.id,
               "cuiaba_unit": cuiaba.id, "sinop_unit": sinop.id}
    for _ in range(6):
        report(client, unit_id=ids["cuiaba_unit"])
    for _ in range(2):
        report(client, unit_id=ids["sinop_unit"], channel="phone")
    listed = client.get("/api/v1/complaints", headers=bearer(desk)).get_json()
    for complaint in [c for c in listed if c["channel"] == "virtual_counter"][:5]:
        url = f"/api/v1/complaints/{complaint['id']}"
        assert client.patch(url, json={"status": "in_review"},
                            headers=bearer(desk)).status_code == 200
        assert client.patch(url, json={"status": "resolved", "public_answer": "Restabelecido."},
                            headers=bearer(desk)).status_code == 200
    _appointments_last_month(app, ids["judge"])
    return ids


def _appointments_last_month(app, judge_id: int) -> None:
    from booking.availability.models import Slot
    from booking.bookings.models import Booking

    today = datetime.now(CUIABA).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    with app.app_context():
        for number in range(6):
            start = datetime(last_month.year, last_month.month, 15, 9 + number, tzinfo=CUIABA)
            slot = Slot(magistrate_id=judge_id, start_at=start, end_at=start + timedelta(
                minutes=30), offers_video=True, offers_in_person=False, state="booked")
            db.session.add(slot)
            db.session.flush()
            db.session.add(Booking(
                slot_id=slot.id, magistrate_id=judge_id, start_at=slot.start_at,
                end_at=slot.end_at, mode="video", status="attended" if number else "no_show",
                lawyer_name="Maria Publicável", lawyer_oab="1234/MT",
                lawyer_email="maria.publicavel@example.com", lawyer_phone="(65) 99999-0000",
                case_number="0001234-03.2026.8.11.0041", subject="Despacho",
                consent_at=start - timedelta(days=3), manage_token_hash=f"{number:064d}",
                ical_uid=f"transparency-{number}@test", confirmed_at=start - timedelta(days=3),
                created_at=start - timedelta(days=3), updated_at=start))
        db.session.commit()


def _rows(tables: dict, name: str) -> dict:
    return {row["label"]: row for row in tables[name]}


def test_the_public_numbers_count_per_month_channel_and_comarca(client, published):
    answer = client.get("/api/v1/public/stats", query_string={"months": 2})
    assert answer.status_code == 200
    body = answer.get_json()
    tables = body["tables"]
    this_month = tables["complaints_by_month"][-1]
    assert (this_month["received"], this_month["resolved"]) == (8, 5)
    assert this_month["median_hours_to_answer"] is not None  # five answers: enough cases
    channels = _rows(tables, "complaints_by_channel")
    assert channels["Balcão Virtual"]["received"] == 6
    assert channels["Telefone"]["received"] == HIDDEN
    comarcas = _rows(tables, "complaints_by_comarca")
    assert (comarcas["Cuiabá"]["received"], comarcas["Sinop"]["received"]) == (6, HIDDEN)
    last_month = tables["attendance_by_month"][0]
    assert (last_month["offered"], last_month["booked"], last_month["attended"],
            last_month["no_show"]) == (6, 6, 5, HIDDEN)
    assert _rows(tables, "attendance_by_comarca")["Cuiabá"]["booked"] == 6
    assert body["small_counts"] == HIDDEN
    text = answer.get_data(as_text=True)
    for personal in ("José Cidadão", "jose@example.com", "Balcão Virtual não abriu",
                     "Maria Publicável", "0001234-03"):
        assert personal not in text
    one_comarca = client.get("/api/v1/public/stats", query_string={
        "months": 2, "comarca_id": published["sinop"]}).get_json()["tables"]
    assert one_comarca["complaints_by_month"][-1]["received"] == HIDDEN
    assert [row["label"] for row in one_comarca["complaints_by_comarca"]] == ["Sinop"]


def test_the_page_shows_the_numbers_of_its_csv(client, published):
    page = client.get("/transparencia?meses=2")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    shown_on_page = set()
    for section in re.findall(r"<section.*?</section>", text, flags=re.S):
        title = html.unescape(re.search(r"<h2[^>]*>(.*?)</h2>", section).group(1))
        headers = [html.unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', section)]
        for row in re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", section, flags=re.S):
            cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1])]
            shown_on_page |= {(title, html.unescape(row[0]), header, cell)
                              for header, cell in zip(headers[1:], cells, strict=True)}
    download = client.get("/transparencia.csv?meses=2")
    assert download.headers["Content-Disposition"] == 'attachment; filename="transparencia.csv"'
    lines = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["Tabela", "Linha", "Indicador", "Valor"]
    assert {tuple(line) for line in lines[1:]} == shown_on_page
    assert ("Reclamações por canal", "Telefone", "Recebidas", HIDDEN) in shown_on_page
    assert 'role="img"' in text and "Reclamações por mês — recebidas" in text


@pytest.mark.parametrize("query, field", [({"meses": "999"}, "meses"),
                                           ({"meses": "-1"}, "meses"),
                                           ({"comarca": "abc"}, "comarca"),
                                           ({"comarca": "9" * 30}, "comarca")])
def test_the_page_explains_a_period_or_comarca_it_cannot_use(client, query, field):
    page = client.get("/transparencia", query_string=query)
    assert page.status_code == 422
    assert f'id="{field}-erro"' in page.get_data(as_text=True)
    assert client.get("/transparencia.csv", query_string=query).status_code == 422


def test_the_api_refuses_a_period_or_comarca_it_cannot_use(client):
    bad = client.get("/api/v1/public/stats", query_string={"months": "0"})
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    huge = client.get("/api/v1/public/stats", query_string={"months": "9" * 30})
    assert huge.status_code == 422
    unknown = client.get("/api/v1/public/stats", query_string={"comarca_id": 99999})
    assert unknown.status_code == 404 and "Comarca" in unknown.get_json()["detail"]


def test_the_figures_are_counted_again_only_after_the_cache_time(app, client, published):
    from booking.transparency import service

    app.config["TRANSPARENCY_CACHE_SECONDS"] = 3600
    service.forget_cache()
    try:
        before = client.get("/api/v1/public/stats?months=2").get_json()["tables"]
        report(client)
        cached = client.get("/api/v1/public/stats?months=2").get_json()["tables"]
        assert cached == before
        service.forget_cache()
        fresh = client.get("/api/v1/public/stats?months=2").get_json()["tables"]
        assert fresh["complaints_by_month"][-1]["received"] == 9
    finally:
        service.forget_cache()
        app.config["TRANSPARENCY_CACHE_SECONDS"] = 0


def test_a_month_in_the_court_s_time_on_both_databases(app, client):
    """A report filed at 23:30 in Cuiabá on the last day of a month (03:30 UTC of the
    next) counts in the month it was filed there."""
    from booking.complaints.models import Complaint
    from booking.transparency import service

    with app.app_context():
        first_of_month = datetime.now(CUIABA).date().replace(day=1)
        late = datetime.combine(first_of_month - timedelta(days=1), datetime.min.time(),
                                CUIABA).replace(hour=23, minute=30).astimezone(UTC)
        for number in range(5):
            db.session.add(Complaint(
                protocol=f"RC-1-{number:06d}", lookup_token_hash="x" * 64,
                channel="email", kind="other", occurred_at=late - timedelta(hours=1),
                description="—", status="new", created_at=late, updated_at=late))
        db.session.commit()
        first, last = service.period(2)
        rows = service.tables(first, last)[0].rows
    assert [row["received"] for row in rows] == [5, 0]


def test_bars_are_shares_of_the_longest():
    from booking.charts import chart as bar_chart

    drawn = bar_chart("Por canal", [("Telefone", 40), ("E-mail", 10), ("WhatsApp", 1),
                                    ("Balcão", 0), ("Outro", None), ("Mediana", 2.25)])
    assert [bar.share for bar in drawn.bars] == [100, 25, 2.5, 0, 0, 0]
    assert [bar.text for bar in drawn.bars][-3:] == ["0", "—", "2,2"]
    assert bar_chart("x", [("a", 1), ("b", 1000)]).bars[0].share == 0.5  # a sliver, not nothing
    assert bar_chart("x", [("a", 0)]).bars[0].share == 0
