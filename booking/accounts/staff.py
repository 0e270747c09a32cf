"""Staff accounts as the administration manages them, and the links that set passwords.

An admin creates an account without a password: the person receives a
single-use link (only its SHA-256 is kept; it expires after
ACCOUNT_LINK_TTL_HOURS) and chooses one. "Forgot my password" sends the same
kind of link. Sending is the outbox's work: `notifications` sits above this
package, so create_app registers its queueing function here (`register_mailer`).
Every change is in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import select, update

from ..audit import service as audit
from ..courts import service as courts
from ..database import utcnow
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db
from ..security import hash_password, new_token, token_hash
from ..urls import external_url
from .models import ROLES, AccountLink, User
from .service import create_user, normalize_email

MIN_PASSWORD_LENGTH = 10
LINK_SUBJECTS = {"set_password": "Sua conta no serviço de agendamento do TJMT",
                 "reset_password": "Redefinição de senha — agendamento TJMT"}

_mailer: Callable[..., bool] | None = None


def register_mailer(queue: Callable[..., bool]) -> None:
    """notifications.service.queue, registered by create_app (it stands above accounts)."""
    global _mailer
    _mailer = queue


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(f"A senha deve ter pelo menos {MIN_PASSWORD_LENGTH} caracteres.",
                           "password")
    if len(password) > 200:
        raise InvalidField("A senha deve ter no máximo 200 caracteres.", "password")


def invite(data: dict, actor) -> User:
    """Create an account without a password and e-mail the link that sets one."""
    user = create_user(email=data["email"], password=None, role=data["role"],
                       name=data.get("name"), magistrate_id=data.get("magistrate_id"),
                       assists=data.get("assists"), actor=actor)
    send_link(user, "set_password")
    return user


def update_user(user: User, data: dict, actor) -> User:
    """Name, role, the magistrate served, active or not; a deactivated account's tokens stop."""
    if "role" in data and data["role"] not in ROLES:
        raise InvalidField("Papel desconhecido.", "role")
    if actor is not None and user.id == actor.id and (
            data.get("is_active") is False or data.get("role", user.role) != user.role):
        raise NotAllowedNow("Você não pode desativar nem mudar o papel da sua própria conta.",
                            "own_account")
    role = data.get("role", user.role)
    if "name" in data:
        user.name = data["name"]
    if "magistrate_id" in data or "role" in data:
        magistrate_id = data.get("magistrate_id", user.magistrate_id)
        if role == "magistrate":
            if magistrate_id is None or courts.get_magistrate(magistrate_id) is None:
                raise InvalidField("Informe o magistrado desta conta.", "magistrate_id")
            other = db.session.scalar(select(User.id).where(
                User.magistrate_id == magistrate_id, User.id != user.id))
            if other is not None:
                raise InvalidField("Este magistrado já tem uma conta.", "magistrate_id")
            user.magistrate_id = magistrate_id
        else:
            user.magistrate_id = None
    user.role = role
    if "assists" in data or role != "assistant":
        served = data.get("assists", [m.id for m in user.assists]) if role == "assistant" else []
        magistrates = [courts.get_magistrate(i) for i in dict.fromkeys(served)]
        if any(m is None for m in magistrates):
            raise InvalidField("Magistrado não encontrado.", "assists")
        user.assists = magistrates
    if "is_active" in data:
        user.is_active = data["is_active"]
    user.updated_at = utcnow()
    db.session.flush()
    audit.record("user.changed", "staff_user", user.id, user=actor,
                 details={key: value for key, value in data.items()
                          if key in ("role", "is_active", "magistrate_id", "assists", "name")})
    return user


def send_link(user: User, purpose: str, now: datetime | None = None) -> str:
    """A new single-use link for the user (older unused ones stop working), e-mailed."""
    now = now or utcnow()
    db.session.execute(update(AccountLink).where(
        AccountLink.user_id == user.id, AccountLink.used_at.is_(None)).values(used_at=now))
    plain = new_token()
    hours = current_app.config["ACCOUNT_LINK_TTL_HOURS"]
    link = AccountLink(user_id=user.id, purpose=purpose, token_hash=token_hash(plain),
                       created_at=now, expires_at=now + timedelta(hours=hours))
    db.session.add(link)
    db.session.flush()
    url = external_url("accounts_pages.set_password", token=plain)
    if _mailer is not None:
        _mailer(dedupe_key=f"account-link:{link.id}", kind=f"account_{purpose}", to=user.email,
                subject=LINK_SUBJECTS[purpose],
                text=render_template("email/account_link.txt", user=user, url=url, hours=hours,
                                     purpose=purpose,
                                     court_name=current_app.config["COURT_NAME"]))
    audit.record(f"user.{purpose}_link_sent", "staff_user", user.id)
    return url


def valid_link(plain: str, now: datetime | None = None) -> AccountLink | None:
    """The unused, unexpired link of an active account, or None."""
    now = now or utcnow()
    link = db.session.scalar(select(AccountLink).where(
        AccountLink.token_hash == token_hash(plain)))
    if link is None or link.used_at is not None or link.expires_at <= now or \
            not link.user.is_active:
        return None
    return link


def set_password_from_link(plain: str, password: str, now: datetime | None = None) -> User:
    now = now or utcnow()
    link = valid_link(plain, now)
    if link is None:
        raise NotAllowedNow("Este link já foi usado ou expirou. Peça um novo.", "link_invalid")
    check_password(password)
    link.used_at = now
    link.user.password_hash = hash_password(password)
    link.user.session_version += 1  # a new password ends the sessions of the old one
    audit.record("user.password_set", "staff_user", link.user_id, user=link.user)
    return link.user


def forgot_password(email: str) -> None:
    """A reset link when the e-mail is an active account's; the same answer otherwise."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is not None and user.is_active:
        send_link(user, "reset_password")
