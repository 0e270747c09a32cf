"""Secrets that reach clients (tokens) and secrets that never do (passwords).

Tokens are random, shown once, and stored only as SHA-256; passwords are
hashed with Argon2id at the cost PASSWORD_HASH_PROFILE names (one of argon2-cffi's
profiles; a hash made at another cost still verifies, and is redone at the next sign-in).
Comparisons of secrets run in constant time. What must be
read back (a TOTP secret) is sealed with Fernet under DATA_ENCRYPTION_KEY, or
under a key derived from SECRET_KEY when that setting is empty.
"""

import base64
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# The profiles a deployment may choose; CHEAPEST only where nobody's password is real.
PASSWORD_HASH_PROFILES = ("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST")


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


@functools.lru_cache(maxsize=len(PASSWORD_HASH_PROFILES))
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher, and a hash verified against when the e-mail is unknown (the same cost)."""
    if profile not in PASSWORD_HASH_PROFILES:
        raise ValueError(f"PASSWORD_HASH_PROFILE={profile!r} is not one of "
                         f"{', '.join(PASSWORD_HASH_PROFILES)}")
    hasher = PasswordHasher.from_parameters(getattr(profiles, profile))
    return hasher, hasher.hash("not-a-real-password")


def prepare_password_hashing(profile: str) -> None:
    """Make the unknown e-mail's hash when a web worker starts: made at a first sign-in, it
    would make that one answer slower when the e-mail is unknown."""
    _hasher_for(profile)


def _hasher() -> tuple[PasswordHasher, str]:
    return _hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    hasher, _ = _hasher()
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; also burns the same time when there is no user."""
    hasher, dummy_hash = _hasher()
    try:
        return hasher.verify(stored_hash or dummy_hash, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    hasher, _ = _hasher()
    return hasher.check_needs_rehash(stored_hash)


def _fernet() -> Fernet:
    return _fernet_for(current_app.config.get("DATA_ENCRYPTION_KEY"),
                       current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _fernet_for(data_key: str | None, secret_key: str) -> Fernet:
    """Built once per pair of keys: deriving the key is most of the cost of a seal."""
    if not data_key:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"booking data encryption").derive(secret_key.encode("utf-8"))
        data_key = base64.urlsafe_b64encode(derived)
    return Fernet(data_key)


def seal(plain: str) -> str:
    """Encrypt a secret the service must read back; authenticated, so tampering shows."""
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str | None:
    """The secret, or None when it was sealed under another key or altered."""
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
