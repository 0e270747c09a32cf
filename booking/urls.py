"""Links that leave the service (e-mails, invites, API answers): built from the URL map
against PUBLIC_BASE_URL, as url_for(..., _external=True) would be, with or without a request."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute public address of an endpoint, e.g. a lawyer's manage link."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)
