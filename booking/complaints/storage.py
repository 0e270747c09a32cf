"""Where complaint files live: a directory outside the web root (COMPLAINT_FILES_DIR), each
file under a random name that says nothing of its owner or its content."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app

_KEY_LENGTH = 32  # hex characters: 128 random bits


def _root() -> Path:
    root = Path(current_app.config["COMPLAINT_FILES_DIR"])
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def _path(key: str) -> Path:
    if len(key) != _KEY_LENGTH or any(c not in "0123456789abcdef" for c in key):
        raise ValueError("not a storage key")
    return _root() / key[:2] / key


def save(content: bytes) -> str:
    """Writes the file (whole or not at all) and answers its key."""
    key = secrets.token_hex(_KEY_LENGTH // 2)
    path = _path(key)
    path.parent.mkdir(exist_ok=True, mode=0o700)
    partial = path.with_suffix(".part")
    with open(partial, "xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    partial.rename(path)
    return key


def read(key: str) -> bytes:
    return _path(key).read_bytes()


def delete(key: str) -> None:
    """Removes the file; one already gone is not an error (retention may run twice)."""
    try:
        _path(key).unlink()
    except FileNotFoundError:
        pass
