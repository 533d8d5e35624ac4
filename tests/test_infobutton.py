"""The EHR's infobutton (issue 18): HL7 Infobutton URL-based requests to a real `handouts serve`.

Each parameter, the Atom feed parsed with xml.etree and checked for the elements the guide's
knowledge response (an Atom feed, RFC 4287) requires, the JSON parsed, the ICD-10-CM hierarchy
and dotless codes, unknown codes, systems and languages, the review gate, the token exemption
on and off, and no patient data in or out.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import pytest

httpx = pytest.importorskip("httpx")

from tests.serving import Server, copy_workspace, listing  # noqa: E402

pytestmark = pytest.mark.slow

A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ICD = "2.16.840.1.113883.6.90"
SNOMED = "2.16.840.1.113883.6.96"
TOKEN = "correct-horse-battery-staple-42"
SHIPPED_CODES = "  - M54.30\n  - M54.31\n  - M54.32\n  - M54.40\n  - M54.41\n  - M54.42\n"


def reviewed(ws: Path) -> None:
    """Mark the sciatica topic reviewed by a clinician (its translations stay drafts)."""
    topic = ws / "data/topics/sciatica/topic.yaml"
    text = topic.read_text(encoding="utf-8")
    topic.write_text(text.replace("  status: draft\n", "  status: reviewed\n  reviewed_by: Test Clinician, MD\n"
                                  "  reviewed_on: 2026-11-30\n  next_review_due: 2027-11-30\n", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, Path]]:
    """No token, drafts offered; sciatica lists the categories M54.3 and M54.4, kratom the full codes."""
    base = tmp_path_factory.mktemp("infobutton")
    ws = copy_workspace(base / "ws")
    topic = ws / "data/topics/sciatica/topic.yaml"
    text = topic.read_text(encoding="utf-8")
    assert SHIPPED_CODES in text
    topic.write_text(text.replace(SHIPPED_CODES, "  - M54.3\n  - M54.4\n"), encoding="utf-8")
    with Server(ws, base / "server.log", "-j", "1", tmpdir=base / "tmp") as server:
        yield server, ws, base


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Reviewed only, an access token, and the infobutton exempted from it (--open-infobutton)."""
    base = tmp_path_factory.mktemp("infobutton-gated")
    ws = copy_workspace(base / "ws")
    reviewed(ws)
    with Server(ws, base / "server.log", "-j", "1", "--reviewed-only", "--open-infobutton",
                env={"HANDOUTS_SERVE_TOKEN": TOKEN}) as server:
        yield server


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An access token without the exemption."""
    base = tmp_path_factory.mktemp("infobutton-locked")
    ws = copy_workspace(base / "ws")
    with Server(ws, base / "server.log", "-j", "1", env={"HANDOUTS_SERVE_TOKEN": TOKEN}) as server:
        yield server


def ask(server: Server, **params: str) -> httpx.Response:
    """GET /infobutton with params; keyword names use _ for the guide's dots."""
    query = {name.replace("_", "."): value for name, value in params.items()}
    return httpx.get(f"{server.url}/infobutton", params=query, timeout=30)


def feed(response: httpx.Response) -> ET.Element:
    """Parse an Atom answer and check every element RFC 4287 (the guide's response format) requires."""
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == f"{A}feed"
    for name in ("title", "id", "updated"):  # atom:feed MUST contain exactly one of each
        assert len(root.findall(f"{A}{name}")) == 1, name
        assert (root.findtext(f"{A}{name}") or "").strip(), name
    assert (root.findtext(f"{A}author/{A}name") or "").strip()  # no entry has its own author
    assert [link.get("href") for link in root.findall(f"{A}link[@rel='self']")] == [root.findtext(f"{A}id")]
    for entry in root.findall(f"{A}entry"):
        for name in ("title", "id", "updated", "summary"):  # summary: the content is not inline
            assert len(entry.findall(f"{A}{name}")) == 1, name
            assert (entry.findtext(f"{A}{name}") or "").strip(), name
        links = entry.findall(f"{A}link")
        assert [link for link in links if link.get("rel") == "alternate" and link.get("href")]
        for stamp in (entry.findtext(f"{A}updated") or "",):
            assert stamp.endswith("Z") and "T" in stamp
    return root


def entries(root: ET.Element) -> list[tuple[str, str, str]]:
    """Return each entry's topic, kind and language, from its preview link."""
    found = []
    for entry in root.findall(f"{A}entry"):
        href = next(link.get("href", "") for link in entry.findall(f"{A}link") if link.get("rel") == "alternate")
        query = parse_qs(urlsplit(href).query)
        found.append((query["topic"][0], query["kind"][0], query["lang"][0]))
        assert entry.get(XML_LANG) == query["lang"][0]
    return found


def categories(element: ET.Element) -> dict[str, str]:
    return {c.get("scheme", ""): c.get("term", "") for c in element.findall(f"{A}category")}


def as_json(server: Server, **params: str) -> dict[str, Any]:
    response = ask(server, knowledgeResponseType="application/json", **params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    data: dict[str, Any] = json.loads(response.text)
    return data["feed"]  # type: ignore[no-any-return]


SCIATICA_ES = {"mainSearchCriteria_v_c": "M54.31", "mainSearchCriteria_v_cs": ICD,
               "informationRecipient_languageCode_c": "es"}


def test_an_ehr_request_for_m54_31_in_spanish_gets_the_sciatica_handouts_in_atom(
        served: tuple[Server, Path, Path]) -> None:
    response = ask(served[0], **SCIATICA_ES)
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = feed(response)
    # kratom lists M54.31 itself, sciatica the category above it: the most specific match first
    assert entries(root) == [("kratom", "caution", "es"), ("sciatica", "overview", "es"), ("sciatica", "faq", "es")]
    assert categories(root) == {"mainSearchCriteria.v.c": "M54.31", "mainSearchCriteria.v.cs": ICD,
                                "informationRecipient": "PAT", "informationRecipient.languageCode.c": "es"}
    overview = root.findall(f"{A}entry")[1]
    assert overview.findtext(f"{A}title") == "Ciática"
    assert categories(overview) == {"kind": "overview", "review": "draft", "translation": "draft"}
    pdfs = [link for link in overview.findall(f"{A}link") if link.get("rel") == "enclosure"]
    assert [link.get("type") for link in pdfs] == ["application/pdf"] * 3
    assert [parse_qs(urlsplit(link.get("href", "")).query)["length"][0] for link in pdfs] == [
        "brief", "standard", "detailed"]
    assert pdfs[0].get("title") == "brief (1 page)"
    assert pdfs[0].get("href", "").startswith(f"{served[0].url}/pdf?topic=sciatica&kind=overview&lang=es&")


def test_the_json_answer_has_the_same_entries_with_lengths_and_links(served: tuple[Server, Path, Path]) -> None:
    data = as_json(served[0], **SCIATICA_ES)
    assert data["author"]["name"] and data["id"] and data["updated"]
    overview = data["entry"][1]
    assert overview["title"] == "Ciática" and overview["lang"] == "es" and overview["summary"]
    handout = overview["handout"]
    assert (handout["topic"], handout["kind"], handout["language"], handout["translation"]) == (
        "sciatica", "overview", "es", "draft")
    assert handout["language_name"] == "Español" and handout["requested_language_available"] is True
    assert handout["review"] == "draft" and handout["codes"] == ["M54.3", "M54.4"]
    assert [(n["length"], n["pages"]) for n in handout["lengths"]] == [
        ("brief", "1 page"), ("standard", "up to 2 pages"), ("detailed", "up to 4 pages")]
    assert handout["preview"] == f"{served[0].url}/handout?topic=sciatica&kind=overview&lang=es"


def test_a_browser_gets_a_plain_page_and_text_xml_gets_atom(served: tuple[Server, Path, Path]) -> None:
    page = ask(served[0], knowledgeResponseType="text/html", **SCIATICA_ES)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Ciática" in page.text and "/pdf?topic=sciatica&amp;kind=overview&amp;lang=es&amp;length=brief" in page.text
    assert "Draft: check it before you give it to a patient." in page.text
    xml = ask(served[0], knowledgeResponseType="text/xml", **SCIATICA_ES)
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    assert len(entries(feed(xml))) == 3


@pytest.mark.parametrize("code", ["M54.31", "M5431", "m54.31", "M54.319"])
def test_codes_match_with_or_without_the_dot_and_up_the_hierarchy(served: tuple[Server, Path, Path],
                                                                   code: str) -> None:
    found = entries(feed(ask(served[0], mainSearchCriteria_v_c=code, mainSearchCriteria_v_cs=ICD)))
    assert ("sciatica", "overview", "en") in found  # listed as M54.3: found for a code below it


@pytest.mark.parametrize("query", ["M54.31", "M5431"])
def test_the_pages_search_also_finds_a_topic_listing_a_code_above(served: tuple[Server, Path, Path],
                                                                 query: str) -> None:
    page = httpx.get(f"{served[0].url}/", params={"q": query}, timeout=30)
    assert "topic=sciatica&amp;kind=overview" in page.text and "topic=kratom&amp;kind=caution" in page.text


def test_a_category_above_every_listed_code_finds_nothing(served: tuple[Server, Path, Path]) -> None:
    # a topic about M54.3 or M54.31 is narrower than M54 (dorsalgia): not offered for it
    assert entries(feed(ask(served[0], mainSearchCriteria_v_c="M54", mainSearchCriteria_v_cs=ICD))) == []
    found = entries(feed(ask(served[0], mainSearchCriteria_v_c="M54.3", mainSearchCriteria_v_cs=ICD)))
    assert found == [("sciatica", "overview", "en"), ("sciatica", "faq", "en")]


@pytest.mark.parametrize(("params", "subtitle"), [
    ({"mainSearchCriteria_v_c": "Z99.99", "mainSearchCriteria_v_cs": ICD}, "0 handouts for ICD-10-CM Z99.99"),
    ({"mainSearchCriteria_v_c": "M54.31", "mainSearchCriteria_v_cs": "2.16.840.1.113883.6.103"},
     "0 handouts for M54.31: this server answers ICD-10-CM codes (2.16.840.1.113883.6.90)"),
    ({"mainSearchCriteria_v_c": "M54.31", "mainSearchCriteria_v_cs": "1.2.<3>"},
     "0 handouts for M54.31: this server answers ICD-10-CM codes (2.16.840.1.113883.6.90)"),
    # any SNOMED CT concept id: no topic lists SNOMED CT codes yet
    ({"mainSearchCriteria_v_c": "1234567", "mainSearchCriteria_v_cs": SNOMED},
     "0 handouts for SNOMED CT 1234567 (no topic lists SNOMED CT codes yet)"),
    ({"mainSearchCriteria_v_c": "<b>x</b>", "mainSearchCriteria_v_cs": ICD},
     "No usable diagnosis code in the request (mainSearchCriteria.v.c)."),
    ({}, "No usable diagnosis code in the request (mainSearchCriteria.v.c)."),
])
def test_unknown_codes_and_systems_get_a_valid_empty_answer(served: tuple[Server, Path, Path],
                                                            params: dict[str, str], subtitle: str) -> None:
    response = ask(served[0], **params)
    root = feed(response)
    assert root.findall(f"{A}entry") == []
    assert root.findtext(f"{A}subtitle") == subtitle
    for malformed in ("<b>", "&lt;b&gt;", "<3>", "&lt;3&gt;"):  # a malformed code or system is not echoed
        assert malformed not in response.text
    data = as_json(served[0], **params)
    assert data["entry"] == [] and data["subtitle"] == subtitle


def test_without_a_code_system_an_icd10cm_code_is_taken_as_one(served: tuple[Server, Path, Path]) -> None:
    root = feed(ask(served[0], mainSearchCriteria_v_c="M54.31"))
    assert len(entries(root)) == 3 and categories(root)["mainSearchCriteria.v.cs"] == ICD


def test_information_recipient(served: tuple[Server, Path, Path]) -> None:
    patient = feed(ask(served[0], mainSearchCriteria_v_c="M54.31", mainSearchCriteria_v_cs=ICD))
    assert categories(patient)["informationRecipient"] == "PAT"  # the default
    provider = feed(ask(served[0], mainSearchCriteria_v_c="M54.31", mainSearchCriteria_v_cs=ICD,
                        informationRecipient="PROV"))
    assert categories(provider)["informationRecipient"] == "PROV"
    assert entries(provider) == entries(patient)
    assert provider.findtext(f"{A}subtitle") == (
        "3 handouts for ICD-10-CM M54.31 (patient handouts, to give to your patient)")
    other = feed(ask(served[0], mainSearchCriteria_v_c="M54.31", mainSearchCriteria_v_cs=ICD,
                     informationRecipient="PAYOR"))
    assert entries(other) == [] and "informationRecipient" not in categories(other)


@pytest.mark.parametrize(("asked", "served_as", "title"), [
    ("es", "es", "Ciática"), ("ES-mx", "es", "Ciática"), ("zh-Hant", "zh-Hant", None), ("zh-TW", "zh-Hant", None),
    ("zh-CN", "zh-Hans", None), ("ar", "ar", None), ("", "en", "Sciatica"),
])
def test_the_patients_language(served: tuple[Server, Path, Path], asked: str, served_as: str,
                               title: str | None) -> None:
    data = as_json(served[0], mainSearchCriteria_v_c="M54.31", informationRecipient_languageCode_c=asked)
    overview = data["entry"][1]
    assert overview["lang"] == served_as
    assert overview["handout"]["translation"] == ("source" if served_as == "en" else "draft")
    assert overview["handout"]["requested_language_available"] is True
    if title:
        assert overview["title"] == title
    else:
        assert overview["title"] != "Sciatica"


def test_a_language_without_a_translation_gets_the_source_language_marked(served: tuple[Server, Path, Path]) -> None:
    data = as_json(served[0], mainSearchCriteria_v_c="M54.31", informationRecipient_languageCode_c="de")
    assert [e["lang"] for e in data["entry"]] == ["en", "en", "en"]
    handout = data["entry"][1]["handout"]
    assert handout["translation"] == "source-language" and handout["requested_language_available"] is False
    assert handout["requested_language"] == "de"
    root = feed(ask(served[0], mainSearchCriteria_v_c="M54.31", informationRecipient_languageCode_c="de"))
    assert categories(root.findall(f"{A}entry")[1])["translation"] == "source-language"
    page = ask(served[0], mainSearchCriteria_v_c="M54.31", informationRecipient_languageCode_c="de",
               knowledgeResponseType="text/html")
    assert "Not available in the language asked for (de): shown in its original language." in page.text


def test_reviewed_only_never_lists_a_draft(gated: Server) -> None:
    """Gated: kratom is a draft (never listed); sciatica is reviewed, its Spanish a draft translation."""
    root = feed(ask(gated, **SCIATICA_ES))
    assert entries(root) == [("sciatica", "overview", "en"), ("sciatica", "faq", "en")]  # Spanish: a draft
    assert categories(root.findall(f"{A}entry")[0]) == {"kind": "overview", "review": "reviewed",
                                                        "translation": "source-language"}
    data = as_json(gated, mainSearchCriteria_v_c="M54.31")
    assert {e["handout"]["topic"] for e in data["entry"]} == {"sciatica"}
    assert "kratom" not in ask(gated, knowledgeResponseType="text/html", mainSearchCriteria_v_c="M54.31").text


def test_the_open_infobutton_setting_exempts_it_and_its_pdfs_from_the_token(gated: Server) -> None:
    with httpx.Client(base_url=gated.url, timeout=120) as session:  # no sign-in cookie: an EHR's link
        root = feed(session.get("/infobutton", params={"mainSearchCriteria.v.c": "M54.31"}))
        links = [link.get("href", "") for link in root.findall(f"{A}entry/{A}link")]
        brief = next(href for href in links if "kind=overview" in href and "length=brief" in href)
        pdf = session.get(brief)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        pypdf = pytest.importorskip("pypdf")
        reader = pypdf.PdfReader(io.BytesIO(pdf.content))
        assert len(reader.pages) == 1 and "Sciatica" in reader.pages[0].extract_text()
        # the rest still needs the token: the page, the preview, POSTs (patient fields) and images
        preview = next(href for href in links if "/handout?" in href)
        assert session.get(preview).status_code == 401
        assert session.get("/").status_code == 401
        assert session.get("/preview?topic=sciatica&kind=overview&page=1").status_code == 401
        assert session.post("/pdf", data={"topic": "sciatica", "kind": "overview"}).status_code == 401


def test_without_the_setting_the_token_guards_the_infobutton(locked: Server) -> None:
    assert ask(locked, mainSearchCriteria_v_c="M54.31").status_code == 401
    pdf = httpx.get(f"{locked.url}/pdf?topic=sciatica&kind=overview&lang=en&length=brief", timeout=30)
    assert pdf.status_code == 401


def test_no_patient_data_in_or_out(served: tuple[Server, Path, Path]) -> None:
    server, ws, base = served
    before = listing(ws, base / "tmp")
    # the page's patient fields are refused, and not echoed
    for field in ("patient_name", "clinician", "note", "follow_up"):
        refused = httpx.get(f"{server.url}/infobutton", params={"mainSearchCriteria.v.c": "M54.42",
                                                                 field: "Zephyrine Quillfeather"}, timeout=30)
        assert refused.status_code == 400
        assert f"the infobutton takes no patient fields ({field}); fill them in on the handout&#39;s page instead" \
            in refused.text
        assert "Zephyrine" not in refused.text
    # the guide's patient context is ignored: never echoed, never in a link, never logged
    context = {"mainSearchCriteria.v.c": "M54.42", "patientPerson.administrativeGenderCode.c": "F",
               "age.v.v": "83", "age.v.u": "a", "encounter.c.c": "AMB"}
    for kind in ("text/xml", "application/json", "text/html"):
        response = httpx.get(f"{server.url}/infobutton", params={**context, "knowledgeResponseType": kind}, timeout=30)
        assert response.status_code == 200
        for name in ("patientPerson", "administrativeGenderCode", "age.v", "encounter"):
            assert name not in response.text
    log = (base / "server.log").read_text(encoding="utf-8")
    assert "GET /infobutton?... HTTP/1.1" in log
    # M54.42: a code no other test asks, so the check holds whatever else the log has
    for secret in ("M54.42", "age.v.v", "administrativeGenderCode", "Zephyrine"):
        assert secret not in log
    assert listing(ws, base / "tmp") == before  # nothing written
