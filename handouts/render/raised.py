"""Raised vowel marks drawn at their height, on the line, so PDF readers keep them in their word.

HarfBuzz places an Arabic vowel mark (fatha, tanween, shadda...) over or under its letter with an
offset; WeasyPrint writes a vertical offset as text rise: ``3.1 Ts [<mark>] TJ 0 Ts``. PDF readers
sort glyphs into lines by where they sit, so a risen mark starts a line of its own: PDFium (Chrome)
and poppler's pdftotext gave "َ ابق ً نشيطا" for "ابقَ نشيطًا", and with it the words around
the mark changed places (issue 15).

Here a risen glyph is drawn instead as a copy of itself whose outline is moved up by the rise, in
the same text-showing operator as the glyphs around it and with no rise: the page looks the same
(the outline moves by the rise rounded to a font unit, under 0.01 pt), and the text layer has the
mark on its line, in drawing order, next to its letter. The copy's ToUnicode entry is the mark's.
Only TrueType outlines (a ``glyf`` table) are copied; any other font keeps its text rise.

A vowel mark (a glyph that does not move the pen) is also moved sideways in the copy. HarfBuzz
gives it before its letter in drawing order, and WeasyPrint draws it where it sits, up to 0.7 em
right of the pen, then moves back: ``-302.06 <mark> 302 <letter>``. poppler (pdftotext, Evince,
Okular) builds words from where characters start: a gap of over 0.1 em before the mark, or a step
back of over 0.2 em after it, made the mark a word of its own, and a word that starts inside the
word before it ends the line there (TextOutputDev.cc: minWordBreakSpace, minDupBreakOverlap,
minCharSpacing). "ابقَ نشيطًا قدر استطاعتك" came out as four lines: "َ", "نشيطا قدر استطاعتك", "ً",
"ابق". So the mark's copy starts MARK_LEAD (0.15 em) before the pen and is as wide, its outline
moved right by the offset plus the lead, and the move back after it is made smaller by the offset:
``150 <copy> -0.06 <letter>``. Its ink is where it was (to a font unit), it ends where its letter
starts, and it starts between 0.1 em (poppler takes a character under 0.1 em from the one before for
a duplicate) and 0.2 em (pdf.js starts a new text item at a step back of 0.2 em) before it. A mark
that WeasyPrint moves only sideways, inside the run (``-722.94<mark>722``), gets the same copy.

Three WeasyPrint internals are wrapped, once per process, and install() raises if they changed:
the content stream's set_text_rise and show_text (WeasyPrint's own Stream, a pydyf Stream), and
Font.clean, after which the copies are added to the subset font file. A font that drew no risen
glyph and no sideways-moved mark is not touched: other documents are byte-identical.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import re
from typing import Any

#: The attribute of a WeasyPrint Font holding its copies: (glyph, units up, units right, width or -1
#: for the glyph's own) -> new glyph.
RAISED = "_handouts_raised"
#: The attribute of a WeasyPrint Font holding what _font_file read of its font file.
_FILE = "_handouts_font_file"
#: How far before the pen a vowel mark's copy starts, and its width, in thousandths of an em.
MARK_LEAD = 150
#: What WeasyPrint writes for a risen glyph: an optional horizontal offset, then one glyph.
_RISEN_GLYPH = re.compile(r"^(-?[0-9.e+-]+)?<([0-9a-f]{4})>$")
_NUMBER = r"-?[0-9.]+(?:e[+-]?[0-9]+)?"
#: A glyph moved sideways inside a run, as WeasyPrint writes it: the move (a float, never 0: the
#: kerning WeasyPrint writes between glyphs is an int), the glyph, the move back. Ordinary text
#: has no such float, so the search costs one regular-expression scan of its TJ.
_MOVED_GLYPH = re.compile(rf">(-?[0-9]*\.[0-9]+(?:e[+-]?[0-9]+)?|-?[0-9]+e[+-]?[0-9]+)<([0-9a-f]{{4}})>({_NUMBER})<")
#: The pen move a text starts with: "<>302<" after a risen glyph, "-302.06<" in one.
_FIRST_MOVE = re.compile(rf"^(<>)?({_NUMBER})")
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


def raised_glyph(
    font: Any, glyph: int, rise: float, size: float, shift: float = 0, width: int | None = None
) -> int | None:
    """The glyph id of a copy of glyph moved up by rise (text space units at font size size) and
    right by shift (thousandths of an em), as wide as width (thousandths of an em; None: the
    glyph's own width); glyph itself if nothing moves; None if it cannot be copied."""
    if not size or not _outlined(font):
        return None
    units, right = round(rise * font.upem / size), round(shift * font.upem / 1000)
    if units == right == 0 and width is None:
        return glyph
    if not _drawable(font, glyph):
        return None
    raised: dict[tuple[int, int, int, int], int] = font.__dict__.setdefault(RAISED, {})
    key = (glyph, units, right, -1 if width is None else width)
    if key not in raised:
        # After the font's own glyphs and WeasyPrint's ids for missing ones (see _unused_glyph_id).
        raised[key] = font.glyph_count + len(font.missing) + len(raised)
        if raised[key] > 0xFFFF:
            del raised[key]
            return None
    return raised[key]


def mark_copy(font: Any, glyph: int, rise: float, size: float, offset: float) -> int | None:
    """The copy of a vowel mark drawn offset thousandths of an em right of the pen (and rise up),
    to be drawn MARK_LEAD before the pen instead, or None; see the module's docstring."""
    if not _outlined(font) or font.widths.get(glyph, 0) != 0 or not _zero_advance(font, glyph):
        return None
    return raised_glyph(font, glyph, rise, size, offset + MARK_LEAD, MARK_LEAD)


#: What _font_file read, by the digest of a font file and its index: a few fonts per workspace.
_FILES: dict[tuple[bytes, int], tuple[list[int], Any, list[str], dict[int, bool]] | None] = {}
_FILES_KEPT = 8


def _font_file(font: Any) -> tuple[list[int], Any, list[str], dict[int, bool]] | None:
    """The advances, glyph set and glyph order of a font's file (fontTools, read once per font file
    and process), and which glyphs were drawn; None if fontTools cannot read it (that font keeps
    WeasyPrint's rise)."""
    info: tuple[list[int], Any, list[str], dict[int, bool]] | None | bool = font.__dict__.get(_FILE, False)
    if info is False:
        key = (hashlib.sha256(font.file_content).digest(), font.index)
        if key not in _FILES:
            if len(_FILES) >= _FILES_KEPT:
                _FILES.pop(next(iter(_FILES)))
            _FILES[key] = _read_font_file(font.file_content, font.index)
        info = font.__dict__[_FILE] = _FILES[key]
    return info if isinstance(info, tuple) else None


def _read_font_file(data: bytes, index: int) -> tuple[list[int], Any, list[str], dict[int, bool]] | None:
    from fontTools.ttLib import TTFont

    try:
        ttfont = TTFont(io.BytesIO(data), fontNumber=index, lazy=True)
        order, hmtx = ttfont.getGlyphOrder(), ttfont["hmtx"]
        return ([hmtx[name][0] for name in order], ttfont.getGlyphSet(), order, {})
    except Exception:  # fontTools raises many kinds of errors for a damaged font
        return None


def _drawable(font: Any, glyph: int) -> bool:
    """True if fontTools can draw this glyph of the font's file, so a copy of it can be made."""
    from fontTools.pens.recordingPen import RecordingPen

    info = _font_file(font)
    if info is None or not 0 <= glyph < len(info[2]):
        return False
    _, glyphs, order, drawn = info
    if glyph not in drawn:
        try:
            glyphs[order[glyph]].draw(RecordingPen())
            drawn[glyph] = True
        except Exception:  # a damaged outline: draw it as WeasyPrint does
            drawn[glyph] = False
    return drawn[glyph]


def _zero_advance(font: Any, glyph: int) -> bool:
    """True for a glyph that does not move the pen, a mark: its advance in the font file is 0."""
    info = _font_file(font)
    return info is not None and 0 <= glyph < len(info[0]) and info[0][glyph] == 0


def _number(value: float) -> str:
    """A number for a TJ array: no exponent, no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def with_raised_glyphs(data: bytes, raised: dict[tuple[int, int, int, int], int]) -> bytes:
    """A TrueType font file with each copy added at its glyph id (empty glyphs before it)."""
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
    upem = font["head"].unitsPerEm
    for new, (glyph, units, right, width) in sorted(by_id.items()):
        pen = TTGlyphPen(glyphs)
        glyphs[order[glyph]].draw(TransformPen(pen, (1, 0, 0, 1, right, units)))
        # The advance the PDF's /W gives the copy (a mark's copy is MARK_LEAD wide), so the two agree.
        outlines[new] = (pen.glyph(), hmtx[order[glyph]][0] if width < 0 else round(width * upem / 1000))
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
        move = getattr(self, "_handouts_move", None)
        self._handouts_joined = self._handouts_move = None
        if isinstance(state, tuple):
            height, (font, size), last = state
            match = _RISEN_GLYPH.match(text)
            glyph, shown, after = None, text, None
            if match:
                offset = -float(match[1] or 0)
                glyph = mark_copy(font, int(match[2], 16), height, size, offset)
                if glyph is not None:  # a mark: from MARK_LEAD before the pen; the pen back where it was
                    after = _number(-offset) if offset else None
                    shown = f"{MARK_LEAD}<{glyph:04x}>{after or ''}"
                else:
                    glyph = raised_glyph(font, int(match[2], 16), height, size)
                    shown = f"{match[1] or ''}<{glyph:04x}>"
            if match is None or glyph is None:  # not one glyph as WeasyPrint writes it, or no room: rise
                self._handouts_rise = "rise set"
                set_text_rise(self, height)
                show_text(self, text)
                return
            self._handouts_rise = "drawn"
            self._handouts_joined = _join(self, last, shown, move)
            self._handouts_move = after
        elif joined is not None and self.stream and self.stream[-1] is joined:
            self._handouts_joined = _join(self, joined, _moved_marks(self, text), move)
        else:
            show_text(self, _moved_marks(self, text))

    def _join(stream: Any, last: bytes | None, text: str, move: str | None) -> bytes:
        """Add text to the TJ last if it is still the stream's last operator, else write a new TJ;
        return the TJ that holds it, which the glyphs after a raised one join too. move is the pen
        move that ends last, after a mark: it is added to the move that starts text, if any."""
        if last is not None and stream.stream and stream.stream[-1] is last:
            body = last[: -len(b"] TJ")]
            first = _FIRST_MOVE.match(text)
            if move and first and body.endswith(f">{move}".encode()):
                body = body[: -len(move)]
                text = f"{first[1] or ''}{_number(float(first[2]) + float(move))}{text[first.end():]}"
            stream.stream[-1] = body + b" " + text.encode() + b"] TJ"
        else:
            show_text(stream, text)
        joined: bytes = stream.stream[-1]
        return joined

    def _moved_marks(stream: Any, text: str) -> str:
        """text with each mark that WeasyPrint moves sideways inside it drawn as a copy (mark_copy)."""
        found = current_font(stream) if _MOVED_GLYPH.search(text) else None
        if found is None:
            return text
        font, size = found

        def placed(match: re.Match[str]) -> str:
            move, glyph, back = float(match[1]), int(match[2], 16), float(match[3])
            copy = mark_copy(font, glyph, 0, size, -move) if font.widths.get(glyph) == 0 else None
            if copy is None:
                return match[0]
            return f">{MARK_LEAD}<{copy:04x}>{_number(back + move)}<"

        return _MOVED_GLYPH.sub(placed, text)

    @functools.wraps(clean)
    def _clean(self: Any, to_unicode: Any, hinting: Any) -> None:
        clean(self, to_unicode, hinting)
        raised = self.__dict__.get(RAISED)
        if not raised:
            return
        for (glyph, _, _, width), new in raised.items():
            self.to_unicode[new] = self.to_unicode.get(glyph, "")
            self.widths[new] = self.widths.get(glyph, 0) if width < 0 else width
        try:
            self.file_content = with_raised_glyphs(self.file_content, raised)
        except Exception as exc:  # the page would show no marks: fail this handout in words instead
            raise RuntimeError(
                f"font {self.family}: could not add the copies of its vowel marks ({type(exc).__name__}: {exc})"
            ) from None

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
