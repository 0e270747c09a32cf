"""Two-factor for password sign-in: TOTP (RFC 6238, pyotp) and one-time recovery codes.

The secret is sealed in the database (security.seal); the QR code is drawn here,
as SVG, by segno: no image leaves the service. Ten recovery codes are shown
once at enrolment and kept as SHA-256 hashes; each works once.
"""

from __future__ import annotations

import io
import secrets

import pyotp
from flask import current_app

from ..audit import service as audit
from ..database import utcnow
from ..security import seal, token_hash, tokens_match, unseal
from .models import User

RECOVERY_CODES = 10


def required_for(user: User) -> bool:
    """Whether this account must give a second factor after its password."""
    roles = {r.strip() for r in current_app.config["TOTP_REQUIRED_ROLES"].split(",")}
    return user.role in roles or user.totp_confirmed_at is not None


def enrolled(user: User) -> bool:
    return user.totp_confirmed_at is not None and user.totp_secret is not None


def start_enrolment(user: User) -> str:
    """A new secret for the user (unconfirmed until a first code is right); returns it."""
    secret = pyotp.random_base32()
    user.totp_secret = seal(secret)
    user.totp_confirmed_at = None
    return secret


def pending_secret(user: User) -> str | None:
    return unseal(user.totp_secret) if user.totp_secret else None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email,
                                               issuer_name=current_app.config["TOTP_ISSUER"])


def qr_svg(uri: str) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn locally."""
    import segno  # only at enrolment: not in every worker

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, xmldecl=False, svgns=True,
                                    title="Código QR para o aplicativo autenticador")
    return out.getvalue().decode("utf-8")


def _code_ok(secret: str, code: str) -> bool:
    code = "".join(ch for ch in code if ch.isdigit())
    return len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """With a right first code: two-factor is on; returns the recovery codes, shown once."""
    secret = pending_secret(user)
    if secret is None or not _code_ok(secret, code):
        return None
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    user.recovery_code_hashes = [token_hash(c) for c in codes]
    user.totp_confirmed_at = utcnow()
    audit.record("user.two_factor_enabled", "staff_user", user.id, user=user)
    return codes


def verify(user: User, code: str) -> bool:
    """A current TOTP code, or an unused recovery code (which is then spent)."""
    secret = unseal(user.totp_secret) if user.totp_secret else None
    if secret is not None and _code_ok(secret, code):
        return True
    given = code.strip().lower()
    for stored in list(user.recovery_code_hashes or []):
        if tokens_match(given, stored):
            user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != stored]
            audit.record("user.recovery_code_used", "staff_user", user.id, user=user,
                         details={"left": len(user.recovery_code_hashes)})
            return True
    return False
