"""The unified case number of CNJ Resolution 65/2008: NNNNNNN-DD.AAAA.J.TR.OOOO.

Pure: parse with or without punctuation, verify the ISO 7064 mod 97-10 check
digits, and check that the number belongs to this court (segment J and
court TR, `8.11` for Mato Grosso).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS_ONLY = re.compile(r"\d{20}")
_FORMATTED = re.compile(r"(\d{7})-(\d{2})\.(\d{4})\.(\d)\.(\d{2})\.(\d{4})")


class CaseNumberError(ValueError):
    """The message is meant for the person who typed the number (Portuguese)."""


@dataclass(frozen=True)
class CaseNumber:
    sequence: str
    check: str
    year: str
    segment: str
    court: str
    origin: str

    def __str__(self) -> str:
        return (f"{self.sequence}-{self.check}.{self.year}.{self.segment}."
                f"{self.court}.{self.origin}")

    @property
    def court_code(self) -> str:
        """'8.11': segment and court, as the court setting is written."""
        return f"{self.segment}.{self.court}"


def check_digits(sequence: str, year: str, segment: str, court: str, origin: str) -> str:
    """The two check digits: 98 - (N A J TR O 00 mod 97), per the resolution's annex."""
    value = int(f"{sequence}{year}{segment}{court}{origin}00")
    return f"{98 - value % 97:02d}"


def parse(text: str) -> CaseNumber:
    """A CaseNumber from typed text, or CaseNumberError saying what is wrong."""
    compact = re.sub(r"[\s.\-]", "", text or "")
    if not compact:
        raise CaseNumberError("Informe o número do processo.")
    if not _DIGITS_ONLY.fullmatch(compact):
        raise CaseNumberError(
            "Número do processo inválido: use o formato NNNNNNN-DD.AAAA.J.TR.OOOO (20 dígitos).")
    stripped = (text or "").strip()
    if not stripped.isdigit() and not _FORMATTED.fullmatch(stripped):
        raise CaseNumberError(
            "Número do processo com pontuação fora do padrão NNNNNNN-DD.AAAA.J.TR.OOOO.")
    number = CaseNumber(compact[0:7], compact[7:9], compact[9:13], compact[13],
                        compact[14:16], compact[16:20])
    if check_digits(number.sequence, number.year, number.segment, number.court,
                    number.origin) != number.check:
        raise CaseNumberError(
            "Número do processo inválido: os dígitos verificadores não conferem. "
            "Confira se não há algum número trocado.")
    return number


def parse_for_court(text: str, court_code: str) -> CaseNumber:
    """Parse and require the number to belong to this court (e.g. '8.11')."""
    number = parse(text)
    if number.court_code != court_code:
        raise CaseNumberError(
            f"Este processo é de outro tribunal (segmento e tribunal {number.court_code}); "
            f"este serviço atende apenas processos do código {court_code}.")
    return number
