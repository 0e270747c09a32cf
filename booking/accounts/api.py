"""Staff authentication for API clients."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..extensions import db, limiter
from ..openapi import STAFF_SECURITY
from . import service
from .auth import bearer_token, current_api_user, require_staff
from ..pagination import TOTAL_COUNT_HEADER, with_total
from .schemas import StaffUserQuerySchema, StaffUserSchema, TokenRequestSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="Autenticação da equipe (magistrados, assessores, Corregedoria, administração).")


@blp.route("/token")
class TokenResource(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])]

    @blp.arguments(TokenRequestSchema())
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="E-mail ou senha incorretos, ou conta bloqueada.")
    def post(self, credentials):
        """Trade e-mail and password for a bearer token."""
        user = service.authenticate(credentials["email"], credentials["password"])
        if user is None:
            db.session.commit()  # keep the failure count
            abort(401, message="E-mail ou senha incorretos.")
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


@blp.route("/me")
class MeResource(MethodView):
    @require_staff()
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, StaffUserSchema)
    def get(self):
        """The staff user behind the token."""
        return current_api_user()


users_blp = Blueprint("users", __name__, url_prefix="/api/v1/users",
                      description="Contas da equipe (administração).")


@users_blp.route("")
class Users(MethodView):
    @require_staff("admin")
    @users_blp.doc(security=STAFF_SECURITY)
    @users_blp.arguments(StaffUserQuerySchema(), location="query")
    @users_blp.response(200, StaffUserSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """List staff accounts (administrators only)."""
        return with_total(*service.list_users(**args))
