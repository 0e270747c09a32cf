"""The rules a complaint's file must pass, on real files (pure: no app, no database)."""

import io

import pytest
from PIL import ExifTags, Image

from booking.complaints.attachments import AttachmentRefused, display_name, inspect
from tests.support.files import huge_png_header, pdf, photo, screenshot, zip_archive

LIMIT = 5 * 1024 * 1024


def refusal(name, content, max_bytes=LIMIT) -> AttachmentRefused:
    with pytest.raises(AttachmentRefused) as caught:
        inspect(name, content, max_bytes=max_bytes)
    assert caught.value.name == name.strip()
    return caught.value


@pytest.mark.parametrize("fmt, content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                               ("WEBP", "image/webp")])
def test_a_photo_is_kept_without_exif_or_gps(fmt, content_type):
    original = photo(fmt)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    kept = inspect("foto do celular.jpeg", original, max_bytes=LIMIT)
    assert kept.content_type == content_type
    image = Image.open(io.BytesIO(kept.content))
    assert image.format == fmt and image.size == (640, 480)
    assert not image.getexif() and b"Samsung" not in kept.content
    assert kept.name == "foto do celular." + {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]


def test_the_type_comes_from_the_content_not_the_name():
    kept = inspect("tela.pdf", screenshot(), max_bytes=LIMIT)
    assert kept.content_type == "image/png" and kept.name == "tela.png"
    lying = refusal("tela.png", b"<html><script>alert(1)</script></html>")
    assert "tipo do arquivo não é aceito" in lying.reason


def test_a_zip_renamed_pdf_is_refused():
    assert "não é aceito" in refusal("documento.pdf", zip_archive()).reason


@pytest.mark.parametrize("carrier", ["png", "pdf"])
def test_a_polyglot_carrying_an_archive_is_refused(carrier):
    base = screenshot() if carrier == "png" else pdf()
    assert "escondido" in refusal(f"tela.{carrier}", base + zip_archive()).reason


def test_bytes_after_the_picture_are_refused():
    assert "escondido" in refusal("tela.png", screenshot() + b"<script>alert(1)</script>").reason


def test_a_truncated_image_is_refused():
    content = photo("JPEG")
    assert "corrompida ou incompleta" in refusal("foto.jpg", content[: len(content) // 2]).reason


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    bomb = huge_png_header()
    assert len(bomb) < 100_000
    assert "pixels demais" in refusal("bomba.png", bomb).reason
    # Above Pillow's own bomb limit too: refused by the service's limit, with the size.
    assert "(8000 × 8000)" in refusal("grande.png", huge_png_header(8_000, 8_000)).reason


def test_a_pdf_without_script_is_kept_as_sent():
    content = pdf()
    assert inspect("comprovante.PDF", content, max_bytes=LIMIT).content == content


@pytest.mark.parametrize("options", [{"javascript": True}, {"embedded_file": True}])
def test_a_pdf_with_script_or_embedded_file_is_refused(options):
    assert "scripts ou arquivos embutidos" in refusal("peticao.pdf", pdf(**options)).reason


def test_a_truncated_pdf_is_refused():
    content = pdf()
    assert "corrompido" in refusal("peticao.pdf", b"%PDF-1.7\n" + content[200:260]).reason


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "..\\tela.png", "a/b.png", ".."])
def test_a_name_with_folders_is_refused(name):
    assert "pastas" in refusal(name, screenshot()).reason


def test_a_file_over_the_limit_is_refused_as_too_large():
    refused = refusal("tela.png", screenshot(), max_bytes=1000)
    assert refused.too_large and "passa de" in refused.reason


def test_names_people_see_are_tidy():
    assert display_name("Captura\x00 de\u202e tela.exe", "image/png") == "Captura de tela.png"
    assert display_name("", "application/pdf") == "arquivo.pdf"
    assert len(display_name("x" * 500 + ".png", "image/png")) == 120
