"""Webhook subscribers for the administration (role admin)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..accounts.auth import current_api_user, require_staff
from ..extensions import db
from ..openapi import STAFF_SECURITY
from ..pagination import TOTAL_COUNT_HEADER, PageArgsSchema, with_total
from . import service
from .schemas import (
    DeliverySchema,
    SecretSchema,
    SubscriberChangeSchema,
    SubscriberCreatedSchema,
    SubscriberSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1",
                description="Webhooks assinados (Standard Webhooks) para outros sistemas do "
                            "tribunal: assinantes, eventos e registro de entregas.")
ADMIN = [require_staff("admin")]


def _subscriber_or_404(subscriber_id: int):
    subscriber = service.get_subscriber(subscriber_id)
    if subscriber is None:
        abort(404, message="Assinante não encontrado.")
    return subscriber


@blp.route("/admin/webhooks")
class Subscribers(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, SubscriberSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """The subscribers, active or not (never their secrets), oldest first, a page at a
        time."""
        return with_total(*service.subscribers_page(**args))

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(SubscriberSchema())
    @blp.response(201, SubscriberCreatedSchema)
    def post(self, data):
        """Register a subscriber; the answer carries its signing secret, shown only now."""
        subscriber, secret = service.create_subscriber(data, current_api_user())
        db.session.commit()
        return {**{name: getattr(subscriber, name) for name in SubscriberSchema().fields},
                "secret": secret}


@blp.route("/admin/webhooks/<int:subscriber_id>")
class Subscriber(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, SubscriberSchema)
    def get(self, subscriber_id):
        """One subscriber."""
        return _subscriber_or_404(subscriber_id)

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(SubscriberChangeSchema(partial=True))
    @blp.response(200, SubscriberSchema)
    def patch(self, data, subscriber_id):
        """Change a subscriber; is_active false stops its deliveries (waiting ones are dropped)."""
        subscriber = service.change_subscriber(_subscriber_or_404(subscriber_id), data,
                                               current_api_user())
        db.session.commit()
        return subscriber


@blp.route("/admin/webhooks/<int:subscriber_id>/secret")
class SubscriberSecret(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, SecretSchema)
    def post(self, subscriber_id):
        """Replace the signing secret; the answer shows the new one, only now."""
        secret = service.rotate_secret(_subscriber_or_404(subscriber_id), current_api_user())
        db.session.commit()
        return {"secret": secret}


@blp.route("/admin/webhooks/<int:subscriber_id>/deliveries")
class SubscriberDeliveries(MethodView):
    decorators = ADMIN

    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, DeliverySchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, subscriber_id):
        """The delivery attempts, newest first, a page at a time: status code or error, and
        time taken."""
        _subscriber_or_404(subscriber_id)
        return with_total(*service.deliveries_page(subscriber_id, **args))
