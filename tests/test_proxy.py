"""Debian's nginx in front of gunicorn, with the README's site and PROXY_FIX_HOPS=1: each
client is limited on its own address, an X-Forwarded-For the client sends changes
nothing, the service knows it is served over https, and links never follow the Host a
client sent."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.factories import DIRECT
from tests.support.live_server import LiveServer
from tests.support.nginx import Nginx
from tests.support.page_client import csrf_token_in
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)
from tests.test_live_server import call

pytestmark = pytest.mark.slow

PUBLIC = "https://agendamento.tjmt.jus.br"
SERVICE = {"PROXY_FIX_HOPS": "1", "RATELIMIT_ENABLED": "true", "LOGIN_RATE_LIMIT": "3/hour",
           "PUBLIC_BASE_URL": PUBLIC}


@pytest.fixture
def proxied(app, database_url):
    with LiveServer(database_url, workers=1, extra_env=SERVICE) as service, \
            Nginx(upstream=urlsplit(service.url).netloc) as nginx:
        yield service, nginx


def through(nginx: Nginx, method: str, path: str, *, source: str, body=None,
            headers=None) -> tuple[int, dict, bytes]:
    """One request to nginx over TLS from a given loopback address (127.0.0.2, ...)."""
    connection = http.client.HTTPSConnection("127.0.0.1", nginx.port, timeout=10,
                                             source_address=(source, 0),
                                             context=nginx.ssl_context())
    data = json.dumps(body).encode() if body is not None else None
    try:
        connection.request(method, path, body=data, headers={
            **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def wrong_sign_in(nginx: Nginx, source: str, **headers) -> int:
    return through(nginx, "POST", "/api/v1/auth/token", source=source, headers=headers,
                   body={"email": "ninguem@example.jus.br", "password": "errada"})[0]


def test_each_client_is_limited_on_its_own_address_and_cannot_spoof_another(proxied):
    _, nginx = proxied
    first = [wrong_sign_in(nginx, "127.0.0.2") for _ in range(3)]
    assert first == [401, 401, 401]
    assert wrong_sign_in(nginx, "127.0.0.2") == 429
    # The client claims to be someone else: nginx appends the address it saw, and only
    # that one is trusted.
    assert wrong_sign_in(nginx, "127.0.0.2", **{"X-Forwarded-For": "203.0.113.9"}) == 429
    assert wrong_sign_in(nginx, "127.0.0.2", **{"X-Forwarded-For": "127.0.0.3"}) == 429
    # Another client has its own budget (without the proxy fix all would share nginx's).
    assert wrong_sign_in(nginx, "127.0.0.3") == 401


def test_the_service_knows_it_is_served_over_https(proxied):
    service, nginx = proxied
    browser, trust = requests.Session(), str(nginx.certificate)  # per call: the environment's
    page = browser.get(f"{nginx.url}/entrar", verify=trust)      # CA bundle beats Session.verify
    assert page.status_code == 200
    fields = {"csrf_token": csrf_token_in(page.text), "email": "ninguem@example.jus.br",
              "password": "errada"}
    # Over https Flask-WTF also checks the Referer: another site's form is refused...
    forged = browser.post(f"{nginx.url}/entrar", data=fields, verify=trust,
                          headers={"Referer": "https://outro-site.example/"})
    assert forged.status_code == 400, forged.text
    # ...and the service's own page passes (the wrong password is then the answer).
    own = browser.post(f"{nginx.url}/entrar", data=fields, verify=trust,
                       headers={"Referer": page.url})
    assert own.status_code != 400 and "senha" in own.text.lower()
    # Plain http straight to gunicorn is not https: that check does not even apply.
    direct = requests.Session()
    direct_page = direct.get(f"{service.url}/entrar")
    plain = direct.post(f"{service.url}/entrar", headers={"Referer": "https://outro-site.example/"},
                        data={**fields, "csrf_token": csrf_token_in(direct_page.text)})
    assert plain.status_code != 400


def test_links_follow_public_base_url_not_the_host_a_client_sent(proxied, desk):  # noqa: F811
    _, nginx = proxied
    status, headers, body = through(nginx, "POST", "/api/v1/bookings", source="127.0.0.2",
                                    body=form(desk), headers={**DIRECT, "Host": "evil.example",
                                                              "X-Forwarded-Host": "evil.example",
                                                              "X-Request-ID": "client-chosen"})
    assert status == 201, body
    booked = json.loads(body)
    assert booked["manage_url"].startswith(f"{PUBLIC}/agendamentos/{booked['id']}?token=")
    # nginx's own $request_id names the request in the service's logs and answer.
    assert headers["X-Request-ID"] != "client-chosen" and len(headers["X-Request-ID"]) == 32


def test_without_the_proxy_a_forwarded_header_is_not_trusted(app, database_url):
    """PROXY_FIX_HOPS=0 (the default): a client talking to gunicorn directly cannot
    choose its address for the limits."""
    settings = {**SERVICE, "PROXY_FIX_HOPS": "0"}
    with LiveServer(database_url, workers=1, extra_env=settings) as service:
        answers = [call("POST", f"{service.url}/api/v1/auth/token",
                        {"email": "ninguem@example.jus.br", "password": "errada"},
                        headers={"X-Forwarded-For": f"198.51.100.{n}"})[0] for n in range(4)]
    assert answers == [401, 401, 401, 429]
