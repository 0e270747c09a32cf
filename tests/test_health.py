"""The health probe and the answer when the database is gone."""

from tests.conftest import make_app
from tests.support.postgres import free_port


def test_healthz_is_200_with_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_unreachable_database_gives_503_everywhere():
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
                   "?connect_timeout=2")
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    api = client.get("/api/v1/units")
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    assert api.headers["Retry-After"]
    page = client.get("/")
    assert page.status_code == 503
    assert "indisponível" in page.get_data(as_text=True)
