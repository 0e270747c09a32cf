"""Sign-in with the court's identity provider, against a real OpenID Provider on loopback
(the npm oidc-provider, OpenID Certified): the whole redirect flow with PKCE, and each way
it must refuse: a wrong state, a wrong nonce, an unknown e-mail, a deactivated account;
and accounts made from the person's groups when the court turns that on."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from booking.accounts.models import User
from booking.extensions import db
from tests.support.factories import make_magistrate, make_staff
from tests.support.oidc_provider import OidcProvider, sign_in_at_provider

BASE = "http://127.0.0.1:5000"
ACCOUNTS = {
    "ana": {"email": "ana.juiza@tjmt.jus.br", "name": "Ana Juíza", "groups": ["magistrados"]},
    "bia": {"email": "bia@tjmt.jus.br", "name": "Bia", "groups": ["corregedoria"]},
    "caio": {"email": "caio@tjmt.jus.br", "name": "Caio", "groups": ["visitantes"]},
    "dora": {"email": "dora@tjmt.jus.br", "name": "Dora", "groups": []},
}


@pytest.fixture
def provider():
    server = OidcProvider(redirect_uri=f"{BASE}/entrar/tribunal/retorno",
                          post_logout_uri=f"{BASE}/", accounts=ACCOUNTS)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def court(database_url, provider, tmp_path):
    from tests.conftest import make_app

    app = make_app(database_url, PUBLIC_BASE_URL=BASE, OIDC_ISSUER=provider.issuer,
                   OIDC_CLIENT_ID=provider.client_id, OIDC_CLIENT_SECRET=provider.client_secret,
                   OIDC_SCOPES="openid email profile groups",
                   OIDC_GROUP_ROLES="corregedoria=corregedoria,magistrados=magistrate",
                   SCHEDULER_LOCK_FILE=str(tmp_path / "scheduler.lock"))
    with app.app_context():
        judge = make_magistrate(name="Ana Juíza", email="ana.juiza@tjmt.jus.br")
        make_staff("magistrate", "ana.juiza@tjmt.jus.br", magistrate_id=judge.id)
        make_staff("corregedoria", "dora@tjmt.jus.br").is_active = False
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def begin(client) -> str:
    """The service's redirect to the provider, checked for PKCE, state and nonce."""
    response = client.get("/entrar/tribunal")
    assert response.status_code == 302
    location = response.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"] and query["response_type"] == ["code"]
    return location


def come_back(client, callback: str):
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def test_a_registered_magistrate_signs_in_and_out(court):
    client = court.test_client()
    callback = sign_in_at_provider(begin(client), "ana")
    response = come_back(client, callback)
    assert response.status_code == 302 and response.headers["Location"].endswith("/equipe")
    assert "Ana Juíza" in client.get("/equipe").get_data(as_text=True)
    with court.app_context():
        user = db.session.scalar(select(User).where(User.email == "ana.juiza@tjmt.jus.br"))
        assert user.oidc_subject == "ana"
    out = client.post("/sair")
    assert out.status_code == 302
    assert out.headers["Location"].startswith(court.config["OIDC_ISSUER"])
    assert "id_token_hint=" in out.headers["Location"]  # the provider's session ends too
    assert client.get("/equipe").status_code == 302  # and the local one


def test_a_wrong_state_is_refused(court):
    client = court.test_client()
    callback = sign_in_at_provider(begin(client), "ana")
    forged = callback.replace("state=", "state=x")
    response = come_back(client, forged)
    assert response.status_code == 400
    assert "Não foi possível concluir" in response.get_data(as_text=True)
    assert client.get("/equipe").status_code == 302


def test_a_wrong_nonce_is_refused(court):
    client = court.test_client()
    callback = sign_in_at_provider(begin(client), "ana")
    with client.session_transaction() as session:
        for key, value in list(session.items()):
            if key.startswith("_state_") and isinstance(value, dict):
                value["data"]["nonce"] = "not-the-nonce-the-provider-signed"
                session[key] = value
    response = come_back(client, callback)
    assert response.status_code == 400
    assert client.get("/equipe").status_code == 302


def test_an_unknown_email_and_a_deactivated_account_are_refused(court):
    for login, message in (("caio", "não tem acesso a este serviço"),
                           ("bia", "não tem acesso a este serviço"),
                           ("dora", "está desativada")):
        client = court.test_client()
        response = come_back(client, sign_in_at_provider(begin(client), login))
        assert response.status_code == 400, login
        assert message in response.get_data(as_text=True), login
        assert client.get("/equipe").status_code == 302


def test_groups_make_an_account_when_the_court_allows_it(court):
    court.config["OIDC_CREATE_FROM_GROUPS"] = True
    client = court.test_client()
    response = come_back(client, sign_in_at_provider(begin(client), "bia"))
    assert response.status_code == 302
    with court.app_context():
        user = db.session.scalar(select(User).where(User.email == "bia@tjmt.jus.br"))
        assert user.role == "corregedoria" and user.password_hash is None
    assert client.get("/corregedoria").status_code == 200
    other = court.test_client()
    refused = come_back(other, sign_in_at_provider(begin(other), "caio"))
    assert refused.status_code == 400  # "visitantes" maps to no role
