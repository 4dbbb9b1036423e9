"""Decode a PNG screenshot (8-bit RGB or RGBA, not interlaced) into rows of pixels.

Enough of the PNG format for what headless chromium writes: chunks, zlib-compressed
IDAT, and the five scanline filters. Used to check that the timeline page really drew
something, in the colours it should, without an image library.
"""

from __future__ import annotations

import collections
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Pixel = tuple[int, int, int]


def decode_png(data: bytes) -> list[list[Pixel]]:
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    offset = len(PNG_SIGNATURE)
    compressed = b""
    width = height = channels = 0
    while offset < len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour_type in (2, 6), "unsupported PNG"
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(compressed)
    stride = width * channels
    rows: list[list[Pixel]] = []
    previous = bytearray(stride)
    for row_index in range(height):
        start = row_index * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous,
                         channels)
        rows.append([(line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels)])
        previous = line
    return rows


def _unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - step] if i >= step else 0
        up = previous[i]
        up_left = previous[i - step] if i >= step else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[i] = (line[i] + _paeth(left, up, up_left)) & 0xFF
    return line


def _paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
    if distances[0] <= distances[1] and distances[0] <= distances[2]:
        return left
    return up if distances[1] <= distances[2] else up_left


def histogram(rows: list[list[Pixel]]) -> collections.Counter[Pixel]:
    counts: collections.Counter[Pixel] = collections.Counter()
    for row in rows:
        counts.update(row)
    return counts


def count_near(counts: collections.Counter[Pixel], colour: str, *, tolerance: int = 12) -> int:
    """Pixels within `tolerance` of `colour` (#rrggbb) in every channel."""
    wanted = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return sum(count for pixel, count in counts.items()
               if all(abs(a - b) <= tolerance for a, b in zip(pixel, wanted, strict=True)))
