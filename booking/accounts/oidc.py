"""Sign-in with the court's identity provider: OpenID Connect, authorization code with PKCE.

Authlib does the protocol: discovery from OIDC_ISSUER, the redirect with state,
nonce and an S256 code challenge, the code exchange, and the ID token's
signature, issuer, audience, expiry and nonce. This module only decides who the
person is here: the account an admin registered for the e-mail the provider
vouches for, or, when OIDC_CREATE_FROM_GROUPS is on, a new account whose role
the person's groups map to (OIDC_GROUP_ROLES).
"""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import select

from ..audit import service as audit
from ..courts import service as courts
from ..domain import NotAllowedNow
from ..extensions import db
from .models import User
from .service import create_user, normalize_email

CLIENT = "court"
REGISTRY = "booking_oidc"


def configure(app: Flask) -> None:
    """Register the provider's client when an issuer is set (create_app calls this)."""
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        return
    # Imported only here: a court that signs in without a provider does not carry Authlib
    # (about 10 MB) in every worker.
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    app.extensions[REGISTRY] = oauth
    oauth.register(
        CLIENT, client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"] or None,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "timeout": 10})


def enabled() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def client():
    return current_app.extensions[REGISTRY].create_client(CLIENT)


def group_roles() -> dict[str, str]:
    pairs = (item.split("=", 1) for item in current_app.config["OIDC_GROUP_ROLES"].split(",")
             if "=" in item)
    return {group.strip(): role.strip() for group, role in pairs}


def role_from_groups(groups) -> str | None:
    mapping = group_roles()
    for group in groups if isinstance(groups, list) else [groups] if groups else []:
        if str(group) in mapping:
            return mapping[str(group)]
    return None


def claims_of(token: dict) -> dict:
    """The ID token's verified claims, completed from the userinfo endpoint when the
    provider keeps e-mail and groups out of the ID token (as conforming providers do)."""
    claims = dict(token.get("userinfo") or {})
    config = current_app.config
    if config["OIDC_EMAIL_CLAIM"] not in claims or config["OIDC_GROUPS_CLAIM"] not in claims:
        extra = dict(client().userinfo(token=token))
        if extra.get("sub") != claims.get("sub"):
            raise NotAllowedNow("O provedor de identidade respondeu por outra conta.",
                                "other_subject")
        claims = {**extra, **claims}
    return claims


REFUSED = ("Sua conta do tribunal ({email}) não tem acesso a este serviço. Peça à "
           "administração que a cadastre.")


def user_for_claims(claims: dict) -> User:
    """The account these verified claims sign in; NotAllowedNow with the reason otherwise."""
    config = current_app.config
    email = normalize_email(str(claims.get(config["OIDC_EMAIL_CLAIM"]) or ""))
    subject = str(claims.get("sub") or "")
    if not email or not subject:
        raise NotAllowedNow("O provedor de identidade não informou o e-mail da conta.",
                            "no_email")
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        role = role_from_groups(claims.get(config["OIDC_GROUPS_CLAIM"]))
        if not config["OIDC_CREATE_FROM_GROUPS"] or role is None:
            raise NotAllowedNow(REFUSED.format(email=email), "not_registered")
        magistrate = courts.magistrate_with_email(email) if role == "magistrate" else None
        if role == "magistrate" and magistrate is None:
            raise NotAllowedNow(REFUSED.format(email=email), "not_registered")
        user = create_user(email=email, password=None, role=role,
                           name=str(claims.get("name") or email),
                           magistrate_id=magistrate.id if magistrate else None)
    if not user.is_active:
        raise NotAllowedNow("Esta conta está desativada. Procure a administração.", "inactive")
    if user.oidc_subject is None:
        user.oidc_subject = subject
    elif user.oidc_subject != subject:
        raise NotAllowedNow(REFUSED.format(email=email), "other_subject")
    audit.record("user.signed_in_oidc", "staff_user", user.id, user=user)
    return user


def end_session_url(id_token: str | None, after: str) -> str | None:
    """The provider's logout address, when it offers one (RP-initiated logout)."""
    if not enabled() or not id_token:
        return None
    metadata = client().load_server_metadata()
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    from urllib.parse import urlencode

    return endpoint + "?" + urlencode({"id_token_hint": id_token,
                                       "post_logout_redirect_uri": after})
