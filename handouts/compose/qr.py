"""QR codes for a handout's web page, made locally (segno), never fetched."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handouts.errors import HandoutsError


@dataclass(frozen=True)
class Link:
    """A web address to print: as a QR code and in a short written form."""

    url: str
    short: str
    qr_data_uri: str


def link_for(url: str | None) -> Link | None:
    """Return the QR code and short form of url, or None when there is no URL."""
    if not url:
        return None
    import segno

    try:
        code = segno.make(url, error="m")
    except segno.DataOverflowError:
        raise HandoutsError(
            f"the web address for the QR code is too long to encode ({len(url)} characters): {url[:60]}..."
        ) from None
    short = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    return Link(url, short, code.svg_data_uri(scale=4, border=0, dark="#000", light="#fff"))


def handout_url(topic_links: dict[str, str], pattern: str | None, topic: str, kind: str, lang: str) -> str | None:
    """Return the page for one handout: the topic's own link for the language, else the clinic's pattern."""
    found = topic_links.get(lang) or topic_links.get(lang.split("-")[0])
    if found:
        return found
    if pattern:
        return pattern.replace("{topic}", topic).replace("{kind}", kind).replace("{lang}", lang)
    return None
