"""Colour contrast (WCAG 2.2): measured on the colours a rendered page really uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: WCAG 2.2 AA minimum contrast ratios.
NORMAL_TEXT = 4.5
LARGE_TEXT = 3.0

RGB = tuple[float, float, float]


def luminance(rgb: RGB) -> float:
    """Return the relative luminance of an sRGB colour with channels from 0 to 1."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: RGB, b: RGB) -> float:
    """Return the WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def format_ratio(value: float) -> str:
    """Return a contrast ratio as '4.47:1': cut (never rounded up) to two decimals.

    Rounding would print 4.478:1 as "4.5:1", which reads as a pass of WCAG's 4.5:1 when it fails.
    """
    from decimal import ROUND_DOWN, Decimal

    return f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_DOWN)}:1"


def hex_rgb(value: str) -> RGB:
    """Return the channels of '#rrggbb'."""
    return tuple(int(value[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def to_hex(rgb: RGB) -> str:
    """Return '#rrggbb' for channels from 0 to 1."""
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def is_large(size_pt: float, bold: bool) -> bool:
    """Return whether WCAG counts text as large: 18 pt, or 14 pt bold."""
    return size_pt >= 18 or (bold and size_pt >= 14)


@dataclass(frozen=True)
class TextColour:
    """A colour pair used for text on a page, at the smallest size it is used."""

    fg: str
    bg: str
    size_pt: float
    bold: bool
    sample: str

    @property
    def ratio(self) -> float:
        """Return the contrast ratio."""
        return ratio(hex_rgb(self.fg), hex_rgb(self.bg))

    @property
    def needed(self) -> float:
        """Return the ratio WCAG AA asks for at this size and weight."""
        return LARGE_TEXT if is_large(self.size_pt, self.bold) else NORMAL_TEXT


def text_colours(document: Any) -> list[TextColour]:
    """Collect every (text colour, background) pair of a rendered WeasyPrint document.

    For each pair, keep the use that needs the most contrast (normal text before large).
    """
    found: dict[tuple[str, str], TextColour] = {}
    for page in document.pages:
        for box, bg in _text_boxes(page._page_box, (1.0, 1.0, 1.0)):  # noqa: SLF001 - layout tree
            style = box.style
            fg = to_hex(_blend(*_rgba(style["color"]), bg))
            size_pt = style["font_size"] * 0.75  # CSS px to pt
            bold = style["font_weight"] >= 700
            candidate = TextColour(fg, to_hex(bg), round(size_pt, 1), bold, box.text.strip()[:40])
            key = (candidate.fg, candidate.bg)
            current = found.get(key)
            if current is None or (candidate.needed, -candidate.size_pt) > (current.needed, -current.size_pt):
                found[key] = candidate
    return sorted(found.values(), key=lambda t: t.ratio)


def _rgba(color: Any) -> tuple[RGB, float]:
    """Return the sRGB channels and alpha of a CSS colour as WeasyPrint computed it."""
    srgb = color.to("srgb") if getattr(color, "space", "srgb") != "srgb" else color
    r, g, b = (min(1.0, max(0.0, c)) for c in srgb.coordinates[:3])
    return (r, g, b), color.alpha


def _blend(rgb: RGB, alpha: float, bg: RGB) -> RGB:
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(rgb, bg, strict=True))  # type: ignore[return-value]


def _text_boxes(box: Any, bg: RGB) -> Iterator[tuple[Any, RGB]]:
    background = box.style["background_color"]
    if background.alpha > 0:
        bg = _blend(*_rgba(background), bg)
    if hasattr(box, "text") and box.text.strip():
        yield box, bg
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child, bg)
