"""Two-factor for password sign-in: TOTP (RFC 6238, pyotp) and one-time recovery codes.

The secret is sealed in the database (security.seal); the QR code is drawn here,
as SVG, by segno: no image leaves the service. A code is accepted within one time
step of now, and once: the step of the last code accepted is kept, and a code of
that step or an earlier one is refused (RFC 6238, section 5.2), so a code seen over a
shoulder or in a proxy's log cannot be used again. Ten recovery codes are shown
once at enrolment and kept as SHA-256 hashes; each works once.
"""

from __future__ import annotations

import hmac
import io
import secrets
from datetime import UTC, datetime

import pyotp
from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from ..audit import service as audit
from ..database import utcnow
from ..extensions import db
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
    user.totp_last_step = None  # the old secret's steps say nothing of the new one's
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


def _step_of(secret: str, code: str) -> int | None:
    """The time step whose code this is, of the previous, current and next (a phone's clock
    a little off still works); None if none."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.now(UTC))
    matching = [step for step in (current - 1, current, current + 1)
                if hmac.compare_digest(totp.generate_otp(step), code)]
    return matching[0] if matching else None


def _spend(user: User, step: int) -> bool:
    """Record the step as used, if no code of it or of a later step was accepted before:
    one compare-and-set, so two sign-ins racing with the same code do not both pass."""
    spent = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                    User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """With a right first code: two-factor is on; returns the recovery codes, shown once."""
    secret = pending_secret(user)
    step = _step_of(secret, code) if secret is not None else None
    if step is None or not _spend(user, step):
        return None
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    user.recovery_code_hashes = [token_hash(c) for c in codes]
    user.totp_confirmed_at = utcnow()
    audit.record("user.two_factor_enabled", "staff_user", user.id, user=user)
    return codes


def verify(user: User, code: str) -> bool:
    """A current TOTP code not used before, or an unused recovery code (either is then
    spent; the caller commits)."""
    secret = unseal(user.totp_secret) if user.totp_secret else None
    step = _step_of(secret, code) if secret is not None else None
    if step is not None:
        return _spend(user, step)
    given = code.strip().lower()
    for stored in list(user.recovery_code_hashes or []):
        if tokens_match(given, stored):
            user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != stored]
            audit.record("user.recovery_code_used", "staff_user", user.id, user=user,
                         details={"left": len(user.recovery_code_hashes)})
            return True
    return False
