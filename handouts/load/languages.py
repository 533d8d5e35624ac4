"""Language codes: BCP 47 tags checked against the locale data Babel ships."""

from __future__ import annotations

import re
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


def font_stack(lang: str, brand_font: str) -> tuple[str, ...]:
    """Return the families a handout in lang prints with, in order: brand, Noto Sans, script fonts."""
    script = SCRIPT_FONTS.get(lang) or SCRIPT_FONTS.get(lang.split("-")[0], ())
    return tuple(dict.fromkeys((brand_font, BASE_FONT, *script)))


class LanguageCodeError(ValueError):
    """A language code that is not a well-formed, known BCP 47 tag."""


@cache
def check_code(code: str) -> str:
    """Return code if it is a BCP 47 tag Babel knows (en, es, zh-Hans, pt-BR); raise otherwise."""
    if not isinstance(code, str) or not LANGUAGE_TAG.match(code):
        raise LanguageCodeError(
            f"'{code}' is not a BCP 47 language tag (examples: en, es, zh-Hans, pt-BR)"
        )
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError):
        raise LanguageCodeError(f"unknown language '{code}'") from None
    return code


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
