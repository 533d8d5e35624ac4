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

WeasyPrint also gives the second glyph of a cluster of several glyphs the empty string, and keeps
the first text a glyph gets for the whole document: the bold lam-alef of "أولًا" (mark, then
ligature, in one cluster) made every later bold "لا" read as nothing. A glyph whose entry is empty
gets its characters from the font itself (glyph_texts): the cmap for a glyph in it, and for the
others the GSUB substitutions that make them, a ligature's text being its components' texts (the
lam-alef is the initial lam and the final alef: "لا"). Entries that are not empty are never
changed, and a font without an empty entry is not read at all.

This wraps one WeasyPrint function, build_fonts_dictionary, which writes the CMaps from each
font's glyph-to-text map. install() checks that the function is still there with the signature we
know, and raises if WeasyPrint's internals changed. See Kozea/WeasyPrint#2841.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator
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


#: Unicode blocks of presentation forms (Alphabetic, Arabic A and B): a glyph reached from one of
#: these code points stands for the letters of the form's compatibility decomposition.
PRESENTATION_FORMS = (range(0xFB00, 0xFE00), range(0xFE70, 0xFF00))
#: GSUB lookup types whose rules say which glyphs a glyph is made from: single, alternate, ligature.
_SINGLE, _ALTERNATE, _LIGATURE, _EXTENSION = 1, 3, 4, 7
#: glyph_texts of the fonts read in this process, by a digest of the font file; few fonts per workspace.
_TEXTS: dict[tuple[bytes, int], dict[int, str]] = {}
_TEXTS_KEPT = 32


def _rules(gsub: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    """(input glyphs, output glyph) of every single, alternate and ligature substitution, in lookup order."""
    for lookup in gsub.table.LookupList.Lookup if gsub.table.LookupList else ():
        for subtable in lookup.SubTable:
            kind = lookup.LookupType
            if kind == _EXTENSION:
                kind, subtable = subtable.ExtensionLookupType, subtable.ExtSubTable
            if kind == _SINGLE:
                for source, target in subtable.mapping.items():
                    yield (source,), target
            elif kind == _ALTERNATE:
                for source, targets in subtable.alternates.items():
                    for target in targets:
                        yield (source,), target
            elif kind == _LIGATURE:
                for first, ligatures in subtable.ligatures.items():
                    for ligature in ligatures:
                        yield (first, *ligature.Component), ligature.LigGlyph


def _read_glyph_texts(data: bytes, index: int) -> dict[int, str]:
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), fontNumber=index, lazy=True)
    cmap = font.getBestCmap() or {}
    rules = list(_rules(font["GSUB"])) if "GSUB" in font else []
    texts: dict[str, str] = {}
    # The letters first, then what substitutions make of them; presentation forms only for glyphs
    # still without text (their decomposition may hold a space: U+FC60 is " َّ"). Lowest code point
    # first, so the result does not depend on the order of the cmap.
    for forms in (False, True):
        for code in sorted(cmap):
            if any(code in block for block in PRESENTATION_FORMS) == forms:
                texts.setdefault(cmap[code], unicodedata.normalize("NFKC", chr(code)).strip() if forms else chr(code))
        # Breadth first: a glyph takes its text from the shortest chain of substitutions that makes it.
        while True:
            found: dict[str, str] = {}
            for sources, target in rules:
                if target not in texts and target not in found and all(source in texts for source in sources):
                    found[target] = "".join(texts[source] for source in sources)
            if not found:
                break
            texts.update(found)
    ids = font.getReverseGlyphMap()
    return {ids[name]: text for name, text in texts.items() if text and name in ids}


def glyph_texts(data: bytes, index: int) -> dict[int, str]:
    """The characters each glyph of a font stands for, from its cmap and GSUB; read once per font file."""
    key = (hashlib.sha256(data).digest(), index)
    texts = _TEXTS.get(key)
    if texts is None:
        if len(_TEXTS) >= _TEXTS_KEPT:
            _TEXTS.pop(next(iter(_TEXTS)))
        texts = _TEXTS[key] = _read_glyph_texts(data, index)
    return texts


def filled(to_unicode: dict[int, str], texts: dict[int, str]) -> dict[int, str]:
    """to_unicode with each empty entry given its text from texts; the same dict if there is nothing to fill."""
    if not any(text == "" and texts.get(glyph) for glyph, text in to_unicode.items()):
        return to_unicode
    return {glyph: text or texts.get(glyph, text) for glyph, text in to_unicode.items()}


def _swapped(fonts: Iterable[Any]) -> list[tuple[Any, dict[int, str]]]:
    """Give each font a to_unicode map with its empty entries filled and reversed right-to-left
    ligatures; return the originals."""
    saved = []
    for font in fonts:
        original = font.to_unicode
        if not isinstance(original, dict):
            raise RuntimeError("WeasyPrint's Font.to_unicode is no longer a dict: handouts/tounicode.py needs updating")
        to_unicode = original
        if "" in original.values():
            # The whole font file still, before build_fonts_dictionary subsets it (and drops GSUB).
            data, index = getattr(font, "file_content", None), getattr(font, "index", None)
            if not isinstance(data, bytes) or not isinstance(index, int):
                raise RuntimeError(
                    "WeasyPrint's Font has no file_content bytes and index: handouts/tounicode.py needs updating"
                )
            to_unicode = filled(original, glyph_texts(data, index))
        if to_unicode is not original or any(len(text) > 1 and reads_right_to_left(text) for text in original.values()):
            saved.append((font, original))
            font.to_unicode = {glyph: visual_text(text) for glyph, text in to_unicode.items()}
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
