"""Staff login and logout for the HTML pages, and the staff home page."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from ..extensions import db, limiter
from . import service
from .auth import login_required_page
from .forms import LoginForm

blp = Blueprint("accounts", __name__)

ROLE_NAMES = {
    "magistrate": "Magistrado(a)",
    "assistant": "Assessor(a)",
    "corregedoria": "Corregedoria",
    "admin": "Administração",
}


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("accounts.staff_home")


@blp.route("/entrar", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("E-mail ou senha incorretos.")
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@blp.post("/sair")
def logout():
    logout_user()
    flash("Você saiu da sua conta.", "info")
    return redirect(url_for("pages.home"))


@blp.get("/equipe")
@login_required_page()
def staff_home():
    managed = (current_user.assists if current_user.role == "assistant"
               else [current_user.magistrate] if current_user.magistrate else [])
    from ..bookings.urgent import open_count

    return render_template("accounts/staff_home.html", user=current_user, managed=managed,
                           urgent_open=open_count([m.id for m in managed]),
                           role_name=ROLE_NAMES.get(current_user.role, current_user.role))
