"""The portal of channels: every unit and its channels, searchable."""

from booking.extensions import db
from tests.support.factories import make_unit


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
