"""Brands at the page's doors (issue 19): `handouts serve --brand` over real HTTP, with real PDFs.

A server offering two brands (tests/test_brands.py's North Valley and South Side): the labelled
choice, every preview, PDF, packet and personal handout made for the brand asked (its clinic's
name in the PDF's text, the other's not), a built handout reused only for its own brand, an edit
to a brand file noticed, a brand not offered refused (400, one line, no path), the infobutton's
links carrying the brand, and the review gate for a brand that is not handouts.yaml's.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import pytest

httpx = pytest.importorskip("httpx")

from handouts.commands import build  # noqa: E402
from handouts.load.config import load_config  # noqa: E402
from tests.serving import Server, copy_workspace  # noqa: E402
from tests.test_brands import BRANDS, SOUTH  # noqa: E402

pytestmark = pytest.mark.slow

EN = {"topic": "sciatica", "kind": "overview", "length": "standard", "lang": "en", "paper": "letter", "large": "0"}
BRIEF = {**EN, "length": "brief"}
NORTH, SOUTH_NAME = "North Valley Clinic", "South Side Health"
ATOM = "{http://www.w3.org/2005/Atom}"
TOKEN = "correct-horse-battery-staple-42"


def branded(base: Path) -> Path:
    """The shipped workspace with the two brand files of tests/test_brands.py."""
    ws = copy_workspace(base / "ws")
    for rel, text in BRANDS.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text, encoding="utf-8")
    return ws


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, str]]:
    """Two brands offered, north first; the English sciatica overview built for north only."""
    base = tmp_path_factory.mktemp("brands")
    ws = branded(base)
    with (ws / "handouts.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\nprinters:\n  - queue: PDF\n    name: Front desk\n")  # so /print reaches the brand
    report = build(ws, topics=["sciatica"], kinds=["overview"], lengths=["standard"], langs=["en"], papers=["letter"],
                   brand=["north", "default"])
    assert len(report.built) == 2
    own = load_config(ws / "handouts.yaml", ws).clinic.name  # handouts.yaml's clinic: built, but not offered
    with Server(ws, base / "server.log", "-j", "1", "--brand", "north", "--brand", "south-side",
                tmpdir=base / "tmp") as server:
        yield server, ws, own


def text_of(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def clinic_of(pdf: bytes, own: str) -> str:
    """Return the one clinic whose name the PDF's text holds (failing if it holds none or several)."""
    text = text_of(pdf)
    named = [name for name in (NORTH, SOUTH_NAME, own) if name in text]
    assert len(named) == 1, (named, text[:200])
    return named[0]


def health(server: Server) -> dict[str, int]:
    return dict(httpx.get(f"{server.url}/health", timeout=10).json())


def csrf(session: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', session.get(path).text)
    assert found
    return found.group(1)


def test_the_page_offers_both_brands_in_a_labelled_select(served: tuple[Server, Path, str]) -> None:
    server = served[0]
    page = httpx.get(f"{server.url}/", timeout=30).text
    assert '<label for="brand">Clinic</label>' in page
    assert re.search(r'<select id="brand" name="brand">\s*<option value="north" selected>North Valley Clinic</option>'
                     r'<option value="south-side">South Side Health</option>', page), page
    assert "topic=sciatica&amp;kind=overview&amp;brand=north" in page  # the first brand is the default
    south = httpx.get(f"{server.url}/", params={"q": "M54.31", "brand": "south-side"}, timeout=30).text
    assert '<option value="south-side" selected>' in south
    assert "topic=sciatica&amp;kind=overview&amp;brand=south-side" in south
    handout = httpx.get(f"{server.url}/handout", params={**BRIEF, "brand": "south-side"}, timeout=60).text
    assert '<option value="south-side" selected>' in handout
    assert '<input type="hidden" name="brand" value="south-side">' in handout  # the patient and print form
    assert "/pdf?topic=sciatica&amp;kind=overview&amp;length=brief&amp;lang=en&amp;paper=letter&amp;large=0" \
           "&amp;brand=south-side" in handout
    assert "/packet?item=sciatica%3Aoverview&amp;brand=south-side" in handout
    packet = httpx.get(f"{server.url}/packet", params={"brand": "south-side"}, timeout=30).text
    assert '<option value="south-side" selected>' in packet


def test_a_built_handout_is_reused_for_its_own_brand_only(served: tuple[Server, Path, str]) -> None:
    server, ws, own = served
    before = health(server)
    north = httpx.get(f"{server.url}/handout", params={**EN, "brand": "north"}, timeout=60)
    assert north.status_code == 200 and "built copy" in north.text
    pdf = httpx.get(f"{server.url}/pdf", params={**EN, "brand": "north", "download": "1"}, timeout=60)
    assert pdf.content == (ws / "output/north/en/sciatica/overview-standard-letter.pdf").read_bytes()
    assert pdf.headers["content-disposition"] == 'attachment; filename="sciatica-overview-standard-en-letter-north.pdf"'
    assert clinic_of(pdf.content, own) == NORTH
    assert health(server)["renders"] == before["renders"]

    # the same handout for south: neither north's PDF (in memory now) nor handouts.yaml's (built) is served
    south = httpx.get(f"{server.url}/handout", params={**EN, "brand": "south-side"}, timeout=60)
    assert south.status_code == 200 and "built copy" not in south.text
    pdf = httpx.get(f"{server.url}/pdf", params={**EN, "brand": "south-side"}, timeout=60)
    assert clinic_of(pdf.content, own) == SOUTH_NAME
    assert health(server)["renders"] == before["renders"] + 1
    # and back: north is still its own
    assert clinic_of(httpx.get(f"{server.url}/pdf", params={**EN, "brand": "north"}, timeout=60).content,
                     own) == NORTH
    # without a brand: the server's first
    assert clinic_of(httpx.get(f"{server.url}/pdf", params=BRIEF, timeout=60).content, own) == NORTH
    images = [httpx.get(f"{server.url}/preview", params={**BRIEF, "brand": b, "page": "1"}, timeout=60).content
              for b in ("north", "south-side")]
    assert all(image.startswith(b"\x89PNG") for image in images) and images[0] != images[1]


def test_personal_handouts_packets_and_prints_are_made_for_the_brand_asked(
        served: tuple[Server, Path, str]) -> None:
    server, _ws, own = served
    with httpx.Client(base_url=server.url, timeout=120, headers={"origin": server.url}) as session:
        token = csrf(session, "/packet?brand=south-side")
        personal = session.post("/pdf", data={**BRIEF, "brand": "south-side", "csrf": token,
                                              "patient_name": "Ana Ruiz", "action": "download"})
        assert personal.status_code == 200, personal.text
        assert clinic_of(personal.content, own) == SOUTH_NAME and "Ana Ruiz" in text_of(personal.content)
        for brand, name in (("south-side", SOUTH_NAME), ("north", NORTH)):
            packet = session.post("/packet", data={"csrf": token, "item": ["sciatica:overview", "kratom:caution"],
                                                   "lang": "en", "length": "brief", "brand": brand})
            assert packet.status_code == 200, packet.text
            text = text_of(packet.content)
            assert text.count(name) >= 2 and NORTH + SOUTH_NAME not in text
            assert (NORTH if name == SOUTH_NAME else SOUTH_NAME) not in text and own not in text


@pytest.mark.parametrize("brand", ["default", "west", "../../handouts.yaml", "North"])
def test_a_brand_not_offered_is_a_400_with_one_clear_line(served: tuple[Server, Path, str], brand: str) -> None:
    server, ws, _own = served
    for path in ("/", "/handout", "/preview", "/pdf", "/packet", "/infobutton"):
        response = httpx.get(f"{server.url}{path}", params={**EN, "brand": brand}, timeout=30)
        assert response.status_code == 400, (path, brand)
        assert f"the brand &#39;{brand}&#39; is not offered here (offered: north, south-side)" in response.text
        assert str(ws) not in response.text and "brands/" not in response.text
    with httpx.Client(base_url=server.url, timeout=60, headers={"origin": server.url}) as session:
        token = csrf(session, "/packet")
        for path, data in (("/pdf", {**EN, "patient_name": "Ana Ruiz"}), ("/packet", {"item": "sciatica:overview"}),
                           ("/print", {**EN, "printer": "PDF"})):
            response = session.post(path, data={**data, "csrf": token, "brand": brand})
            assert response.status_code == 400, (path, brand)
            assert f"the brand &#39;{brand}&#39; is not offered here" in response.text, path
            assert "Ana Ruiz" not in response.text


def test_a_misspelt_brand_gets_a_suggestion(served: tuple[Server, Path, str]) -> None:
    response = httpx.get(f"{served[0].url}/handout", params={**EN, "brand": "south"}, timeout=30)
    assert response.status_code == 400
    assert ("the brand &#39;south&#39; is not offered here (offered: north, south-side); did you mean south-side?"
            in response.text)


def test_the_infobutton_takes_a_brand_and_its_links_carry_it(served: tuple[Server, Path, str]) -> None:
    server, _ws, own = served
    code = {"mainSearchCriteria.v.c": "M54.31", "knowledgeResponseType": "application/json"}
    for brand, name in ((None, NORTH), ("south-side", SOUTH_NAME), ("north", NORTH)):
        params = {**code, **({"brand": brand} if brand else {})}
        feed = json.loads(httpx.get(f"{server.url}/infobutton", params=params, timeout=30).text)["feed"]
        assert feed["title"] == f"Patient handouts from {name}" and feed["author"] == {"name": name}
        shown = brand or "north"
        assert parse_qs(urlsplit(feed["id"]).query)["brand"] == [shown]
        links = [link["href"] for entry in feed["entry"] for link in entry["link"]]
        assert links and all(parse_qs(urlsplit(href).query)["brand"] == [shown] for href in links)
        brief = next(link["href"] for link in feed["entry"][0]["link"] if link.get("length_name") == "brief")
        assert clinic_of(httpx.get(brief, timeout=60).content, own) == name
    atom = ET.fromstring(httpx.get(f"{server.url}/infobutton", params={"mainSearchCriteria.v.c": "M54.31",
                                                                        "brand": "south-side"}, timeout=30).content)
    hrefs = [link.get("href", "") for link in atom.iter(f"{ATOM}link")]
    assert hrefs and all("brand=south-side" in href for href in hrefs)
    assert atom.findtext(f"{ATOM}author/{ATOM}name") == SOUTH_NAME
    page = httpx.get(f"{server.url}/infobutton", params={"mainSearchCriteria.v.c": "M54.31", "brand": "south-side",
                                                         "knowledgeResponseType": "text/html"}, timeout=30).text
    hrefs = re.findall(r'<a class="title" href="([^"]+)"', page)
    assert hrefs and all("brand=south-side" in href for href in hrefs)


def test_an_edit_to_a_brand_file_is_noticed(served: tuple[Server, Path, str]) -> None:
    server, ws, own = served
    path = ws / "brands/south-side.yaml"
    try:
        path.write_text(SOUTH.replace("South Side Health", "South Side Family Health"), encoding="utf-8")
        page = httpx.get(f"{server.url}/", timeout=30).text
        assert '<option value="south-side">South Side Family Health</option>' in page
        pdf = httpx.get(f"{server.url}/pdf", params={**BRIEF, "brand": "south-side"}, timeout=60).content
        assert "South Side Family Health" in text_of(pdf)
    finally:
        path.write_text(SOUTH, encoding="utf-8")
    pdf = httpx.get(f"{server.url}/pdf", params={**BRIEF, "brand": "south-side"}, timeout=60).content
    assert "South Side Family Health" not in text_of(pdf) and clinic_of(pdf, own) == SOUTH_NAME


def test_one_brand_offered_shows_no_choice_and_the_review_gate_holds_for_it(tmp_path: Path) -> None:
    ws = branded(tmp_path)
    topic = ws / "data/topics/sciatica/topic.yaml"
    text = topic.read_text(encoding="utf-8")
    topic.write_text(text.replace("  status: draft\n", "  status: reviewed\n  reviewed_by: Test Clinician, MD\n"
                                  "  reviewed_on: 2026-11-30\n  next_review_due: 2027-11-30\n", 1), encoding="utf-8")
    with Server(ws, tmp_path / "server.log", "-j", "1", "--reviewed-only", "--brand", "south-side") as server, \
            httpx.Client(base_url=server.url, timeout=120, headers={"origin": server.url}) as session:
        page = session.get("/").text
        assert 'id="brand"' not in page and "Clinic</label>" not in page
        assert "topic=sciatica&amp;kind=overview&amp;brand=south-side" in page
        assert "topic=kratom" not in page  # a draft topic is not offered
        own = load_config(ws / "handouts.yaml", ws).clinic.name
        assert clinic_of(session.get("/pdf", params=BRIEF).content, own) == SOUTH_NAME
        token = csrf(session, "/packet")
        draft = {"topic": "kratom", "kind": "caution", "length": "brief", "lang": "en", "brand": "south-side"}
        for path in ("/handout", "/pdf"):
            refused = session.get(path, params=draft)
            assert refused.status_code == 404 and "is offered here" in refused.text, path
        for path, data in (("/pdf", {**draft, "patient_name": "Ana Ruiz"}),
                           ("/packet", {"item": ["sciatica:overview", "kratom:caution"], "brand": "south-side"})):
            refused = session.post(path, data={**data, "csrf": token})
            assert refused.status_code == 404 and "is offered here" in refused.text, path
        assert session.get("/handout", params={**BRIEF, "brand": "north"}).status_code == 400
