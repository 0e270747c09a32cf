"""The Corregedoria's export of reports. CSV opens right in a Brazilian spreadsheet:
UTF-8 with BOM, `;` between fields, dates as dd/mm/aaaa."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from .. import requesters
from ..clock import court_zone
from ..courts import service as courts
from .service import CHANNEL_LABELS, KIND_LABELS, STATUS_LABELS

CSV_COLUMNS = ["Protocolo", "Situação", "Canal", "Tipo de falha", "Unidade", "Comarca",
               "Ocorrida em", "Registrada em", "Encerrada em", "Descrição", "Resposta pública"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else ""


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


ATTENDANCE_COLUMNS = ["Unidade", "Magistrado(a)", "Horários oferecidos", "Agendados",
                      "Cancelados pelo juízo", "Não comparecimentos", "Quem agendou",
                      "Dias até o 1º horário livre"]


def attendance_csv(rows: list[dict]) -> bytes:
    """The statistics page's attendance table, as it shows it (decimal comma)."""
    return _csv(ATTENDANCE_COLUMNS, ((
        r["unit"], r["magistrate"], r["slots_offered"], r["booked"], r["cancelled_by_court"],
        r["no_show"], "; ".join(f"{requesters.TYPES.get(code, code)}: {count}"
                                for code, count in r["by_requester"].items()),
        "" if r["days_to_first_open_slot"] is None
        else f"{r['days_to_first_open_slot']:.1f}".replace(".", ",")) for r in rows))


def complaints_csv(complaints) -> bytes:
    zone = court_zone()
    units = {u.id: u for u in courts.all_units()}

    def row(c):
        unit = units.get(c.unit_id)
        return (c.protocol, STATUS_LABELS[c.status], CHANNEL_LABELS[c.channel],
                KIND_LABELS[c.kind], unit.name if unit else "", unit.comarca.name if unit else "",
                # the day alone when the reporter did not give the hour
                _when(c.occurred_at, zone) if c.occurred_time_known
                else f"{c.occurred_at.astimezone(zone):%d/%m/%Y}",
                _when(c.created_at, zone), _when(c.closed_at, zone), c.description, c.public_answer)

    return _csv(CSV_COLUMNS, (row(c) for c in complaints))
