"""Finding a unit the way people type: without accents or capitals, words in any order,
small words ignored, by the unit's name, its comarca or its magistrates' names. Pure.

Each unit keeps `search_text`, the normalised words of all three (courts/models.py keeps
it current on every write through the ORM); a search asks for each typed word inside it,
the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import unicodedata

# Words that say nothing about which unit: "vara cível de cuiabá" is "vara civel cuiaba".
STOP_WORDS = frozenset({"a", "o", "as", "os", "e", "de", "da", "do", "das", "dos", "em", "na",
                        "no", "nas", "nos"})
MAX_TERMS = 8


def normalize(text: str | None) -> str:
    """'1ª Vara Cível de Cuiabá' -> '1a vara civel de cuiaba'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def terms(query: str | None) -> list[str]:
    """The words a search asks for (at most MAX_TERMS, each once, in the order typed)."""
    seen: list[str] = []
    for word in normalize(query).split():
        if word not in STOP_WORDS and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def has_every_word(terms: list[str], *parts: str | None) -> bool:
    """Whether each term begins a word of the parts once normalised: the SQL search's rule
    (`% {term}%` in search_text), for lists matched in Python."""
    text = " " + " ".join(normalize(part) for part in parts if part) + " "
    return all(f" {term}" in text for term in terms)


def search_text(unit_name: str, comarca_name: str | None, people: list[str]) -> str:
    """What a unit is found by, with spaces around so that a word can be matched whole."""
    return " " + " ".join(normalize(part) for part in (unit_name, comarca_name or "", *people)
                          if part) + " "
