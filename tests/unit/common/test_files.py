"""Evidence files judged by their bytes: what is accepted, what is refused and why, and what the
public's files lose before they are stored (files made by ``testkit/evidence.py``)."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image
from pypdf import PdfReader

from libs.common import boxes, files, media
from libs.common.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from libs.common.files import Limits, MediaType
from testkit import evidence


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (evidence.jpeg_with_gps(), MediaType.jpeg),
        (png(), MediaType.png),
        (evidence.pdf_with_author(), MediaType.pdf),
        (evidence.mp4_with_location(), MediaType.mp4),
        (evidence.mp3_with_tags(), MediaType.mp3),
        (evidence.mp3_frames(), MediaType.mp3),
    ],
    ids=["jpeg", "png", "pdf", "mp4", "mp3 with id3", "mp3 bare"],
)
def test_a_file_is_typed_by_its_bytes(data: bytes, kind: MediaType) -> None:
    assert files.inspect(io.BytesIO(data)) is kind


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", MediaType.webp),
        (b"OggS\x00\x02", MediaType.ogg),
        (evidence.box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic"), MediaType.heic),
        (evidence.box(b"ftyp", b"mif1\x00\x00\x00\x00mif1heic"), MediaType.heic),
        (evidence.box(b"ftyp", b"M4A \x00\x00\x00\x00M4A isom"), MediaType.m4a),
        (evidence.box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom"), MediaType.mp4),
    ],
)
def test_sniffing_reads_the_signatures(head: bytes, kind: MediaType) -> None:
    assert files.sniff(head) is kind


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"<html>",
        b"GIF89a",
        b"PK\x03\x04",
        b"\xff\xfa\x00\x00",  # a frame sync with a bad bitrate
        evidence.box(b"ftyp", b"avif\x00\x00\x00\x00mif1avif"),
        evidence.box(b"ftyp", b"qt  \x00\x00\x00\x00qt  "),
    ],
)
def test_anything_else_is_not_recognised(head: bytes) -> None:
    assert files.sniff(head) is None


def test_html_named_jpg_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="not a JPEG"):
        files.inspect(io.BytesIO(evidence.html_named_jpg()))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (evidence.jpeg_html_polyglot(), "markup"),
        (evidence.jpeg_zip_polyglot(), "ZIP archive"),
        (evidence.pdf_with_author() + b"<script>alert(1)</script>", "markup"),
    ],
)
def test_a_polyglot_is_415(data: bytes, why: str) -> None:
    with pytest.raises(UnsupportedMediaType, match=why):
        files.inspect(io.BytesIO(data))


def test_markup_across_a_block_boundary_is_found() -> None:
    data = io.BytesIO(b"\xff\xd8\xff" + b"x" * 10 + b"<scr" + b"ipt>")
    with pytest.raises(UnsupportedMediaType):
        files.refuse_polyglot(data, block=15)


def test_a_file_over_the_limit_is_413() -> None:
    with pytest.raises(PayloadTooLarge, match="at most 10 bytes"):
        files.inspect(io.BytesIO(png()), Limits(max_bytes=10))


def test_an_image_past_the_pixel_limit_is_a_bomb() -> None:
    with pytest.raises(Unprocessable, match="decompression bomb"):
        files.inspect(io.BytesIO(png((100, 100))), Limits(image_pixels=9_999))


def test_a_photo_too_large_to_decode_for_cleaning_is_refused_before_it_is_decoded() -> None:
    """The public's photos are decoded to be cleaned, so their limit is lower than the check's."""
    photo = io.BytesIO(png((100, 100)))
    kind = files.inspect(photo, Limits(cleaned_pixels=9_999))
    with pytest.raises(Unprocessable, match="100x100 pixels is over 9999 for a photo"):
        files.clean(photo, kind, Limits(cleaned_pixels=9_999))
    assert files.clean(photo, kind, Limits(cleaned_pixels=10_000))


def test_a_pdf_past_the_page_limit_is_a_bomb() -> None:
    with pytest.raises(Unprocessable, match="2 pages is over 1"):
        from pypdf import PdfWriter

        writer = PdfWriter()
        writer.add_blank_page(10, 10)
        writer.add_blank_page(10, 10)
        out = io.BytesIO()
        writer.write(out)
        files.inspect(io.BytesIO(out.getvalue()), Limits(pdf_pages=1))


def test_a_pdf_declaring_too_many_objects_is_a_bomb() -> None:
    with pytest.raises(Unprocessable, match="objects is over 2"):
        files.inspect(io.BytesIO(evidence.pdf_with_author()), Limits(pdf_objects=2))


@pytest.mark.parametrize(
    "data",
    [
        evidence.jpeg_with_gps()[:200],
        b"%PDF-1.7\n garbage",
        evidence.mp4_with_location() + b"tail",
        evidence.box(b"ftyp", b"isom\x00\x00\x00\x00isom") + evidence.box(b"mdat", b"x"),
        b"\xff\xfb\x90\x00" + bytes(20),
    ],
    ids=["cut jpeg", "pdf without body", "mp4 with trailing bytes", "mp4 without moov", "mp3"],
)
def test_a_corrupt_file_is_422(data: bytes) -> None:
    with pytest.raises(Unprocessable, match="does not read as"):
        files.inspect(io.BytesIO(data))


def test_a_photo_loses_its_gps_and_phone_and_keeps_its_pixels() -> None:
    original = evidence.jpeg_with_gps()
    cleaned = files.clean(io.BytesIO(original), MediaType.jpeg)
    photo = Image.open(io.BytesIO(cleaned))
    assert dict(photo.getexif()) == {} and photo.size == (64, 48)
    assert evidence.PHONE_MODEL.encode() not in cleaned
    assert photo.getpixel((10, 10)) == pytest.approx((200, 120, 40), abs=4)


def test_a_photo_taken_sideways_is_turned_upright_before_its_exif_goes() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise
    out = io.BytesIO()
    Image.new("RGB", (40, 20)).save(out, "JPEG", exif=exif.tobytes())
    cleaned = files.clean(io.BytesIO(out.getvalue()), MediaType.jpeg)
    assert Image.open(io.BytesIO(cleaned)).size == (20, 40)


def test_a_pdf_loses_its_author_and_keeps_its_pages() -> None:
    cleaned = files.clean(io.BytesIO(evidence.pdf_with_author()), MediaType.pdf)
    document = PdfReader(io.BytesIO(cleaned))
    assert document.metadata is None and len(document.pages) == 1
    assert evidence.AUTHOR.encode() not in cleaned


def test_an_mp4_loses_its_location_and_keeps_its_size_and_offsets() -> None:
    original = evidence.mp4_with_location()
    cleaned = files.clean(io.BytesIO(original), MediaType.mp4)
    assert len(cleaned) == len(original)
    assert evidence.ISO6709 not in cleaned and evidence.PHONE_MAKER.encode() not in cleaned
    found = {box.type for box in boxes.walk(io.BytesIO(cleaned))}
    assert b"udta" not in found and b"free" in found
    at = original.index(b"stco") + 12
    offset = struct.unpack(">I", cleaned[at : at + 4])[0]
    assert cleaned[offset : offset + 4] == b"\x00\x01\x02\x03"
    mvhd = cleaned.index(b"mvhd") + 8
    assert cleaned[mvhd : mvhd + 8] == bytes(8)  # when it was filmed: zeroed


def test_an_mp3_loses_its_tags() -> None:
    cleaned = files.clean(io.BytesIO(evidence.mp3_with_tags()), MediaType.mp3)
    assert not cleaned.startswith(b"ID3") and evidence.AUTHOR.encode() not in cleaned
    assert files.inspect(io.BytesIO(cleaned)) is MediaType.mp3


def test_the_metadata_segments_of_a_jpeg_inside_a_pdf_are_dropped() -> None:
    photo = evidence.jpeg_with_gps()
    stripped = media.strip_jpeg_segments(photo)
    assert evidence.PHONE_MODEL.encode() in photo
    assert evidence.PHONE_MODEL.encode() not in stripped
    assert Image.open(io.BytesIO(stripped)).size == (64, 48)


def test_an_animated_image_from_the_public_is_refused_rather_than_half_cleaned() -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(UnsupportedMediaType, match="animated"):
        files.clean(io.BytesIO(out.getvalue()), MediaType.webp)


@pytest.mark.parametrize(
    ("given", "kind", "safe"),
    [
        ("IMG_2041.JPG", MediaType.jpeg, "IMG_2041.jpg"),
        ("../../etc/passwd", MediaType.pdf, "passwd.pdf"),
        ('C:\\Users\\a\\"x";.exe', MediaType.png, "x.png"),
        ("report.pdf.exe", MediaType.pdf, "report.pdf.pdf"),
        ("", MediaType.mp4, "file.mp4"),
        ("ảnh hiện trường.heic", MediaType.heic, "ảnh hiện trường.heic"),
    ],
)
def test_a_filename_is_made_safe_and_ends_with_the_detected_type(
    given: str, kind: MediaType, safe: str
) -> None:
    assert files.safe_filename(given, kind) == safe


def test_content_disposition_carries_an_ascii_and_a_utf8_name() -> None:
    header = files.content_disposition("ảnh.jpg")
    assert header == "attachment; filename=\"_nh.jpg\"; filename*=UTF-8''%E1%BA%A3nh.jpg"


@pytest.mark.parametrize(
    "markup", [b"<SCRIPT>", b"<ScRiPt src=x>", b"JavaScript:", b"<!DOCTYPE  HTML>"]
)
def test_markup_in_any_case_past_the_first_block_is_a_polyglot(markup: bytes) -> None:
    photo = png((10, 10)) + b"x" * (1 << 20) + markup + b"y" * 100
    with pytest.raises(UnsupportedMediaType, match="markup a browser would run"):
        files.refuse_polyglot(io.BytesIO(photo))
