"""Raised vowel marks drawn at their height, on the line, so PDF readers keep them in their word.

HarfBuzz places an Arabic vowel mark (fatha, tanween, shadda...) over or under its letter with an
offset; WeasyPrint writes a vertical offset as text rise: ``3.1 Ts [<mark>] TJ 0 Ts``. PDF readers
sort glyphs into lines by where they sit, so a risen mark starts a line of its own: PDFium (Chrome)
and poppler's pdftotext gave "َ ابق ً نشيطا" for "ابقَ نشيطًا", and with it the words around
the mark changed places (issue 15).

Here a risen glyph is drawn instead as a copy of itself whose outline is moved up by the rise, in
the same text-showing operator as the glyphs around it and with no rise: the page looks the same
(the outline moves by the rise rounded to a font unit, under 0.01 pt), and the text layer has the
mark on its line, in drawing order, next to its letter. The copy's ToUnicode entry and width are the
mark's. Only TrueType outlines (a ``glyf`` table) are copied; any other font keeps its text rise.

Three WeasyPrint internals are wrapped, once per process, and install() raises if they changed:
the content stream's set_text_rise and show_text (WeasyPrint's own Stream, a pydyf Stream), and
Font.clean, after which the copies are added to the subset font file. A font that drew no risen
glyph is not touched: other documents are byte-identical.
"""

from __future__ import annotations

import functools
import inspect
import io
import re
from typing import Any

#: The attribute of a WeasyPrint Font holding its copies: (glyph, rise in font units) -> new glyph.
RAISED = "_handouts_raised"
#: What WeasyPrint writes for a risen glyph: an optional horizontal offset, then one glyph.
_RISEN_GLYPH = re.compile(r"^(-?[0-9.e+-]+)?<([0-9a-f]{4})>$")
_MARK = "_handouts_raised_marks"
#: The WeasyPrint methods this was written against (WeasyPrint 66 to 70) and their parameters.
EXPECTED = {
    "set_text_rise": ("self", "height"),
    "show_text": ("self", "text"),
    "clean": ("self", "to_unicode", "hinting"),
    "get_unused_glyph_id": ("self", "codepoint"),
}


def _outlined(font: Any) -> bool:
    """True for a font whose glyphs can be copied: TrueType outlines, no bitmaps or colour layers."""
    tables = getattr(font, "tables", ())
    return "glyf" in tables and not (font.bitmap or font.png or font.svg or font.colr)


def raised_glyph(font: Any, glyph: int, rise: float, size: float) -> int | None:
    """The glyph id of glyph moved up by rise (text space units at font size size), or None."""
    if not size or not _outlined(font):
        return None
    units = round(rise * font.upem / size)
    if units == 0:
        return glyph
    raised: dict[tuple[int, int], int] = font.__dict__.setdefault(RAISED, {})
    key = (glyph, units)
    if key not in raised:
        # After the font's own glyphs and WeasyPrint's ids for missing ones (see _unused_glyph_id).
        raised[key] = font.glyph_count + len(font.missing) + len(raised)
        if raised[key] > 0xFFFF:
            del raised[key]
            return None
    return raised[key]


def with_raised_glyphs(data: bytes, raised: dict[tuple[int, int], int]) -> bytes:
    """A TrueType font file with each raised copy added at its glyph id (empty glyphs before it)."""
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    order = list(font.getGlyphOrder())
    glyphs = font.getGlyphSet()
    glyf, hmtx = font["glyf"], font["hmtx"]
    by_id = {new: key for key, new in raised.items()}
    outlines = {}
    for new, (glyph, units) in sorted(by_id.items()):
        pen = TTGlyphPen(glyphs)
        glyphs[order[glyph]].draw(TransformPen(pen, (1, 0, 0, 1, 0, units)))
        outlines[new] = (pen.glyph(), hmtx[order[glyph]][0])
    for new in range(len(order), max(by_id) + 1):
        name = f"handouts.raised{new}"
        order.append(name)
        outline, advance = outlines.get(new, (Glyph(), 0))
        glyf.glyphs[name] = outline
        outline.recalcBounds(glyf)
        hmtx.metrics[name] = (advance, getattr(outline, "xMin", 0))
    font.setGlyphOrder(order)
    glyf.glyphOrder = order
    if "post" in font:  # names would have to be stored for the new glyphs; readers do not need them
        font["post"].formatType = 3.0
    for table in ("hdmx", "LTSH", "VDMX"):  # per-glyph device tables no longer cover every glyph
        if table in font:
            del font[table]
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _check(cls: Any, name: str) -> Any:
    import weasyprint

    method = getattr(cls, name, None)
    if method is None or tuple(inspect.signature(method).parameters) != EXPECTED[name]:
        raise RuntimeError(
            f"WeasyPrint {weasyprint.__version__} changed {cls.__name__}.{name}: "
            "handouts/render/raised.py needs updating"
        )
    return method


def install() -> None:
    """Wrap WeasyPrint's Stream.set_text_rise, Stream.show_text and Font.clean, once per process."""
    from weasyprint.pdf.fonts import Font
    from weasyprint.pdf.stream import Stream

    if getattr(Stream.set_text_rise, _MARK, False):
        return
    set_text_rise, show_text = _check(Stream, "set_text_rise"), _check(Stream, "show_text")
    clean, get_unused_glyph_id = _check(Font, "clean"), _check(Font, "get_unused_glyph_id")

    def current_font(stream: Any) -> tuple[Any, float] | None:
        current = getattr(stream, "_current_font", None)
        fonts = getattr(stream, "_fonts", None)
        if not current or not isinstance(fonts, dict):
            return None
        name, size = current
        font = next((font for font in fonts.values() if font.hash == name), None)
        return (font, float(size)) if font is not None else None

    @functools.wraps(set_text_rise)
    def _set_text_rise(self: Any, height: float) -> None:
        if height and not getattr(self, "_handouts_rise", None):
            found = current_font(self)
            if found is not None and _outlined(found[0]):
                last = self.stream[-1] if self.stream and self.stream[-1].endswith(b"] TJ") else None
                self._handouts_rise = (height, found, last)
                return
        elif not height and getattr(self, "_handouts_rise", None) == "drawn":
            self._handouts_rise = None  # the rise was never set, so nothing to set back
            return
        self._handouts_rise = None
        set_text_rise(self, height)

    @functools.wraps(show_text)
    def _show_text(self: Any, text: str) -> None:
        state = getattr(self, "_handouts_rise", None)
        joined = getattr(self, "_handouts_joined", None)
        self._handouts_joined = None
        if isinstance(state, tuple):
            height, (font, size), last = state
            match = _RISEN_GLYPH.match(text)
            glyph = raised_glyph(font, int(match[2], 16), height, size) if match else None
            if match is None or glyph is None:  # not one glyph as WeasyPrint writes it, or no room: rise
                self._handouts_rise = "rise set"
                set_text_rise(self, height)
                show_text(self, text)
                return
            self._handouts_rise = "drawn"
            self._handouts_joined = _join(self, last, f"{match[1] or ''}<{glyph:04x}>")
        elif joined is not None and self.stream and self.stream[-1] is joined:
            self._handouts_joined = _join(self, joined, text)
        else:
            show_text(self, text)

    def _join(stream: Any, last: bytes | None, text: str) -> bytes:
        """Add text to the TJ last if it is still the stream's last operator, else write a new TJ;
        return the TJ that holds it, which the glyphs after a raised one join too."""
        if last is not None and stream.stream and stream.stream[-1] is last:
            stream.stream[-1] = last[: -len(b"] TJ")] + b" " + text.encode() + b"] TJ"
        else:
            show_text(stream, text)
        joined: bytes = stream.stream[-1]
        return joined

    @functools.wraps(clean)
    def _clean(self: Any, to_unicode: Any, hinting: Any) -> None:
        clean(self, to_unicode, hinting)
        raised = self.__dict__.get(RAISED)
        if not raised:
            return
        for (glyph, _), new in raised.items():
            self.to_unicode[new] = self.to_unicode.get(glyph, "")
            self.widths[new] = self.widths.get(glyph, 0)
        self.file_content = with_raised_glyphs(self.file_content, raised)

    @functools.wraps(get_unused_glyph_id)
    def _get_unused_glyph_id(self: Any, codepoint: int) -> int:
        # WeasyPrint numbers missing glyphs from glyph_count on; count the raised copies in too.
        taken = len(self.__dict__.get(RAISED, ()))
        self.glyph_count += taken
        try:
            glyph: int = get_unused_glyph_id(self, codepoint)
        finally:
            self.glyph_count -= taken
        return glyph

    for function in (_set_text_rise, _show_text, _clean, _get_unused_glyph_id):
        setattr(function, _MARK, True)
    Stream.set_text_rise, Stream.show_text = _set_text_rise, _show_text
    Font.clean, Font.get_unused_glyph_id = _clean, _get_unused_glyph_id
