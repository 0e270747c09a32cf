"""The administration's view of the mail outbox: what failed, and a button to resend."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from ..accounts.auth import login_required_page
from ..extensions import db
from ..pagination import paginate
from . import outbox
from .models import OUTBOX_STATUSES, OutboxMessage

blp = Blueprint("outbox_pages", __name__)


@blp.get("/equipe/mensagens")
@login_required_page("admin")
def outbox_page():
    status = request.args.get("situacao", "dead")
    if status not in OUTBOX_STATUSES:
        status = "dead"
    page = request.args.get("pagina", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    messages, total = paginate(select(OutboxMessage).where(OutboxMessage.status == status)
                               .order_by(OutboxMessage.id.desc()), page, 50)
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count())
                                     .group_by(OutboxMessage.status)).all())
    return render_template("invites/outbox.html", messages=messages, total=total, page=page,
                           status=status, counts=counts)


@blp.post("/equipe/mensagens/<int:message_id>/reenviar")
@login_required_page("admin")
def resend_page(message_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    if outbox.resend(message_id, current_user) is None:
        abort(404)
    db.session.commit()
    flash("Mensagem recolocada na fila de envio.", "success")
    return redirect(url_for("outbox_pages.outbox_page", situacao=request.args.get("situacao", "dead")))
