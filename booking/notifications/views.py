"""The administration's view of the outbox: what failed, and a button to resend."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.auth import login_required_page
from ..audit import service as audit
from ..domain import NotAllowedNow
from ..extensions import db
from ..pagination import page_number, paginate
from . import service
from .models import OUTBOX_STATUSES

blp = Blueprint("notifications_pages", __name__)

PER_PAGE = 50


@blp.get("/equipe/mensagens")
@login_required_page("admin")
def outbox_page():
    status = request.args.get("situacao", "dead")
    if status not in OUTBOX_STATUSES:
        status = "dead"
    recipient = request.args.get("destinatario", "").strip()[:254]
    page = page_number()
    messages, total = paginate(service.messages(status, recipient or None), page, PER_PAGE)
    audit.record_read(current_user, "outbox_message", [m.id for m in messages])
    return render_template("notifications/outbox.html", messages=messages, total=total,
                           page=page, per_page=PER_PAGE, status=status, recipient=recipient,
                           counts=service.count_by_status())


@blp.post("/equipe/mensagens/<int:message_id>/reenviar")
@login_required_page("admin")
def resend_page(message_id: int):
    try:
        if service.resend(message_id, current_user) is None:
            abort(404)
    except NotAllowedNow as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
    else:
        db.session.commit()
        flash("Mensagem recolocada na fila de envio.", "success")
    return redirect(url_for("notifications_pages.outbox_page",
                            situacao=request.args.get("situacao", "dead")))
