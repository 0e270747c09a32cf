"""Real files made for the tests: what phones, scanners and attackers really send."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import ExifTags, Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

# Where the photo was taken: the Fórum de Cuiabá, as a phone writes it in the EXIF.
CUIABA_GPS = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (15.0, 35.0, 46.0),
              ExifTags.GPS.GPSLongitudeRef: "W", ExifTags.GPS.GPSLongitude: (56.0, 5.0, 49.0)}


def photo(fmt: str = "JPEG", size=(640, 480), gps: bool = True) -> bytes:
    """A picture with the EXIF a phone's camera writes: maker, model, and GPS."""
    image = Image.new("RGB", size, (30, 90, 160))
    image.paste((250, 250, 250), (40, 40, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Samsung"
    exif[ExifTags.Base.Model] = "SM-A546E"
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(CUIABA_GPS)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


def screenshot(width: int = 390, height: int = 844) -> bytes:
    """A phone's screenshot: a PNG with no metadata of note."""
    image = Image.new("RGB", (width, height), (245, 245, 245))
    image.paste((200, 40, 40), (20, 300, width - 20, 360))  # "Conexão perdida"
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def huge_png_header(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid PNG that claims 30,000 x 30,000 pixels (a decompression bomb's header) with
    a few bytes of deflated zeros: what the attack really sends."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    rows = zlib.compress(b"\x00" * (width + 1) * 64, 9)  # the first rows only
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(
        b"IEND", b"")


def pdf(*, javascript: bool = False, embedded_file: bool = False) -> bytes:
    """A one-page PDF, optionally with an opening script or an embedded file."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if javascript:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('oi');")})
    if embedded_file:
        writer.add_attachment("planilha.xlsx", b"PK-not-really")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("leia-me.txt", "conteúdo")
    return out.getvalue()
