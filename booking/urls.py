"""Links that leave the service (e-mails, invites, API answers): built from the URL map
against PUBLIC_BASE_URL, as url_for(..., _external=True) would be, with or without a request."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def external_url(endpoint: str, **values) -> str:
    """The absolute public address of an endpoint, e.g. a lawyer's manage link."""
    return _public_adapter().build(endpoint, values, force_external=True)


def _public_adapter() -> MapAdapter:
    """The URL map bound to PUBLIC_BASE_URL, bound once per app and address (binding costs
    as much as building: a booking builds its manage link twice)."""
    base_url = current_app.config["PUBLIC_BASE_URL"]
    bound = current_app.extensions.get("public_url_adapter")
    if bound is None or bound[0] != base_url:
        base = urlsplit(base_url)
        bound = (base_url, current_app.url_map.bind(
            base.netloc, script_name=base.path.rstrip("/") or "/",
            url_scheme=base.scheme or "https"))
        current_app.extensions["public_url_adapter"] = bound
    return bound[1]
