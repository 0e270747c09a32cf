"""What a complaint's file must be before it is kept: a screenshot or a photo (PNG, JPEG,
WebP) or a PDF, recognised by its content, never by its name or the browser's word.

Pure: bytes in, clean bytes (or a refusal naming the file) out. Images are decoded and
encoded again, so what is kept carries no EXIF, no GPS and nothing hidden after the
picture; a PDF is kept as sent, but only when it has no script, no embedded file and no
action that launches anything.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

import filetype

IMAGE_TYPES = {"image/png": ("PNG", "png"), "image/jpeg": ("JPEG", "jpg"),
               "image/webp": ("WEBP", "webp")}
PDF_TYPE = "application/pdf"
ACCEPTED_TYPES = (*IMAGE_TYPES, PDF_TYPE)
# A phone's screenshot is about 3 MP, a camera's photo 50 MP at most; 30,000 x 30,000 is
# a decompression bomb (3.6 GB of pixels for a few kilobytes of file).
MAX_IMAGE_PIXELS = 60_000_000
NAME_MAX = 120

# PDF names that run something or carry another file: refused wherever they appear.
_PDF_DANGERS = {"/JS", "/JavaScript", "/EmbeddedFile", "/EmbeddedFiles", "/Launch",
                "/RichMedia", "/XFA", "/SubmitForm", "/ImportData"}
_PDF_MAX_OBJECTS = 200_000
# A ZIP's end of central directory: a file that also is an archive (a polyglot).
_ZIP_END = b"PK\x05\x06"
# How each image format ends: what follows is another file riding along (a polyglot).
_IMAGE_ENDS = {"image/png": b"IEND\xaeB`\x82", "image/jpeg": b"\xff\xd9"}


class AttachmentRefused(ValueError):
    """A file that is not kept, with the sentence that tells the person why."""

    def __init__(self, name: str, reason: str, *, too_large: bool = False):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.too_large = too_large


@dataclass(frozen=True)
class CleanFile:
    name: str  # as shown to people: the sender's base name, tidied
    content_type: str
    content: bytes


def display_name(raw: str | None, content_type: str = "") -> str:
    """The name people see: printable, at most NAME_MAX characters, with the extension of
    what the file really is. A name that tries to climb folders is refused by `inspect`."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C") or "arquivo"
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name) or "arquivo"
    extension = IMAGE_TYPES[content_type][1] if content_type in IMAGE_TYPES else (
        "pdf" if content_type == PDF_TYPE else "")
    stem = stem[: NAME_MAX - len(extension) - 1]
    return f"{stem}.{extension}" if extension else stem


def _path_like(raw: str) -> bool:
    return any(mark in raw for mark in ("/", "\\", "\x00")) or raw.strip() in (".", "..")


def inspect(raw_name: str | None, content: bytes, *, max_bytes: int) -> CleanFile:
    """The file as it will be kept, or AttachmentRefused naming it and saying why."""
    shown = (raw_name or "arquivo").strip()[:NAME_MAX] or "arquivo"
    if _path_like(raw_name or ""):
        raise AttachmentRefused(shown, "o nome do arquivo não pode conter pastas "
                                       "(“/”, “\\” ou “..”).")
    if len(content) > max_bytes:
        raise AttachmentRefused(shown, f"o arquivo passa de {megabytes(max_bytes)}.",
                                too_large=True)
    if not content:
        raise AttachmentRefused(shown, "o arquivo está vazio.")
    kind = filetype.guess_mime(content)
    if kind not in ACCEPTED_TYPES:
        raise AttachmentRefused(shown, "o tipo do arquivo não é aceito: envie uma imagem "
                                       "(PNG, JPEG ou WebP) ou um PDF.")
    hidden = AttachmentRefused(shown, "o arquivo traz outro arquivo escondido dentro dele.")
    if _is_also_zip(content):
        raise hidden
    if kind == PDF_TYPE:
        _check_pdf(shown, content)
        return CleanFile(display_name(raw_name, kind), kind, content)
    clean = _reencoded(shown, content, kind)  # first: a truncated image is said to be one
    if _has_trailing_data(content, kind):
        raise hidden
    return CleanFile(display_name(raw_name, kind), kind, clean)


def _is_also_zip(content: bytes) -> bool:
    """Whether the file ends as a ZIP archive does: an end-of-directory record whose
    comment length reaches exactly the last byte (what unzip looks for)."""
    start = max(0, len(content) - 65_557)
    position = content.rfind(_ZIP_END, start)
    while position != -1:
        comment_length = int.from_bytes(content[position + 20:position + 22], "little")
        if position + 22 + comment_length == len(content):
            return True
        position = content.rfind(_ZIP_END, start, position)
    return False


def _has_trailing_data(content: bytes, content_type: str) -> bool:
    """Bytes after the picture's end (zero padding from some cameras aside)."""
    if content_type == "image/webp":  # RIFF: the header says how long the file is
        return int.from_bytes(content[4:8], "little") + 8 < len(content.rstrip(b"\x00"))
    return not content.rstrip(b"\x00").endswith(_IMAGE_ENDS[content_type])


def megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 1 and value == int(value) else \
        f"{value:.1f} MB".replace(".", ",")


def _reencoded(shown: str, content: bytes, content_type: str) -> bytes:
    """Decoded and written again in the same format: the pixels, oriented as the camera
    meant them, and nothing else (no EXIF, GPS, comments, or bytes after the picture)."""
    # Pillow is loaded when a file comes, not in every worker at start (memory).
    from PIL import Image, ImageOps, UnidentifiedImageError

    pil_format, _ = IMAGE_TYPES[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[pil_format]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise AttachmentRefused(shown, f"a imagem tem pixels demais ({width} × "
                                                   f"{height}); o máximo aceito é de 60 "
                                                   "milhões.")
                image.load()
                upright = ImageOps.exif_transpose(image)
                pixels = upright.convert("RGBA" if _has_alpha(upright) else "RGB") \
                    if pil_format != "JPEG" else upright.convert("RGB")
    except AttachmentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise AttachmentRefused(shown, "a imagem tem pixels demais; o máximo aceito é de 60 "
                                       "milhões.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise AttachmentRefused(shown, "a imagem está corrompida ou incompleta.") from error
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)  # a new image: no info dictionary, no EXIF carried over
    out = io.BytesIO()
    options = {"JPEG": {"quality": 90}, "WEBP": {"quality": 90}, "PNG": {"optimize": True}}
    clean.save(out, format=pil_format, **options[pil_format])
    return out.getvalue()


def _has_alpha(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _check_pdf(shown: str, content: bytes) -> None:
    """Every object of the PDF, compressed streams included, read by pypdf: a script, an
    embedded file or an action that launches something is refused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise AttachmentRefused(shown, "o PDF está protegido por senha.")
        pending = [reader.trailer]
        seen: set[tuple[int, int]] = set()
        visited = 0
        while pending:
            item = pending.pop()
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in seen:
                    continue
                seen.add(key)
                item = item.get_object()
            visited += 1
            if visited > _PDF_MAX_OBJECTS:
                raise AttachmentRefused(shown, "o PDF é complexo demais para ser aceito.")
            if isinstance(item, DictionaryObject):
                dangers = _PDF_DANGERS.intersection(item.keys())
                if dangers or item.get("/S") in ("/JavaScript", "/Launch"):
                    raise AttachmentRefused(shown, "o PDF contém scripts ou arquivos "
                                                   "embutidos; envie um PDF simples.")
                pending.extend(value for name, value in item.items() if name != "/Parent")
            elif isinstance(item, ArrayObject):
                pending.extend(item)
    except AttachmentRefused:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, RecursionError) as error:
        raise AttachmentRefused(shown, "o PDF está corrompido ou incompleto.") from error
