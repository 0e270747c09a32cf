"""The outbox, for the administration: what was sent, what failed, and a resend."""

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..accounts.auth import current_api_user, require_staff
from ..audit import service as audit
from ..extensions import db
from ..openapi import STAFF_SECURITY
from ..pagination import TOTAL_COUNT_HEADER, paginate, with_total
from . import service
from .schemas import OutboxMessageSchema, OutboxQuerySchema

blp = Blueprint("notifications", __name__, url_prefix="/api/v1",
                description="Caixa de saída das mensagens (e-mails) do serviço.")


@blp.route("/outbox")
class Outbox(MethodView):
    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(OutboxQuerySchema(), location="query")
    @blp.response(200, OutboxMessageSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """Messages of the outbox, newest first (filter status=dead for the failures)."""
        items, total = paginate(service.messages(args.get("status"), args.get("recipient")),
                                args["page"], args["per_page"])
        audit.record_read(current_api_user(), "outbox_message", [m.id for m in items])
        return with_total(items, total)


@blp.route("/outbox/<int:message_id>/resend")
class OutboxResend(MethodView):
    @require_staff("admin")
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, OutboxMessageSchema)
    def post(self, message_id):
        """Give a message another go now (attempts start again from zero)."""
        message = service.resend(message_id, current_api_user())
        if message is None:
            abort(404, message="Mensagem não encontrada.")
        db.session.commit()
        return message
