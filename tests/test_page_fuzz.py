"""Hypothesis against the HTML pages: every page, as the public and as each staff role,
with its query parameters (and its ids) at the extremes: dates of year 1 and 9999, instants
with huge offsets, integers of 30 digits, control characters. None may answer 5xx.

Schemathesis covers the API (test_fuzz.py); the pages have no OpenAPI, so their inputs come
from the names the views read (PARAMS) and the app's own URL map.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.extensions import db
from tests.support.factories import (
    PASSWORD,
    make_magistrate,
    make_rules,
    make_staff,
)

pytestmark = pytest.mark.slow

# Every query parameter a page reads (grep request.args and page_number in the views).
PARAMS = ["busca", "comarca", "pagina", "semana", "dia", "visao", "inicio", "de", "ate",
          "situacao", "canal", "tipo", "unidade", "destinatario", "protocolo", "token",
          "proximo", "status", "magistrado", "numero", "codigo", "papel"]
# The API has schemathesis; the probes answer 503 by design; /metrics only a scraper
# reads (tests/test_metrics.py); OIDC needs the provider.
SKIPPED = ("/api", "/static", "/healthz", "/readyz", "/metrics", "/entrar/tribunal")
ROLES = ["public", "magistrate", "assistant", "corregedoria", "admin"]


def instant(day: date, minutes: int, offset_minutes: int) -> str:
    sign = "-" if offset_minutes < 0 else "+"
    hours, mins = divmod(abs(offset_minutes), 60)
    return f"{day.isoformat()}T{minutes // 60 % 24:02d}:{minutes % 60:02d}:00{sign}{hours:02d}:{mins:02d}"


# The edges every page meets at least once, each sent in every parameter at the same time.
BOUNDARIES = ["9" * 25, "9" * 30, "-1", "-0", "0", "", "2026-W53", "9999-W99", "1e309", "NaN",
              "2026-02-30", "2026-13-01", "../../etc/passwd", "\x00\x1f\u202e", "9999-12-31",
              "9999-12-27", "0001-01-01", "1999-12-31", "2101-01-01",
              "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
              "2026-12-31T23:59:59+99:99"]

EXTREME = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.builds(instant, st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
              st.integers(0, 1439), st.integers(-10**6, 10**6)),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(BOUNDARIES),
    st.text(max_size=40),  # any code point, control characters included
)


@pytest.fixture
def court(app):
    with app.app_context():
        judge = make_magistrate()
        make_rules(judge)
        people = {"magistrate": make_staff("magistrate", magistrate_id=judge.id),
                  "assistant": make_staff("assistant", assists=[judge.id]),
                  "corregedoria": make_staff("corregedoria"), "admin": make_staff("admin")}
        db.session.commit()
        ids = {"magistrate_id": judge.id, "unit_id": judge.unit_id,
               "comarca_id": judge.unit.comarca_id, "booking_id": 1, "complaint_id": 1,
               "user_id": people["magistrate"].id, "fmt": "csv", "subscriber_id": 1,
               "entry_id": 1, "closure_id": 1, "attachment_id": 1}
        emails = {role: person.email for role, person in people.items()}
    clients = {"public": app.test_client()}
    for role, email in emails.items():
        clients[role] = app.test_client()
        clients[role].log_in(email, PASSWORD)
    rules = sorted({rule.rule: rule for rule in app.url_map.iter_rules()
                    if "GET" in rule.methods and not rule.rule.startswith(SKIPPED)}.values(),
                   key=lambda rule: rule.rule)
    return {"clients": clients, "ids": ids, "rules": rules, "app": app}


def failures_of(court, role: str, query: dict, ids: dict) -> list[tuple[str, int]]:
    """Every page with this query, as this role: the ones that answered 5xx."""
    failures = []
    for rule in court["rules"]:
        url = fill(rule, ids) + "?" + urlencode(query)
        status = court["clients"][role].get(url).status_code
        if status >= 500:
            failures.append((url, status))
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_every_page_survives_every_boundary_in_every_parameter(court, role):
    failures = [failure for value in BOUNDARIES for failure in
                failures_of(court, role, dict.fromkeys(PARAMS, value), court["ids"])]
    assert failures == []


def fill(rule, ids: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(ids[name])).replace(f"<{name}>", str(ids[name]))
    return path


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_page_answers_5xx_at_the_extremes(court, data):
    """Each example: one role and one set of extreme parameters, sent to every page."""
    role = data.draw(st.sampled_from(ROLES), label="role")
    query = data.draw(st.dictionaries(st.sampled_from(PARAMS), EXTREME, min_size=1,
                                      max_size=len(PARAMS)), label="query")
    ids = data.draw(st.one_of(st.just(court["ids"]), st.fixed_dictionaries(
        {name: st.integers(0, 10**30) for name in court["ids"] if name != "fmt"})), label="ids")
    assert failures_of(court, role, query, {**court["ids"], **ids}) == [], role
