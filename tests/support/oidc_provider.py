"""The suite's OpenID Provider (tests/oidc/provider.mjs, the npm oidc-provider on Debian's
Node), started on a free loopback port and stopped by the test that started it, and a
person who signs in on its login page (its development login form: any login known to it,
any password; then the consent page)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.support.postgres import free_port
from tests.support.processes import stop_process, wait_until_answers

FOLDER = Path(__file__).resolve().parent.parent / "oidc"


class OidcProvider:
    def __init__(self, *, redirect_uri: str, post_logout_uri: str, accounts: dict,
                 client_id: str = "agendamento", client_secret: str = "segredo-do-cliente"):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id, self.client_secret = client_id, client_secret
        self.env = {**os.environ, "OIDC_PORT": str(self.port), "OIDC_CLIENT_ID": client_id,
                    "OIDC_CLIENT_SECRET": client_secret, "OIDC_REDIRECT_URI": redirect_uri,
                    "OIDC_POST_LOGOUT_URI": post_logout_uri,
                    "OIDC_ACCOUNTS": json.dumps(accounts)}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not (FOLDER / "node_modules" / "oidc-provider").exists():
            raise RuntimeError("tests/oidc has no node_modules: run `make test` (npm ci there)")
        self.process = subprocess.Popen(["node", "provider.mjs"], cwd=FOLDER, env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if not wait_until_answers(self.issuer + "/.well-known/openid-configuration",
                                  self.process):
            self.stop()
            raise RuntimeError("the OpenID Provider did not start")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def sign_in_at_provider(authorize_url: str, login: str) -> str:
    """Follow the provider's pages as a person: log in, consent. Returns the address the
    provider sends the browser back to (the service's redirect URI, with code and state)."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=True, timeout=10)
    for step in range(4):
        action = FORM_ACTION.search(response.text)
        if action is None:
            raise AssertionError(f"no form on the provider's page:\n{response.text[:500]}")
        fields = {"prompt": "login", "login": login, "password": "qualquer"} if step == 0 \
            else {"prompt": "consent"}
        response = browser.post(urljoin(response.url, action.group(1)), data=fields,
                                allow_redirects=False, timeout=10)
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(("http://127.0.0.1", "http://localhost")) or \
                    "/entrar/tribunal/retorno" in location:
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back")
