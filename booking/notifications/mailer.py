"""The e-mail that carries an invite (RFC 6047), and an SMTP connection with timeouts.

Flask-Mail writes every alternative as text/<subtype> without parameters; an
iMIP calendar part needs `method=REQUEST` (or CANCEL) matching the body's
METHOD, or Outlook and Gmail show a plain attachment instead of a meeting.
"""

from __future__ import annotations

import smtplib
import socket
from email import policy
from email.charset import BASE64, Charset
from email.header import Header
from email.mime.text import MIMEText
from email.utils import make_msgid
from functools import cache

import flask_mail
from flask import current_app
from flask_mail import Attachment, Connection, Message

# Flask-Mail writes the subject as encoded words itself, then gives the message
# policy.SMTP, whose generator parses every header again and folds it anew: a long
# Portuguese subject reached the reader cut inside a word ("quar ta-feira"), and the
# parsing took half of each e-mail's time. The classic policy writes the headers as built.
_AS_BUILT = policy.compat32.clone(linesep="\r\n")
# UTF-8 encoded words in base64 alone. The library's default for UTF-8 measures quoted-
# printable and base64 at every character to pick the shorter, which made encoding one
# subject a fifth of an e-mail's time; every mail client reads both.
_UTF8_IN_BASE64 = Charset("utf-8")
_UTF8_IN_BASE64.header_encoding = BASE64


class InviteMessage(Message):
    """multipart/mixed[ alternative[ plain, html, calendar; method=... ], convite.ics ]."""

    def __init__(self, *args, calendar: bytes | None = None, method: str | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.calendar_method = method
        if calendar is not None:
            self.alts["calendar"] = calendar.decode("utf-8")
            self.attachments.append(Attachment(
                filename="convite.ics", content_type="application/ics", data=calendar,
                disposition="attachment"))

    def _mimetext(self, text, subtype="plain"):
        part = MIMEText(text, _subtype=subtype, _charset=self.charset or "utf-8")
        if subtype == "calendar" and self.calendar_method:
            part.set_param("method", self.calendar_method)
        return part

    def _message(self):
        subject = self.subject
        encoded_here = bool(subject) and not subject.isascii()
        if encoded_here:
            self.subject = ""  # Flask-Mail would encode it too, for nothing
        try:
            message = super()._message()
        finally:
            self.subject = subject
        message.policy = _AS_BUILT
        if encoded_here:
            # one run of encoded words, folded between them: no word is cut
            del message["Subject"]
            message["Subject"] = Header(subject, _UTF8_IN_BASE64, header_name="Subject")
        return message


class TimedConnection(Connection):
    """Flask-Mail's connection, with a connect and read timeout (it has none)."""

    def configure_host(self):
        timeout = current_app.config["MAIL_TIMEOUT_SECONDS"]
        kind = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = kind(self.mail.server, self.mail.port, timeout=timeout,
                    local_hostname=_this_host())
        host.set_debuglevel(int(self.mail.debug or 0))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


@cache
def _this_host() -> str:
    """The name said in EHLO, looked up once (smtplib asks the resolver at every connection,
    and the sender opens one per batch and connection)."""
    return socket.getfqdn()


# Flask-Mail gives every Message a Message-ID from email.utils.make_msgid(), which asks the
# resolver for this machine's name at each call: a reverse lookup per e-mail (seconds each
# where reverse DNS does not answer, hours for a closure's thousands). The outbox replaces
# that id with its own, kept across attempts; the one Flask-Mail makes takes the name
# looked up once.
flask_mail.make_msgid = lambda: make_msgid(domain=_this_host())


def smtp_connection() -> TimedConnection:
    """A connection configured from this app's MAIL_* settings (use it as a context manager)."""
    return TimedConnection(current_app.extensions["mail"])
