"""The OpenAPI document is generated from the schemas, valid, and complete."""

import re

from openapi_spec_validator import validate


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_api_route_is_documented(app, client):
    spec = client.get("/api/openapi.json").get_json()
    documented = {(path, method.upper()) for path, item in spec["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is missing from the spec"


def test_errors_are_documented_as_problems(client):
    spec = client.get("/api/openapi.json").get_json()
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_docs_page_is_served_without_any_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200



def test_rate_limited_routes_document_their_429(app, client):
    """Every API operation under a Flask-Limiter limit says so, so a client can plan for it."""
    from flask_limiter._limits import RouteLimit

    spec = client.get("/api/openapi.json").get_json()
    limited = set()
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for limit in getattr(view_class, "decorators", []):
            if isinstance(limit, RouteLimit):
                methods = limit.methods or (rule.methods - {"HEAD", "OPTIONS"})
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
                limited |= {(path, method.lower()) for method in methods}
    documented = {(path, method) for path, operations in spec["paths"].items()
                  for method, operation in operations.items()
                  if method != "parameters" and "429" in operation["responses"]}
    assert len(limited) >= 6
    assert limited - documented == set()
