"""Who may ask to be heard by a magistrate, and how each is identified.

Pure. A lawyer by the OAB registration (`bookings/oab.py`); a public defender, a member of
the Ministério Público, a public attorney by their institution and registration
number; a party acting without a lawyer, where the magistrate allows it, by a CPF whose
check digits are right. The registration is kept where a lawyer's OAB number is (the
`lawyer_oab` column), so that every booking says who asked in the same place.

The public attorneys (the Union's, the state's, a municipality's, an autarchy's) are one
type, `public_attorney`, as the API contract and the glossary have them; their institution
says which body. `state_attorney` and `municipal_attorney`, the names the first version
split them into, are still understood and read as `public_attorney`.
"""

from __future__ import annotations

import re

TYPES = {
    "lawyer": "Advogado(a)",
    "public_defender": "Defensor(a) público(a)",
    "prosecutor": "Membro do Ministério Público",
    "public_attorney": "Procurador(a) ou advogado(a) público(a)",
    "party": "Parte sem advogado(a)",
}
# With an institution and a registration number.
OFFICIALS = ("public_defender", "prosecutor", "public_attorney")
# The first version's names, still accepted from clients and found in old snapshots.
FORMER_NAMES = {"state_attorney": "public_attorney", "municipal_attorney": "public_attorney"}
# Every name a client may send.
ACCEPTED_NAMES = (*TYPES, *FORMER_NAMES)
# What an agenda accepts unless its magistrate chose otherwise: a party without a lawyer
# only where the magistrate allows it.
DEFAULT_ACCEPTED = ("lawyer", *OFFICIALS)
REGISTRATION = re.compile(r"[0-9A-Za-z][0-9A-Za-z./-]{0,11}")


def canonical(requester_type: str | None) -> str:
    """The type as it is kept: a former name read as its successor, None as a lawyer."""
    kind = requester_type or "lawyer"
    return FORMER_NAMES.get(kind, kind)


def canonical_list(requester_types: list[str]) -> list[str]:
    """Each type once, former names read as today's, in the order given."""
    return list(dict.fromkeys(canonical(kind) for kind in requester_types))


def refusal(accepted: list[str] | tuple[str, ...] | None, requester_type: str) -> str | None:
    """Why an agenda that accepts these types (None: the default ones) refuses this one, or
    None when it accepts it: each magistrate chooses who may ask (a party without a lawyer
    only where they allow it)."""
    accepted = accepted or DEFAULT_ACCEPTED
    if requester_type in accepted:
        return None
    who = ", ".join(TYPES[kind].lower() for kind in accepted if kind in TYPES)
    return (f"Esta agenda não recebe pedidos de {TYPES[requester_type].lower()}; "
            f"recebe de: {who}.")


class CpfError(ValueError):
    """The message is meant for the person who typed the number (Portuguese)."""


def cpf_digits(text: str) -> str:
    """The 11 digits of a valid CPF, or CpfError saying what is wrong."""
    digits = re.sub(r"[\s.\-]", "", text or "")
    if not digits:
        raise CpfError("Informe o CPF.")
    if not digits.isdigit() or len(digits) != 11:
        raise CpfError("CPF inválido: use os 11 dígitos, por exemplo 123.456.789-09.")
    if digits == digits[0] * 11:
        raise CpfError("CPF inválido: os dígitos verificadores não conferem.")
    for length in (9, 10):
        weights = range(length + 1, 1, -1)
        total = sum(int(d) * w for d, w in zip(digits[:length], weights, strict=True))
        check = (total * 10) % 11 % 10
        if check != int(digits[length]):
            raise CpfError("CPF inválido: os dígitos verificadores não conferem.")
    return digits


def format_cpf(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def identity(requester_type: str | None, registration: str, institution: str | None,
             *, reveal_cpf: bool = False) -> str:
    """How a booking names who asked, after their name: 'OAB 12345/MT', 'Defensoria
    Pública de MT, matrícula 4455', 'parte sem advogado(a)' (the CPF only where asked)."""
    kind = canonical(requester_type)
    if kind == "lawyer":
        return f"OAB {registration}"
    if kind == "party":
        cpf = f", CPF {format_cpf(registration)}" if reveal_cpf and len(registration) == 11 else ""
        return f"parte sem advogado(a){cpf}"
    return f"{institution}, matrícula {registration}"


def label(booking) -> str:
    """'Advogado(a)', 'Defensor(a) público(a)'... for a booking or its snapshot."""
    return TYPES.get(canonical(getattr(booking, "requester_type", None)), TYPES["lawyer"])


def asker(booking, *, reveal_cpf: bool = False) -> str:
    """'Maria Souza (OAB 12345/MT)': who asked, as pages, e-mails and invites name them (a
    party's CPF only on the magistrate's side and the party's own pages)."""
    who = identity(getattr(booking, "requester_type", None), booking.lawyer_oab,
                   getattr(booking, "requester_institution", None), reveal_cpf=reveal_cpf)
    return f"{booking.lawyer_name} ({who})"
