"""The EHR's infobutton: HL7 Context-Aware Knowledge Retrieval (Infobutton) URL-based requests.

An electronic health record asks for patient education by diagnosis code with a GET such as
`/infobutton?mainSearchCriteria.v.c=M54.31&mainSearchCriteria.v.cs=2.16.840.1.113883.6.90&
informationRecipient.languageCode.c=es`, as it asks MedlinePlus Connect. The answer lists the
handouts the page offers for that code (the engine's catalog and review gate) with links to their
patient-free PDFs and to the page's preview: an Atom feed by default (the guide's knowledge
response), JSON for `knowledgeResponseType=application/json`, a plain page for `text/html`.

Nothing from a request is kept or logged: the guide's patient context (age, gender...) is ignored
and never echoed, the page's own patient fields are refused, and the server's access log shows
`/infobutton` without its query (handouts.serve.quiet_access_log).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from handouts.errors import UsageError
from handouts.serve.engine import _CODE, Engine, Entry, Language, State, budget_words
from handouts.vocabulary import LENGTHS

ICD10CM = "2.16.840.1.113883.6.90"
SNOMEDCT = "2.16.840.1.113883.6.96"
SYSTEMS = {ICD10CM: "ICD-10-CM", SNOMEDCT: "SNOMED CT"}
RECIPIENTS = ("PAT", "PROV")
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: knowledgeResponseType values and what they get; anything else gets the default, Atom.
TYPES = {"text/xml": "atom", "application/xml": "atom", "application/atom+xml": "atom",
         "application/json": "json", "text/html": "html"}
#: The page's patient fields: an infobutton request never carries them (refused, never echoed).
PATIENT_FIELDS = ("patient_name", "clinician", "note", "follow_up")
#: Regions that name a Chinese script (BCP 47 requests such as zh-TW).
CHINESE_REGIONS = {"tw": "zh-Hant", "hk": "zh-Hant", "mo": "zh-Hant", "cn": "zh-Hans", "sg": "zh-Hans"}

_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")
_OID = re.compile(r"^[0-9]+(\.[0-9]+){0,30}$")
_SNOMED = re.compile(r"^[0-9]{6,18}$")


@dataclass(frozen=True)
class Ask:
    """One infobutton request, its values checked: only these are ever echoed."""

    code: str  # as asked if it has the form of a code of its system, else ""
    system: str  # the code system's OID if it has the form of one, else ""
    recipient: str  # PAT, PROV, or "" for another value (answered with no handouts)
    language: str  # the requested language tag if it has the form of one, else ""
    response: str  # atom, json or html

    def query(self) -> dict[str, str]:
        """Return the request's parameters as echoed in the response (the checked values only)."""
        asked = {"mainSearchCriteria.v.c": self.code, "mainSearchCriteria.v.cs": self.system,
                 "informationRecipient": self.recipient, "informationRecipient.languageCode.c": self.language}
        return {k: v for k, v in asked.items() if v}


def ask(params: Mapping[str, str]) -> Ask:
    """Return the request's Ask; raise UsageError if it carries one of the page's patient fields."""
    carried = [name for name in PATIENT_FIELDS if name in params]
    if carried:
        raise UsageError(f"the infobutton takes no patient fields ({', '.join(carried)}); "
                         "fill them in on the handout's page instead")
    system = params.get("mainSearchCriteria.v.cs", "").strip()[:64]
    code = params.get("mainSearchCriteria.v.c", "").strip()[:20]
    if not system and _code_form(code, ICD10CM):  # no system named: an ICD-10-CM-shaped code is taken as one
        system = ICD10CM
    recipient = params.get("informationRecipient", "PAT").strip().upper() or "PAT"
    language = params.get("informationRecipient.languageCode.c", "").strip()[:35]
    kind = params.get("knowledgeResponseType", "").strip().lower()
    return Ask(code if _code_form(code, system) else "", system if _OID.match(system) else "",
               recipient if recipient in RECIPIENTS else "", language if _TAG.match(language) else "",
               TYPES.get(kind, "atom"))


def _code_form(code: str, system: str) -> bool:
    if system == ICD10CM:
        return bool(_CODE.match(code))
    if system == SNOMEDCT:
        return bool(_SNOMED.match(code))
    return bool(re.fullmatch(r"[A-Za-z0-9.\-]{1,20}", code))


@dataclass(frozen=True)
class Found:
    """One handout in the answer: the entry, the language it is given in, and its links."""

    entry: Entry
    language: Language
    fallback: bool  # the requested language is not offered: this is the source language, marked
    title: str
    summary: str
    preview: str
    pdfs: tuple[tuple[str, str], ...]  # (length, URL)


def find(engine: Engine, state: State, asked: Ask, base: str, brand: Mapping[str, str] | None = None) -> list[Found]:
    """Return the handouts for a request: by ICD-10-CM code up its hierarchy, in the best language.

    brand is the links' brand parameter (Engine.brand_query: none when the page offers only
    handouts.yaml's clinic), so each link opens or downloads the brand asked for.

    No topic lists SNOMED CT codes yet, so a SNOMED CT request (like any other system's) finds
    none; an unknown code, system or recipient is an answer with no handouts, not an error.
    """
    if not asked.code or asked.system != ICD10CM or not asked.recipient:
        return []
    found = []
    for entry in engine.for_code(state, asked.code):
        offered = engine.languages(state, entry)
        language = _best(offered, asked.language) if asked.language else None
        fallback = bool(asked.language) and language is None
        if language is None:
            language = next((lang for lang in offered if lang.status == "source"), offered[0])
        choice = {"topic": entry.topic, "kind": entry.kind, "lang": language.code}
        pdfs = tuple((length, f"{base}/pdf?" + urlencode({**choice, "length": length, "paper": state.paper,
                                                          "large": "0", **(brand or {})})) for length in LENGTHS)
        choice.update(brand or {})
        found.append(Found(entry, language, fallback, entry.titles.get(language.code, entry.title),
                           entry.summaries.get(language.code, ""), f"{base}/handout?" + urlencode(choice), pdfs))
    return found


def _best(offered: tuple[Language, ...], tag: str) -> Language | None:
    """Return the offered language a BCP 47 tag asks for: exact (any case), by script region, or by language."""
    by_code = {lang.code.lower(): lang for lang in offered}
    wanted = tag.lower()
    if wanted in by_code:
        return by_code[wanted]
    parts = wanted.split("-")
    if parts[0] == "zh" and len(parts) > 1 and parts[-1] in CHINESE_REGIONS:
        return by_code.get(CHINESE_REGIONS[parts[-1]].lower())
    if parts[0] != "zh" and len(parts) > 1:  # es-MX is Spanish; zh alone names no script
        return by_code.get(parts[0])
    return None


def _status(found: Found) -> str:
    if found.fallback:
        return "source-language"
    return found.language.status


def _updated(found: list[Found]) -> str:
    if found:
        return max(f.entry.updated for f in found) + "T00:00:00Z"
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _subtitle(asked: Ask, found: list[Found]) -> str:
    if not asked.code:
        return "No usable diagnosis code in the request (mainSearchCriteria.v.c)."
    if not asked.recipient:
        return "Handouts for patients and their clinicians only (informationRecipient PAT or PROV)."
    if asked.system == SNOMEDCT:
        return f"0 handouts for SNOMED CT {asked.code} (no topic lists SNOMED CT codes yet)"
    if asked.system != ICD10CM:
        return f"0 handouts for {asked.code}: this server answers ICD-10-CM codes ({ICD10CM})"
    whom = " (patient handouts, to give to your patient)" if asked.recipient == "PROV" else ""
    return f"{len(found)} handout{'' if len(found) == 1 else 's'} for ICD-10-CM {asked.code}{whom}"


def as_dict(asked: Ask, found: list[Found], clinic: str, base: str,
            brand: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the answer as data: the Atom feed's elements, for JSON and the page (clinic: the brand's)."""
    entries = []
    for f in found:
        lang = f.language
        entries.append({
            "title": f.title, "id": f.preview, "updated": f.entry.updated + "T00:00:00Z", "lang": lang.code,
            "summary": f.summary,
            "link": [{"href": f.preview, "rel": "alternate", "type": "text/html", "hreflang": lang.code,
                      "title": "Preview and options"}]
                    + [{"href": url, "rel": "enclosure", "type": "application/pdf", "hreflang": lang.code,
                        "title": f"{length} ({budget_words(length)})", "length_name": length}
                       for length, url in f.pdfs],
            "category": [{"scheme": "kind", "term": f.entry.kind}, {"scheme": "review", "term": f.entry.review},
                         {"scheme": "translation", "term": _status(f)}],
            "handout": {"topic": f.entry.topic, "kind": f.entry.kind, "language": lang.code,
                        "language_name": lang.name, "direction": lang.direction, "translation": _status(f),
                        "requested_language": asked.language or None,
                        "requested_language_available": not f.fallback, "review": f.entry.review,
                        "codes": list(f.entry.codes),
                        "lengths": [{"length": length, "pages": budget_words(length), "pdf": url}
                                    for length, url in f.pdfs],
                        "preview": f.preview},
        })
    query = asked.query()
    own = f"{base}/infobutton?{urlencode({**query, **(brand or {})})}"
    return {"feed": {
        "title": f"Patient handouts from {clinic}",
        "subtitle": _subtitle(asked, found),
        "author": {"name": clinic},
        "id": own,
        "link": [{"href": own, "rel": "self"}],
        "updated": _updated(found),
        "lang": "en",  # the feed's own words; each entry has its language
        "category": [{"scheme": k, "term": v} for k, v in query.items()],
        "entry": entries,
    }}


def atom(data: dict[str, Any]) -> bytes:
    """Return the answer as an Atom feed (RFC 4287, as the Infobutton guide's knowledge response)."""
    ET.register_namespace("", ATOM)
    feed_data = data["feed"]

    def sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{name}", {k: v for k, v in attrs.items() if v})
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: feed_data["lang"]})
    sub(feed, "title", feed_data["title"], type="text")
    sub(feed, "subtitle", feed_data["subtitle"], type="text")
    sub(sub(feed, "author"), "name", feed_data["author"]["name"])
    sub(feed, "id", feed_data["id"])
    sub(feed, "link", href=feed_data["link"][0]["href"], rel="self")
    sub(feed, "updated", feed_data["updated"])
    for category in feed_data["category"]:
        sub(feed, "category", scheme=category["scheme"], term=category["term"])
    for item in feed_data["entry"]:
        entry = sub(feed, "entry")
        entry.set(XML_LANG, item["lang"])
        sub(entry, "title", item["title"], type="text")
        for link in item["link"]:
            sub(entry, "link", href=link["href"], rel=link["rel"], type=link["type"], hreflang=link["hreflang"],
                title=link["title"])
        sub(entry, "id", item["id"])
        sub(entry, "updated", item["updated"])
        sub(entry, "summary", item["summary"], type="text")
        for category in item["category"]:
            sub(entry, "category", scheme=category["scheme"], term=category["term"])
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
