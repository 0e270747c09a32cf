"""Staff login and logout for the HTML pages."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from ..extensions import db, limiter
from . import service
from .forms import LoginForm

blp = Blueprint("accounts_pages", __name__)

def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("pages.staff_home")


@blp.route("/entrar", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("proximo")))
        form.password.errors.append("E-mail ou senha incorretos.")
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@blp.post("/sair")
def logout():
    logout_user()
    flash("Você saiu da sua conta.", "info")
    return redirect(url_for("pages.home"))
