"""Staff authentication for API clients, and the staff accounts (administration)."""

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..extensions import db, limiter
from ..openapi import RATE_LIMITED, STAFF_SECURITY
from ..pagination import TOTAL_COUNT_HEADER, PageArgsSchema, with_total
from . import service, staff, two_factor
from .auth import bearer_token, current_api_user, require_staff
from .schemas import (
    IntegrationKeyCreatedSchema,
    IntegrationKeySchema,
    StaffUserChangeSchema,
    StaffUserInSchema,
    StaffUserQuerySchema,
    StaffUserSchema,
    TokenRequestSchema,
    TokenSchema,
)

blp = Blueprint("accounts", __name__, url_prefix="/api/v1",
                description="Autenticação e contas da equipe (magistrados, assessores, "
                            "Corregedoria, administração).")


@blp.route("/auth/token")
class TokenResource(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])]

    @blp.arguments(TokenRequestSchema())
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="E-mail ou senha incorretos, ou tentativas demais "
                                       "deste endereço (aguarde).")
    @blp.alt_response(429, description=RATE_LIMITED)
    def post(self, credentials):
        """Trade e-mail and password for a bearer token."""
        user = service.authenticate(credentials["email"], credentials["password"],
                                    request.remote_addr or "")
        if user is None:
            db.session.commit()  # keep the failure count
            abort(401, message="E-mail ou senha incorretos. Depois de várias tentativas, "
                               "aguarde alguns segundos antes da próxima.")
        if not service.password_allowed(user):
            abort(401, message="Esta conta entra só pelo login do tribunal.")
        if two_factor.required_for(user):
            if not two_factor.enrolled(user):
                abort(401, message="Ative a verificação em duas etapas entrando pelo site "
                                   "(/entrar) antes de pedir um token.")
            if not two_factor.verify(user, credentials.get("otp") or ""):
                db.session.commit()  # a spent recovery code stays spent
                abort(401, message="Informe em otp um código do aplicativo autenticador que "
                                   "ainda não tenha sido usado.")
        plain, token = service.issue_token(user)
        db.session.commit()
        return {"access_token": plain, "token_type": "Bearer", "expires_at": token.expires_at}

    @require_staff()
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(204)
    def delete(self):
        """Revoke the token sent with this request."""
        service.revoke_token(bearer_token())
        db.session.commit()


@blp.route("/auth/me")
class MeResource(MethodView):
    @require_staff()
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, StaffUserSchema)
    def get(self):
        """The staff user behind the token."""
        return current_api_user()


@blp.route("/users")
class Users(MethodView):
    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(StaffUserQuerySchema(), location="query")
    @blp.response(200, StaffUserSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """List staff accounts (administrators only)."""
        return with_total(*service.list_users(**args))

    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(StaffUserInSchema())
    @blp.response(201, StaffUserSchema)
    def post(self, data):
        """Create a staff account; the person receives a link to set the password."""
        user = staff.invite(data, current_api_user())
        db.session.commit()
        return user


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, StaffUserSchema)
    def get(self, user_id):
        """One staff account."""
        return _user_or_404(user_id)

    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(StaffUserChangeSchema())
    @blp.response(200, StaffUserSchema)
    def patch(self, data, user_id):
        """Change the name, role or magistrates served; deactivate or reactivate."""
        user = staff.update_user(_user_or_404(user_id), data, current_api_user())
        db.session.commit()
        return user


@blp.route("/users/<int:user_id>/password-link")
class UserPasswordLink(MethodView):
    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(202)
    def post(self, user_id):
        """E-mail the person a new link to set their password (the old ones stop working)."""
        staff.send_link(_user_or_404(user_id), "reset_password")
        db.session.commit()


def _user_or_404(user_id: int):
    user = service.get_user(user_id)
    if user is None:
        abort(404, message="Conta não encontrada.")
    return user


@blp.route("/admin/integration-keys")
class IntegrationKeys(MethodView):
    decorators = [require_staff("admin")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, IntegrationKeySchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """The keys of the court's systems that book directly (never the keys themselves),
        oldest first, a page at a time."""
        return with_total(*service.integration_keys_page(**args))

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(IntegrationKeySchema())
    @blp.response(201, IntegrationKeyCreatedSchema)
    def post(self, data):
        """Issue a key for a system that already identified the lawyer: its bookings are
        confirmed at once, without the e-mailed code. The key is shown only now."""
        plain, key = service.issue_integration_key(data["name"], current_api_user())
        db.session.commit()
        return {"id": key.id, "name": key.name, "created_at": key.created_at,
                "revoked_at": None, "key": plain}


@blp.route("/admin/integration-keys/<int:key_id>")
class IntegrationKeyById(MethodView):
    decorators = [require_staff("admin")]

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(204)
    def delete(self, key_id):
        """Revoke a key at once."""
        if service.revoke_integration_key(key_id, current_api_user()) is None:
            abort(404, message="Chave não encontrada.")
        db.session.commit()
