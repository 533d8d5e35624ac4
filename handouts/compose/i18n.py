"""Fixed template strings (gettext catalogs managed with Babel) and locale-aware dates."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "handouts"


class CatalogTranslations(gettext.NullTranslations):
    """gettext translations read straight from a .po file, so no compiled .mo is kept in git."""

    def __init__(
        self, messages: dict[str, str], plurals: dict[tuple[str, int], str], plural_expr: Callable[[int], int]
    ) -> None:
        super().__init__()
        self._messages = messages
        self._plurals = plurals
        self._plural_expr = plural_expr

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def strings(self) -> list[str]:
        """Return every translated string (the glyph check needs the characters they use)."""
        return [*self._messages.values(), *self._plurals.values()]

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        index = self._plural_expr(n)
        return self._plurals.get((singular, index)) or (singular if n == 1 else plural)


def po_path(lang: str) -> Path:
    """Return the catalog file for a language (BCP 47 tag, stored with an underscore)."""
    return LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """Return the translations of the template strings for lang (English when there are none)."""
    path = po_path(lang)
    if not path.is_file():
        return gettext.NullTranslations()
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang.replace("-", "_"))
    messages: dict[str, str] = {}
    plurals: dict[tuple[str, int], str] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, (tuple, list)):
            for index, text in enumerate(message.string or ()):
                if text:
                    plurals[(str(message.id[0]), index)] = str(text)
        elif isinstance(message.string, str) and message.string:
            messages[message.id] = message.string
    return CatalogTranslations(messages, plurals, gettext.c2py(catalog.plural_expr))


def has_catalog(lang: str) -> bool:
    """Return whether the template strings are translated into lang."""
    return lang.split("-")[0] == "en" or po_path(lang).is_file()


#: Month names where Babel's locale data (CLDR) has none of the language's own:
#: CLDR's Haitian Creole borrows the French names.
MONTHS: dict[str, tuple[str, ...]] = {
    "ht": ("janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm", "oktòb", "novanm", "desanm"),
}


#: Languages whose short ("medium") dates abbreviate the month in a way patients read oddly
#: (Vietnamese "thg 11"): they always get the spelled-out date.
_SPELLED_OUT = frozenset({"vi"})


def format_date(value: date, lang: str, style: str = "long") -> str:
    """Format a date the way readers of lang expect, e.g. '25 de noviembre de 2026'."""
    base = lang.split("-")[0]
    months = MONTHS.get(base)
    if months:
        return f"{value.day} {months[value.month - 1]} {value.year}"
    from babel.dates import format_date as babel_format

    if base in _SPELLED_OUT:
        style = "long"
    text = str(babel_format(value, format=style, locale=lang.replace("-", "_")))
    # Templates end their sentences themselves: CLDR's Korean "2026. 11. 25." would print "25.."
    return text[:-1] if text.endswith(".") and text[-2:-1].isdigit() else text


def format_month(value: date, lang: str) -> str:
    """Format a month and year, e.g. 'November 2026' or 'noviembre de 2026'."""
    months = MONTHS.get(lang.split("-")[0])
    if months:
        return f"{months[value.month - 1]} {value.year}"
    from babel.dates import format_skeleton

    return format_skeleton("yMMMM", value, locale=lang.replace("-", "_"))
