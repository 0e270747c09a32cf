"""The portal of channels: every unit and its channels, searchable."""

import re

import pytest

from booking.extensions import db
from tests.support.factories import make_magistrate, make_unit


def seed(app):
    with app.app_context():
        make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        make_unit("2ª Vara Criminal de Sinop", "Sinop", office_email="snp@example.jus.br")
        make_unit("<script>alert(1)</script> Vara", "Sorriso", office_email="srs@example.jus.br")
        db.session.commit()


def test_portal_lists_units_with_channels(app, client):
    seed(app)
    html = client.get("/").get_data(as_text=True)
    assert "1ª Vara Cível de Cuiabá" in html and "2ª Vara Criminal de Sinop" in html
    assert "(65) 3648-6000" in html
    assert "Segunda a sexta, 12h às 19h" in html
    assert 'lang="pt-BR"' in html


def test_portal_filters_by_comarca_and_name(app, client):
    seed(app)
    by_comarca = client.get("/?comarca=sinop").get_data(as_text=True)
    assert "2ª Vara Criminal de Sinop" in by_comarca and "Cível de Cuiabá" not in by_comarca
    by_name = client.get("/?busca=c%C3%ADvel").get_data(as_text=True)
    assert "1ª Vara Cível de Cuiabá" in by_name and "Sinop</h2>" not in by_name
    assert "1 unidade encontrada" in by_name


def test_portal_escapes_what_it_shows(app, client):
    seed(app)
    html = client.get("/?comarca=Sorriso").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_api_units_filters(app, client):
    seed(app)
    response = client.get("/api/v1/units?comarca=SINOP")
    assert response.headers["X-Total-Count"] == "1"
    unit = response.get_json()[0]
    assert unit["comarca"] == "Sinop" and unit["instance"] == 1
    assert {c["kind"] for c in unit["channels"]} == {"phone", "email"}
    assert client.get(f"/api/v1/units/{unit['id']}").get_json()["name"] == unit["name"]
    page = client.get("/api/v1/units?per_page=1&page=2")
    assert len(page.get_json()) == 1 and page.headers["X-Total-Count"] == "3"


def test_portal_refuses_a_search_the_api_refuses_beside_the_field(app, client):
    """No silent truncation: a name longer than the API takes is a 400 with its message."""
    seed(app)
    response = client.get("/?busca=" + "c" * 101)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="busca-erro"' in html and 'aria-invalid="true"' in html
    api = client.get("/api/v1/units?q=" + "c" * 101)
    assert api.status_code == 422


def test_every_page_names_its_icon_and_describes_itself(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    assert re.search(r'<meta name="description" content="[^"]{50,}">', page)
    icon = client.get("/favicon.ico")  # where browsers look when a page names none
    assert icon.status_code == 200 and icon.content_type.startswith("image/svg+xml")
    assert icon.get_data(as_text=True).startswith("<svg")


def test_a_missing_address_is_not_called_a_resource(client):
    """"Recurso" is an appeal in a court: the 404 speaks of an address."""
    missing = client.get("/api/v1/units/999999999")
    assert missing.status_code == 404 and "recurso" not in missing.get_data(as_text=True)
    page = client.get("/nao-existe")
    assert page.status_code == 404 and "recurso" not in page.get_data(as_text=True).lower()


def test_phone_and_whatsapp_numbers_are_links_a_phone_can_follow(app, client):
    from booking.courts.models import Channel

    with app.app_context():
        unit = make_unit("Vara Única de Juína", "Juína")
        unit.channels.append(Channel(kind="whatsapp", value="(65) 99988-7766", position=2))
        unit.channels.append(Channel(kind="phone", value="ramal 2040", position=3))
        db.session.commit()
        unit_id = unit.id
    for path in ("/", f"/unidades/{unit_id}"):
        page = client.get(path).get_data(as_text=True)
        assert '<a href="tel:+556536486000">(65) 3648-6000</a>' in page
        assert '<a href="https://wa.me/5565999887766">(65) 99988-7766</a>' in page
        assert "ramal 2040" in page and 'href="tel:ramal' not in page  # not a number: text


def test_sentences_about_a_magistrate_agree_with_the_title():
    from booking.courts.models import Magistrate

    assert Magistrate(title="Juíza de Direito").this_one == "esta magistrada"
    assert Magistrate(title="Desembargadora").this_one == "esta magistrada"
    assert Magistrate(title="Juiz de Direito Substituto").this_one == "este magistrado"
    assert Magistrate(title="").noun == "magistrado"


@pytest.mark.parametrize("typed", [
    "cuiaba", "civel", "vara civel cuiaba", "vara cível cuiabá", "CUIABÁ Cível", "cível de cuiabá",
    "1a vara civel", "souza", "ana souza cuiaba", "ana"])
def test_search_finds_a_unit_the_way_people_type(app, client, typed):
    """No accents or capitals needed, words in any order, small words ignored; found by the
    unit's name, its comarca or its magistrate's name; on SQLite and PostgreSQL alike."""
    with app.app_context():
        make_magistrate(unit=make_unit("1ª Vara Cível de Cuiabá", "Cuiabá"), name="Ana Souza")
        make_unit("Vara de Família e Sucessões de Sinop", "Sinop")
        db.session.commit()
    found = client.get("/api/v1/units", query_string={"q": typed}).get_json()
    assert [u["name"] for u in found] == ["1ª Vara Cível de Cuiabá"]
    page = client.get("/", query_string={"busca": typed}).get_data(as_text=True)
    assert "1 unidade encontrada" in page


@pytest.mark.parametrize("typed", [
    "cuiaba", "civel", "vara civel cuiaba", "vara cível cuiabá", "CUIABÁ Cível", "cível de cuiabá",
    "1a vara civel", "souza", "ana souza cuiaba", "ana"])
def test_lists_matched_in_python_follow_the_same_rule_as_the_search(typed):
    """The admin's lists (directory, accounts) match words in Python: the same words find
    the same things as the portal's search in SQL above, and nothing else."""
    from booking.courts import search

    terms = search.terms(typed)
    assert search.has_every_word(terms, "1ª Vara Cível de Cuiabá", "Cuiabá", "Ana Souza")
    assert not search.has_every_word(terms, "Vara de Família e Sucessões de Sinop", "Sinop")
    assert not search.has_every_word(["uiaba"], "1ª Vara Cível de Cuiabá")  # words begin


def test_search_follows_the_directory_as_it_changes(app, client):
    def names(typed):
        return [u["name"] for u in client.get("/api/v1/units", query_string={"q": typed}).get_json()]

    with app.app_context():
        cuiaba = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        sinop = make_unit("Vara de Família e Sucessões de Sinop", "Sinop")
        judge = make_magistrate(unit=cuiaba, name="João Pereira")
        db.session.commit()
        assert names("familia") == names("sucessoes sinop") == [sinop.name]
        assert names("joao pereira") == [cuiaba.name]
        judge.unit_id = sinop.id  # moved: found by the new unit only
        db.session.commit()
        assert names("pereira") == [sinop.name]
        judge.name = "João Pereira Lima"
        sinop.comarca.name = "Sinop do Norte"
        db.session.commit()
        assert names("lima norte") == [sinop.name]
        assert names("xyz") == [] and len(names("de da do")) == 2


def test_the_magistrates_api_finds_a_name_as_people_type_it(app, client):
    with app.app_context():
        cuiaba = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        make_magistrate(unit=cuiaba, name="João Conceição Araújo")
        make_magistrate(unit=cuiaba, name="Joana Lima")
        db.session.commit()

    def names(typed, **args):
        return [m["name"] for m in client.get("/api/v1/magistrates",
                                              query_string={"q": typed, **args}).get_json()]

    assert names("joao araujo") == names("ARAÚJO conceicao") == ["João Conceição Araújo"]
    assert names("joa") == ["Joana Lima", "João Conceição Araújo"]  # a word's start
    assert names("cuiaba") == []  # the unit's words find units, not a magistrate's name
    assert names("joa", per_page=1, page=2) == ["João Conceição Araújo"]
    response = client.get("/api/v1/magistrates", query_string={"q": "joa", "per_page": 1})
    assert response.headers["X-Total-Count"] == "2"


def test_search_follows_a_magistrate_moved_by_relationship(app, client):
    with app.app_context():
        cuiaba = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        sinop = make_unit("Vara Única de Sinop", "Sinop")
        judge = make_magistrate(unit=cuiaba, name="Beatriz Quintana")
        db.session.commit()
        judge.unit = sinop
        db.session.commit()
        found = client.get("/api/v1/units", query_string={"q": "quintana"}).get_json()
        assert [u["name"] for u in found] == ["Vara Única de Sinop"]


def test_the_portal_links_each_unit_s_magistrates_straight_to_their_agenda(app, client):
    with app.app_context():
        unit = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        judge = make_magistrate(unit=unit, name="Ana Souza")
        gone = make_magistrate(unit=unit, name="Carlos Ausente")
        gone.publishes_agenda = False
        db.session.commit()
        judge_id = judge.id
    page = client.get("/?busca=souza").get_data(as_text=True)
    assert (f'href="/magistrados/{judge_id}/agenda">Agendar com Juíza de Direito Ana Souza</a>'
            in page)
    assert "Carlos Ausente" not in page  # not taking bookings: no link


def test_how_long_a_report_has_been_open_reads_like_a_desk_says_it():
    from datetime import UTC, datetime, timedelta

    from booking.formatting import age_label

    start = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert [age_label(start, start + delta) for delta in (
        timedelta(minutes=40), timedelta(hours=5), timedelta(hours=47), timedelta(days=3),
        timedelta(seconds=-5))] == ["40 min", "5 h", "47 h", "3 dias", "0 min"]


def test_the_notice_that_booking_is_optional_is_short_with_the_law_a_tap_away(app, client):
    with app.app_context():
        unit = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        make_magistrate(unit=unit)
        db.session.commit()
        unit_id = unit.id
    page = client.get(f"/unidades/{unit_id}").get_data(as_text=True)
    notice = re.search(r'<aside class="notice".*?</aside>', page, flags=re.S).group(0)
    assert "<details>" in notice and "Saiba mais</summary>" in notice
    assert "Lei 8.906/1994" in notice.split("</summary>")[1]  # inside, behind the summary


def test_the_search_is_one_query_served_by_an_index_on_postgresql(app, backend):
    """PostgreSQL answers from the trigram index (migration 0023); SQLite reads the units'
    table once (a directory of a few hundred units), never row by row from Python."""
    from sqlalchemy import text

    from booking.courts import service as courts_service

    with app.app_context():
        make_magistrate(unit=make_unit("1ª Vara Cível de Cuiabá", "Cuiabá"), name="Ana Souza")
        db.session.commit()
        units, total = courts_service.list_units(q="vara civel cuiaba")
        assert [u.name for u in units] == ["1ª Vara Cível de Cuiabá"] and total == 1
        where = "search_text LIKE '% civel%' AND search_text LIKE '% cuiaba%'"
        if backend == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(db.session.scalars(text(f"EXPLAIN SELECT id FROM unit WHERE {where}")))
            assert "ix_unit_search_trgm" in plan, plan
        else:
            plan = db.session.execute(text(f"EXPLAIN QUERY PLAN SELECT id FROM unit WHERE {where}")
                                      ).all()
            assert [row[-1] for row in plan] == ["SCAN unit"], plan
