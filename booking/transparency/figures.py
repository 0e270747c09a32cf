"""The transparency tables from plain records: counts per month and per group, small counts
hidden, medians only of enough cases, bars for the charts, and the CSV. Pure.

A count from 1 to 4 is shown as "<5" (with a handful of cases a reader could recognise
someone); a median of fewer than five cases is not shown at all.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from statistics import median

from ..charts import Chart, shown_text
from ..charts import chart as bar_chart

SMALL = 5
HIDDEN = "<5"
MONTH_NAMES = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov",
               "dez")


def shown(count: int) -> int | str:
    """The count as published: hidden when it is small but not zero."""
    return HIDDEN if 0 < count < SMALL else count


def shown_median(values: list[float]) -> float | None:
    return round(median(values), 1) if len(values) >= SMALL else None


def months_between(first: date, last: date) -> list[date]:
    """The first day of each month from first's month to last's, in order."""
    months, month = [], date(first.year, first.month, 1)
    while month <= last:
        months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return months


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTH_NAMES[int(month) - 1]}/{year}"


@dataclass(frozen=True)
class Table:
    """One published table: its rows' names and, per row, each column's published value."""

    key: str
    title: str
    row_header: str
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[dict]  # {"key", "label", <column key>: int | "<5" | float | None}
    chart_column: str  # the column drawn as bars


def table(key: str, title: str, row_header: str, columns: list[tuple[str, str]],
          groups: dict[str, dict], labels: dict[str, str], chart_column: str,
          medians: dict[str, str] | None = None) -> Table:
    """`groups`: per row key, raw counts per column (and lists of hours for the columns
    named in `medians`: column -> the list's key)."""
    rows = []
    for row_key, label in labels.items():
        raw = groups.get(row_key, {})
        row = {"key": row_key, "label": label}
        for column, _ in columns:
            if medians and column in medians:
                row[column] = shown_median(raw.get(medians[column], []))
            else:
                row[column] = shown(raw.get(column, 0))
        rows.append(row)
    return Table(key, title, row_header, columns, rows, chart_column)


# --- charts ----------------------------------------------------------------------------

def chart(data: Table) -> Chart:
    """Bars of the table's chart column; a hidden count gets no bar, only its "<5"."""
    label = dict(data.columns)[data.chart_column]
    return bar_chart(f"{data.title} — {label.lower()}",
                     [(row["label"], row[data.chart_column]) for row in data.rows])


# --- the CSV ---------------------------------------------------------------------------

def as_csv(tables: list[Table]) -> bytes:
    """Every published number, one per line (table; row; indicator; value), as a Brazilian
    spreadsheet opens it: UTF-8 with BOM, `;` between fields, decimal comma."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Tabela", "Linha", "Indicador", "Valor"])
    for data in tables:
        for row in data.rows:
            for column, label in data.columns:
                writer.writerow([data.title, row["label"], label, shown_text(row[column])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_json(tables: list[Table]) -> dict:
    return {data.key: [{"key": row["key"], "label": row["label"],
                        **{column: row[column] for column, _ in data.columns}}
                       for row in data.rows] for data in tables}
