"""Every API error is problem+json in Portuguese; pages get a Portuguese error page."""

import pytest

from booking.errors import flatten_errors

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_api_path_is_problem_404(client):
    body = assert_problem(client.get("/api/v1/does-not-exist"), 404)
    assert body["title"] == "Não encontrado"


def test_unknown_id_is_problem_404(client):
    body = assert_problem(client.get("/api/v1/units/999999"), 404)
    assert body["detail"] == "Unidade não encontrada."


def test_wrong_method_is_problem_405_with_allow(client):
    response = client.delete("/api/v1/units")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_problem_400(client):
    response = client.post("/api/v1/auth/token", data='{"email": ',
                           content_type="application/json")
    assert_problem(response, 400)


def test_wrong_content_type_is_problem_415(client):
    response = client.post("/api/v1/auth/token", data="email=a&password=b",
                           content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415)


def test_body_too_large_is_problem_413(client, app):
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post("/api/v1/auth/token", data=b"x" * size,
                           content_type="application/json")
    assert_problem(response, 413)


def test_validation_failure_is_422_with_messages_per_field(client):
    response = client.post("/api/v1/auth/token", json={"email": 12, "extra": True})
    body = assert_problem(response, 422)
    assert body["errors"] == {
        "email": ["Deve ser um texto."],
        "password": ["Campo obrigatório."],
        "extra": ["Campo desconhecido."],
    }


def test_invalid_query_argument_is_422(client):
    body = assert_problem(client.get("/api/v1/units?per_page=101"), 422)
    assert body["errors"] == {"per_page": ["Deve estar entre 1 e 100."]}


def test_unexpected_exception_is_problem_500_without_trace(app, caplog):
    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internal detail")

    @app.get("/_boom_page")
    def boom_page():
        raise RuntimeError("secret internal detail")

    client = app.test_client()
    response = client.get("/api/v1/_boom")
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["title"] == "Erro interno"
    page = client.get("/_boom_page")
    assert page.status_code == 500
    assert page.mimetype == "text/html"
    assert "secret internal detail" not in page.get_data(as_text=True)
    assert "erro inesperado" in page.get_data(as_text=True)
    assert "secret internal detail" in caplog.text  # it is logged for the operators


def test_html_404_is_a_portuguese_page(client):
    response = client.get("/pagina-que-nao-existe")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Não encontrado" in response.get_data(as_text=True)


@pytest.mark.parametrize("messages, expected", [
    ({"json": {"lawyer": {"oab": ["Inválido."]}, "mode": ["Obrigatório."]}},
     {"lawyer.oab": ["Inválido."], "mode": ["Obrigatório."]}),
    ({"query": {"from": ["Data inválida."]}}, {"from": ["Data inválida."]}),
    ({"json": {"_schema": ["Fim antes do início."]}}, {"_schema": ["Fim antes do início."]}),
    ({"json": {"items": {0: {"name": ["Obrigatório."]}}}}, {"items.0.name": ["Obrigatório."]}),
])
def test_flatten_errors(messages, expected):
    assert flatten_errors(messages) == expected


def test_text_no_database_can_store_is_refused_per_field(client):
    body = '{"email": "a\\u0000b@example.com", "password": "x\\ud800y"}'
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    problem = assert_problem(response, 422)
    assert set(problem["errors"]) == {"email", "password"}
    assert assert_problem(client.get("/api/v1/units?q=a%00b"), 422)["errors"] == {
        "q": ["O texto contém caracteres inválidos."]}
    assert client.get("/?busca=a%00b").status_code == 400
    # An escape in capitals, a surrogate's raw bytes (Python's parser lets them through) and
    # a body in UTF-16 (which JSON parsers also read), alike.
    loud = '{"email": "a@example.com", "password": "x\\uDBFFy"}'
    raw_surrogate = b'{"email": "a@example.com", "password": "x\xed\xa0\x80y"}'
    for raw, fields in ((loud.encode(), {"password"}), (raw_surrogate, {"password"}),
                        (body.encode("utf-16"), {"email", "password"})):
        response = client.post("/api/v1/auth/token", data=raw, content_type="application/json")
        assert set(assert_problem(response, 422)["errors"]) == fields


def test_a_query_string_that_is_not_utf8_is_refused(client):
    raw = "q=" + b"\xed\xa0\x80".decode("latin-1")  # how a WSGI server hands over raw bytes
    problem = assert_problem(client.get("/api/v1/units", environ_overrides={"QUERY_STRING": raw}),
                             422)
    assert problem["errors"] == {"_query": ["O texto contém caracteres inválidos."]}
    assert client.get("/", environ_overrides={"QUERY_STRING": raw}).status_code == 400
