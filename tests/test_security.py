"""Headers, cookies, rate limits and pages that a strict CSP can serve."""

import re

import pytest

from booking.extensions import db
from tests.conftest import make_app
from tests.support.factories import PASSWORD, make_magistrate, make_rules, make_staff

PAGES = ["/", "/privacidade", "/reclamacoes/nova", "/reclamacoes/acompanhar", "/entrar", "/api/docs"]


def test_security_headers_on_every_answer(client):
    for path in [*PAGES, "/api/v1/units", "/api/nope", "/healthz"]:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}


def test_pages_have_no_inline_script_or_style(app, client):
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        db.session.commit()
        magistrate_id, unit_id = magistrate.id, magistrate.unit_id
    for path in [*PAGES, f"/unidades/{unit_id}", f"/magistrados/{magistrate_id}/agenda"]:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


@pytest.mark.parametrize("secure", [True, False])
def test_session_cookie_is_httponly_lax_and_secure_behind_https(database_url, secure):
    app = make_app(database_url, SESSION_COOKIE_SECURE=secure)
    with app.app_context():
        make_staff("admin")
        db.session.commit()
    response = app.test_client().post("/entrar", data={"email": "admin@example.jus.br",
                                                       "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure


def test_production_cookies_are_secure_by_default():
    from config import Config

    assert Config.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize("path, body, limit_setting", [
    ("/api/v1/auth/token", {"email": "a@example.jus.br", "password": "x"}, None),
    ("/api/v1/bookings", {}, "BOOKING_RATE_LIMIT"),
    ("/api/v1/complaints", {}, "COMPLAINT_RATE_LIMIT"),
])
def test_rate_limits_answer_429_with_retry_after(database_url, path, body, limit_setting):
    overrides = {"RATELIMIT_ENABLED": True}
    if limit_setting:
        overrides[limit_setting] = "3/minute"
    app = make_app(database_url, **overrides)
    client = app.test_client()
    statuses = [client.post(path, json=body).status_code for _ in range(12)]
    assert 429 in statuses
    limited = client.post(path, json=body)
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0


def test_lookup_is_rate_limited(database_url):
    app = make_app(database_url, RATELIMIT_ENABLED=True, LOOKUP_RATE_LIMIT="3/minute")
    client = app.test_client()
    statuses = [client.get("/api/v1/complaints/RC-2027-000001?token=guess").status_code
                for _ in range(5)]
    assert statuses[:3] == [404, 404, 404] and statuses[3:] == [429, 429]


def test_client_address_comes_from_the_proxy_only_when_configured(database_url):
    trusting = make_app(database_url, PROXY_FIX_HOPS=1)
    plain = make_app(database_url)

    def remote(app):
        from flask import request

        @app.get("/_whoami")
        def whoami():
            return request.remote_addr or ""

        return app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"},
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)

    assert remote(trusting) == "203.0.113.9"
    assert remote(plain) == "127.0.0.1"


def test_a_proxy_not_trusted_is_reported_once(database_url, caplog):
    """PROXY_FIX_HOPS=0 while requests come through a proxy would make the whole public one
    client for the per-address limits: the operator reads it in the log, once per worker,
    and not at all when no request carries the header or the proxy is trusted."""
    from booking.proxies import UNTRUSTED_PROXY_WARNING

    def warnings(app, *forwarded):
        caplog.clear()
        client = app.test_client()
        client.get("/healthz")
        for address in forwarded:
            client.get("/healthz", headers={"X-Forwarded-For": address})
        return [r.getMessage() for r in caplog.records if r.name == "booking.proxies"]

    caplog.set_level("WARNING", logger="booking.proxies")
    assert warnings(make_app(database_url)) == []
    assert warnings(make_app(database_url), "203.0.113.9", "203.0.113.10") == [
        UNTRUSTED_PROXY_WARNING]
    assert warnings(make_app(database_url, PROXY_FIX_HOPS=1), "203.0.113.9") == []
