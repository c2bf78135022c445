"""The box tree of ISO base media files (MP4, M4A, HEIC), read and neutralised in place.

Small enough to parse ourselves: every box is a 32-bit size and a four-character type (a 64-bit
size follows when the size is 1; a size of 0 runs to the end of the file). What a phone writes
about where and with what a video was taken lives in ``udta`` (the ``©xyz`` location atom, make
and model) and ``meta`` boxes (Apple's ``com.apple.quicktime.location.ISO6709``), and in ``uuid``
boxes (XMP). Those are retyped to ``free`` with their payload zeroed, never removed: the boxes
keep their sizes, so ``mdat`` stays where it is and every chunk offset (``stco``, ``co64``) stays
right without being rewritten.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

# Boxes whose payload is only more boxes, which the walk enters.
CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"moof", b"traf"}
    | {b"mfra", b"sinf", b"schi"}
)
# Boxes that describe the recording rather than hold it: location, device, author, XMP.
IDENTIFYING = frozenset({b"udta", b"meta", b"uuid", b"XMP_"})
# Headers whose creation and modification times are zeroed (when the video was taken is a
# fact of the evidence the reporter can state; it need not travel in the file).
TIMED = frozenset({b"mvhd", b"tkhd", b"mdhd"})
MAX_DEPTH = 16
MAX_BOXES = 100_000


class BoxError(ValueError):
    """The box tree is broken: a size that overruns its parent, or too deep or too many."""


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # offset of the header
    header: int  # 8, or 16 with a 64-bit size
    size: int  # header included
    depth: int

    @property
    def payload(self) -> int:
        return self.start + self.header

    @property
    def end(self) -> int:
        return self.start + self.size


def _read_exact(file: BinaryIO, n: int) -> bytes:
    data = file.read(n)
    if len(data) != n:
        raise BoxError("the file ends inside a box header")
    return data


def boxes(file: BinaryIO, start: int, end: int, depth: int = 0) -> Iterator[Box]:
    """The boxes between ``start`` and ``end``, depth first; children must tile their parent."""
    if depth > MAX_DEPTH:
        raise BoxError("boxes nested too deep")
    position = start
    while position < end:
        if end - position < 8:
            raise BoxError("trailing bytes that are not a box")
        file.seek(position)
        size, kind = struct.unpack(">I4s", _read_exact(file, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", _read_exact(file, 8))
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise BoxError(f"box {kind!r} overruns its parent")
        box = Box(kind, position, header, size, depth)
        yield box
        if kind in CONTAINERS:
            yield from boxes(file, box.payload, box.end, depth + 1)
        position = box.end


def walk(file: BinaryIO) -> list[Box]:
    """Every box of the file; the top-level boxes must cover it exactly (nothing appended)."""
    file.seek(0, 2)
    length = file.tell()
    found: list[Box] = []
    for box in boxes(file, 0, length):
        found.append(box)
        if len(found) > MAX_BOXES:
            raise BoxError("too many boxes")
    return found


def brands(head: bytes) -> tuple[bytes, frozenset[bytes]] | None:
    """The major and compatible brands of an ``ftyp`` box at the start, or None."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = struct.unpack(">I", head[:4])[0]
    if size < 16 or size > len(head):
        return None
    compatible = {head[i : i + 4] for i in range(16, size - 3, 4)}
    return head[8:12], frozenset(compatible)


def neutralise(file: BinaryIO, found: list[Box]) -> int:
    """Retype every identifying box to ``free`` and zero its payload, and zero the recording
    times; ``file`` must be open for writing. Returns how many boxes were neutralised."""
    done = 0
    inside_until = -1  # the end of the last neutralised box: its children are zeroed already
    for box in found:
        if box.start < inside_until:
            continue
        if box.type in IDENTIFYING:
            file.seek(box.start + 4)
            file.write(b"free")
            file.seek(box.payload)
            _zero(file, box.size - box.header)
            inside_until = box.end
            done += 1
        elif box.type in TIMED:
            _zero_times(file, box)
    return done


def _zero(file: BinaryIO, n: int, block: int = 1 << 16) -> None:
    zeros = bytes(min(n, block))
    while n > 0:
        file.write(zeros[: min(n, block)])
        n -= block


def _zero_times(file: BinaryIO, box: Box) -> None:
    """Version 0 headers hold two 32-bit times after version and flags, version 1 two 64-bit."""
    file.seek(box.payload)
    version = file.read(1)
    width = 16 if version == b"\x01" else 8
    if box.size - box.header >= 4 + width:
        file.seek(box.payload + 4)
        file.write(bytes(width))
