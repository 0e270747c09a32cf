"""A real browser (Debian's Chromium, driven by Playwright) against the real service.

The service runs under gunicorn with the development settings (CSRF on, rate
limits on) on a loopback port, with the demo court loaded and its mail going
to a loopback SMTP server the tests read. Screenshots of every step land in
test-artifacts/e2e/ at a phone width and a desktop width.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from booking.demo import load_demo
from booking.extensions import db
from tests.conftest import make_app, migrate_to_head
from tests.support.authenticator import code_for
from tests.support.live_server import LiveServer
from tests.support.redis_server import RedisServer
from tests.support.smtp import SmtpServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
AXE = Path(os.environ.get("AXE_JS") or
           next(iter(sorted((Path(__file__).resolve().parent / "vendor").glob("axe-*.min.js"))),
                Path(__file__).resolve().parent / "vendor" / "axe.min.js"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
WIDTHS = {"celular": 375, "desktop": 1280}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' "
                           "(make system-deps does it).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Site:
    """The running service, its database seen from the test, and its mailbox."""

    def __init__(self, server: LiveServer, app, smtp: SmtpServer):
        self.server, self.app, self.smtp = server, app, smtp
        self.url = server.url
        # The key each account enrolled with, as the person's authenticator app keeps it.
        self.authenticators: dict[str, str] = {}

    def deliver_mail(self) -> None:
        """What the scheduler does every few seconds, done now."""
        from booking.notifications.service import send_due

        with self.app.app_context():
            send_due()

    def emailed_code(self, address: str) -> str:
        """The code of the latest hold e-mailed to this address, read from the SMTP server."""
        import re

        self.deliver_mail()
        codes = [r for r in self.smtp.to(address) if r.message["Subject"].startswith("Confirme")]
        assert codes, f"no code reached {address}"
        text = codes[-1].message.get_body(("plain",)).get_content()
        return re.search(r"Código para confirmar o agendamento: (\d{6})", text).group(1)


@contextmanager
def running_site(folder: Path, settings=lambda server_url: {}):
    """The demo court under gunicorn; `settings(url)` adds environment for the server."""
    url = f"sqlite:///{folder / 'booking.db'}"
    migrate_to_head(url)
    smtp = SmtpServer()
    redis = RedisServer()  # rate limits shared by the workers, as under make run
    # The same SECRET_KEY as the server: what it seals in the outbox, this process opens.
    app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                   SECRET_KEY="e2e-only-secret")
    server = LiveServer(url, workers=2, extra_env={
        "BOOKING_ENV": "development", "SECRET_KEY": "e2e-only-secret", "MAIL_PORT": str(smtp.port),
        "MAIL_SERVER": "127.0.0.1", "SCHEDULER_LOCK_FILE": str(folder / "scheduler.lock"),
        "RATELIMIT_STORAGE_URI": redis.url, "COMPLAINT_FILES_DIR": str(folder / "anexos")})
    server.extra_env.update(PUBLIC_BASE_URL=server.url, **settings(server.url))
    app.config["PUBLIC_BASE_URL"] = server.url
    try:  # from the first start on: whatever fails, nothing started is left running
        smtp.start()
        redis.start()
        with app.app_context():
            load_demo()
            db.session.commit()
        server.start()
        yield Site(server, app, smtp)
    finally:
        server.stop()
        redis.stop()
        smtp.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_site(tmp_path_factory.mktemp("e2e")) as running:
        yield running


LOOPBACK_ONLY = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])[a-z]+://")


def loopback_context(browser, **options):
    """A browser context that sends nothing off this machine (a page's web fonts, say)."""
    context = browser.new_context(locale="pt-BR", **options)
    context.route(LOOPBACK_ONLY, lambda route: route.abort())
    return context


@pytest.fixture
def page(browser, request):
    context = loopback_context(browser, viewport={"width": 1280, "height": 900},
                               accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def snap(request):
    """snap(page, 'step'): save the page at a phone and a desktop width."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    counter = iter(range(1, 1000))

    def take(page, name: str) -> None:
        step = next(counter)
        size = page.viewport_size
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(folder / f"{step:02d}-{name}-{label}.png"), full_page=True)
        page.set_viewport_size(size)

    return take


def fits_the_screen(page) -> bool:
    """No horizontal scrolling: the page is no wider than the device's screen. (innerWidth
    is no measure on a phone: a mobile browser widens its layout to the widest content.)"""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def sign_in(page, site: Site, email: str, password: str) -> None:
    """Sign in as a person: the password, then the second factor where the role needs it
    (at the first sign-in, the key shown on the page goes into an authenticator app)."""
    page.goto(site.url + "/entrar")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Senha", exact=True).fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_load_state()
    if page.url.endswith("/entrar/ativar-verificacao"):
        site.authenticators[email] = page.locator("figcaption code").inner_text().strip()
        page.get_by_label("Código do aplicativo").fill(code_for(site.authenticators[email]))
        page.get_by_role("button", name="Ativar e entrar").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("duas etapas ativada")
        page.get_by_role("link", name="Guardei os códigos; continuar").click()
    elif page.url.endswith("/entrar/verificacao"):
        page.get_by_label("Código").fill(code_for(site.authenticators[email]))
        page.get_by_role("button", name="Confirmar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Olá")


def axe_violations(page) -> list[dict]:
    if not AXE.exists():
        raise RuntimeError("axe-core is missing: make test fetches it from the npm registry.")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def axe_page(browser):
    # axe is injected as a script; only this test's browser context waives the CSP for it.
    context = loopback_context(browser, bypass_csp=True, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def booked_through_the_api(site, lawyer: dict | None = None) -> dict:
    """A confirmed booking at the first open time of the demo's first magistrate."""
    import json
    import urllib.request

    from tests.support.factories import DIRECT

    def call(path, body=None):
        request = urllib.request.Request(
            site.url + path, data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json", **DIRECT})
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    slot = call("/api/v1/magistrates/1/slots")[0]
    return call("/api/v1/bookings", {
        "magistrate_id": 1, "start": slot["start"], "mode": "video",
        "lawyer": {"name": "Rita Teclado", "oab": "3210/MT", "email": "rita@example.com",
                   "phone": "(65) 98888-1111", **(lawyer or {})},
        "case_number": "0001234-03.2026.8.11.0041", "subject": "Remarcar pelo teclado",
        "consent": True})
