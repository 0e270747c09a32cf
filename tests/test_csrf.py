"""Every form of the service refuses a POST without its CSRF token or with a wrong one.

The routes are read from the app's URL map, so a form added later is covered
without touching this file. The refusal comes before any view runs: no login, no
id that exists and no valid field is needed to see it, and nothing is written.
"""

from __future__ import annotations

import re

import pytest

from booking.errors import CSRF_MESSAGE
from tests.support.page_client import csrf_token_in


def form_routes(app) -> list[str]:
    """A URL for every page route that takes POST (path variables filled with 1)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            urls.append(re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "1", rule.rule))
    return sorted(urls)


def test_there_are_forms_to_check(app):
    assert {"/entrar", "/sair", "/reclamacoes/nova", "/magistrados/1/agendar",
            "/equipe/fechamentos"} <= set(form_routes(app))


@pytest.mark.parametrize("token", [None, "not-the-token"], ids=["missing", "wrong"])
def test_every_form_refuses_a_post_without_its_token(app, token):
    client = app.test_client()
    refused = {}
    for url in form_routes(app):
        response = client.post(url, data={"csrf_token": token, "email": "x@example.jus.br"})
        refused[url] = (response.status_code, CSRF_MESSAGE in response.get_data(as_text=True))
    assert refused == {url: (400, True) for url in form_routes(app)}


def test_the_token_a_page_gives_gets_past_the_check(app):
    """The control: with the session's token the same posts reach their views."""
    client = app.test_client()
    token = csrf_token_in(client.get("/reclamacoes/nova").get_data(as_text=True))
    for url in form_routes(app):
        response = client.post(url, data={"csrf_token": token})
        assert CSRF_MESSAGE not in response.get_data(as_text=True), url


def test_a_token_from_another_session_is_refused(app):
    stranger = app.test_client()
    token = csrf_token_in(stranger.get("/reclamacoes/nova").get_data(as_text=True))
    victim = app.test_client()
    victim.get("/reclamacoes/nova")
    response = victim.post("/reclamacoes/nova", data={"csrf_token": token})
    assert response.status_code == 400
