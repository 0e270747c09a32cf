"""A court goes live with its own data: the first admin, the directory imported from its
spreadsheets (the sample in docs/diretorio-exemplo/ is state-sized), re-imported, exported,
a file with mistakes refused whole, and the admin's API for single changes."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from booking.accounts.models import AccountLink, User
from booking.courts.models import Channel, Comarca, Magistrate, Unit
from booking.extensions import db
from tests.support.factories import DIRECT, PASSWORD, bearer, make_rules, make_staff, staff_token

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "diretorio-exemplo"


def counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Comarca, Unit, Channel, Magistrate)}


@pytest.fixture
def production_app(database_url, tmp_path):
    """Configured as production is (no demo, secure cookies), on an empty migrated database."""
    from tests.conftest import make_app

    app = make_app(database_url, ENV="production", SESSION_COOKIE_SECURE=True,
                   PUBLIC_BASE_URL="https://agendamento.tjmt.jus.br",
                   SCHEDULER_LOCK_FILE=str(tmp_path / "scheduler.lock"))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_court_goes_live_from_an_empty_database(production_app, tmp_path):
    app, cli = production_app, production_app.test_cli_runner()
    assert "demo" in cli.invoke(args=["demo"]).output  # refused in production
    created = cli.invoke(args=["users", "create-admin", "--email", "ti@tjmt.jus.br",
                               "--name", "Equipe de TI"])
    assert created.exit_code == 0, created.output
    link = re.search(r"https://agendamento\.tjmt\.jus\.br/definir-senha\?token=\S+",
                     created.output)
    assert link, created.output
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "ti@tjmt.jus.br"))
        assert admin.role == "admin" and admin.password_hash is None
        assert db.session.scalar(select(func.count()).select_from(AccountLink)) == 1
        assert counts() == {"comarca": 0, "unit": 0, "channel": 0, "magistrate": 0}

    dry = cli.invoke(args=["directory", "import", str(SAMPLE), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    # 79 comarcas, 300 units, 300 units' channel sets, 400 magistrates
    assert "Simulação: 1079 a criar" in dry.output
    with app.app_context():
        assert counts()["unit"] == 0  # a dry run writes nothing

    applied = cli.invoke(args=["directory", "import", str(SAMPLE)])
    assert applied.exit_code == 0, applied.output
    print(applied.output.splitlines()[-1])  # the time it took, for the record
    with app.app_context():
        assert counts() == {"comarca": 79, "unit": 300, "channel": 900, "magistrate": 400}

    client = app.test_client()
    portal = client.get("/?busca=Vara+C%C3%ADvel&comarca=Sinop").get_data(as_text=True)
    assert "1ª Vara Cível de Sinop" in portal
    with app.app_context():
        magistrate = db.session.scalar(select(Magistrate).where(
            Magistrate.email == "magistrado1@exemplo.tjmt.jus.br"))
        make_rules(magistrate)
        db.session.commit()
        magistrate_id = magistrate.id
    agenda = client.get(f"/magistrados/{magistrate_id}/agenda").get_data(as_text=True)
    assert 'class="slot-time"' in agenda

    again = cli.invoke(args=["directory", "import", str(SAMPLE)])
    assert again.exit_code == 0, again.output
    assert "0 a criar, 0 a alterar, 0 a desativar, 1079 sem mudança" in again.output

    # An edited copy with two mistakes: both listed, and not even the good rows applied.
    edited = (SAMPLE / "magistrados.csv").read_text(encoding="utf-8-sig").splitlines()
    edited[1] = edited[1].replace("Juiz", "Juiz Titular", 1).replace("Juíza", "Juíza Titular", 1)
    edited[2] = edited[2].replace("MT0", "XX0", 1)
    edited[3] = edited[3].replace("@", "", 1)
    path = tmp_path / "magistrados.csv"
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    refused = cli.invoke(args=["directory", "import", str(path)])
    assert refused.exit_code != 0
    assert "magistrados.csv, linha 3, coluna “codigo_unidade”" in refused.output
    assert "magistrados.csv, linha 4, coluna “email”" in refused.output
    assert "2 erro(s); nada foi importado." in refused.output
    with app.app_context():
        titles = set(db.session.scalars(select(Magistrate.title)))
        assert not any("Titular" in title for title in titles)


def write_csv(folder: Path, name: str, text: str, encoding="utf-8-sig") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_file_with_mistakes_lists_every_error_and_applies_nothing(app, tmp_path):
    write_csv(tmp_path, "comarcas.csv", "nome;codigo_foro\nCuiabá;0041\nSinop;41\nCuiabá;0042\n")
    write_csv(tmp_path, "unidades.csv",
              "codigo;nome;comarca;grau;email\n"
              "U1;1ª Vara Cível;Cuiabá;1;vara@tjmt.jus.br\n"
              "U2;Vara <script>alert(1)</script>;Atlântida;3;não-é-email\n"
              "U1;Repetida;Cuiabá;1;\n")
    write_csv(tmp_path, "canais.csv", "codigo_unidade;tipo;valor\nU1;fax;123\nU9;telefone;(65) 3648-6000\n"
              "U1;telefone;123\n", encoding="cp1252")
    write_csv(tmp_path, "magistrados.csv", "email;nome;cargo;codigo_unidade;fuso\n"
              "ana@tjmt.jus.br;Ana;Juíza de Direito;U7;America/Cuiaba\n"
              "joão\x0c@tjmt.jus.br;João;Juiz;U1;Lua/Base\n")
    result = app.test_cli_runner().invoke(args=["directory", "import", str(tmp_path)])
    assert result.exit_code != 0
    errors = result.output
    for expected in (
        "comarcas.csv, linha 3, coluna “codigo_foro”",
        "comarcas.csv, linha 4, coluna “nome”: comarca repetida",
        "unidades.csv, linha 3, coluna “grau”",
        "unidades.csv, linha 3, coluna “comarca”: comarca desconhecida: Atlântida",
        "unidades.csv, linha 3, coluna “email”",
        "unidades.csv, linha 4, coluna “codigo”: código repetido",
        "canais.csv, linha 2, coluna “tipo”: tipo de canal desconhecido: fax",
        "canais.csv, linha 3, coluna “codigo_unidade”: unidade desconhecida: U9",
        "canais.csv, linha 4, coluna “valor”: telefone inválido",
        "magistrados.csv, linha 2, coluna “codigo_unidade”: unidade desconhecida: U7",
        "magistrados.csv, linha 3, coluna “email”",
        "magistrados.csv, linha 3, coluna “fuso”",
        "12 erro(s); nada foi importado.",
    ):
        assert expected in errors, expected
    with app.app_context():
        assert counts() == {"comarca": 0, "unit": 0, "channel": 0, "magistrate": 0}


def test_files_that_lie_or_overflow_are_refused_whole(app, tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"%PDF-1.7 not a workbook")
    cli = app.test_cli_runner()
    assert "não é de uma planilha XLSX" in cli.invoke(
        args=["directory", "import", str(tmp_path / "a.xlsx")]).output
    (tmp_path / "b.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert "não é um CSV de texto" in cli.invoke(
        args=["directory", "import", str(tmp_path / "b.csv")]).output
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "comarcas"
    sheet.append(["nome", "codigo_foro"])
    sheet.append(["=HYPERLINK(\"http://x\")", "0001"])
    workbook.save(tmp_path / "c.xlsx")
    assert "fórmulas não são aceitas" in cli.invoke(
        args=["directory", "import", str(tmp_path / "c.xlsx")]).output
    many = "nome\n" + "".join(f"Comarca {i}\n" for i in range(100_001))
    (tmp_path / "d.csv").write_text(many, encoding="utf-8")
    assert "mais de 20000 linhas" in cli.invoke(
        args=["directory", "import", str(tmp_path / "d.csv")]).output
    with app.app_context():
        assert counts()["comarca"] == 0


def test_export_edit_import_round_trips_through_xlsx(app, tmp_path):
    cli = app.test_cli_runner()
    assert cli.invoke(args=["directory", "import", str(SAMPLE)]).exit_code == 0
    assert cli.invoke(args=["directory", "export", str(tmp_path / "d.xlsx")]).exit_code == 0
    workbook = load_workbook(tmp_path / "d.xlsx")
    assert [ws.title for ws in workbook.worksheets] == ["comarcas", "unidades", "canais",
                                                       "magistrados"]
    units = workbook["unidades"]
    units.cell(row=2, column=2, value="1ª Vara Cível de Cuiabá (renomeada)")
    units.cell(row=3, column=7, value="não")
    workbook.save(tmp_path / "d.xlsx")
    result = cli.invoke(args=["directory", "import", str(tmp_path / "d.xlsx")])
    assert result.exit_code == 0, result.output
    assert "1 a alterar, 1 a desativar" in result.output
    with app.app_context():
        renamed = db.session.scalar(select(Unit).where(Unit.code == "MT00001"))
        assert renamed.name == "1ª Vara Cível de Cuiabá (renomeada)"
        assert db.session.scalar(select(Unit).where(Unit.code == "MT00002")).is_active is False


def test_import_and_export_through_the_admin_api(app, client, tmp_path):
    with app.app_context():
        admin = staff_token(make_staff("admin"))
        magistrate_token = staff_token(make_staff("corregedoria"))
        db.session.commit()
    files = [(io.BytesIO((SAMPLE / f"{k}.csv").read_bytes()), f"{k}.csv")
             for k in ("comarcas", "unidades", "canais", "magistrados")]
    refused = client.post("/api/v1/admin/directory/import", headers=bearer(magistrate_token),
                          data={"files": files[:1]}, content_type="multipart/form-data")
    assert refused.status_code == 403
    files = [(io.BytesIO((SAMPLE / f"{k}.csv").read_bytes()), f"{k}.csv")
             for k in ("comarcas", "unidades", "canais", "magistrados")]
    dry = client.post("/api/v1/admin/directory/import?dry_run=true", headers=bearer(admin),
                      data={"files": files}, content_type="multipart/form-data")
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["applied"] is False and dry.get_json()["summary"]["create"] == 1079
    bad = client.post("/api/v1/admin/directory/import", headers=bearer(admin),
                      data={"files": [(io.BytesIO(b"nome;codigo_foro\nX;12\n"), "c.csv")]},
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert bad.get_json()["errors"] == {"files": [
        "c.csv, linha 2, coluna “codigo_foro”: use os quatro dígitos do foro, como 0041."]}
    export = client.get("/api/v1/admin/directory/export?format=csv&kind=comarcas",
                        headers=bearer(admin))
    assert export.status_code == 200 and export.mimetype == "text/csv"


def test_admin_moves_and_retires_a_magistrate_keeping_or_cancelling_bookings(app, client):
    with app.app_context():
        admin = staff_token(make_staff("admin"))
        db.session.commit()
    headers = bearer(admin)
    comarca = client.post("/api/v1/admin/comarcas", headers=headers,
                          json={"name": "Cuiabá", "foro_code": "0041"}).get_json()
    unit = client.post("/api/v1/admin/units", headers=headers, json={
        "code": "C1", "name": "1ª Vara Cível de Cuiabá", "comarca_id": comarca["id"],
        "instance": 1, "office_email": "vara@tjmt.jus.br"}).get_json()
    other = client.post("/api/v1/admin/units", headers=headers, json={
        "code": "C2", "name": "2ª Vara Cível de Cuiabá", "comarca_id": comarca["id"],
        "instance": 1}).get_json()
    channels = client.put(f"/api/v1/admin/units/{unit['id']}/channels", headers=headers, json={
        "channels": [{"kind": "phone", "value": "(65) 3648-6000", "hours": "12h às 19h"}]})
    assert channels.status_code == 200 and channels.get_json()[0]["kind"] == "phone"
    judge = client.post("/api/v1/admin/magistrates", headers=headers, json={
        "name": "<script>Ana</script>", "title": "Juíza de Direito", "email": "Ana@TJMT.jus.br",
        "unit_id": unit["id"]})
    assert judge.status_code == 201 and judge.get_json()["email"] == "ana@tjmt.jus.br"
    judge = judge.get_json()
    page = client.get(f"/unidades/{unit['id']}").get_data(as_text=True)
    assert "&lt;script&gt;Ana&lt;/script&gt;" in page and "<script>Ana" not in page
    with app.app_context():
        make_rules(db.session.get(Magistrate, judge["id"]))
        db.session.commit()
    slots = client.get(f"/api/v1/magistrates/{judge['id']}/slots").get_json()
    from tests.test_bookings_api import form

    booked = client.post("/api/v1/bookings", headers=DIRECT,
                         json=form({"judge": judge["id"], "slots": slots}))
    assert booked.status_code == 201, booked.get_json()
    moved = client.patch(f"/api/v1/admin/magistrates/{judge['id']}", headers=headers,
                         json={"unit_id": other["id"], "future_bookings": "keep"})
    assert moved.status_code == 200 and moved.get_json() == {"cancelled_bookings": 0}
    no_reason = client.patch(f"/api/v1/admin/magistrates/{judge['id']}", headers=headers,
                             json={"is_active": False, "future_bookings": "cancel"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    retired = client.patch(f"/api/v1/admin/magistrates/{judge['id']}", headers=headers, json={
        "is_active": False, "future_bookings": "cancel", "reason": "Aposentadoria da juíza."})
    assert retired.get_json() == {"cancelled_bookings": 1}
    booking = client.get(f"/api/v1/bookings/{booked.get_json()['id']}",
                         headers=bearer(booked.get_json()["manage_token"])).get_json()
    assert booking["status"] == "cancelled" and booking["cancel_reason"] == "Aposentadoria da juíza."
    assert client.get(f"/api/v1/magistrates/{judge['id']}").status_code == 404
    gone = client.get(f"/magistrados/{judge['id']}/agenda")
    assert gone.status_code == 404 and "não recebe agendamentos" in gone.get_data(as_text=True)
    assert client.get(f"/api/v1/admin/magistrates/{judge['id']}", headers=headers).status_code == 200


def test_the_admin_pages_import_with_a_dry_run_and_edit_a_unit(app, client):
    with app.app_context():
        make_staff("admin")
        db.session.commit()
    client.log_in("admin@example.jus.br", PASSWORD)
    files = [(io.BytesIO((SAMPLE / f"{k}.csv").read_bytes()), f"{k}.csv")
             for k in ("comarcas", "unidades", "canais", "magistrados")]
    dry = client.post("/equipe/diretorio/importar", data={"files": files, "dry_run": "sim"},
                      content_type="multipart/form-data")
    assert dry.status_code == 200 and "1079 a criar" in dry.get_data(as_text=True)
    with app.app_context():
        assert counts()["unit"] == 0
    files = [(io.BytesIO((SAMPLE / f"{k}.csv").read_bytes()), f"{k}.csv")
             for k in ("comarcas", "unidades", "canais", "magistrados")]
    applied = client.post("/equipe/diretorio/importar", data={"files": files},
                          content_type="multipart/form-data")
    assert applied.status_code == 302
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == "MT00001"))
        unit_id, comarca_id = unit.id, unit.comarca_id
    form = client.get(f"/equipe/diretorio/unidades/{unit_id}").get_data(as_text=True)
    assert 'value="MT00001"' in form and 'Canal 3: </span>Tipo' in form
    bad = client.post(f"/equipe/diretorio/unidades/{unit_id}", data={
        "code": "MT00001", "name": "1ª Vara Cível de Cuiabá", "comarca_id": str(comarca_id),
        "instance": "1", "is_active": "sim", "channel_kind_0": "phone", "channel_value_0": ""})
    assert bad.status_code == 422 and 'id="channel_value_0-erro"' in bad.get_data(as_text=True)
    assert re.search(r'<input id="channel_value_0"[^>]*aria-invalid="true"[^>]*'
                     r'aria-describedby="channel_value_0-erro"', bad.get_data(as_text=True))
    saved = client.post(f"/equipe/diretorio/unidades/{unit_id}", data={
        "code": "MT00001", "name": "1ª Vara Cível de Cuiabá", "comarca_id": str(comarca_id),
        "instance": "1", "is_active": "nao", "future_bookings": "keep",
        "channel_kind_0": "whatsapp", "channel_value_0": "(65) 99999-1234"})
    assert saved.status_code == 302
    with app.app_context():
        unit = db.session.get(Unit, unit_id)
        assert unit.is_active is False and [c.kind for c in unit.channels] == ["whatsapp"]
    assert client.get(f"/unidades/{unit_id}").status_code == 404
    export = client.get("/equipe/diretorio/exportar.csv?tipo=magistrados")
    assert export.status_code == 200 and "magistrado1@exemplo.tjmt.jus.br" in export.get_data(
        as_text=True)


def test_the_admin_finds_a_unit_or_a_magistrate_by_words_and_comarca(app, client):
    """A court has hundreds of units and magistrates: the directory's page narrows its lists
    by words typed the way people type (no accents, any order) and by comarca."""
    from tests.support.factories import make_magistrate, make_unit

    with app.app_context():
        make_staff("admin")
        civel = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        criminal = make_unit("2ª Vara Criminal de Cuiabá", "Cuiabá")
        sinop = make_unit("Vara Única de Sinop", "Sinop")
        make_magistrate(unit=civel, name="Ana Cristina Prado")
        make_magistrate(unit=criminal, name="Bruno Lima")
        make_magistrate(unit=sinop, name="Carla Ávila Prado")
        db.session.commit()
        cuiaba_id = civel.comarca_id
    client.log_in("admin@example.jus.br", PASSWORD)

    def found(**query):
        page = client.get("/equipe/diretorio", query_string=query)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        lists = {section: re.findall(r'<li><a href="/equipe/diretorio/[^"]+">([^<]+)</a>',
                                     re.search(rf'id="lista-{section}".*?</section>', html,
                                               re.S).group(0))
                 for section in ("comarcas", "unidades", "magistrados")}
        return lists, html

    everything, html = found()
    assert len(everything["unidades"]) == 3 and "Encontrados" not in html
    by_words, html = found(busca="civel CUIABA")
    assert by_words == {"comarcas": [], "unidades": ["1ª Vara Cível de Cuiabá"],
                        "magistrados": ["Juíza de Direito Ana Cristina Prado"]}
    assert "Encontrados: 0 comarcas, 1 unidade, 1 magistrado." in html
    assert 'value="civel CUIABA"' in html and "Mostrar tudo" in html
    # A magistrate's name finds the magistrate, and the unit where they sit.
    by_person, _ = found(busca="avila prado")
    assert by_person["magistrados"] == ["Juíza de Direito Carla Ávila Prado"]
    assert by_person["unidades"] == ["Vara Única de Sinop"]
    by_comarca, html = found(busca="prado", comarca=str(cuiaba_id))
    assert by_comarca == {"comarcas": [], "unidades": ["1ª Vara Cível de Cuiabá"],
                          "magistrados": ["Juíza de Direito Ana Cristina Prado"]}
    assert f'<option value="{cuiaba_id}" selected>' in html
    assert found(busca="cuiabá")[0]["comarcas"] == ["Cuiabá"]
    nothing, html = found(busca="inexistente")
    assert nothing == {"comarcas": [], "unidades": [], "magistrados": []}
    assert "Nenhuma unidade com essa busca." in html
    # An unknown comarca, or a very long search, is no error: the lists as far as they go.
    assert found(comarca="99999")[0] == everything
    assert found(busca="x" * 5000)[0]["unidades"] == []


def test_the_admin_api_lists_the_directory_a_page_at_a_time(app, client):
    """The API's lists are paged (?page, ?per_page up to 100, the total in X-Total-Count):
    a country's directory has thousands of units and tens of thousands of magistrates. The
    admin narrows them as on the directory's page, by words, comarca, unit and whether
    active."""
    from tests.support.factories import make_magistrate, make_unit

    with app.app_context():
        token = staff_token(make_staff("admin"))
        civel = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        criminal = make_unit("2ª Vara Criminal de Cuiabá", "Cuiabá")
        sinop = make_unit("Vara Única de Sinop", "Sinop")
        sinop.is_active = False
        make_magistrate(unit=civel, name="Ana Cristina Prado")
        make_magistrate(unit=criminal, name="Bruno Lima")
        make_magistrate(unit=criminal, name="Beatriz Lima")
        retired = make_magistrate(unit=sinop, name="Carla Ávila Prado")
        retired.is_active = False
        db.session.commit()
        ids = {"cuiaba": civel.comarca_id, "sinop": sinop.comarca_id,
               "criminal": criminal.id}
    headers = bearer(token)

    def names(path, **query):
        answer = client.get(f"/api/v1/admin/{path}", headers=headers, query_string=query)
        assert answer.status_code == 200, answer.get_json()
        return [item["name"] for item in answer.get_json()], int(answer.headers["X-Total-Count"])

    assert names("magistrates", per_page=2) == (["Ana Cristina Prado", "Beatriz Lima"], 4)
    assert names("magistrates", per_page=2, page=2) == (["Bruno Lima", "Carla Ávila Prado"], 4)
    assert names("magistrates", per_page=2, page=3) == ([], 4)
    assert names("magistrates", q="avila PRADO") == (["Carla Ávila Prado"], 1)
    assert names("magistrates", q="prado", is_active="true") == (["Ana Cristina Prado"], 1)
    assert names("magistrates", q="criminal") == (["Beatriz Lima", "Bruno Lima"], 2)
    assert names("magistrates", unit_id=ids["criminal"], per_page=1) == (["Beatriz Lima"], 2)
    assert names("magistrates", comarca_id=ids["sinop"]) == (["Carla Ávila Prado"], 1)
    assert names("units", per_page=2) == (["1ª Vara Cível de Cuiabá",
                                           "2ª Vara Criminal de Cuiabá"], 3)
    assert names("units", per_page=2, page=2) == (["Vara Única de Sinop"], 3)
    assert names("units", is_active="false") == (["Vara Única de Sinop"], 1)
    assert names("units", q="lima") == (["2ª Vara Criminal de Cuiabá"], 1)
    assert names("units", comarca_id=ids["cuiaba"], q="civel") == (
        ["1ª Vara Cível de Cuiabá"], 1)
    assert names("comarcas") == (["Cuiabá", "Sinop"], 2)
    assert names("comarcas", q="cuiaba", per_page=1) == (["Cuiabá"], 1)
    assert names("comarcas", per_page=1, page=2) == (["Sinop"], 2)

    for path, query in (("magistrates", {"per_page": 101}), ("units", {"page": 0}),
                        ("comarcas", {"is_active": "talvez"}),
                        ("magistrates", {"unit_id": "9" * 30}), ("units", {"q": "x" * 101})):
        refused = client.get(f"/api/v1/admin/{path}", headers=headers, query_string=query)
        assert refused.status_code == 422, (path, query)
        assert refused.mimetype == "application/problem+json"
        assert set(refused.get_json()["errors"]) == set(query)


def test_the_directory_page_lists_units_and_magistrates_a_page_at_a_time(app, client):
    """A state's directory (the sample: 300 units, 400 magistrates) is no page of 700 links:
    each list has its own pages, which keep the search and the other list's page."""
    imported = app.test_cli_runner().invoke(args=["directory", "import", str(SAMPLE)])
    assert imported.exit_code == 0, imported.output
    with app.app_context():
        make_staff("admin")
        db.session.commit()
    client.log_in("admin@example.jus.br", PASSWORD)

    def listed(html: str, section: str) -> list[str]:
        part = re.search(rf'id="lista-{section}".*?</section>', html, re.S).group(0)
        return re.findall(r'<li><a href="/equipe/diretorio/[^"]+">([^<]+)</a>', part)

    def next_page(html: str, section: str) -> str:
        part = re.search(rf'id="lista-{section}".*?</section>', html, re.S).group(0)
        return re.search(r'<a href="([^"]+)">Próxima página</a>', part).group(1).replace(
            "&amp;", "&")

    first = client.get("/equipe/diretorio").get_data(as_text=True)
    assert "79 comarcas, 300 unidades, 400 magistrados." in first
    assert len(listed(first, "comarcas")) == 79
    assert len(listed(first, "unidades")) == 100 and len(listed(first, "magistrados")) == 100
    assert 'aria-label="Páginas das unidades"' in first and "Página 1 de 3" in first
    assert 'aria-label="Páginas dos magistrados"' in first and "Página 1 de 4" in first

    link = next_page(first, "magistrados")
    assert link.endswith("#lista-magistrados") and "pagina_magistrados=2" in link
    second = client.get(link).get_data(as_text=True)
    assert listed(second, "unidades") == listed(first, "unidades")
    assert set(listed(second, "magistrados")).isdisjoint(listed(first, "magistrados"))
    # Turning the units' page keeps the magistrates' page.
    both = client.get(next_page(second, "unidades")).get_data(as_text=True)
    assert listed(both, "magistrados") == listed(second, "magistrados")
    assert set(listed(both, "unidades")).isdisjoint(listed(first, "unidades"))
    assert "Página 2 de 3" in both and "Página 2 de 4" in both

    # A search is paged the same way, its counts over every page, and its words kept.
    searched = client.get("/equipe/diretorio", query_string={"busca": "vara"}).get_data(
        as_text=True)
    total = int(re.search(r"Encontrados: \d+ comarcas?, (\d+) unidades?", searched).group(1))
    assert total > 100 and len(listed(searched, "unidades")) == 100
    assert "busca=vara" in next_page(searched, "unidades")
    # A page past the last, or not a number, is no error.
    past = client.get("/equipe/diretorio?pagina_unidades=99&pagina_magistrados=abc")
    assert past.status_code == 200
    assert listed(past.get_data(as_text=True), "unidades") == []
    assert listed(past.get_data(as_text=True), "magistrados") == listed(first, "magistrados")


def test_the_unit_form_asks_for_the_comarca_in_reading_order(app, client):
    """A new unit's comarca is chosen, not defaulted to the first of the list; the comarcas
    come as people read them, a deactivated one (being prepared) offered and marked so."""
    from tests.support.factories import make_unit

    with app.app_context():
        make_staff("admin")
        unit = make_unit("Vara Única de Vila Rica", comarca="Vila Rica")
        make_unit("Vara Única de Água Boa", comarca="Água Boa")
        nova = Comarca(name="Nova Xavantina", is_active=False)
        db.session.add(nova)
        db.session.commit()
        ids = {"unit": unit.id, "vila_rica": unit.comarca_id, "nova": nova.id}
    client.log_in("admin@example.jus.br", PASSWORD)
    new = client.get("/equipe/diretorio/unidades/nova").get_data(as_text=True)
    select_html = re.search(r'<select id="comarca_id".*?</select>', new, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]+)</option>", select_html) == [
        "Escolha a comarca", "Água Boa", "Nova Xavantina (inativa)", "Vila Rica"]
    assert "selected" not in select_html
    unchosen = client.post("/equipe/diretorio/unidades/nova", data={
        "code": "9999", "name": "Vara Única de Nova Xavantina", "comarca_id": "",
        "instance": "1", "is_active": "sim"})
    html = unchosen.get_data(as_text=True)
    assert unchosen.status_code == 422
    assert re.search(r'id="comarca_id-erro"[^>]*>Campo obrigatório', html)
    assert 'value="Vara Única de Nova Xavantina"' in html  # what was typed stays
    chosen = client.post("/equipe/diretorio/unidades/nova", data={
        "code": "9999", "name": "Vara Única de Nova Xavantina", "comarca_id": str(ids["nova"]),
        "instance": "1", "is_active": "sim"})
    assert chosen.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Unit.comarca_id).where(Unit.code == "9999")) == ids["nova"]
    # A unit's own comarca comes chosen.
    form = client.get(f"/equipe/diretorio/unidades/{ids['unit']}").get_data(as_text=True)
    assert re.search(rf'<option value="{ids["vila_rica"]}" selected>Vila Rica</option>', form)


def test_the_magistrate_form_offers_units_by_comarca_and_keeps_a_deactivated_one(app, client):
    """Unit names repeat from one comarca to the next, so the choice is grouped by comarca;
    a magistrate whose unit was deactivated since keeps it chosen on the form (a select
    without it would send the first unit of the list, moving them there unasked); a new
    magistrate's unit is chosen, not defaulted to the first."""
    from tests.support.factories import make_magistrate, make_unit

    with app.app_context():
        make_staff("admin")
        agua_boa = make_unit("Vara Única de Água Boa", comarca="Água Boa")
        closed = make_unit("2ª Vara Cível de Cuiabá")
        make_unit("Vara Única de Vila Rica", comarca="Vila Rica")
        magistrate = make_magistrate(closed, name="Rui Fechado")
        closed.is_active = False
        db.session.commit()
        ids = {"agua_boa": agua_boa.id, "closed": closed.id, "magistrate": magistrate.id}
    client.log_in("admin@example.jus.br", PASSWORD)
    form = client.get(f"/equipe/diretorio/magistrados/{ids['magistrate']}").get_data(
        as_text=True)
    select_html = re.search(r'<select id="unit_id".*?</select>', form, re.S).group(0)
    assert [g for g in re.findall(r'<optgroup label="([^"]+)"', select_html)] == [
        "Água Boa", "Cuiabá", "Vila Rica"]  # as people read them, not by bytes
    assert re.search(rf'<option value="{ids["closed"]}" selected>2ª Vara Cível de Cuiabá '
                     r'\(inativa\)</option>', select_html)
    kept = client.post(f"/equipe/diretorio/magistrados/{ids['magistrate']}", data={
        "name": "Rui Fechado", "title": "Juiz de Direito", "email": "rui@example.jus.br",
        "unit_id": str(ids["closed"]), "timezone": "America/Cuiaba", "publishes_agenda": "sim",
        "is_active": "sim", "future_bookings": "keep"})
    assert kept.status_code == 302
    with app.app_context():
        assert db.session.get(Magistrate, ids["magistrate"]).unit_id == ids["closed"]

    new = client.get("/equipe/diretorio/magistrados/novo").get_data(as_text=True)
    select_html = re.search(r'<select id="unit_id".*?</select>', new, re.S).group(0)
    assert re.search(r'<option value="" >Escolha a unidade</option>', select_html)
    assert "inativa" not in select_html and f'value="{ids["closed"]}"' not in select_html
    unchosen = client.post("/equipe/diretorio/magistrados/novo", data={
        "name": "Nova Juíza", "title": "Juíza de Direito", "email": "nova@example.jus.br",
        "unit_id": "", "timezone": "America/Cuiaba", "publishes_agenda": "sim",
        "is_active": "sim"})
    html = unchosen.get_data(as_text=True)
    assert unchosen.status_code == 422
    assert re.search(r'id="unit_id-erro"[^>]*>Campo obrigatório', html)
    assert 'value="Nova Juíza"' in html  # what was typed stays
