"""Staff sign-in for the HTML pages: password with a second factor, or the court's identity
provider; setting a password from an e-mailed link; and the administration's accounts pages.

A password alone never opens a session for a role that needs a second factor:
the account waits in the session (`pending`) until its TOTP or recovery code is
given, or until its first enrolment is confirmed.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_smorest import abort
from joserfc.errors import JoseError
from marshmallow import ValidationError

from ..domain import DomainError
from ..errors import flatten_errors, form_errors
from ..extensions import db, limiter
from ..pagination import page_number
from ..urls import external_url
from . import oidc, service, staff, two_factor
from .auth import login_required_page
from .forms import LoginForm
from .models import ROLE_NAMES, ROLES, User
from .schemas import IntegrationKeySchema, StaffUserChangeSchema, StaffUserInSchema

blp = Blueprint("accounts_pages", __name__)

PENDING_SECONDS = 300
# Staff accounts listed per page on /equipe/contas (a court has hundreds).
ACCOUNTS_PER_PAGE = 50
# Every form that takes a password, a code or an e-mail shares the login's rate limit.
login_limit = limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("pages.staff_home")


def _start_session(user: User, next_path: str | None):
    session.pop("pending", None)
    login_user(user)
    return redirect(_safe_next(next_path))


def _pending_user() -> User | None:
    pending = session.get("pending") or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    user = service.get_user(pending["user"])
    return user if user is not None and user.is_active else None


@blp.route("/entrar", methods=["GET", "POST"])
@login_limit
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data,
                                    request.remote_addr or "")
        db.session.commit()
        if user is not None and not service.password_allowed(user):
            form.password.errors.append("Sua conta entra pelo login do tribunal (botão abaixo).")
        elif user is not None and two_factor.required_for(user):
            session["pending"] = {"user": user.id, "at": time.time(),
                                  "next": request.args.get("proximo")}
            target = ("accounts_pages.second_factor" if two_factor.enrolled(user)
                      else "accounts_pages.enrol_second_factor")
            return redirect(url_for(target))
        elif user is not None:
            return _start_session(user, request.args.get("proximo"))
        else:
            form.password.errors.append("E-mail ou senha incorretos. Depois de várias "
                                        "tentativas, aguarde alguns segundos antes da próxima.")
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form, oidc=oidc.enabled(),
                           oidc_label=current_app.config["OIDC_BUTTON_LABEL"]), status


@blp.route("/entrar/verificacao", methods=["GET", "POST"])
@login_limit
def second_factor():
    """The code of the authenticator app (or a recovery code), after a right password."""
    user = _pending_user()
    if user is None or not two_factor.enrolled(user):
        flash("Entre de novo com seu e-mail e senha.", "info")
        return redirect(url_for("accounts_pages.login"))
    error = None
    if request.method == "POST":
        if two_factor.verify(user, request.form.get("code", "")):
            db.session.commit()
            return _start_session(user, (session.get("pending") or {}).get("next"))
        error = ("Código incorreto, expirado ou já usado. Confira o relógio do celular, "
                 "ou aguarde o próximo código do aplicativo, e tente de novo.")
    return render_template("accounts/second_factor.html", error=error), 422 if error else 200


@blp.route("/entrar/ativar-verificacao", methods=["GET", "POST"])
@login_limit
def enrol_second_factor():
    """First sign-in of an account that needs two-factor: scan the QR code, give a code."""
    user = _pending_user()
    if user is None:
        flash("Entre de novo com seu e-mail e senha.", "info")
        return redirect(url_for("accounts_pages.login"))
    error = None
    if request.method == "POST":
        codes = two_factor.confirm_enrolment(user, request.form.get("code", ""))
        if codes is not None:
            db.session.commit()
            login_user(user)
            session.pop("pending", None)
            return render_template("accounts/recovery_codes.html", codes=codes)
        error = "Código incorreto. Digite os seis números que o aplicativo mostra agora."
    secret = two_factor.pending_secret(user) if request.method == "POST" else None
    if secret is None:
        secret = two_factor.start_enrolment(user)
        db.session.commit()
    uri = two_factor.provisioning_uri(user, secret)
    return render_template("accounts/enrol.html", qr=two_factor.qr_svg(uri), secret=secret,
                           error=error), 422 if error else 200


@blp.get("/entrar/tribunal")
def oidc_begin():
    """Off to the court's identity provider (authorization code with PKCE)."""
    if not oidc.enabled():
        return redirect(url_for("accounts_pages.login"))
    session["oidc_next"] = request.args.get("proximo")
    return oidc.client().authorize_redirect(external_url("accounts_pages.oidc_return"))


@blp.get("/entrar/tribunal/retorno")
def oidc_return():
    """Back from the provider: Authlib checks state, code, ID token and nonce."""
    if not oidc.enabled():
        return redirect(url_for("accounts_pages.login"))
    try:
        token = oidc.client().authorize_access_token()
        user = oidc.user_for_claims(oidc.claims_of(token))
        db.session.commit()
    except (AuthlibBaseError, JoseError, *DomainError) as error:
        db.session.rollback()
        message = str(error) if isinstance(error, DomainError) else (
            "Não foi possível concluir a entrada pelo login do tribunal. Tente de novo.")
        current_app.logger.warning("OIDC sign-in refused: %s", type(error).__name__)
        return render_template("accounts/login.html", form=LoginForm(), oidc=True,
                               oidc_label=current_app.config["OIDC_BUTTON_LABEL"],
                               oidc_error=message), 400
    session["oidc_id_token"] = token.get("id_token")
    return _start_session(user, session.pop("oidc_next", None))


@blp.post("/sair")
def logout():
    id_token = session.pop("oidc_id_token", None)
    if current_user.is_authenticated:  # every copy of this session's cookie stops working
        current_user.session_version += 1
        db.session.commit()
    logout_user()
    session.pop("pending", None)
    provider_logout = oidc.end_session_url(id_token, external_url("pages.home"))
    if provider_logout:
        return redirect(provider_logout)
    flash("Você saiu da sua conta.", "info")
    return redirect(url_for("pages.home"))


@blp.route("/definir-senha", methods=["GET", "POST"])
@login_limit
def set_password():
    """The page behind the e-mailed link: choose a password, then sign in."""
    token = request.values.get("token", "")
    link = staff.valid_link(token) if token else None
    errors: dict[str, list[str]] = {}
    status = 200
    if link is None:
        status = 404
    elif request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirmation", ""):
            errors, status = {"confirmation": ["As duas senhas não são iguais."]}, 422
        else:
            try:
                staff.set_password_from_link(token, password)
                db.session.commit()
            except DomainError as error:
                errors, status = form_errors(error)
            else:
                flash("Senha definida. Entre com seu e-mail e a nova senha.", "success")
                return redirect(url_for("accounts_pages.login"))
    response = current_app.make_response((render_template(
        "accounts/set_password.html", link=link, token=token, errors=errors), status))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.route("/esqueci-a-senha", methods=["GET", "POST"])
@login_limit
def forgot_password():
    """The same answer whether the e-mail has an account or not."""
    if request.method == "POST":
        staff.forgot_password(request.form.get("email", "")[:254])
        db.session.commit()
        flash("Se o e-mail tiver uma conta ativa, enviamos um link para redefinir a senha.",
              "info")
        return redirect(url_for("accounts_pages.login"))
    return render_template("accounts/forgot_password.html")


# --- the administration's accounts pages ----------------------------------------------

def _user_form(form) -> dict:
    values = {"email": form.get("email", "").strip(), "name": form.get("name", "").strip(),
              "role": form.get("role", ""),
              "magistrate_id": form.get("magistrate_id") or None,
              "assists": [v for v in form.getlist("assists") if v],
              "is_active": form.get("is_active") == "sim"}
    return values


@blp.route("/equipe/contas", methods=["GET", "POST"])
@login_required_page("admin")
def accounts_page():
    """Every staff account, and the form that invites a new one."""
    from ..courts import directory

    errors: dict[str, list[str]] = {}
    values: dict = {}
    status = 200
    if request.method == "POST":
        values = _user_form(request.form)
        try:
            data = StaffUserInSchema().load({k: values[k] for k in (
                "email", "name", "role", "magistrate_id", "assists")})
            user = staff.invite(data, current_user)
            db.session.commit()
        except ValidationError as error:
            errors, status = flatten_errors(error.messages), 422
        except DomainError as error:
            errors, status = form_errors(error)
        else:
            flash(f"Conta criada; {user.email} recebeu o link para definir a senha.", "success")
            return redirect(url_for("accounts_pages.accounts_page"))
    page = page_number()
    q = request.args.get("busca", "").strip()[:100]
    role = request.args.get("papel") if request.args.get("papel") in ROLE_NAMES else None
    users, total = service.list_users(q=q, role=role, page=page, per_page=ACCOUNTS_PER_PAGE)
    return render_template("accounts/accounts.html", users=users, total=total, page=page,
                           per_page=ACCOUNTS_PER_PAGE, errors=errors, values=values,
                           roles=ROLE_NAMES, magistrates=directory.magistrates(), q=q,
                           role=role), status


@blp.route("/equipe/contas/<int:user_id>", methods=["GET", "POST"])
@login_required_page("admin")
def account_page(user_id: int):
    from ..courts import directory

    user = service.get_user(user_id)
    if user is None:
        abort(404)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST" and request.form.get("action") == "link":
        staff.send_link(user, "reset_password")
        db.session.commit()
        flash("Link para definir a senha enviado por e-mail.", "success")
        return redirect(url_for("accounts_pages.account_page", user_id=user.id))
    values = _stored_values(user)
    if request.method == "POST":
        values = _user_form(request.form)
        try:
            data = StaffUserChangeSchema().load({k: values[k] for k in (
                "name", "role", "magistrate_id", "assists", "is_active")})
            staff.update_user(user, data, current_user)
            db.session.commit()
        except ValidationError as error:
            errors, status = flatten_errors(error.messages), 422
        except DomainError as error:
            errors, status = form_errors(error)  # it rolls back what update_user changed
        else:
            flash("Conta atualizada.", "success")
            return redirect(url_for("accounts_pages.account_page", user_id=user.id))
    return render_template("accounts/account.html", user=user, errors=errors, roles=ROLE_NAMES,
                           role_codes=ROLES, values=values,
                           magistrates=directory.magistrates()), status


def _stored_values(user) -> dict:
    """The account as stored, in the shape of _user_form's values (the form shows these,
    or what was typed when it comes back with an error)."""
    return {"name": user.name, "role": user.role,
            "magistrate_id": str(user.magistrate_id) if user.magistrate_id else None,
            "assists": [str(m.id) for m in user.assists], "is_active": user.is_active}


@blp.route("/equipe/chaves-de-integracao", methods=["GET", "POST"])
@login_required_page("admin")
def integration_keys_page():
    """The keys of the court's systems that book directly (the API's X-Integration-Key),
    and the form that issues one: the key is shown once, on the page that answers it."""
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = {"name": request.form.get("name", "").strip()}
        try:
            plain, key = service.issue_integration_key(
                IntegrationKeySchema().load(values)["name"], current_user)
            db.session.commit()
        except ValidationError as error:
            errors, status = flatten_errors(error.messages), 422
        else:
            return render_template("accounts/integration_key_issued.html", key=key,
                                   plain=plain)
    return render_template("accounts/integration_keys.html", keys=service.integration_keys(),
                           values=values, errors=errors), status


@blp.post("/equipe/chaves-de-integracao/<int:key_id>/revogar")
@login_required_page("admin")
def revoke_integration_key_page(key_id: int):
    key = service.revoke_integration_key(key_id, current_user)
    if key is None:
        abort(404)
    db.session.commit()
    flash(f"Chave “{key.name}” revogada: o sistema não agenda mais com ela.", "success")
    return redirect(url_for("accounts_pages.integration_keys_page"))
