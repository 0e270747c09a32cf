"""A complaint's files: every upload of a request checked before anything is written, kept
with the step of the conversation that brought it, read back for the people allowed to,
and removed with the reporter's data."""

from __future__ import annotations

import hashlib
import io

from flask import abort, current_app, send_file
from flask_sqlalchemy.session import Session
from sqlalchemy import delete, event, select

from ..extensions import db
from . import storage
from .attachments import AttachmentRefused, CleanFile, inspect, megabytes
from .models import Complaint, ComplaintAttachment, ComplaintEvent


class FilesRefused(Exception):
    """Some files of a request cannot be kept; nothing of the request is (413 when one is
    too large, 422 otherwise), each message naming its file."""

    def __init__(self, messages: list[str], status: int = 422):
        super().__init__(" ".join(messages))
        self.messages = messages
        self.status = status


def upload_limit() -> int:
    """The largest body a request with files may send: every file at its largest, and the
    form's text around them."""
    config = current_app.config
    return config["COMPLAINT_MAX_FILES"] * config["COMPLAINT_MAX_FILE_BYTES"] + 256 * 1024


def check(uploads: list[tuple[str | None, bytes]]) -> list[CleanFile]:
    """The request's files as they will be kept, or FilesRefused with every reason."""
    most = current_app.config["COMPLAINT_MAX_FILES"]
    if len(uploads) > most:
        raise FilesRefused([f"Envie no máximo {most} arquivos ({len(uploads)} enviados)."])
    clean, refused = [], []
    for name, content in uploads:
        try:
            clean.append(inspect(name, content,
                                 max_bytes=current_app.config["COMPLAINT_MAX_FILE_BYTES"]))
        except AttachmentRefused as refusal:
            refused.append(refusal)
    if refused:
        raise FilesRefused([f"{r.name}: {r.reason}" for r in refused],
                           413 if any(r.too_large for r in refused) else 422)
    return clean


def limits_hint() -> str:
    config = current_app.config
    return (f"Até {config['COMPLAINT_MAX_FILES']} arquivos de até "
            f"{megabytes(config['COMPLAINT_MAX_FILE_BYTES'])} cada: imagens (PNG, JPEG, "
            "WebP) ou PDF.")


def keep(complaint: Complaint, step: ComplaintEvent, files: list[CleanFile]) -> None:
    """Writes the files and their rows in the session's transaction; a rollback removes
    the files again (see _forget_written_files)."""
    for clean in files:
        key = storage.save(clean.content)
        db.session.info.setdefault("written_files", []).append(key)
        db.session.add(ComplaintAttachment(
            complaint_id=complaint.id, event_id=step.id, name=clean.name,
            content_type=clean.content_type, size=len(clean.content), storage_key=key,
            sha256=hashlib.sha256(clean.content).hexdigest()))


@event.listens_for(Session, "after_commit")
def _written_files_are_kept(session) -> None:
    session.info.pop("written_files", None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_written_files(session, previous_transaction) -> None:
    """Files written for a transaction that did not commit are removed: no file without
    its row, no half-filed complaint. A savepoint's rollback leaves them to the outer
    transaction."""
    if previous_transaction.nested:
        return
    for key in session.info.pop("written_files", []):
        try:
            storage.delete(key)
        except Exception:  # a rollback must finish; the file is an orphan, said in the log
            current_app.logger.exception("complaint file %s left behind by a rollback", key)


def of_complaint(complaint: Complaint, attachment_id: int) -> ComplaintAttachment | None:
    return db.session.scalar(select(ComplaintAttachment).where(
        ComplaintAttachment.id == attachment_id,
        ComplaintAttachment.complaint_id == complaint.id))


def content(attachment: ComplaintAttachment) -> bytes:
    return storage.read(attachment.storage_key)


def remove_of(complaint_ids) -> int:
    """Retention: the files of these complaints (a select of ids), rows and bytes."""
    doomed = db.session.execute(select(ComplaintAttachment.id, ComplaintAttachment.storage_key)
                                .where(ComplaintAttachment.complaint_id.in_(complaint_ids))).all()
    if not doomed:
        return 0
    db.session.execute(delete(ComplaintAttachment).where(
        ComplaintAttachment.id.in_([row.id for row in doomed]))
        .execution_options(synchronize_session=False))
    # Removed at once: a retention run that fails later leaves rows that name no file,
    # which the pages show as "arquivo removido", never the other way round.
    for row in doomed:
        storage.delete(row.storage_key)
    return len(doomed)


def read_uploads(storages) -> list[tuple[str | None, bytes]]:
    """The request's file parts as (name, bytes); the empty part a browser sends when no
    file was chosen is not a file. Each is read one byte past the limit, enough to know."""
    limit = current_app.config["COMPLAINT_MAX_FILE_BYTES"]
    return [(storage_.filename, storage_.read(limit + 1)) for storage_ in storages
            if storage_.filename or storage_.content_length]


def response_for(attachment: ComplaintAttachment | None):
    """A kept file, never shown inline: its own strict type, a download, no sniffing, no
    script even if a browser were to render it; 404 when it is not there (or removed)."""
    try:
        body = content(attachment) if attachment else None
    except FileNotFoundError:
        body = None
    if body is None:
        abort(404)
    response = send_file(io.BytesIO(body), mimetype=attachment.content_type,
                         as_attachment=True, download_name=attachment.name,
                         max_age=0, etag=False, conditional=False)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
