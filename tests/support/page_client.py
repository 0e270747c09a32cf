"""A test client that posts forms as a browser does: with the CSRF token a page gave it.

CSRF protection stays on in the suite. A POST to a page (not /api/) that does not
name its own `csrf_token` gets the one read from a form page of the same session,
the way a browser would have it from the page that holds the form. Pass
`csrf_token=None` in `data` to send a form without one.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.support.authenticator import code_for, fresh_code

TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*\svalue="([^"]+)"')
SECRET_SHOWN = re.compile(r"<code>([A-Z2-7]{16,})</code>")
# The TOTP secret each account enrolled with, by app and e-mail, as a person's phone keeps it.
AUTHENTICATORS: dict[tuple[int, str], str] = {}
# Where each person's signed-in session is kept, in the app's extensions (see log_in).
SIGNED_IN = "tests.signed_in_sessions"
# A public page that always holds a form and changes nothing when read.
FORM_PAGE = "/reclamacoes/nova"


def csrf_token_in(html: str) -> str:
    match = TOKEN_FIELD.search(html)
    if match is None:
        raise AssertionError("the page has no csrf_token field")
    return match.group(1)


class PageClient(FlaskClient):
    def csrf_token(self) -> str:
        """The token of this client's session, read from a form page."""
        return csrf_token_in(self.get(FORM_PAGE).get_data(as_text=True))

    def post(self, url, *args, **kwargs):
        data = kwargs.get("data")
        path = url if isinstance(url, str) else ""
        if not path.startswith("/api/") and "json" not in kwargs and \
                (data is None or isinstance(data, dict)):
            data = dict(data or {})
            if "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
            elif data["csrf_token"] is None:
                del data["csrf_token"]
            kwargs["data"] = data
        return super().post(url, *args, **kwargs)

    def log_in(self, email: str, password: str, next_path: str | None = None):
        """Sign in as a person would, with the second factor where the role needs it:
        at the first sign-in the key shown on the enrolment page goes into an
        authenticator, afterwards a code not typed before (tests.support.authenticator).

        A code works once, and a step gives two: a test that signs the same person in
        again before the app shows a new code continues that person's earlier session
        instead (as a browser that stayed signed in), if it is still open."""
        url = "/entrar" + (f"?proximo={next_path}" if next_path else "")
        response = self.post(url, data={"email": email, "password": password})
        location = response.headers.get("Location", "")
        key = (id(self.application), email)
        if location.endswith("/entrar/ativar-verificacao"):
            page = self.get("/entrar/ativar-verificacao").get_data(as_text=True)
            AUTHENTICATORS[key] = SECRET_SHOWN.search(page).group(1)
            response = self.post("/entrar/ativar-verificacao",
                                 data={"code": code_for(AUTHENTICATORS[key])})
            assert response.status_code == 200, response.get_data(as_text=True)
            self._keep_session(email)
        elif location.endswith("/entrar/verificacao"):
            code = fresh_code(AUTHENTICATORS[key])
            if code is None and self._continue_session(email):
                return self.get(next_path or "/equipe")
            response = self.post("/entrar/verificacao",
                                 data={"code": code or code_for(AUTHENTICATORS[key])})
            if response.status_code == 302:
                self._keep_session(email)
        return response

    def _session_cookie(self):
        return self.get_cookie(self.application.config["SESSION_COOKIE_NAME"])

    def _keep_session(self, email: str) -> None:
        """This person's signed-in session, kept with the app (never outlives it)."""
        cookie = self._session_cookie()
        if cookie is not None:
            self.application.extensions.setdefault(SIGNED_IN, {})[email] = cookie.value

    def _continue_session(self, email: str) -> bool:
        """Whether this person's kept session is still open (now this client's); if not
        (signed out, a new password), the client's own session is as it was."""
        kept = self.application.extensions.get(SIGNED_IN, {}).get(email)
        if kept is None:
            return False
        name = self.application.config["SESSION_COOKIE_NAME"]
        own = self._session_cookie()
        self.set_cookie(name, kept)
        if self.get("/equipe").status_code == 200:
            return True
        if own is not None:
            self.set_cookie(name, own.value)
        return False
