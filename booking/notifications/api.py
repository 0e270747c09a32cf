"""The magistrate's calendar feed, and the outbox for the administration."""

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from ..accounts.auth import current_api_user, ensure_acts_for, require_staff
from ..courts import service as courts
from ..extensions import db
from ..openapi import STAFF_SECURITY
from ..pagination import TOTAL_COUNT_HEADER, paginate, with_total
from ..security import tokens_match
from . import outbox, service
from .models import OutboxMessage
from .schemas import FeedQuerySchema, FeedTokenSchema, OutboxMessageSchema, OutboxQuerySchema

blp = Blueprint("invites", __name__, url_prefix="/api/v1",
                description="Calendário assinável dos magistrados e caixa de saída de e-mails.")


@blp.route("/magistrates/<int:magistrate_id>/calendar.ics")
class MagistrateFeed(MethodView):
    @blp.arguments(FeedQuerySchema(), location="query")
    @blp.doc(responses={"200": {"description": "Calendário iCalendar dos atendimentos.",
                                "content": {"text/calendar": {"schema": {"type": "string"}}}}})
    def get(self, args, magistrate_id):
        """A feed of the magistrate's bookings for calendar apps (token in the URL)."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None or not magistrate.feed_token_hash or \
                not tokens_match(args["token"], magistrate.feed_token_hash):
            abort(404, message="Calendário não encontrado.")
        response = current_app.response_class(service.magistrate_feed(magistrate))
        response.headers["Content-Type"] = "text/calendar; charset=utf-8"
        response.headers["Cache-Control"] = "private, max-age=300"
        return response


@blp.route("/magistrates/<int:magistrate_id>/calendar-token")
class MagistrateFeedToken(MethodView):
    @require_staff("magistrate", "assistant")
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(201, FeedTokenSchema)
    def post(self, magistrate_id):
        """Create or rotate the feed token; the previous feed URL stops working."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None:
            abort(404, message="Magistrado não encontrado.")
        ensure_acts_for(current_api_user(), magistrate.id)
        token = service.rotate_feed_token(magistrate, current_api_user())
        db.session.commit()
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        return {"token": token, "url": base + url_for(
            "invites.MagistrateFeed", magistrate_id=magistrate.id, token=token)}


@blp.route("/outbox")
class Outbox(MethodView):
    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(OutboxQuerySchema(), location="query")
    @blp.response(200, OutboxMessageSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """Messages of the outbox, newest first (filter status=dead for the failures)."""
        statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
        if args.get("status"):
            statement = statement.where(OutboxMessage.status == args["status"])
        return with_total(*paginate(statement, args["page"], args["per_page"]))


@blp.route("/outbox/<int:message_id>/resend")
class OutboxResend(MethodView):
    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, OutboxMessageSchema)
    def post(self, message_id):
        """Give a message another go now (attempts start again from zero)."""
        message = outbox.resend(message_id, current_api_user())
        if message is None:
            abort(404, message="Mensagem não encontrada.")
        db.session.commit()
        return message
