"""Staff accounts: creating them, checking passwords, issuing and revoking tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import selectinload

from ..audit import service as audit
from ..courts import search
from ..courts.models import Magistrate
from ..database import utcnow
from ..domain import InvalidField
from ..extensions import db
from ..pagination import paginate
from ..security import hash_password, new_token, password_needs_rehash, token_hash, verify_password
from .models import ROLES, ApiToken, IntegrationKey, LoginThrottle, User


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(*, email: str, password: str | None, role: str, name: str | None = None,
                magistrate_id: int | None = None, assists: list[int] | None = None,
                actor=None) -> User:
    """Create a staff account. A magistrate's account names its magistrate.

    Without a password the person sets one from an e-mailed link (staff.invite).
    """
    email = normalize_email(email)
    if role not in ROLES:
        raise InvalidField(f"Papel desconhecido: {role}. Use um de: {', '.join(ROLES)}.", "role")
    if password is not None and len(password) < 10:
        raise InvalidField("A senha deve ter pelo menos 10 caracteres.", "password")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidField(f"Já existe uma conta com o e-mail {email}.", "email")
    magistrate = None
    if role == "magistrate":
        if magistrate_id is None:
            raise InvalidField("Uma conta de magistrado precisa de --magistrate-id.",
                               "magistrate_id")
        magistrate = db.session.get(Magistrate, magistrate_id)
        if magistrate is None:
            raise InvalidField(f"Magistrado {magistrate_id} não existe.", "magistrate_id")
    elif magistrate_id is not None and role != "assistant":
        raise InvalidField("Só contas de magistrado ou assessor se ligam a um magistrado.",
                           "magistrate_id")
    user = User(
        email=email,
        name=name or (magistrate.name if magistrate else email),
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        magistrate_id=magistrate.id if magistrate else None,
    )
    served = list(assists or [])
    if role == "assistant" and magistrate_id is not None:
        served.append(magistrate_id)
    for served_id in dict.fromkeys(served):
        served_magistrate = db.session.get(Magistrate, served_id)
        if served_magistrate is None:
            raise InvalidField(f"Magistrado {served_id} não existe.", "assists")
        user.assists.append(served_magistrate)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", "staff_user", user.id, user=actor, details={"role": role})
    return user


def authenticate(email: str, password: str, address: str = "",
                 now: datetime | None = None) -> User | None:
    """The active user with this password, or None; the caller answers the same way whether
    the e-mail exists, the password is wrong or the pair is waiting.

    Failures are counted per account and client address: after LOGIN_MAX_FAILURES the
    pair waits 1, 2, 4 ... seconds, up to LOGIN_LOCKOUT_MINUTES, before its next try. The
    account itself is never locked, so a stranger cannot lock a judge out of their agenda.
    """
    now = now or utcnow()
    email = normalize_email(email)
    throttle = db.session.get(LoginThrottle, token_hash(f"{email}|{address}"))
    if throttle is not None and throttle.blocked_until is not None and \
            throttle.blocked_until > now:
        verify_password(None, password)  # the same time as a real check
        return None
    user = db.session.scalar(select(User).where(User.email == email))
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.is_active or not password_ok:
        _failed_sign_in(email, address, throttle, now)
        return None
    if throttle is not None:
        db.session.delete(throttle)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _failed_sign_in(email: str, address: str, throttle, now: datetime) -> None:
    config = current_app.config
    if throttle is None:
        throttle = LoginThrottle(key_hash=token_hash(f"{email}|{address}"), failures=0)
        db.session.add(throttle)
    throttle.failures += 1
    throttle.updated_at = now
    over = throttle.failures - config["LOGIN_MAX_FAILURES"]
    if over >= 0:
        seconds = min(2 ** over, config["LOGIN_LOCKOUT_MINUTES"] * 60)
        throttle.blocked_until = now + timedelta(seconds=seconds)


def purge_login_throttles(now: datetime | None = None) -> int:
    """Forget failures older than a day (the scheduler's token purge calls this)."""
    now = now or utcnow()
    return db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.updated_at < now - timedelta(days=1))).rowcount


def password_allowed(user: User) -> bool:
    """Whether the user's role may sign in with a local password (PASSWORD_LOGIN_ROLES)."""
    roles = {r.strip() for r in current_app.config["PASSWORD_LOGIN_ROLES"].split(",")}
    return user.role in roles


def issue_token(user: User, now: datetime | None = None) -> tuple[str, ApiToken]:
    """A new bearer token for the user; the plain token is returned once, never stored."""
    now = now or utcnow()
    plain = new_token()
    token = ApiToken(
        user=user,
        token_hash=token_hash(plain),
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"]),
    )
    db.session.add(token)
    audit.record("token.issued", "staff_user", user.id, user=user)
    return plain, token


def user_for_token(plain: str, now: datetime | None = None) -> User | None:
    """The user a valid (unexpired, unrevoked) token belongs to."""
    now = now or utcnow()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(plain)))
    if token is None or not token.is_valid(now):
        return None
    return token.user


def issue_integration_key(name: str, user: User) -> tuple[str, IntegrationKey]:
    """A key for one of the court's systems to book directly; shown once, never stored."""
    plain = "int_" + new_token()
    key = IntegrationKey(name=name.strip(), key_hash=token_hash(plain), created_by_id=user.id)
    db.session.add(key)
    db.session.flush()
    audit.record("integration_key.issued", "integration_key", key.id, user=user,
                 details={"name": key.name})
    return plain, key


# On every booking of a court system: one column, from a statement built once.
_ACTIVE_KEY = select(IntegrationKey.__table__.c.id).where(
    IntegrationKey.__table__.c.key_hash == bindparam("key_hash"),
    IntegrationKey.__table__.c.revoked_at.is_(None))


def is_integration_key(plain: str | None) -> bool:
    """Whether this plain value is an active integration key (constant-time where it
    matters: the lookup is by hash)."""
    return bool(plain) and db.session.connection().execute(
        _ACTIVE_KEY, {"key_hash": token_hash(plain)}).first() is not None


_INTEGRATION_KEYS = select(IntegrationKey).order_by(IntegrationKey.id)


def integration_keys() -> list[IntegrationKey]:
    return list(db.session.scalars(_INTEGRATION_KEYS))


def integration_keys_page(*, page: int = 1,
                          per_page: int = 20) -> tuple[list[IntegrationKey], int]:
    """One page of the keys, oldest first, and how many there are (revoked ones stay)."""
    return paginate(_INTEGRATION_KEYS, page, per_page)


def revoke_integration_key(key_id: int, user: User) -> IntegrationKey | None:
    key = db.session.get(IntegrationKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record("integration_key.revoked", "integration_key", key.id, user=user)
    return key


def revoke_token(plain: str, now: datetime | None = None) -> bool:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(plain)))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    audit.record("token.revoked", "staff_user", token.user_id, user=token.user)
    return True


def purge_expired_tokens(now: datetime | None = None) -> int:
    """Drop tokens that can no longer be used; they are of no further use to anyone."""
    now = now or utcnow()
    result = db.session.execute(
        delete(ApiToken).where((ApiToken.expires_at <= now) | ApiToken.revoked_at.is_not(None))
    )
    return result.rowcount


def list_users(*, role: str | None = None, q: str | None = None, page: int = 1,
               per_page: int = 20):
    """Staff accounts, for the administration, in order of e-mail; `q` keeps those with
    every word typed beginning a word of the name or the e-mail, accents and capitals
    aside."""
    statement = select(User).options(selectinload(User.assists)).order_by(User.email)
    if role:
        statement = statement.where(User.role == role)
    if terms := search.terms(q):
        # A court has hundreds of accounts, not millions: matched here, accents folded as
        # the directory's search does, then paged by id.
        names = db.session.execute(statement.with_only_columns(User.id, User.name, User.email))
        statement = statement.where(User.id.in_([
            row.id for row in names
            if search.has_every_word(terms, row.name, row.email)]))
    return paginate(statement, page, per_page)


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def names_of(user_ids) -> dict[int, str]:
    """The names of these accounts (deactivated ones too), in one read: for a list's column."""
    wanted = {user_id for user_id in user_ids if user_id}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def staff_with_role(role: str, *, also=()) -> list[User]:
    """Active staff of one role, by name (e.g. whom a complaint can be assigned to); `also`:
    these accounts' ids too, of any role, active or not (those already in charge of one)."""
    return list(db.session.scalars(select(User).where(
        ((User.role == role) & User.is_active.is_(True)) | User.id.in_(set(also)))
        .order_by(User.name, User.id)))
