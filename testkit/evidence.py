"""Real evidence files, made on the spot: a phone photo with its GPS position, a PDF with an
author, an MP4 with a location atom, an MP3 with tags, and the files that must be refused.
Shared by the tests and the benchmarks."""

from __future__ import annotations

import io
import struct
import zipfile

from PIL import Image
from pypdf import PdfWriter

# Hoàn Kiếm lake, as a phone writes it: where the reporter stood.
LATITUDE, LONGITUDE = (21.0, 1.0, 41.0), (105.0, 51.0, 11.0)
ISO6709 = b"+21.0285+105.8542/"
PHONE_MAKER, PHONE_MODEL = "Samsung", "SM-A546E"
AUTHOR = "Nguyen Van Bao"


def jpeg_with_gps(size: tuple[int, int] = (64, 48), quality: int = 90) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = PHONE_MAKER
    exif[0x0110] = PHONE_MODEL
    exif[0x8825] = {1: "N", 2: LATITUDE, 3: "E", 4: LONGITUDE}
    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=quality)
    return out.getvalue()


def noisy_jpeg(megabytes: float) -> bytes:
    """A JPEG of about ``megabytes`` (random pixels do not compress), with GPS EXIF."""
    import os

    side = int((megabytes * 1024 * 1024 / 3 * 1.6) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: LATITUDE, 3: "E", 4: LONGITUDE}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def pdf_with_author(author: str = AUTHOR) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Author": author, "/Creator": f"{PHONE_MODEL} scanner"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_with_location(media: bytes = b"\x00\x01\x02\x03" * 256) -> bytes:
    """ftyp, moov (mvhd, a track whose chunk offset points into mdat, udta with ©xyz and the
    phone's make), mdat: built by hand, box by box."""
    ftyp = box(b"ftyp", b"isom" + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41")
    mvhd = box(b"mvhd", b"\x00\x00\x00\x00" + struct.pack(">II", 3_800_000_000, 3_800_000_001))
    xyz = box(b"\xa9xyz", struct.pack(">HH", len(ISO6709), 0x15C7) + ISO6709)
    make = box(b"\xa9mak", struct.pack(">HH", len(PHONE_MAKER), 0) + PHONE_MAKER.encode())
    udta = box(b"udta", xyz + make)

    def moov(offset: int) -> bytes:
        stco = box(b"stco", b"\x00\x00\x00\x00" + struct.pack(">II", 1, offset))
        trak = box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", stco))))
        return box(b"moov", mvhd + trak + udta)

    head = ftyp + moov(0)
    offset = len(head) + 8  # the first media byte, inside mdat
    return ftyp + moov(offset) + box(b"mdat", media)


def mp3_frames(frames: int = 20) -> bytes:
    """MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz) of silence."""
    header = b"\xff\xfb\x90\x00"
    return (header + bytes(417 - 4)) * frames


def mp3_with_tags() -> bytes:
    from mutagen.id3 import ID3, TIT2, TPE1

    data = io.BytesIO(mp3_frames())
    tags = ID3()
    tags.add(TPE1(encoding=3, text=[AUTHOR]))
    tags.add(TIT2(encoding=3, text=["voice note"]))
    tags.save(data)
    return data.getvalue()


def html_named_jpg() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def jpeg_html_polyglot() -> bytes:
    """A JPEG that a browser sniffing the content would run as a page."""
    return jpeg_with_gps() + b"<html><body><script>alert(1)</script></body></html>"


def jpeg_zip_polyglot() -> bytes:
    """A JPEG with a ZIP archive appended (a GIFAR's trick): both readers accept it."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.html", "<b>hello</b>")
    return jpeg_with_gps() + archive.getvalue()
