"""Names that become ids or paths (topic folders, kinds, section ids, brands): the rule, and a
suggestion when a name is misspelt. Imports nothing heavy."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: Lower-case letters and digits in words joined by single hyphens: safe as a file name, an
#: HTML id and a URL part on every system.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_PATTERN = SLUG.pattern

#: What each kind of name is called in a message, and an example when the name gives none.
NAMED = {
    "topic": ("topic folder names", "heel-pain"),
    "kind": ("kinds of handout", "overview"),
    "id": ("ids", "what-helps"),
    "brand": ("brand names", "riverbend"),
}


def slugify(text: str) -> str:
    """Return text as the nearest slug (Heel Pain -> heel-pain), or '' when nothing of it fits."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def slug_rule(what: str, value: object = None) -> str:
    """Return the rule for one kind of name, with the value given made into an example when it can be.

    >>> slug_rule("topic", "Heel-Pain")
    'topic folder names use lower-case letters, digits and hyphens, like heel-pain'
    """
    called, example = NAMED[what]
    mended = slugify(value) if isinstance(value, str) else ""
    return f"{called} use lower-case letters, digits and hyphens, like {mended or example}"


def is_slug(value: str) -> bool:
    """Return whether value follows the rule of names."""
    return bool(SLUG.fullmatch(value))


def suggest(word: str, known: Iterable[str]) -> str | None:
    """Return the known name closest to word (a misspelling, or another case), or None."""
    known = list(dict.fromkeys(known))
    folded = {k.lower(): k for k in known}
    if word.lower() in folded:
        return folded[word.lower()]
    # short names (en, es, a4) differ by one letter in half their length; allow it
    cutoff = 0.5 if len(word) <= 3 else 0.6
    close = difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """Return '; did you mean X?' for the known name closest to word, or ''."""
    found = suggest(word, known)
    return f"; did you mean {found}?" if found is not None and found != word else ""
