"""Image files a handout shows (figures, the logo): where they may be, their type, size and pixels.

Sizes are read from the file's header, before anything decodes it: a PNG that claims 100000 x
100000 pixels is refused here, never handed to Pillow (whose DecompressionBombWarning would come
too late, after the work of opening it). Imports nothing heavy.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from handouts.files import OutsideError, contained
from handouts.limits import Limits

#: The image types a handout may show, by file name ending.
SUFFIXES = {".svg": "SVG", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8"
#: Raster formats WeasyPrint (Pillow) would decode but handouts does not check: refused wherever they come from.
OTHER_RASTERS = (b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def asset_problem(name: str, assets: Path, root: Path | None, limits: Limits, what: str,
                  shown: str = "data/assets/") -> str | None:
    """Return why data/assets/<name> cannot be shown as an image (what: "the logo"), or None.

    The file must be inside data/assets/ (links may not lead out of it), be an SVG, PNG or JPEG
    file by its name, and stay within the limits on bytes and pixels. shown is how the folder is
    named in messages (a brand's logo may live in its own folder, brands/<name>/).
    """
    path = Path(os.path.normpath(assets / name))
    if not path.is_relative_to(assets):
        return f"{what} must be a file inside {shown}"
    if not os.path.lexists(path):
        return f"file not found: {shown}{name}"
    try:
        real = contained(path, assets, root)
    except OutsideError as exc:
        return str(exc)
    if path.suffix.lower() not in SUFFIXES:
        return "use an SVG, PNG or JPEG file"
    problem = limits_problem(real, limits)
    return f"{shown}{name}: {problem}" if problem else None


def is_image(path: Path) -> bool:
    """Return whether a file is an image by its name or its first bytes (fonts and stylesheets are not)."""
    if path.suffix.lower() in SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(12)
    return head.startswith((PNG_MAGIC, JPEG_MAGIC, *OTHER_RASTERS)) or head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def limits_problem(path: Path, limits: Limits) -> str | None:
    """Return why an image file is over the limits on bytes or pixels (from its header), or None."""
    if path.stat().st_size > limits.image_bytes:
        return f"larger than {limits.image_bytes} bytes (the limit: {limits.variable('image_bytes')})"
    with path.open("rb") as handle:
        return bytes_problem(handle.read(limits.image_bytes), limits)


def bytes_problem(data: bytes, limits: Limits) -> str | None:
    """Return why an image's bytes are over the limits or of a type handouts does not check, or None."""
    if len(data) > limits.image_bytes:
        return f"larger than {limits.image_bytes} bytes (the limit: {limits.variable('image_bytes')})"
    if data.startswith(OTHER_RASTERS) or data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "use an SVG, PNG or JPEG file"
    dimensions = raster_size(data)
    if dimensions is not None:
        width, height = dimensions
        if width * height > limits.image_pixels:
            return (f"{width} x {height} pixels, more than {limits.image_pixels} pixels "
                    f"(the limit: {limits.variable('image_pixels')})")
    return None


def data_url_bytes(url: str) -> bytes:
    """Return the bytes a data: URL holds (empty when it is malformed: WeasyPrint then reports it)."""
    import base64
    from urllib.parse import unquote_to_bytes

    header, comma, payload = url[len("data:"):].partition(",")
    if not comma:
        return b""
    if header.lower().endswith(";base64"):
        try:
            return base64.b64decode(unquote_to_bytes(payload), validate=False)
        except ValueError:
            return b""
    return unquote_to_bytes(payload)


def type_problem(path: Path, data: bytes) -> str | None:
    """Return why a file's bytes are not the image type its name says, or None."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind == "PNG":
        return None if data.startswith(PNG_MAGIC) and raster_size(data) else "not a PNG file"
    if kind == "JPEG":
        return None if data.startswith(JPEG_MAGIC) and raster_size(data) else "not a JPEG file"
    if kind == "SVG":
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            return f"not valid SVG: {exc}"
        return None if root.tag.endswith("svg") else "not an SVG image (no <svg> root)"
    return "use an SVG, PNG or JPEG file"


def raster_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) from a PNG or JPEG header, or None when data is neither or has no header."""
    if data.startswith(PNG_MAGIC):
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return (width, height) if width and height else None
    if data.startswith(JPEG_MAGIC):
        return _jpeg_size(data)
    return None


#: JPEG start-of-frame markers (baseline, progressive, lossless...): they hold the image's size.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    sizes: list[tuple[int, int]] = []
    index = 2
    while index + 4 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2:index + 4])
        if marker in _SOF:
            if index + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[index + 5:index + 9])
            if not (width and height):
                return None
            # every frame header up to the image data counts (a decoder may take the last one):
            # the largest is the size, so a small decoy frame cannot hide a large image
            sizes.append((width, height))
        if marker == 0xDA or length < 2:  # image data: the size is known, or the file is damaged
            break
        index += 2 + length
    return max(sizes, key=lambda size: size[0] * size[1]) if sizes else None
