"""Staff accounts managed by the administration: an invitation by e-mail with a single-use
link, the password set from it, "forgot my password", two-factor for the roles that need
it (TOTP with recovery codes), and password sign-in switched off for some roles."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from booking.accounts.models import AccountLink, IntegrationKey, User
from booking.audit.models import AuditEntry
from booking.courts.models import Magistrate
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from tests.support.authenticator import code_for, typed
from tests.support.factories import PASSWORD, bearer, make_magistrate, make_staff, staff_token
from tests.support.page_client import SECRET_SHOWN

LINK = re.compile(r"https?://\S+/definir-senha\?token=([\w-]+)")


@pytest.fixture
def office(app):
    with app.app_context():
        judge = make_magistrate()
        admin = make_staff("admin")
        token = staff_token(admin)
        db.session.commit()
        return {"judge": judge.id, "admin": token, "admin_id": admin.id}


def link_sent_to(app, email: str) -> str:
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind.like("account_%")).order_by(OutboxMessage.id.desc())).first()
        assert message.recipients == [email]
        return LINK.search(message.body_text).group(1)


def test_admin_invites_an_assistant_who_sets_a_password_and_signs_in(app, client, office):
    created = client.post("/api/v1/users", headers=bearer(office["admin"]), json={
        "email": "Assessora@TJMT.jus.br", "name": "Carla Assessora", "role": "assistant",
        "assists": [office["judge"]]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["has_password"] is False
    token = link_sent_to(app, "assessora@tjmt.jus.br")
    page = client.get(f"/definir-senha?token={token}")
    assert page.status_code == 200 and "assessora@tjmt.jus.br" in page.get_data(as_text=True)
    short = client.post("/definir-senha", data={"token": token, "password": "curta",
                                               "confirmation": "curta"})
    assert short.status_code == 422 and "pelo menos 10" in short.get_data(as_text=True)
    done = client.post("/definir-senha", data={"token": token, "password": PASSWORD,
                                              "confirmation": PASSWORD})
    assert done.status_code == 302
    again = client.get(f"/definir-senha?token={token}")
    assert again.status_code == 404 and "já foi usado" in again.get_data(as_text=True)
    client.log_in("assessora@tjmt.jus.br", PASSWORD)
    home = client.get("/equipe").get_data(as_text=True)
    assert "Agendas sob sua gestão" in home
    assert client.get(f"/equipe/magistrados/{office['judge']}/disponibilidade").status_code == 200
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"user.created", "user.set_password_link_sent", "user.password_set"} <= actions


def test_the_account_pages_of_a_large_court_show_every_account_and_magistrate(app, client,
                                                                             office):
    """Hundreds of magistrates, some without a public agenda: an account may be linked to,
    or assist, any of them; and the accounts are listed page by page, none left out."""
    from booking.accounts.views import ACCOUNTS_PER_PAGE
    from tests.support.factories import make_unit

    with app.app_context():
        unit = make_unit("2ª Vara Criminal de Rondonópolis", "Rondonópolis",
                         office_email="roo@example.jus.br")
        for n in range(105):
            make_magistrate(unit=unit, name=f"Zuleica {n:03d}")
        make_magistrate(unit=unit, name="Zélia Sem Agenda").publishes_agenda = False
        for n in range(ACCOUNTS_PER_PAGE):
            make_staff("assistant", f"z{n:03d}@example.jus.br")
        db.session.commit()
    client.log_in("admin@example.jus.br", PASSWORD)
    for page in (client.get("/equipe/contas"), client.get(f"/equipe/contas/{office['admin_id']}")):
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Zuleica 104 — 2ª Vara Criminal de Rondonópolis" in text
        assert "Zélia Sem Agenda" in text
    last = f"z{ACCOUNTS_PER_PAGE - 1:03d}@example.jus.br"  # the last by e-mail
    first_page = client.get("/equipe/contas").get_data(as_text=True)
    assert "Página 1 de 2" in first_page and last not in first_page
    assert last in client.get("/equipe/contas?pagina=2").get_data(as_text=True)


def test_the_admin_finds_an_account_by_name_or_e_mail_and_role(app, client, office):
    """Hundreds of accounts in order of e-mail: words of the name or the e-mail (accents and
    capitals aside) and the role narrow the list, on the page (its pages keep the search)
    and on the API."""
    from booking.accounts.views import ACCOUNTS_PER_PAGE

    with app.app_context():
        make_staff("assistant", "patricia.lemos@example.jus.br", name="Patrícia Lemos")
        make_staff("corregedoria", "plemos@example.jus.br", name="Paulo Lemos")
        make_staff("magistrate", "ana@example.jus.br", name="Ana Patrícia Souza",
                   magistrate_id=office["judge"])
        for n in range(ACCOUNTS_PER_PAGE + 1):
            make_staff("assistant", f"lemos{n:03d}@example.jus.br", name=f"Assessor {n}")
        db.session.commit()
    client.log_in("admin@example.jus.br", PASSWORD)

    def listed(**query) -> tuple[list[str], str]:
        page = client.get("/equipe/contas", query_string=query)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        return re.findall(r'<a href="/equipe/contas/\d+">([^<]+)</a>', html), html

    names, html = listed(busca="PATRICIA")
    assert names == ["Ana Patrícia Souza", "Patrícia Lemos"]  # in order of e-mail
    assert "2 contas encontradas" in html and 'value="PATRICIA"' in html
    assert listed(busca="lemos patr")[0] == ["Patrícia Lemos"]
    assert listed(busca="lemos", papel="corregedoria")[0] == ["Paulo Lemos"]
    assert listed(busca="trici")[0] == []  # words are found by how they begin
    # A search longer than a page keeps itself on the next page's link.
    first, html = listed(busca="lemos", papel="assistant")
    assert len(first) == ACCOUNTS_PER_PAGE and "Página 1 de 2" in html
    following = re.search(r'href="([^"]+)">Próxima página', html).group(1).replace("&amp;", "&")
    assert "busca=lemos" in following and "papel=assistant" in following
    second = re.findall(r'<a href="/equipe/contas/\d+">([^<]+)</a>',
                        client.get(following).get_data(as_text=True))
    assert len(second) == 2 and not set(second) & set(first)
    # An unknown role is no filter; the API answers the same search.
    assert len(listed(papel="juiz")[0]) == ACCOUNTS_PER_PAGE
    api = client.get("/api/v1/users", query_string={"q": "patrícia", "role": "magistrate"},
                     headers=bearer(office["admin"]))
    assert [user["name"] for user in api.get_json()] == ["Ana Patrícia Souza"]
    assert api.headers["X-Total-Count"] == "1"


def _checked(html: str, name: str) -> set[str]:
    """The values of the checked boxes (or selected options) named `name` on a page."""
    boxes = re.findall(rf'<input type="checkbox" name="{name}" value="(\d+)" checked>', html)
    select = re.search(rf'<select id="{name}" name="{name}".*?</select>', html, re.S)
    options = re.findall(r'<option value="(\w+)" selected>', select.group(0)) if select else []
    return set(boxes) | set(options)


def test_an_account_form_refused_keeps_the_magistrates_chosen(app, client, office):
    """A refused form comes back with what the admin chose, the magistrates among hundreds
    too, and the message beside the field; a change refused halfway stores nothing."""
    with app.app_context():
        second, third = make_magistrate(name="Segunda"), make_magistrate(name="Terceira")
        linked = make_staff("magistrate", "juiza@example.jus.br", magistrate_id=third.id,
                            name="Juíza Terceira")
        make_staff("magistrate", "segunda@example.jus.br", magistrate_id=second.id)
        second_id, third_id, linked_id = second.id, third.id, linked.id
        db.session.commit()
    client.log_in("admin@example.jus.br", PASSWORD)
    refused = client.post("/equipe/contas", data={
        "name": "Assessora", "email": "não é e-mail", "role": "assistant",
        "magistrate_id": str(second_id), "assists": [str(office["judge"]), str(third_id)]})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="email-erro"' in page
    assert _checked(page, "assists") == {str(office["judge"]), str(third_id)}
    assert _checked(page, "magistrate_id") == {str(second_id)}

    # The name would change before the magistrate is refused (that one has an account
    # already): nothing is stored, and the form shows what was typed.
    refused = client.post(f"/equipe/contas/{linked_id}", data={
        "name": "Nome Novo", "role": "magistrate", "magistrate_id": str(second_id),
        "assists": [str(third_id)], "is_active": "nao"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Este magistrado já tem uma conta." in page
    assert 'value="Nome Novo"' in page
    assert _checked(page, "magistrate_id") == {str(second_id)}
    assert _checked(page, "is_active") == {"nao"}
    assert _checked(page, "assists") == {str(third_id)}
    with app.app_context():
        stored = db.session.get(User, linked_id)
        assert (stored.name, stored.magistrate_id, stored.is_active) == ("Juíza Terceira",
                                                                          third_id, True)


def test_an_expired_or_superseded_link_does_not_set_a_password(app, client, office):
    client.post("/api/v1/users", headers=bearer(office["admin"]), json={
        "email": "x@tjmt.jus.br", "name": "Xavier", "role": "corregedoria"})
    first = link_sent_to(app, "x@tjmt.jus.br")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "x@tjmt.jus.br"))
        user_id = user.id
    assert client.post(f"/api/v1/users/{user_id}/password-link",
                       headers=bearer(office["admin"])).status_code == 202
    second = link_sent_to(app, "x@tjmt.jus.br")
    assert first != second
    assert client.get(f"/definir-senha?token={first}").status_code == 404
    with app.app_context():
        link = db.session.scalar(select(AccountLink).where(AccountLink.used_at.is_(None)))
        link.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert client.get(f"/definir-senha?token={second}").status_code == 404


def test_forgot_password_answers_the_same_for_unknown_addresses(app, client, office):
    known = client.post("/esqueci-a-senha", data={"email": "admin@example.jus.br"})
    unknown = client.post("/esqueci-a-senha", data={"email": "ninguem@example.jus.br"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    link_sent_to(app, "admin@example.jus.br")
    with app.app_context():
        recipients = [m.recipients for m in db.session.scalars(select(OutboxMessage))]
    assert recipients == [["admin@example.jus.br"]]


def test_admin_deactivates_and_reactivates_an_account(app, client, office):
    with app.app_context():
        judge_user = make_staff("magistrate", magistrate_id=office["judge"])
        judge_token = staff_token(judge_user)
        db.session.commit()
        judge_id = judge_user.id
    assert client.get("/api/v1/auth/me", headers=bearer(judge_token)).status_code == 200
    off = client.patch(f"/api/v1/users/{judge_id}", headers=bearer(office["admin"]),
                       json={"is_active": False})
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    assert client.get("/api/v1/auth/me", headers=bearer(judge_token)).status_code == 401
    on = client.patch(f"/api/v1/users/{judge_id}", headers=bearer(office["admin"]),
                      json={"is_active": True})
    assert on.get_json()["is_active"] is True
    own = client.patch(f"/api/v1/users/{office['admin_id']}", headers=bearer(office["admin"]),
                       json={"is_active": False})
    assert own.status_code == 409


def test_two_factor_enrolment_codes_and_recovery(app, client, office):
    first = client.post("/entrar", data={"email": "admin@example.jus.br", "password": PASSWORD})
    assert first.headers["Location"].endswith("/entrar/ativar-verificacao")
    assert client.get("/equipe").status_code == 302  # a password alone opens nothing
    page = client.get("/entrar/ativar-verificacao").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn by the service itself
    secret = SECRET_SHOWN.search(page).group(1)
    wrong = client.post("/entrar/ativar-verificacao", data={"code": "000000"})
    assert wrong.status_code == 422
    first_code = code_for(secret)
    done = client.post("/entrar/ativar-verificacao", data={"code": first_code})
    codes = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/equipe").status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(User).where(User.email == "admin@example.jus.br"))
        assert secret not in stored.totp_secret  # sealed, not in plain text
        assert codes[0] not in str(stored.recovery_code_hashes)

    client.post("/sair")
    second = client.post("/entrar", data={"email": "admin@example.jus.br", "password": PASSWORD})
    assert second.headers["Location"].endswith("/entrar/verificacao")
    assert client.post("/entrar/verificacao", data={"code": "123456"}).status_code == 422
    assert client.post("/entrar/verificacao", data={"code": codes[0]}).status_code == 302
    client.post("/sair")
    client.post("/entrar", data={"email": "admin@example.jus.br", "password": PASSWORD})
    assert client.post("/entrar/verificacao", data={"code": codes[0]}).status_code == 422

    token = client.post("/api/v1/auth/token", json={"email": "admin@example.jus.br",
                                                    "password": PASSWORD})
    assert token.status_code == 401 and "otp" in token.get_json()["detail"]
    # A code works once: the enrolment's is refused now, as is a fresh one used twice.
    credentials = {"email": "admin@example.jus.br", "password": PASSWORD}
    replayed = client.post("/api/v1/auth/token", json={**credentials, "otp": first_code})
    assert replayed.status_code == 401 and "ainda não tenha sido usado" in \
        replayed.get_json()["detail"]
    fresh = code_for(secret)
    token = client.post("/api/v1/auth/token", json={**credentials, "otp": fresh})
    assert token.status_code == 200
    assert client.post("/api/v1/auth/token",
                       json={**credentials, "otp": fresh}).status_code == 401
    client.post("/entrar", data=credentials)
    again = client.post("/entrar/verificacao", data={"code": fresh})
    assert again.status_code == 422 and "já usado" in again.get_data(as_text=True)


def test_a_code_of_an_earlier_step_than_the_last_accepted_is_refused(app, client, office):
    """Codes are accepted one step either side of now, but never back in time: after the
    next step's code, the current step's is refused (it could have been seen meanwhile)."""
    client.post("/entrar", data={"email": "admin@example.jus.br", "password": PASSWORD})
    secret = SECRET_SHOWN.search(client.get("/entrar/ativar-verificacao")
                                 .get_data(as_text=True)).group(1)
    totp = pyotp.TOTP(secret)
    if time.time() % totp.interval > totp.interval - 2:  # not across a step while testing
        time.sleep(3)
    now = totp.timecode(datetime.now(UTC))
    ahead = totp.generate_otp(now + 1)
    assert client.post("/entrar/ativar-verificacao", data={"code": ahead}).status_code == 200
    typed(secret, ahead)
    credentials = {"email": "admin@example.jus.br", "password": PASSWORD}
    earlier = client.post("/api/v1/auth/token", json={**credentials,
                                                      "otp": totp.generate_otp(now)})
    assert earlier.status_code == 401
    with app.app_context():
        stored = db.session.scalar(select(User).where(User.email == "admin@example.jus.br"))
        assert stored.totp_last_step == now + 1


def test_password_sign_in_can_be_switched_off_for_a_role(database_url, tmp_path):
    from tests.conftest import make_app

    app = make_app(database_url, PASSWORD_LOGIN_ROLES="admin")
    with app.app_context():
        make_staff("magistrate", magistrate_id=make_magistrate().id)
        db.session.commit()
    client = app.test_client()
    page = client.post("/entrar", data={"email": "magistrate@example.jus.br",
                                        "password": PASSWORD})
    assert page.status_code == 422 and "login do tribunal" in page.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", json={"email": "magistrate@example.jus.br",
                                                  "password": PASSWORD})
    assert api.status_code == 401


def test_the_admin_issues_and_revokes_an_integration_key_on_a_page(app, client, office):
    """The court's portal books confirmed with a key: issued on the page (shown once), it
    books; revoked there, it no longer does."""
    from tests.support.factories import make_rules
    from tests.test_bookings_api import form

    with app.app_context():
        make_rules(db.session.get(Magistrate, office["judge"]))
        db.session.commit()
    slots = client.get(f"/api/v1/magistrates/{office['judge']}/slots").get_json()
    client.log_in("admin@example.jus.br", PASSWORD)
    page = "/equipe/chaves-de-integracao"
    assert "Portal de testes" in client.get(page).get_data(as_text=True)  # the tests' own
    blank = client.post(page, data={"name": " "})
    assert blank.status_code == 422 and re.search(r'id="name-erro"', blank.get_data(as_text=True))
    issued = client.post(page, data={"name": "Portal do advogado"})
    assert issued.status_code == 200
    plain = re.search(r'<code class="break">(int_[\w-]+)</code>',
                      issued.get_data(as_text=True)).group(1)
    listed = client.get(page).get_data(as_text=True)
    assert "Portal do advogado" in listed and plain not in listed  # shown once only

    def book_with(key: str, slot: int):
        return client.post("/api/v1/bookings", headers={"X-Integration-Key": key},
                           json=form({"judge": office["judge"], "slots": slots}, slot))

    booked = book_with(plain, 0)
    assert booked.status_code == 201 and booked.get_json()["status"] == "confirmed"
    with app.app_context():
        key_id = db.session.scalar(select(IntegrationKey.id).where(
            IntegrationKey.name == "Portal do advogado"))
    revoked = client.post(f"{page}/{key_id}/revogar", follow_redirects=True)
    assert "Chave “Portal do advogado” revogada" in revoked.get_data(as_text=True)
    assert "Revogada em" in revoked.get_data(as_text=True)
    assert book_with(plain, 1).status_code == 401
    assert client.post(f"{page}/999999/revogar").status_code == 404
