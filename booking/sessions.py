"""Flask's signed-cookie sessions, built lazily.

Flask builds a signer for every request to read the session cookie; API calls
and first visits carry none, and their session is empty either way.
"""

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
