"""The court's people in a real browser: an admin invites an assistant, who sets a password
from the e-mailed link and manages the agenda of the magistrate they serve; a magistrate
signs in through the court's identity provider (oidc-provider on loopback)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import loopback_context, running_site, sign_in
from tests.support.oidc_provider import OidcProvider

LINK = re.compile(r"https?://\S+/definir-senha\?token=[\w-]+")


def test_an_admin_invites_an_assistant_who_manages_an_agenda(site, page, browser, snap):
    sign_in(page, site, "admin@demo.tjmt.jus.br", "demo-admin-2027")
    page.get_by_role("link", name="Contas da equipe").click()
    snap(page, "contas")
    form = page.locator("form", has=page.get_by_role("button", name="Criar e enviar o convite"))
    form.get_by_label("Nome", exact=True).fill("Paula Assessora")
    form.get_by_label("E-mail", exact=True).fill("paula.assessora@tjmt.jus.br")
    form.get_by_label("Papel", exact=True).select_option(label="Assessor(a)")
    first_judge = form.locator("input[name=assists]").first
    first_judge.check()
    # "Juíza Ana ... — 1ª Vara ...": the assistant's page names the magistrate they serve
    judge_label = form.locator("label.choice").first.inner_text().split(" — ")[0].strip()
    form.get_by_role("button", name="Criar e enviar o convite").click()
    expect(page.get_by_role("status")).to_contain_text("paula.assessora@tjmt.jus.br")
    site.deliver_mail()
    mail = site.smtp.to("paula.assessora@tjmt.jus.br")[-1].message
    link = LINK.search(mail.get_body(("plain",)).get_content()).group(0)

    assistant = loopback_context(browser).new_page()
    assistant.goto(link)
    expect(assistant.get_by_role("heading", level=1)).to_have_text("Definir senha")
    assistant.get_by_label("Nova senha").fill("uma senha longa e boa")
    assistant.get_by_label("Repita a senha").fill("uma senha longa e boa")
    assistant.get_by_role("button", name="Definir senha").click()
    expect(assistant.get_by_role("status")).to_contain_text("Senha definida")
    snap(assistant, "senha-definida")
    sign_in(assistant, site, "paula.assessora@tjmt.jus.br", "uma senha longa e boa")
    expect(assistant.get_by_role("main")).to_contain_text(judge_label)
    assistant.get_by_role("link", name="disponibilidade e exceções").first.click()
    assistant.get_by_label("Duração de cada atendimento (minutos)").fill("40")
    assistant.get_by_role("button", name="Salvar e publicar").click()
    expect(assistant.get_by_role("status")).to_contain_text("Regras salvas")
    snap(assistant, "agenda-publicada")
    assistant.context.close()


@pytest.fixture(scope="module")
def oidc_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-oidc")
    provider = None

    def settings(server_url: str) -> dict:
        nonlocal provider
        provider = OidcProvider(
            redirect_uri=f"{server_url}/entrar/tribunal/retorno", post_logout_uri=f"{server_url}/",
            accounts={"magistrado": {"email": "magistrado@demo.tjmt.jus.br",
                                     "name": "Magistrado de demonstração"}})
        provider.start()
        return {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": provider.client_id,
                "OIDC_CLIENT_SECRET": provider.client_secret}

    try:
        with running_site(folder, settings) as running:
            yield running
    finally:
        if provider is not None:
            provider.stop()


def test_the_assists_filter_narrows_the_magistrates(site, page):
    """Hundreds of magistrates to choose from: typing part of a name or unit (accents and
    case aside) leaves the matching ones in view, and those ticked; Enter does not submit."""
    import unicodedata

    def plain(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", text)
                       if not unicodedata.combining(c)).lower()

    sign_in(page, site, "admin@demo.tjmt.jus.br", "demo-admin-2027")
    page.goto(site.url + "/equipe/contas")
    form = page.locator("form", has=page.get_by_role("button", name="Criar e enviar o convite"))
    form.get_by_label("Papel", exact=True).select_option(label="Assessor(a)")
    labels = form.locator("label.choice")
    texts = labels.all_inner_texts()
    assert len(texts) >= 3
    labels.first.locator("input").check()
    wanted = texts[-1].split(" — ")[0].strip()
    typed = plain(wanted).upper()  # the filter ignores case and accents
    expected = sum(1 for n, text in enumerate(texts) if plain(wanted) in plain(text) or n == 0)
    assert expected < len(texts)
    box = form.get_by_label("Filtrar por nome ou unidade")
    box.fill(typed)
    box.press("Enter")
    expect(form.locator("label.choice:visible")).to_have_count(expected)
    expect(form.locator("#assists-filtro-contagem")).to_have_text(
        f"{expected} de {len(texts)} exibidos (os marcados aparecem sempre).")
    expect(page).to_have_url(re.compile(r"/equipe/contas$"))  # still the form, not submitted
    expect(form.locator("label.choice", has_text=wanted).first).to_be_visible()
    box.fill("")
    expect(form.locator("label.choice:visible")).to_have_count(len(texts))


def test_the_account_form_asks_only_what_the_role_needs(site, page):
    """A magistrate's account names its magistrate, an assistant's the magistrates served;
    the other roles see neither, and an account whose role changes sends only what the new
    role needs."""
    sign_in(page, site, "admin@demo.tjmt.jus.br", "demo-admin-2027")
    page.goto(site.url + "/equipe/contas")
    form = page.locator("form", has=page.get_by_role("button", name="Criar e enviar o convite"))
    role = form.get_by_label("Papel", exact=True)
    own = form.get_by_label("Magistrado(a) da conta (papel magistrado)")
    served = form.get_by_role("group", name="Magistrados a quem serve (papel assessor)")
    for label, own_shown, served_shown in (("Magistrado(a)", True, False),
                                           ("Assessor(a)", False, True),
                                           ("Corregedoria", False, False),
                                           ("Administração", False, False)):
        role.select_option(label=label)
        expect(own).to_be_visible() if own_shown else expect(own).to_be_hidden()
        expect(served).to_be_visible() if served_shown else expect(served).to_be_hidden()
    # An assistant's ticks are not sent once the role became the Corregedoria's.
    role.select_option(label="Assessor(a)")
    served.locator("input[name=assists]").first.check()
    role.select_option(label="Corregedoria")
    form.get_by_label("Nome", exact=True).fill("Rui Corregedor")
    form.get_by_label("E-mail", exact=True).fill("rui.corregedor@tjmt.jus.br")
    form.get_by_role("button", name="Criar e enviar o convite").click()
    expect(page.get_by_role("status")).to_contain_text("rui.corregedor@tjmt.jus.br")
    page.get_by_role("link", name="Rui Corregedor").click()
    expect(page.get_by_role("main")).to_contain_text("Corregedoria · ativa")
    expect(page.get_by_label("Magistrado(a) da conta (papel magistrado)")).to_be_hidden()


def test_a_units_channels_are_edited_one_field_under_the_other_on_a_phone(site, page):
    """Each channel's three inputs under their own labels, as wide as the form: they ran
    together in one line with the next channel's labels."""
    sign_in(page, site, "admin@demo.tjmt.jus.br", "demo-admin-2027")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(site.url + "/equipe/diretorio/unidades/1")
    group = page.get_by_role("group", name="Canal 1", exact=True)
    width = group.bounding_box()["width"]
    for label in ("Tipo", "Endereço ou número", "Horário"):
        field = group.get_by_label(label)
        assert field.bounding_box()["width"] >= width - 1, label
        above = group.locator("label", has_text=label).bounding_box()
        assert above["y"] + above["height"] <= field.bounding_box()["y"], label


def test_a_magistrate_signs_in_with_the_court_login(oidc_site, page, snap):
    page.goto(oidc_site.url + "/entrar")
    page.get_by_role("link", name="Entrar com a conta do tribunal").click()
    page.locator("input[name=login]").fill("magistrado")
    page.locator("input[name=password]").fill("senha-do-tribunal")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Olá")
    snap(page, "entrou-pelo-tribunal")
    page.get_by_role("link", name="atendimentos do dia").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Atendimentos")
    page.get_by_role("button", name="Sair").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider's own page
    page.wait_for_url(re.compile(r"^" + re.escape(oidc_site.url) + r"/?$"))
    page.goto(oidc_site.url + "/equipe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acesso da equipe")
