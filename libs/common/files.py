"""Evidence files: what a file is, judged from its bytes alone, and what the public's files lose
before they are stored (docs/architecture.md, "Evidence files", says which library does what)."""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO, cast
from urllib.parse import quote

from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

from libs.common import boxes, media
from libs.common.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

register_heif_opener()

MAX_FILE_BYTES = 25 * 1024 * 1024
HEAD_BYTES = 4096


class MediaType(StrEnum):
    jpeg = "image/jpeg"
    png = "image/png"
    webp = "image/webp"
    heic = "image/heic"
    pdf = "application/pdf"
    mp3 = "audio/mpeg"
    m4a = "audio/mp4"
    ogg = "audio/ogg"
    mp4 = "video/mp4"


IMAGES = frozenset({MediaType.jpeg, MediaType.png, MediaType.webp, MediaType.heic})
ISO_MEDIA = frozenset({MediaType.mp4, MediaType.m4a})
EXTENSIONS = {
    MediaType.jpeg: "jpg",
    MediaType.png: "png",
    MediaType.webp: "webp",
    MediaType.heic: "heic",
    MediaType.pdf: "pdf",
    MediaType.mp3: "mp3",
    MediaType.m4a: "m4a",
    MediaType.ogg: "ogg",
    MediaType.mp4: "mp4",
}
PILLOW_FORMATS = {
    MediaType.jpeg: "JPEG",
    MediaType.png: "PNG",
    MediaType.webp: "WEBP",
    MediaType.heic: "HEIF",
}

HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
AUDIO_BRANDS = frozenset({b"M4A ", b"M4B "})
VIDEO_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"MSNV"}
)
UNSUPPORTED = "the file is not a JPEG, PNG, WebP or HEIC image, a PDF, MP3, M4A, OGG or MP4"


@dataclass(frozen=True)
class Limits:
    """Past these a file is a decompression bomb, or too costly to check: 422."""

    max_bytes: int = MAX_FILE_BYTES
    image_pixels: int = 80_000_000  # 80 megapixels: every phone camera's default output
    cleaned_pixels: int = 40_000_000  # decoded to be cleaned: 4 bytes a pixel, held twice
    pdf_pages: int = 2_000
    pdf_objects: int = 250_000


def sniff(head: bytes) -> MediaType | None:
    """The type the first bytes announce (at least the first 64), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.jpeg
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.png
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.webp
    if head.startswith(b"%PDF-"):
        return MediaType.pdf
    if head.startswith(b"OggS"):
        return MediaType.ogg
    if head.startswith(b"ID3") or media.mpeg_audio_frame(head):
        return MediaType.mp3
    found = boxes.brands(head)
    if found is not None:
        major, compatible = found
        if major in HEIC_BRANDS or (major in {b"mif1", b"msf1"} and compatible & HEIC_BRANDS):
            return MediaType.heic
        if major in AUDIO_BRANDS:
            return MediaType.m4a
        if major in VIDEO_BRANDS or compatible & VIDEO_BRANDS:
            return MediaType.mp4
    return None


# Markup a browser would run, wherever it sits in the file (at least seven fixed bytes each, so
# that the compressed data of a 25 MiB photo matches one by chance about once in 10^8 files).
_MARKUP = re.compile(
    rb"<script|<!doctype\s+html|<html[\s>]|<body[\s>]|<iframe|<object[\s>]|<embed[\s>]"
    rb"|javascript:|<\?xml-stylesheet"
)  # matched against the lowered bytes: IGNORECASE made the scan five times slower
_OVERLAP = 32
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 22 + 0xFFFF


def refuse_polyglot(file: BinaryIO, block: int = 1 << 20) -> None:
    """415 for a file that is also something else: markup a browser would run, or a ZIP
    archive appended (its end record closes the file, as in a JAR or a GIFAR)."""
    file.seek(0)
    tail = b""
    while chunk := file.read(block):
        window = tail + chunk
        if _MARKUP.search(window.lower()):
            raise UnsupportedMediaType(
                "the file holds markup a browser would run: it is refused",
                errors=[{"field": "file", "message": "polyglot file"}],
            )
        tail = window[-_OVERLAP:]
    file.seek(0, 2)
    length = file.tell()
    file.seek(max(0, length - _ZIP_TAIL))
    end = file.read()
    at = end.rfind(_ZIP_END)
    if at >= 0 and len(end) - at >= 22:
        comment = int.from_bytes(end[at + 20 : at + 22], "little")
        if at + 22 + comment == len(end):
            raise UnsupportedMediaType(
                "the file ends with a ZIP archive: it is refused",
                errors=[{"field": "file", "message": "polyglot file"}],
            )


def _corrupt(kind: MediaType, why: str) -> Unprocessable:
    return Unprocessable(
        f"the file does not read as {kind.value}: {why}",
        errors=[{"field": "file", "message": "corrupt or unreadable file"}],
    )


def _bomb(why: str) -> Unprocessable:
    return Unprocessable(
        f"the file is refused as a decompression bomb: {why}",
        errors=[{"field": "file", "message": "decompression bomb"}],
    )


def size_of(file: BinaryIO) -> int:
    file.seek(0, 2)
    return file.tell()


def inspect(file: BinaryIO, limits: Limits = Limits()) -> MediaType:
    """The file's type, from its bytes, once it is known to be one whole file of that type
    within the limits (413, 415, 422 otherwise). ``file`` is read, never loaded whole."""
    length = size_of(file)
    if length > limits.max_bytes:
        raise PayloadTooLarge(f"a file may hold at most {limits.max_bytes} bytes")
    file.seek(0)
    kind = sniff(file.read(HEAD_BYTES))
    if kind is None:
        raise UnsupportedMediaType(
            UNSUPPORTED, errors=[{"field": "file", "message": "unsupported type"}]
        )
    refuse_polyglot(file)
    file.seek(0)
    if kind in IMAGES:
        _open_image(file, kind, limits).close()
    elif kind in ISO_MEDIA:
        _box_tree(file, kind)
    else:
        with _refusals(kind):
            if kind is MediaType.pdf:
                media.read_pdf(file, limits.pdf_pages, limits.pdf_objects)
            else:
                media.read_audio(file, kind.value)
    file.seek(0)
    return kind


@contextmanager
def _refusals(kind: MediaType) -> Iterator[None]:
    """The readers' verdicts as problems: 422 for a bomb or a corrupt file, 415 for one that
    cannot be cleaned."""
    try:
        yield
    except media.Bomb as exc:
        raise _bomb(str(exc)) from exc
    except media.Corrupt as exc:
        raise _corrupt(kind, str(exc)) from exc
    except media.Uncleanable as exc:
        raise UnsupportedMediaType(
            f"{exc}: it is refused rather than kept with its metadata",
            errors=[{"field": "file", "message": "cannot be cleaned"}],
        ) from exc


class _Borrowed(io.RawIOBase):
    """The caller's file, lent to Pillow, which closes what it opened from when it is done."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__()
        self._file = file

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._file.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        """Left open: the caller reads the file again."""


def _open_image(file: BinaryIO, kind: MediaType, limits: Limits) -> Image.Image:
    """The image, opened lazily; its pixel count is checked before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(cast(BinaryIO, _Borrowed(file)), formats=[PILLOW_FORMATS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb("too many pixels") from exc
    except Exception as exc:
        raise _corrupt(kind, type(exc).__name__) from exc
    width, height = image.size
    if width * height > limits.image_pixels:
        image.close()
        raise _bomb(f"{width}x{height} pixels is over {limits.image_pixels}")
    return image


def _box_tree(file: BinaryIO, kind: MediaType) -> list[boxes.Box]:
    try:
        found = boxes.walk(file)
    except boxes.BoxError as exc:
        raise _corrupt(kind, str(exc)) from exc
    if not any(box.type == b"moov" for box in found):
        raise _corrupt(kind, "no movie header (moov)")
    return found


# One file is cleaned at a time in a process: a decoded photo takes hundreds of MiB.
_CLEANING = threading.BoundedSemaphore(1)


def clean(file: BinaryIO, kind: MediaType, limits: Limits = Limits()) -> bytes:
    """The file without its metadata, for a file from the public that :func:`inspect` accepted.
    A file that cannot be cleaned safely is refused (415), never kept with its metadata."""
    with _CLEANING:
        return _clean(file, kind, limits)


def _clean(file: BinaryIO, kind: MediaType, limits: Limits) -> bytes:
    file.seek(0)
    if kind in IMAGES:
        return _clean_image(file, kind, limits)
    if kind is MediaType.pdf:
        with _refusals(kind):
            return media.clean_pdf(file, limits.pdf_pages, limits.pdf_objects)
    data = io.BytesIO(file.read())
    if kind in ISO_MEDIA:
        boxes.neutralise(data, _box_tree(data, kind))
    else:
        with _refusals(kind):
            media.strip_audio_tags(data, kind.value)
    return data.getvalue()


def _clean_image(file: BinaryIO, kind: MediaType, limits: Limits) -> bytes:
    """Re-encoded from its pixels alone: a new image has no ``info`` to carry EXIF, XMP, IPTC,
    comments or an ICC profile that could name the device. The EXIF orientation is applied
    first, so the photo still stands the right way up."""
    with _open_image(file, kind, limits) as image:
        if getattr(image, "n_frames", 1) > 1:
            raise UnsupportedMediaType(
                "animated images cannot be cleaned of their metadata: send a still image",
                errors=[{"field": "file", "message": "animated image"}],
            )
        width, height = image.size
        if width * height > limits.cleaned_pixels:
            raise _bomb(f"{width}x{height} pixels is over {limits.cleaned_pixels} for a photo")
        try:
            ImageOps.exif_transpose(image, in_place=True)  # loads it; no copy
        except Exception as exc:
            raise _corrupt(kind, type(exc).__name__) from exc
        mode = image.mode
        if kind is MediaType.jpeg and mode not in {"L", "RGB", "CMYK"}:
            mode = "RGB"
        elif kind is not MediaType.png and mode not in {"L", "RGB", "RGBA"}:
            mode = "RGBA" if "A" in mode or "transparency" in image.info else "RGB"
        pixels = image.convert(mode) if mode != image.mode else image
        if pixels is not image:
            image.close()  # one decoded copy at a time
        bare = Image.new(pixels.mode, pixels.size)  # a new image: no info to carry metadata
        bare.paste(pixels)
        if pixels.mode == "P":
            palette = pixels.getpalette()
            if palette is not None:
                bare.putpalette(palette)
        pixels.close()
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 92} if kind is not MediaType.png else {}
    bare.save(out, format=PILLOW_FORMATS[kind], **options)
    return out.getvalue()


def safe_filename(name: str | None, kind: MediaType) -> str:
    """A name to show and to send in ``Content-Disposition``: the last path part, printable,
    without quotes or separators, at most 120 characters, ending with the detected type's
    extension (``report.jpg.exe`` is a ``.jpg`` only if its bytes are)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '"<>:|?*;').strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[:100].strip(" .") or "file"
    return f"{stem}.{EXTENSIONS[kind]}"


def content_disposition(filename: str) -> str:
    """``attachment`` with the name in ASCII (for old clients) and in UTF-8 (RFC 6266)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
