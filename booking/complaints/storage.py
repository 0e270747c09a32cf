"""Where complaint files live, each under a random name that says nothing of its owner or
its content: a directory outside the web root (COMPLAINT_FILES_DIR, the default) or a
bucket of an S3-compatible object store (COMPLAINT_FILES_STORE=s3)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app
from werkzeug.exceptions import ServiceUnavailable

_KEY_LENGTH = 32  # hex characters: 128 random bits


def _checked(key: str) -> str:
    if len(key) != _KEY_LENGTH or any(c not in "0123456789abcdef" for c in key):
        raise ValueError("not a storage key")
    return key


class LocalStore:
    """Files in a directory, written whole or not at all (a temporary name, then rename)."""

    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / _checked(key)

    def save(self, key: str, content: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        with open(partial, "xb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        partial.rename(path)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Objects in a bucket (AWS S3, MinIO, Ceph...): the same keys under COMPLAINT_S3_PREFIX.
    Credentials come from the settings or from boto3's own chain (environment, role)."""

    def __init__(self, config):
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = config["COMPLAINT_S3_BUCKET"]
        self.prefix = config["COMPLAINT_S3_PREFIX"]
        self.client = boto3.client(
            "s3", endpoint_url=config["COMPLAINT_S3_ENDPOINT"] or None,
            region_name=config["COMPLAINT_S3_REGION"] or None,
            aws_access_key_id=config["COMPLAINT_S3_ACCESS_KEY"] or None,
            aws_secret_access_key=config["COMPLAINT_S3_SECRET_KEY"] or None,
            config=BotoConfig(s3={"addressing_style": "path"}, connect_timeout=5,
                              read_timeout=30, retries={"max_attempts": 3}))

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key[:2]}/{_checked(key)}"

    def save(self, key: str, content: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=content,
                               ContentType="application/octet-stream")

    def read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except self.client.exceptions.NoSuchKey as missing:
            raise FileNotFoundError(key) from missing

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))


def _store() -> LocalStore | S3Store:
    """The configured store, built once per app (an S3 client holds its connections)."""
    config = current_app.config
    cached = current_app.extensions.get("complaint_store")
    wanted = (config["COMPLAINT_FILES_STORE"], config["COMPLAINT_FILES_DIR"],
              config["COMPLAINT_S3_BUCKET"], config["COMPLAINT_S3_ENDPOINT"])
    if cached is None or cached[0] != wanted:
        store = S3Store(config) if wanted[0] == "s3" else LocalStore(wanted[1])
        cached = current_app.extensions["complaint_store"] = (wanted, store)
    return cached[1]


class StoreUnavailable(ServiceUnavailable):
    """The store could not take a file: a 503 that says so (nothing of the request is kept,
    the transaction rolls back)."""

    description = ("Não foi possível guardar ou ler os anexos agora. Tente novamente em "
                   "alguns minutos; nada foi registrado.")
    data = {"message": description}  # what the error handlers show (API and pages)


def save(content: bytes) -> str:
    """Keeps the file and answers its new random key."""
    key = secrets.token_hex(_KEY_LENGTH // 2)
    try:
        _store().save(key, content)
    except Exception as error:  # OSError, or any of boto's: the store failed, not the input
        current_app.logger.exception("complaint file store failed")
        raise StoreUnavailable() from error
    return key


def read(key: str) -> bytes:
    """The file's bytes; FileNotFoundError when it is gone, StoreUnavailable (503) when
    the store cannot be reached."""
    try:
        return _store().read(key)
    except FileNotFoundError:
        raise
    except Exception as error:
        current_app.logger.exception("complaint file store failed")
        raise StoreUnavailable() from error


def delete(key: str) -> None:
    """Removes the file; one already gone is not an error (retention may run twice)."""
    _store().delete(key)
