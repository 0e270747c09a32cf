"""Staff accounts and the API tokens they hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, one_of, utcnow
from ..extensions import db

# Each role, as a person reads it.
ROLE_NAMES = {"magistrate": "Magistrado(a)", "assistant": "Assessor(a)",
              "corregedoria": "Corregedoria", "admin": "Administração"}
ROLES = tuple(ROLE_NAMES)

# An assistant acts for one or more magistrates.
assistant_magistrate = Table(
    "assistant_magistrate",
    db.metadata,
    Column("user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("magistrate_id", ForeignKey("magistrate.id", ondelete="CASCADE"), primary_key=True),
)


class User(db.Model):
    """A member of staff. Lawyers and citizens have no account."""

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # None until the person sets a password from the e-mailed link (or signs in by OIDC).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # The magistrate this account belongs to, for the role "magistrate".
    magistrate_id: Mapped[int | None] = mapped_column(ForeignKey("magistrate.id"), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    # Part of every session's id: raising it (logout, a new password) ends every session
    # signed with the old one, even a cookie copied before.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Two-factor for password sign-in: the TOTP secret, sealed (security.seal); set when
    # the person confirmed a first code. Recovery codes are kept as hashes, used ones removed.
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step (RFC 6238) of the last code accepted: a code works once.
    totp_last_step: Mapped[int | None]
    recovery_code_hashes: Mapped[list[str] | None] = mapped_column(JSON)
    # The identity provider's subject for this person, fixed at the first OIDC sign-in.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)

    # Magistrates are the directory's (courts): named by string, not imported.
    magistrate: Mapped["Magistrate | None"] = relationship("Magistrate")  # noqa: F821, UP037
    assists: Mapped[list["Magistrate"]] = relationship(  # noqa: F821, UP037
        "Magistrate", secondary=assistant_magistrate)

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    def acts_for(self, magistrate_id: int) -> bool:
        """Whether this user may manage the given magistrate's agenda and bookings."""
        if self.role == "magistrate":
            return self.magistrate_id == magistrate_id
        if self.role == "assistant":
            return any(m.id == magistrate_id for m in self.assists)
        return False

    @property
    def magistrate_ids(self) -> list[int]:
        """The magistrates whose agendas this user manages."""
        if self.role == "magistrate" and self.magistrate_id is not None:
            return [self.magistrate_id]
        if self.role == "assistant":
            return [m.id for m in self.assists]
        return []


class LoginThrottle(db.Model):
    """Failed sign-ins of one account from one address, and until when that pair waits.

    Keyed by a hash of both, so a stranger elsewhere who types a magistrate's e-mail
    slows down only themselves: the magistrate, from their own address, signs in.
    """

    __tablename__ = "login_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


ACCOUNT_LINK_PURPOSES = ("set_password", "reset_password")


class AccountLink(db.Model):
    """A single-use link e-mailed to set or reset a password. Only its SHA-256 is stored."""

    __tablename__ = "account_link"
    __table_args__ = (CheckConstraint(one_of("purpose", ACCOUNT_LINK_PURPOSES), name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A bearer token for the API. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_valid(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class IntegrationKey(db.Model):
    """A key an admin gives one of the court's systems (its portal, an app that already
    knows who the lawyer is) to book directly, without the e-mail code. Only its SHA-256 is
    stored; the key is shown once."""

    __tablename__ = "integration_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
