"""Font coverage: which characters of a language's text the handout's fonts cannot draw."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from handouts.errors import display_path
from handouts.files import OutsideError, contained

#: The @font-face rules; each family's files are loaded only when a handout uses it.
FONTS_CSS = "fonts.css"


@dataclass
class FontFaces:
    """The @font-face rules of one family in fonts.css: their text (for the renderer) and the font
    files their src url()s name (for the checks)."""

    rules: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def font_faces(css_text: str) -> dict[str, FontFaces]:
    """Parse a fonts.css into its @font-face rules by family: the one place fonts.css is read.

    Rules that are not @font-face (an @import, a comment the parser keeps) go under "*", which
    every handout loads.
    """
    import tinycss2

    families: dict[str, FontFaces] = {}
    for rule in tinycss2.parse_stylesheet(css_text, skip_comments=True, skip_whitespace=True):
        family, urls = "*", []
        if rule.type == "at-rule" and rule.lower_at_keyword == "font-face" and rule.content is not None:
            for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
                if decl.type != "declaration":
                    continue
                if decl.lower_name == "font-family":
                    family = "".join(t.value if t.type == "string" else t.serialize() for t in decl.value).strip()
                elif decl.lower_name == "src":
                    for token in decl.value:
                        if token.type == "url":
                            urls.append(token.value)
                        elif token.type == "function" and token.lower_name == "url":
                            urls.extend(a.value for a in token.arguments if a.type == "string")
        faces = families.setdefault(family, FontFaces())
        faces.rules.append(rule.serialize())
        faces.urls.extend(urls)
    return families


def declared_fonts(style_dirs: list[Path]) -> dict[str, list[Path]]:
    """Map each family of the @font-face rules in fonts.css (first on the search path) to its files."""
    folder = next((d for d in style_dirs if os.path.lexists(d / FONTS_CSS)), None)
    if folder is None:
        return {}
    css = contained(folder / FONTS_CSS, folder)
    return {family: [_resolve(folder, url) for url in faces.urls]
            for family, faces in font_faces(css.read_text(encoding="utf-8")).items() if family != "*"}


def _resolve(folder: Path, url: str) -> Path:
    """Return the file a url() names, as written (the renderer and check_font decide if it may be read)."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else Path(os.path.normpath(folder / unquote(url)))


def font_problem(path: Path, folders: list[Path], root: Path | None = None) -> str | None:
    """Return why a font file of fonts.css cannot be used, or None: missing, outside, or not a font."""
    folder = next((d for d in folders if path.is_relative_to(os.path.abspath(d))), None)
    if folder is None:
        return f"{display_path(path, root)}: refused: fonts must be files inside styles/"
    try:
        real = contained(path, folder, root)
    except OutsideError as exc:
        return str(exc)
    try:
        font_chars(real)
    except Exception as exc:  # fontTools raises many kinds of errors for a file that is not a font
        return f"{display_path(path, root)}: not a font file fontTools can read ({type(exc).__name__}: {exc})"
    return None


@cache
def font_chars(path: Path) -> frozenset[int]:
    """Return the code points a font file maps to glyphs."""
    import io

    from fontTools.ttLib import TTFont

    # read the bytes ourselves: fontTools leaves its file open when the file is not a font
    with TTFont(io.BytesIO(path.read_bytes()), lazy=True, fontNumber=0) as font:
        return frozenset(font.getBestCmap() or {})


def missing_chars(texts: Iterable[str], fonts: Iterable[Path]) -> list[str]:
    """Return the characters of texts that none of the font files has, in order of code point."""
    have: set[int] = set()
    for path in fonts:  # fonts that font_problem() passed
        have |= font_chars(path)
    needed = {ch for text in texts for ch in text if _drawn(ch)}
    return sorted((ch for ch in needed if ord(ch) not in have), key=ord)


def _drawn(ch: str) -> bool:
    # Spaces, line breaks and invisible format characters need no glyph of their own.
    return not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Zs", "Zl", "Zp")


def describe(chars: list[str], limit: int = 8) -> str:
    """Return 'ā (U+0101), → (U+2192)' for a list of characters."""
    shown = ", ".join(f"{ch} (U+{ord(ch):04X})" for ch in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")
