"""Staff authentication: passwords, bearer tokens, roles, lockout, sessions."""

from datetime import timedelta

from sqlalchemy import select

from booking.accounts.models import ApiToken
from booking.accounts.service import issue_token
from booking.database import utcnow
from booking.extensions import db
from tests.support.factories import (
    PASSWORD,
    bearer,
    make_magistrate,
    make_staff,
    staff_token,
)


def login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_login_gives_a_bearer_token_stored_only_as_hash(app, client):
    with app.app_context():
        make_staff("assistant")
        db.session.commit()
    response = login(client, "ASSISTANT@example.jus.br ")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_at"].endswith("-04:00")  # the court's zone
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.token_hash != body["access_token"]
        assert body["access_token"] not in stored.token_hash
    me = client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["email"] == "assistant@example.jus.br"


def test_production_hashes_at_rfc_9106_cost_and_older_hashes_are_redone_at_sign_in(
        app, client, monkeypatch):
    """The suite hashes at the cheapest cost; a deployment at RFC 9106's, and a password
    hashed at another cost is rehashed at the configured one when its owner signs in."""
    import runpy

    import config
    from booking.accounts.models import User
    from booking.security import hash_password

    monkeypatch.delenv("PASSWORD_HASH_PROFILE", raising=False)  # the default, whatever is set
    default = runpy.run_path(config.__file__)["Config"].PASSWORD_HASH_PROFILE
    assert default == "RFC_9106_LOW_MEMORY"
    with app.app_context():
        make_staff("assistant")
        db.session.commit()
    app.config["PASSWORD_HASH_PROFILE"] = default
    assert login(client, "assistant@example.jus.br").status_code == 200
    with app.app_context():
        stored = db.session.scalars(select(User)).one().password_hash
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert hash_password(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert login(client, "assistant@example.jus.br", "not the password").status_code == 401


def test_wrong_password_and_unknown_email_get_the_same_401(app, client):
    with app.app_context():
        make_staff("assistant")
        db.session.commit()
    wrong = login(client, "admin@example.jus.br", "not the password")
    unknown = login(client, "nobody@example.jus.br", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    def told(answer):  # all but the request's own id
        return {key: value for key, value in answer.get_json().items() if key != "request_id"}

    assert told(wrong) == told(unknown)
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_repeated_failures_slow_down_that_address_not_the_account(app, client):
    """A stranger who types a judge's e-mail again and again waits longer and longer; the
    judge, from their own address, signs in at once (no lockout by strangers)."""
    from booking.accounts.models import LoginThrottle

    with app.app_context():
        make_staff("assistant")
        db.session.commit()
        limit = app.config["LOGIN_MAX_FAILURES"]
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    owner = {"REMOTE_ADDR": "198.51.100.7"}

    def login_from(where, password=PASSWORD):
        return client.post("/api/v1/auth/token", environ_base=where, json={
            "email": "assistant@example.jus.br", "password": password})

    for _ in range(limit):
        assert login_from(stranger, "wrong password").status_code == 401
    # Even the right password waits from that address, with the same answer...
    assert login_from(stranger).status_code == 401
    # ... while the account's owner, elsewhere, is not locked out.
    assert login_from(owner).status_code == 200
    with app.app_context():
        waits = db.session.scalars(select(LoginThrottle)).all()
        assert len(waits) == 1 and waits[0].failures == limit  # a try while waiting is refused
        first_wait = waits[0].blocked_until
        waits[0].blocked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert login_from(stranger, "wrong again").status_code == 401
    with app.app_context():
        later_wait = db.session.scalars(select(LoginThrottle)).one().blocked_until
        assert later_wait - utcnow() > first_wait - utcnow() - timedelta(seconds=1)
        db.session.execute(LoginThrottle.__table__.update().values(
            blocked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert login_from(stranger).status_code == 200  # and success forgets the failures
    with app.app_context():
        assert db.session.scalars(select(LoginThrottle)).all() == []


def test_missing_and_garbage_tokens_are_401(client):
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer("garbage")).status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_expired_token_is_refused(app, client):
    with app.app_context():
        user = make_staff("admin")
        plain, token = issue_token(user, now=utcnow() - timedelta(days=2))
        db.session.commit()
        assert token.expires_at < utcnow()
    response = client.get("/api/v1/auth/me", headers=bearer(plain))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_revoked_token_is_refused(app, client):
    with app.app_context():
        make_staff("assistant")
        db.session.commit()
    token = login(client, "assistant@example.jus.br").get_json()["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_deactivated_user_token_is_refused(app, client):
    with app.app_context():
        user = make_staff("admin")
        plain, _ = issue_token(user)
        user.is_active = False
        db.session.commit()
    assert client.get("/api/v1/auth/me", headers=bearer(plain)).status_code == 401


def test_token_of_another_role_is_403(app, client):
    with app.app_context():
        admin_token = staff_token(make_staff("admin"))
        corregedoria_token = staff_token(make_staff("corregedoria"))
        make_staff("magistrate", magistrate_id=make_magistrate().id)
        db.session.commit()
    magistrate_token = login(client, "magistrate@example.jus.br").get_json()["access_token"]
    for token in (corregedoria_token, magistrate_token):
        response = client.get("/api/v1/users", headers=bearer(token))
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
    listing = client.get("/api/v1/users", headers=bearer(admin_token))
    assert listing.status_code == 200
    assert listing.headers["X-Total-Count"] == "3"
    assert "password_hash" not in listing.get_data(as_text=True)


def test_assistant_acts_only_for_the_magistrates_it_serves(app):
    with app.app_context():
        served = make_magistrate(name="Servida")
        other = make_magistrate(unit=served.unit, name="Outra")
        assistant = make_staff("assistant", magistrate_id=served.id)
        assert assistant.acts_for(served.id)
        assert not assistant.acts_for(other.id)
        judge = make_staff("magistrate", magistrate_id=other.id)
        assert judge.acts_for(other.id) and not judge.acts_for(served.id)


def test_session_login_page(app, client):
    with app.app_context():
        make_staff("corregedoria")
        db.session.commit()
    assert client.get("/equipe").status_code == 302
    failed = client.post("/entrar", data={"email": "corregedoria@example.jus.br",
                                          "password": "wrong"})
    assert failed.status_code == 422
    assert "E-mail ou senha incorretos." in failed.get_data(as_text=True)
    ok = client.log_in("corregedoria@example.jus.br", PASSWORD, next_path="/equipe")
    assert ok.status_code == 200 and "códigos de recuperação" in ok.get_data(as_text=True)
    page = client.get("/equipe")
    assert page.status_code == 200
    assert "Corregedoria" in page.get_data(as_text=True)


def test_login_never_redirects_off_site(app, client):
    with app.app_context():
        make_staff("magistrate", magistrate_id=make_magistrate().id)
        db.session.commit()
    response = client.post("/entrar?proximo=//evil.example/x",
                           data={"email": "magistrate@example.jus.br", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/equipe")


def test_login_form_requires_csrf_token(database_url, tmp_path):
    from tests.conftest import make_app

    app = make_app(database_url)
    response = app.test_client().post("/entrar", data={"email": "a@b.c", "password": "x",
                                                       "csrf_token": None})
    assert response.status_code == 400
    assert "Recarregue a página" in response.get_data(as_text=True)
