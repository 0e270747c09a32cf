"""Text no database can store never gets past the door.

JSON allows "\\u0000" and lone surrogate escapes; PostgreSQL refuses NUL in
text and UTF-8 has no surrogates, so such a value would fail deep inside a
transaction. They are refused here, before any schema runs, with the field
named as a 422 (problem+json on the API, a plain 400 page elsewhere).
"""

from __future__ import annotations

import json
import re

from flask import Flask, abort, request

from .errors import problem_response

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In a UTF-8 JSON body such text comes as an escape ("\u0000", "\ud800"...), as a raw NUL
# (which the parser refuses) or as a surrogate's three bytes (which it lets through): a
# body with none of these needs no walk through its values. (An escaped backslash before
# "u0000" only costs the walk.)
_UNSTORABLE_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")
MESSAGE = "O texto contém caracteres inválidos."


def _bad_paths(value, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "_schema"] if _UNSTORABLE.search(value) else []
    if isinstance(value, dict):
        return [p for key, item in value.items()
                for p in (_bad_paths(item, f"{path}.{key}" if path else str(key))
                          + ([path or "_schema"] if isinstance(key, str)
                             and _UNSTORABLE.search(key) else []))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value)
                for p in _bad_paths(item, f"{path}.{index}" if path else str(index))]
    return []


MAX_JSON_DEPTH = 32


def _deeper_than(raw: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit`, read without parsing
    it (the parser's own recursion is what a deep body attacks)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # no deeper than its opening brackets: every usual body, counted in C
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def refuse_unstorable_text():
    if request.is_json and (request.content_length or request.headers.get("Transfer-Encoding")) \
            and _deeper_than(request.get_data(cache=True), MAX_JSON_DEPTH):
        if request.path.startswith("/api/"):
            return problem_response(400, f"O JSON tem mais de {MAX_JSON_DEPTH} níveis.")
        abort(400)
    query = request.query_string
    if not query.isascii() and not _is_utf8(query):
        # The query string's bytes are not text at all: werkzeug would fail to read them.
        return _refuse({"_query"})
    # Only "%00" (or a raw NUL) decodes to NUL in a query; undecodable bytes become U+FFFD.
    bad = _bad_paths(request.args.to_dict(flat=False)) if b"\x00" in query or b"%00" in query else []
    if request.content_length or request.headers.get("Transfer-Encoding"):
        bad += _bad_paths(request.form.to_dict(flat=False)) if request.form else []
        if request.is_json and _may_hold_unstorable_json(request.get_data(cache=True)):
            body = request.get_json(silent=True)
            if body is not None:
                bad += _bad_paths(body)
    if not bad:
        return None
    return _refuse({path.rsplit(".", 1)[0] if path.rsplit(".", 1)[-1].isdigit() else path
                    for path in bad})


def _may_hold_unstorable_json(raw: bytes) -> bool:
    """False when the JSON text surely decodes to storable text (the parser also reads
    UTF-16 and UTF-32, whose escapes the pattern would not see: those are walked)."""
    return json.detect_encoding(raw) not in ("utf-8", "utf-8-sig") or bool(
        _UNSTORABLE_JSON.search(raw))


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _refuse(fields: set[str]):
    if request.path.startswith("/api/"):
        return problem_response(422, errors={field: [MESSAGE] for field in sorted(fields)})
    abort(400)


def install(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)
