"""Right-to-left ligatures in the PDF text layer: write their ToUnicode entries so readers get the words.

WeasyPrint draws a right-to-left line in visual order and maps each glyph, in the font's
ToUnicode CMap, to the characters of its cluster in logical order: the lam-alef ligature (لا)
maps to "ل" then "ا". PDF readers (PDFium in Chrome, pdf.js in Firefox, poppler's pdftotext)
turn a right-to-left line back into logical order by reversing it character by character, after
expanding each glyph, so a ligature's letters come out swapped ("ال", "إىل" for "إلى").

A glyph whose text is two or more characters, all of them right-to-left letters or their marks,
can only be drawn inside a right-to-left run. For such glyphs, and only those, we write the
characters in reverse order, so that the readers' reversal restores them. Glyphs of other scripts
(Latin "fi", CJK, Korean) have no right-to-left character and keep their entries byte for byte.

This wraps one WeasyPrint function, build_fonts_dictionary, which writes the CMaps from each
font's glyph-to-text map. install() checks that the function is still there with the signature we
know, and raises if WeasyPrint's internals changed. See Kozea/WeasyPrint#2841.
"""

from __future__ import annotations

import functools
import inspect
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

#: The parameters of weasyprint.pdf.build_fonts_dictionary this wrapper was written against
#: (WeasyPrint 66 to 70).
EXPECTED_PARAMETERS = ("pdf", "fonts", "compress", "subset", "options")
_MARK = "_handouts_rtl_ligatures"


def reads_right_to_left(text: str) -> bool:
    """True if text has a right-to-left letter and nothing but right-to-left letters and their marks."""
    classes = [unicodedata.bidirectional(ch) for ch in text]
    return any(c in ("R", "AL") for c in classes) and all(c in ("R", "AL", "NSM") for c in classes)


def visual_text(text: str) -> str:
    """The ToUnicode text of a glyph: a right-to-left ligature's characters reversed, anything else as it is."""
    return text[::-1] if len(text) > 1 and reads_right_to_left(text) else text


def _swapped(fonts: Iterable[Any]) -> list[tuple[Any, dict[int, str]]]:
    """Give each font a to_unicode map with reversed right-to-left ligatures; return the originals."""
    saved = []
    for font in fonts:
        original = font.to_unicode
        if not isinstance(original, dict):
            raise RuntimeError("WeasyPrint's Font.to_unicode is no longer a dict: handouts/tounicode.py needs updating")
        if any(len(text) > 1 and reads_right_to_left(text) for text in original.values()):
            saved.append((font, original))
            font.to_unicode = {glyph: visual_text(text) for glyph, text in original.items()}
    return saved


def install() -> None:
    """Wrap WeasyPrint's font dictionary builder, once per process. Raises if its internals changed."""
    import weasyprint
    import weasyprint.pdf as pdf_module

    original: Callable[..., Any] | None = getattr(pdf_module, "build_fonts_dictionary", None)
    if original is None:
        raise RuntimeError(
            f"WeasyPrint {weasyprint.__version__} has no weasyprint.pdf.build_fonts_dictionary: "
            "handouts/tounicode.py needs updating"
        )
    if getattr(original, _MARK, False):
        return
    parameters = tuple(inspect.signature(original).parameters)
    if parameters != EXPECTED_PARAMETERS:
        raise RuntimeError(
            f"weasyprint.pdf.build_fonts_dictionary{parameters} changed from {EXPECTED_PARAMETERS}: "
            "handouts/tounicode.py needs updating"
        )

    @functools.wraps(original)
    def build_fonts_dictionary(pdf: Any, fonts: dict[Any, Any], compress: bool, subset: bool, options: Any) -> Any:
        saved = _swapped(fonts.values())
        try:
            return original(pdf, fonts, compress, subset, options)
        finally:
            for font, to_unicode in saved:
                font.to_unicode = to_unicode

    setattr(build_fonts_dictionary, _MARK, True)
    pdf_module.build_fonts_dictionary = build_fonts_dictionary
