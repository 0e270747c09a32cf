"""Who is calling: staff by bearer token (API) or session cookie (pages).

`require_staff` guards API routes; `login_required_page` guards HTML pages.
Lawyers' manage tokens are checked by the bookings package, not here.
"""

from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, url_for
from flask_login import current_user
from flask_smorest import abort

from ..extensions import db, login_manager
from . import service
from .models import User


def bearer_token() -> str | None:
    """The token in `Authorization: Bearer ...`, if any."""
    authorization = request.authorization
    if authorization is None or authorization.type != "bearer" or not authorization.token:
        return None
    return authorization.token


def current_api_user() -> User | None:
    """The staff user behind this request's bearer token (memoised per request)."""
    if "api_user" not in g:
        token = bearer_token()
        g.api_user = service.user_for_token(token) if token else None
    return g.api_user


def require_staff(*roles: str):
    """API guard: 401 without a valid staff token, 403 with a token of another role."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_api_user()
            if user is None:
                abort(401)
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def login_required_page(*roles: str):
    """Page guard: the login page for strangers, 403 for the wrong role."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("accounts_pages.login",
                                        proximo=request.full_path.rstrip("?")))
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def ensure_acts_for(user: User | None, magistrate_id: int) -> None:
    """403 unless the user is that magistrate or one of their assistants."""
    if user is None:
        abort(401)
    if not user.acts_for(magistrate_id):
        abort(403, message="Só o magistrado e sua assessoria podem fazer isto.")


def acted_on(row, user, not_found: str = "Não encontrado."):
    """A row that belongs to a magistrate (booking, urgent request), for staff who act on it.

    404 both when it does not exist and when the user does not act for its magistrate: a
    staff member learns nothing of other magistrates' bookings from the answer.
    """
    if user is None:
        abort(401)
    if row is None or not user.acts_for(row.magistrate_id):
        abort(404, message=not_found)
    return row


def managed_magistrate(magistrate_id: int):
    """For staff pages: the magistrate, 404 if unknown, 403 unless the user acts for them."""
    from ..courts.service import get_magistrate

    magistrate = get_magistrate(magistrate_id)
    if magistrate is None:
        abort(404)
    if not current_user.acts_for(magistrate.id):
        abort(403)
    return magistrate


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session id ("42.3"), if the account is active and the session's
    version is still the account's (logout raises it)."""
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user
