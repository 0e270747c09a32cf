"""From a case number to where it is heard: the CNJ number's origin code (OOOO) names the
comarca; its units and their magistrates' agendas are listed on the page and the API, a
comarca of one unit goes straight to it, and every kind of bad number gets its message."""

from __future__ import annotations

import pytest

from booking.cnj import check_digits
from booking.courts.models import Comarca
from booking.extensions import db
from tests.support.factories import make_magistrate, make_unit


def case_number(origin: str, court: str = "8.11", sequence: str = "0001234",
                year: str = "2026") -> str:
    segment, tribunal = court.split(".")
    digits = check_digits(sequence, year, segment, tribunal, origin)
    return f"{sequence}-{digits}.{year}.{segment}.{tribunal}.{origin}"


@pytest.fixture
def comarcas(app):
    with app.app_context():
        civil = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        family = make_unit("2ª Vara de Família de Cuiabá", "Cuiabá")
        make_unit("Vara Única de Poxoréu", "Poxoréu", office_email="pxr@example.jus.br")
        retired = make_unit("Vara Extinta", "Comarca Extinta", office_email="x@example.jus.br")
        judge = make_magistrate(unit=civil, name="Ana Souza")
        db.session.get(Comarca, civil.comarca_id).foro_code = "0041"
        poxoreu = db.session.query(Comarca).filter_by(name="Poxoréu").one()
        poxoreu.foro_code = "0003"
        extinct = db.session.get(Comarca, retired.comarca_id)
        extinct.foro_code, extinct.is_active = "0099", False
        db.session.commit()
        return {"civil": civil.id, "family": family.id, "poxoreu_unit": poxoreu.units[0].id,
                "judge": judge.id}


def test_the_api_lists_the_comarcas_units_with_their_agendas(client, comarcas):
    number = case_number("0041")
    answer = client.get(f"/api/v1/cases/{number}/units")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["case_number"] == number
    assert body["comarca"]["name"] == "Cuiabá" and body["comarca"]["foro_code"] == "0041"
    assert [unit["id"] for unit in body["units"]] == [comarcas["civil"], comarcas["family"]]
    [judge] = body["units"][0]["magistrates"]
    assert judge["id"] == comarcas["judge"]
    assert judge["agenda_url"] == f"/magistrados/{comarcas['judge']}/agenda"
    assert body["units"][0]["channels"] and body["units"][1]["magistrates"] == []
    digits_only = number.replace("-", "").replace(".", "")
    assert client.get(f"/api/v1/cases/{digits_only}/units").get_json()["case_number"] == number


@pytest.mark.parametrize("typed, says", [
    ("0001234-00.2026.8.11.0041", "dígitos verificadores"),
    (case_number("0041", court="8.26"), "outro tribunal"),
    ("123", "formato NNNNNNN-DD.AAAA.J.TR.OOOO"),
    ("0001234-03.2026.8.11.0041" + "9" * 30, "formato"),
])
def test_a_bad_number_gets_its_message(client, comarcas, typed, says):
    answer = client.get(f"/api/v1/cases/{typed}/units")
    assert answer.status_code == 422
    assert says in answer.get_json()["errors"]["case_number"][0]
    page = client.get("/processo", query_string={"numero": typed})
    assert page.status_code == 422 and says in page.get_data(as_text=True)


@pytest.mark.parametrize("origin", ["0777", "0099"])  # unknown, and a comarca now inactive
def test_a_foro_the_directory_does_not_know_is_said_never_guessed(client, comarcas, origin):
    answer = client.get(f"/api/v1/cases/{case_number(origin)}/units")
    assert answer.status_code == 404
    assert f"código de foro {origin}" in answer.get_json()["detail"]
    page = client.get("/processo", query_string={"numero": case_number(origin)})
    assert page.status_code == 422 and f"código de foro {origin}" in page.get_data(as_text=True)


def test_the_page_lists_the_units_or_goes_straight_to_the_only_one(client, comarcas):
    page = client.get("/processo", query_string={"numero": case_number("0041")})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "comarca de Cuiabá" in text and "2ª Vara de Família de Cuiabá" in text
    assert f"/magistrados/{comarcas['judge']}/agenda" in text
    single = client.get("/processo", query_string={"numero": case_number("0003")})
    assert single.status_code == 302
    assert single.headers["Location"].endswith(f"/unidades/{comarcas['poxoreu_unit']}")
    assert client.get("/processo").status_code == 200
    assert 'action="/processo"' in client.get("/").get_data(as_text=True)
