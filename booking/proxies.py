"""Which proxy headers the service believes (PROXY_FIX_HOPS), and a warning when it
believes none although requests come through a proxy.

Behind nginx with PROXY_FIX_HOPS=0, every member of the public has the proxy's address:
the per-address limits (sign-in attempts, live holds per client, the rate limits) would
then count the whole public as one client: with five holds awaiting their codes anywhere,
the next one would be refused to everyone. `flask check` cannot see it before requests come;
the first request that carries X-Forwarded-For makes each worker say so once.
"""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger(__name__)

UNTRUSTED_PROXY_WARNING = (
    "Pedidos chegam com X-Forwarded-For, mas PROXY_FIX_HOPS=0: se há um proxy na frente, "
    "todo o público tem o endereço dele e os limites por endereço valem para todos juntos; "
    "defina PROXY_FIX_HOPS com o número de proxies (se não há, um cliente enviou o "
    "cabeçalho por conta própria e o aviso pode ser ignorado). / Requests carry "
    "X-Forwarded-For but "
    "PROXY_FIX_HOPS=0: if a proxy is in front, every client has its address and the "
    "per-address limits count everyone together; set PROXY_FIX_HOPS to the number of "
    "proxies (if none is, a client sent the header itself and this can be ignored).")


def trust_proxies(app: Flask) -> None:
    """Believe the last PROXY_FIX_HOPS proxies' X-Forwarded-* headers; with none trusted,
    warn once per worker about a request that came through one."""
    hops = app.config.get("PROXY_FIX_HOPS")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    else:
        app.wsgi_app = WarnOfUntrustedProxy(app.wsgi_app)


class WarnOfUntrustedProxy:
    """WSGI middleware: the first request carrying X-Forwarded-For logs the warning."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.warned = False

    def __call__(self, environ, start_response):
        if not self.warned and "HTTP_X_FORWARDED_FOR" in environ:
            self.warned = True
            log.warning(UNTRUSTED_PROXY_WARNING)
        return self.wsgi_app(environ, start_response)
