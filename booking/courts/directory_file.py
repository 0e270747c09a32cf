"""The directory as a court's IT keeps it: spreadsheets, read and written. No database here.

Four kinds of rows, each in its own CSV file or XLSX sheet, with Portuguese
headers (see README, "The court's directory"):

    comarcas     nome; codigo_foro; ativa
    unidades     codigo; nome; comarca; grau; email; endereco; ativa
    canais       codigo_unidade; tipo; valor; horario; ordem
    magistrados  email; nome; cargo; codigo_unidade; fuso; publica_agenda; ativo

CSV as Brazilian spreadsheets save it: `;` between fields, UTF-8 with or
without BOM, or Windows-1252. A CSV's kind is known from its header; a
sheet's from its name. Every value is read as text and checked later
(directory.py) against the database; here only what the file itself can say
is checked: its type, its size, its headers, formulas.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field

KINDS = {
    "comarcas": ("nome", "codigo_foro", "ativa"),
    "unidades": ("codigo", "nome", "comarca", "grau", "email", "endereco", "ativa"),
    "canais": ("codigo_unidade", "tipo", "valor", "horario", "ordem"),
    "magistrados": ("email", "nome", "cargo", "codigo_unidade", "fuso", "publica_agenda",
                    "ativo"),
}
# The columns a row cannot do without; the others may be missing from the file.
REQUIRED = {
    "comarcas": ("nome",),
    "unidades": ("codigo", "nome", "comarca", "grau"),
    "canais": ("codigo_unidade", "tipo", "valor"),
    "magistrados": ("email", "nome", "cargo", "codigo_unidade"),
}
ORDER = tuple(KINDS)  # comarcas before the units that name them, and so on
# A cell starting with one of these would run as a formula in a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FileRefused(ValueError):
    """The file as a whole cannot be read (type, size, headers); the message says why."""


@dataclass
class Row:
    """One row of one kind, its values by column, and where it came from."""

    kind: str
    source: str
    line: int
    values: dict[str, str]


@dataclass
class Sheet:
    kind: str
    source: str
    rows: list[Row] = field(default_factory=list)


def _plain(text: str) -> str:
    """'Código Unidade' -> 'codigo_unidade': headers as people type them."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "_".join(text.replace("-", " ").split())


def _kind_of_header(header: list[str], source: str) -> str:
    columns = {_plain(name) for name in header if name}
    for kind in ORDER:
        if set(REQUIRED[kind]) <= columns and columns <= set(KINDS[kind]):
            return kind
    raise FileRefused(
        f"{source}: o cabeçalho ({'; '.join(h for h in header if h)}) não corresponde a "
        "nenhum dos tipos de planilha (comarcas, unidades, canais, magistrados).")


def _decode(data: bytes, source: str) -> str:
    if b"\x00" in data:
        raise FileRefused(f"{source}: o arquivo não é um CSV de texto.")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv(data: bytes, source: str, max_rows: int) -> Sheet:
    text = _decode(data, source)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line or "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise FileRefused(f"{source}: o arquivo está vazio.") from None
    kind = _kind_of_header(header, source)
    columns = [_plain(name) for name in header]
    sheet = Sheet(kind, source)
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(sheet.rows) >= max_rows:
                raise FileRefused(f"{source}: mais de {max_rows} linhas; divida o arquivo.")
            sheet.rows.append(Row(kind, source, number, {
                column: _unescape(cells[index].strip() if index < len(cells) else "")
                for index, column in enumerate(columns) if column}))
    except csv.Error as error:
        raise FileRefused(f"{source}: não foi possível ler o CSV ({error}).") from None
    return sheet


def read_xlsx(data: bytes, source: str, max_rows: int) -> list[Sheet]:
    """Each sheet named after a kind; a cell with a formula refuses the whole file."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise FileRefused(f"{source}: não é uma planilha XLSX válida.") from None
    sheets = []
    try:
        for worksheet in workbook.worksheets:
            kind = _plain(worksheet.title)
            if kind not in KINDS:
                continue
            rows = worksheet.iter_rows()
            header_cells = next(rows, None)
            if header_cells is None:
                continue
            header = ["" if cell.value is None else str(cell.value) for cell in header_cells]
            columns = [_plain(name) for name in header]
            unknown = [name for name in columns if name and name not in KINDS[kind]]
            if unknown:
                raise FileRefused(f"{source}, aba {worksheet.title}: colunas desconhecidas: "
                                  f"{', '.join(unknown)}.")
            sheet = Sheet(kind, f"{source}, aba {worksheet.title}")
            for number, cells in enumerate(rows, start=2):
                values = {}
                for index, cell in enumerate(cells):
                    if index >= len(columns) or not columns[index]:
                        continue
                    if cell.data_type == "f" or str(cell.value or "").startswith("="):
                        raise FileRefused(f"{sheet.source}, linha {number}: fórmulas não são "
                                          "aceitas; cole só os valores.")
                    values[columns[index]] = _unescape(_cell_text(cell.value))
                if not any(values.values()):
                    continue
                if len(sheet.rows) >= max_rows:
                    raise FileRefused(f"{sheet.source}: mais de {max_rows} linhas.")
                sheet.rows.append(Row(kind, sheet.source, number, values))
            sheets.append(sheet)
    finally:
        workbook.close()
    if not sheets:
        raise FileRefused(f"{source}: nenhuma aba se chama comarcas, unidades, canais ou "
                          "magistrados.")
    return sheets


def _unescape(text: str) -> str:
    """The apostrophe our export puts before a leading = + - @ is not part of the value."""
    return text[1:] if text.startswith("'") and text[1:2] in _FORMULA_START else text


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_files(files: list[tuple[str, bytes]], *, max_bytes: int, max_rows: int) -> list[Sheet]:
    """Every sheet in the given files, in the order they must be applied."""
    sheets: list[Sheet] = []
    for name, data in files:
        if len(data) > max_bytes:
            raise FileRefused(f"{name}: o arquivo passa de {max_bytes // (1024 * 1024)} MB.")
        if data.startswith(b"PK\x03\x04"):
            sheets.extend(read_xlsx(data, name, max_rows))
        elif name.lower().endswith((".xlsx", ".xls", ".zip", ".pdf")):
            raise FileRefused(f"{name}: o conteúdo não é de uma planilha XLSX; envie XLSX ou "
                              "CSV.")
        else:
            sheets.append(read_csv(data, name, max_rows))
    kinds = [sheet.kind for sheet in sheets]
    duplicated = {kind for kind in kinds if kinds.count(kind) > 1}
    if duplicated:
        raise FileRefused(f"Mais de um arquivo de {', '.join(sorted(duplicated))}; "
                          "envie um por tipo.")
    return sorted(sheets, key=lambda sheet: ORDER.index(sheet.kind))


# --- writing ------------------------------------------------------------------------


def _safe(value) -> str:
    """Text a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(kind: str, rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(KINDS[kind])
    for row in rows:
        writer.writerow([_safe(row.get(column)) for column in KINDS[kind]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(tables: dict[str, list[dict]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for kind in ORDER:
        sheet = workbook.create_sheet(kind)
        sheet.append(list(KINDS[kind]))
        for row in tables.get(kind, []):
            sheet.append([_safe(row.get(column)) for column in KINDS[kind]])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
