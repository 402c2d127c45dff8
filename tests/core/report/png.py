"""Just enough of PNG to look at a screenshot: 8-bit RGB or RGBA, non-interlaced, no dependencies."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(path: Path, *, max_rows: int | None = None) -> tuple[int, int, int, list[bytes]]:
    """Width, height, bytes per pixel (3 or 4) and the first ``max_rows`` rows (all by default)."""
    data = path.read_bytes()
    assert data.startswith(SIGNATURE), f"{path} is not a PNG"
    pos, idat = 8, bytearray()
    width = height = channels = 0
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "only 8-bit RGB(A), non-interlaced"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(min(height, max_rows or height)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind, line, previous, channels)
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def _unfilter(kind: int, line: bytearray, up: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 255 for a, b in zip(line, up, strict=True))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 3:
            line[i] = (line[i] + ((left + up[i]) >> 1)) & 255
        else:  # Paeth
            corner = up[i - bpp] if i >= bpp else 0
            guess = left + up[i] - corner
            da, db, dc = abs(guess - left), abs(guess - up[i]), abs(guess - corner)
            best = left if da <= db and da <= dc else up[i] if db <= dc else corner
            line[i] = (line[i] + best) & 255


def colours(rows: list[bytes], channels: int = 3) -> set[bytes]:
    """The distinct pixel colours (alpha dropped) in ``rows``."""
    found: set[bytes] = set()
    for row in rows:
        found.update(row[i : i + 3] for i in range(0, len(row), channels))
    return found
