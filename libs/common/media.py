"""PDF and audio behind ``files.py``: read under limits, and cleaned of what names a person.

pypdf reads and rewrites PDFs; mutagen reads MP3 and Ogg and removes their tags. Verdicts are
plain exceptions (:class:`Corrupt`, :class:`Bomb`, :class:`Uncleanable`) that ``files.py`` turns
into problems.
"""

from __future__ import annotations

import io
import logging
import struct
from typing import Any, BinaryIO

import mutagen
from mutagen.apev2 import delete as delete_ape
from mutagen.id3 import delete as delete_id3
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

# pypdf warns through logging about every oddity of a damaged file; the verdict is ours.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class Corrupt(Exception):
    """The file does not parse as the type its first bytes announce."""


class Bomb(Exception):
    """The file would cost far more to read than its size suggests."""


class Uncleanable(Exception):
    """The file cannot be stripped of its metadata safely."""


# MPEG audio ------------------------------------------------------------------------------------


def mpeg_audio_frame(head: bytes) -> bool:
    """A valid MPEG audio Layer III frame header at the start (an MP3 without an ID3 tag)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def read_audio(file: BinaryIO, media_type: str) -> mutagen.FileType:
    """The parsed MP3 (frames found), or the Ogg Vorbis or Opus stream."""
    file.seek(0)
    if media_type == "audio/mpeg":
        try:
            audio = MP3(file)  # type: ignore[no-untyped-call]
        except mutagen.MutagenError as exc:
            raise Corrupt(type(exc).__name__) from exc
        if audio.info is None or not audio.info.length:
            raise Corrupt("no audio frames")
        return audio
    for kind in (OggVorbis, OggOpus):
        file.seek(0)
        try:
            found: mutagen.FileType = kind(file)
            return found
        except mutagen.MutagenError:
            continue
    raise Uncleanable("an Ogg stream other than Vorbis or Opus cannot be cleaned")


def strip_audio_tags(data: io.BytesIO, media_type: str) -> None:
    """ID3 (v1 and v2) and APE tags removed from an MP3; comments from an Ogg stream (the
    encoder's vendor string stays: it names the software, not the person)."""
    audio = read_audio(data, media_type)
    data.seek(0)
    if media_type == "audio/mpeg":
        delete_id3(data)
        data.seek(0)
        delete_ape(data)
        data.seek(0)
        head = data.read(3)
        data.seek(-128, 2)
        if head == b"ID3" or data.read(3) == b"TAG":
            raise Uncleanable("the MP3's tags could not be removed")
    else:
        audio.delete(data)
    data.seek(0)
    read_audio(data, media_type)


# JPEG segments (photos inside PDFs) -------------------------------------------------------------

# APP1 (EXIF, XMP), APP13 (IPTC), and comments; the others describe how to decode the pixels.
_IDENTIFYING_SEGMENTS = {0xE1, 0xED, 0xFE} | set(range(0xE3, 0xED)) | {0xEF}


def strip_jpeg_segments(data: bytes) -> bytes:
    """A JPEG's bytes without its metadata segments, the image data untouched."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out, position = bytearray(b"\xff\xd8"), 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segment = data[position : position + 2 + length]
        if marker not in _IDENTIFYING_SEGMENTS:
            out += segment
        position += 2 + length
    return bytes(out + data[position:])


# PDF -------------------------------------------------------------------------------------------


def read_pdf(file: BinaryIO, max_pages: int, max_objects: int) -> PdfReader:
    """The document, refused when it declares more objects or holds more pages than allowed."""
    file.seek(0)
    try:
        reader = PdfReader(file, strict=False)
        declared = int(reader.trailer.get("/Size", 0))
        if declared > max_objects:
            raise Bomb(f"{declared} objects is over {max_objects}")
        if reader.is_encrypted and not reader.decrypt(""):
            return reader  # an officer's sealed document is kept as it came
        pages = len(reader.pages)
    except (Bomb, Corrupt):
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError, OSError) as exc:
        raise Corrupt(type(exc).__name__) from exc
    if pages > max_pages:
        raise Bomb(f"{pages} pages is over {max_pages}")
    if pages == 0:
        raise Corrupt("no pages")
    return reader


def clean_pdf(file: BinaryIO, max_pages: int, max_objects: int) -> bytes:
    """Written again without the document information (author, creator tool, dates), any XMP
    ``/Metadata``, scripts, embedded files, and the metadata segments of embedded photos."""
    reader = read_pdf(file, max_pages, max_objects)
    if reader.is_encrypted:
        raise Uncleanable("an encrypted PDF cannot be cleaned")
    try:
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None
        root = writer.root_object
        for key in ("/Metadata", "/PieceInfo", "/OpenAction", "/AA", "/SpiderInfo"):
            root.pop(NameObject(key), None)
        names = root.get("/Names")
        if isinstance(names, DictionaryObject):
            for key in ("/JavaScript", "/EmbeddedFiles"):
                names.pop(NameObject(key), None)
        for obj in writer._objects:
            _strip_object(obj)
        out = io.BytesIO()
        writer.write(out)
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise Corrupt(type(exc).__name__) from exc
    return out.getvalue()


def _strip_object(obj: Any) -> None:
    if not isinstance(obj, DictionaryObject):
        return
    for key in ("/Metadata", "/PieceInfo", "/AA"):
        obj.pop(NameObject(key), None)
    if obj.get("/Subtype") == "/FileAttachment":
        obj.pop(NameObject("/FS"), None)
    if isinstance(obj, StreamObject) and obj.get("/Subtype") == "/Image":
        filters = obj.get("/Filter")
        names = list(filters) if isinstance(filters, ArrayObject) else [filters]
        if names == ["/DCTDecode"]:
            # ``set_data`` re-encodes only Flate streams; a JPEG stream is its file's bytes.
            obj._data = strip_jpeg_segments(obj._data)
