"""The webhooks' pages for the administration (role admin): the subscribers, a form to
register one (its secret shown once), and each one's delivery log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_smorest import abort
from marshmallow import ValidationError

from ..accounts.auth import login_required_page
from ..domain import DomainError
from ..errors import flatten_errors, form_errors
from ..extensions import db
from . import service
from .schemas import SubscriberSchema

blp = Blueprint("webhooks_pages", __name__)


def _subscriber_or_404(subscriber_id: int):
    subscriber = service.get_subscriber(subscriber_id)
    if subscriber is None:
        abort(404)
    return subscriber


@blp.route("/equipe/webhooks", methods=["GET", "POST"])
@login_required_page("admin")
def subscribers():
    """The subscribers, and the form that registers one."""
    values, errors, status = {"events": []}, {}, 200
    if request.method == "POST":
        values = {"name": request.form.get("name", ""), "url": request.form.get("url", ""),
                  "events": request.form.getlist("events"),
                  "share_sealed_cases": request.form.get("share_sealed_cases") == "sim"}
        try:
            subscriber, secret = service.create_subscriber(SubscriberSchema().load(values),
                                                           current_user)
            db.session.commit()
        except ValidationError as error:
            errors, status = flatten_errors(error.messages), 422
        except DomainError as error:
            errors, status = form_errors(error)
        else:
            return render_template("webhooks/secret.html", subscriber=subscriber, secret=secret)
    return render_template("webhooks/list.html", subscribers=service.subscribers(),
                           events=service.EVENTS, values=values, errors=errors), status


@blp.get("/equipe/webhooks/<int:subscriber_id>")
@login_required_page("admin")
def subscriber(subscriber_id: int):
    """One subscriber and its latest delivery attempts."""
    return render_template("webhooks/detail.html", subscriber=_subscriber_or_404(subscriber_id),
                           deliveries=service.deliveries(subscriber_id), events=service.EVENTS)


@blp.post("/equipe/webhooks/<int:subscriber_id>/situacao")
@login_required_page("admin")
def toggle(subscriber_id: int):
    subscriber = _subscriber_or_404(subscriber_id)
    service.change_subscriber(subscriber, {"is_active": not subscriber.is_active}, current_user)
    db.session.commit()
    flash("Assinante reativado." if subscriber.is_active else
          "Assinante desativado: nenhum evento será mais enviado a ele.", "success")
    return redirect(url_for("webhooks_pages.subscriber", subscriber_id=subscriber_id))


@blp.post("/equipe/webhooks/<int:subscriber_id>/segredo")
@login_required_page("admin")
def rotate(subscriber_id: int):
    subscriber = _subscriber_or_404(subscriber_id)
    secret = service.rotate_secret(subscriber, current_user)
    db.session.commit()
    return render_template("webhooks/secret.html", subscriber=subscriber, secret=secret)
