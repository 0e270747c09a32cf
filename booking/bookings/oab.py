"""A lawyer's bar registration: number, an optional suffix letter, and the state.

Pure. `12345/MT`, `12.345/mt`, `8901-A/SP`, `OAB/MT 12345` and `MT 12345` (as the
card prints it) are accepted and normalised to `12345/MT`, `8901A/SP`: the form used to
count a lawyer's bookings.
"""

from __future__ import annotations

import re

STATES = ("AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
          "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO")

_NUMBER_FIRST = re.compile(r"(?:OAB\s*)?(\d[\d.]{0,7})\s*-?\s*([A-Z])?\s*/\s*([A-Z]{2})")
_STATE_FIRST = re.compile(
    r"(?:OAB\s*/?\s*)?([A-Z]{2})\s*[:/-]?\s*(\d[\d.]{0,7})\s*-?\s*([A-Z])?")


class OabError(ValueError):
    """The message is meant for the person who typed the number (Portuguese)."""


def normalize(text: str) -> str:
    """'12345/MT' from what a person typed, or OabError."""
    value = (text or "").strip().upper()
    if not value:
        raise OabError("Informe o número da OAB com a seccional, por exemplo 12345/MT.")
    match = _NUMBER_FIRST.fullmatch(value)
    if match:
        digits, letter, state = match.groups()
    else:
        match = _STATE_FIRST.fullmatch(value)
        if not match:
            raise OabError("Número da OAB inválido; use o formato 12345/MT.")
        state, digits, letter = match.groups()
    digits = digits.replace(".", "")
    if not digits.isdigit() or int(digits) == 0 or len(digits.lstrip("0")) > 6:
        raise OabError("Número da OAB inválido; use o formato 12345/MT.")
    if state not in STATES:
        raise OabError(f"Seccional {state} desconhecida; use a sigla de um dos 27 estados.")
    return f"{int(digits)}{letter or ''}/{state}"
