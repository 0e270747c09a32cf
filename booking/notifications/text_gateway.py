"""WhatsApp and SMS through the court's messaging provider.

Brazilian WhatsApp Business providers and SMS gateways are driven the same way: an HTTPS
call with a token, the channel, the phone in E.164, a pre-approved template's name and its
parameters (WhatsApp allows only approved templates for messages the business starts),
and the plain text for gateways that take text. `TextProvider` is that interface;
`HttpGateway` is its one implementation, configured by MESSAGING_GATEWAY_URL,
MESSAGING_GATEWAY_TOKEN, MESSAGING_CHANNELS and the MESSAGING_TEMPLATE_* names. Without a
gateway the option is not offered anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

CHANNELS = {"whatsapp": "WhatsApp", "sms": "SMS"}
# What each message is, and the setting that names its template at the provider.
TEMPLATE_SETTINGS = {
    "booked": "MESSAGING_TEMPLATE_BOOKED",
    "rescheduled": "MESSAGING_TEMPLATE_RESCHEDULED",
    "cancelled": "MESSAGING_TEMPLATE_CANCELLED",
    "reminder": "MESSAGING_TEMPLATE_REMINDER",
}


class GatewayRefused(Exception):
    """The provider did not take the message (the outbox retries with backoff)."""


class TextProvider(Protocol):
    def send(self, *, channel: str, to: str, template: str, parameters: dict,
             text: str) -> None: ...


class HttpGateway:
    """POST {url} with a JSON body and `Authorization: Bearer {token}`; 2xx is accepted."""

    def __init__(self, url: str, token: str, timeout_seconds: int):
        self.url, self.token, self.timeout = url, token, timeout_seconds

    def send(self, *, channel: str, to: str, template: str, parameters: dict,
             text: str) -> None:
        import requests  # here, not at the top: web workers never send (about 5 MB each)

        try:
            answer = requests.post(
                self.url, json={"channel": channel, "to": to, "template": template,
                                "parameters": parameters, "text": text},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=(3, self.timeout), allow_redirects=False)
        except requests.RequestException as error:
            raise GatewayRefused(f"{type(error).__name__}: o provedor não respondeu.") from None
        if not 200 <= answer.status_code < 300:
            raise GatewayRefused(f"O provedor respondeu {answer.status_code}.")


def offered_channels(config: Mapping) -> dict[str, str]:
    """The channels a lawyer may opt into ({} without a gateway)."""
    if not config.get("MESSAGING_GATEWAY_URL"):
        return {}
    wanted = [c.strip() for c in str(config.get("MESSAGING_CHANNELS", "")).split(",")]
    return {code: label for code, label in CHANNELS.items() if code in wanted}


def provider(config: Mapping) -> TextProvider | None:
    if not config.get("MESSAGING_GATEWAY_URL"):
        return None
    return HttpGateway(config["MESSAGING_GATEWAY_URL"], config.get("MESSAGING_GATEWAY_TOKEN", ""),
                       int(config.get("MESSAGING_TIMEOUT_SECONDS", 10)))


def template_for(config: Mapping, event: str) -> str:
    return str(config.get(TEMPLATE_SETTINGS[event]) or f"agendamento_{event}")


def deliver(payload: dict, _message=None) -> None:
    """The outbox's delivery of one WhatsApp or SMS: the manage link is unsealed only now."""
    from flask import current_app

    from ..security import unseal

    gateway = provider(current_app.config)
    if gateway is None:
        raise GatewayRefused("Nenhum provedor de WhatsApp/SMS configurado.")
    link = unseal(payload["sealed_link"]) if payload.get("sealed_link") else None
    parameters = {**payload["parameters"], **({"link": link} if link else {})}
    gateway.send(channel=payload["channel"], to=payload["to"], template=payload["template"],
                 parameters=parameters, text=payload["text"].replace("{link}", link or ""))
