"""Language codes: BCP 47 tags checked against the locale data Babel ships."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

#: The shape of a language tag: language, optional script, optional region (zh-Hant, pt-BR).
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?$")


#: The base family every language falls back to: it covers Latin, Greek and Cyrillic.
BASE_FONT = "Noto Sans"

#: Families for scripts Noto Sans lacks, by language tag (or its language part).
SCRIPT_FONTS: dict[str, tuple[str, ...]] = {
    "ar": ("Noto Sans Arabic",),
    "zh-Hans": ("Noto Sans CJK SC",),
    "zh-Hant": ("Noto Sans CJK TC",),
    "zh": ("Noto Sans CJK SC",),
    "ko": ("Noto Sans CJK KR",),
}


#: Languages whose script font comes first, so it draws the punctuation and digits of their
#: sentences too: a line of Arabic stays in one font, and PDF readers, which split a line where the
#: font changes, get its words in order (issue 15). Latin words still fall through to Noto Sans.
SCRIPT_FONT_FIRST = frozenset({"ar"})


def font_stack(lang: str, brand_font: str) -> tuple[str, ...]:
    """Return the families a handout in lang prints with, in order: brand, Noto Sans, script fonts
    (for the languages of SCRIPT_FONT_FIRST: script fonts, brand, Noto Sans)."""
    script = SCRIPT_FONTS.get(lang) or SCRIPT_FONTS.get(lang.split("-")[0], ())
    if lang.split("-")[0] in SCRIPT_FONT_FIRST:
        return tuple(dict.fromkeys((*script, brand_font, BASE_FONT)))
    return tuple(dict.fromkeys((brand_font, BASE_FONT, *script)))


class LanguageCodeError(ValueError):
    """A language code that is not a well-formed, known BCP 47 tag."""


@cache
def check_code(code: str) -> str:
    """Return code if it is a BCP 47 tag Babel knows (en, es, zh-Hans, pt-BR); raise otherwise."""
    if not isinstance(code, str) or not LANGUAGE_TAG.match(code):
        mended = _mended(code) if isinstance(code, str) else None
        hint = f"; did you mean {mended}?" if mended else " (examples: en, es, zh-Hans, pt-BR)"
        raise LanguageCodeError(f"'{code}' is not a BCP 47 language tag{hint}")
    if not _known(code):
        meant = suggest_code(code)
        country = code.split("-")[0].upper()
        why = f" ({country} is the country code of {_country(country)})" if _spoken_in(country) else ""
        raise LanguageCodeError(f"unknown language '{code}'{why}" + (f"; did you mean {meant}?" if meant else ""))
    return code


def suggest_code(word: str, available: Sequence[str] | None = None) -> str | None:
    """Return the language code someone who typed word most likely meant, or None.

    In order: the same tag in BCP 47's case (EN -> en, zh_hans -> zh-Hans); the language whose
    English or own name it begins (sp -> es, ch -> zh-Hans); the language of a country whose code
    it is (jp -> ja, kr -> ko); else, among available codes, the closest spelling.
    """
    fits = (lambda c: c in available) if available is not None else _known
    mended = _mended(word)
    if mended is not None and fits(mended):
        return mended
    named = _named(word.lower(), available)
    if named is not None:
        return named
    spoken = [c for c in _spoken_in(word.split("-")[0].upper()) if fits(c)]
    if spoken:
        return spoken[0]
    if available is None or len(word) <= 3:  # two or three letters are close to too many codes
        return None
    from handouts.names import suggest

    return suggest(word, available)


def _known(code: str) -> bool:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError):
        return False
    return True


def _mended(code: str) -> str | None:
    """Return code written as a BCP 47 tag (zh_hans -> zh-Hans, EN -> en) when that is a known one, else None."""
    parts = code.strip().replace("_", "-").split("-")
    mended = "-".join([parts[0].lower(), *(p.title() if len(p) == 4 else p.upper() for p in parts[1:])])
    return mended if LANGUAGE_TAG.match(mended) and _known(mended) else None


def _spoken_in(country: str) -> tuple[str, ...]:
    """Return the official languages of a country, by its code (JP -> ja), or ()."""
    from babel.languages import get_official_languages

    return tuple(get_official_languages(country)) if country.isalpha() else ()


def _country(country: str) -> str:
    from babel import Locale

    return str(Locale("en").territories.get(country, country))


def _named(word: str, available: Sequence[str] | None) -> str | None:
    """Return the one language whose English or own name begins with word (at least two letters), or None."""
    from babel import Locale, UnknownLocaleError, localedata

    if len(word) < 2:
        return None
    codes: list[str] = (list(available) if available is not None
                        else [str(c) for c in Locale("en").languages if localedata.exists(str(c))])
    found = []
    for code in codes:
        try:
            locale = Locale.parse(code, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
        # a language's own name from three letters on: kr is Korea's code before it begins Kreyòl
        names = (locale.get_display_name("en") or "", locale.get_display_name() or "" if len(word) >= 3 else "")
        if any(name.lower().startswith(word) for name in names):
            found.append(code)
    languages = {c.split("-")[0] for c in found}
    return found[0] if len(languages) == 1 else None


@cache
def text_direction(code: str) -> str:
    """Return 'rtl' or 'ltr' for a language, from Babel's locale data."""
    from babel import Locale

    return "rtl" if Locale.parse(code, sep="-").character_order == "right-to-left" else "ltr"


@cache
def native_name(code: str) -> str:
    """Return the language's own name for itself, e.g. 'español'."""
    from babel import Locale

    return Locale.parse(code, sep="-").get_display_name() or code
