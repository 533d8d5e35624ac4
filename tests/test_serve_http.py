"""`handouts serve` over real HTTP: a uvicorn server in a subprocess, asked with httpx.

Search, choices checked against the catalog, previews of built handouts without a new render,
workspace edits noticed, patient fields that leave no trace, the review gate, CSRF, Origin, Host,
sizes, the access token and the security headers.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")

from handouts.commands import build  # noqa: E402
from tests.serving import Server, copy_workspace, listing  # noqa: E402

pytestmark = pytest.mark.slow

EN = "topic=sciatica&kind=overview&length=standard&lang=en&paper=letter&large=0"
FR = "topic=sciatica&kind=overview&length=standard&lang=fr&paper=letter&large=0"
ES_LARGE = "topic=sciatica&kind=overview&length=standard&lang=es&paper=letter&large=1"
NAME = "Zephyrine Quillfeather"
TOKEN = "correct-horse-battery-staple-42"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, Path]]:
    base = tmp_path_factory.mktemp("serve")
    ws = copy_workspace(base / "ws")
    report = build(ws, topics=["sciatica"], kinds=["overview"], lengths=["standard"], langs=["en", "fr"],
                   papers=["letter"])
    assert len(report.built) == 2
    with Server(ws, base / "server.log", "-j", "1", tmpdir=base / "tmp") as server:
        yield server, ws, base


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the review gate on and an access token: sciatica reviewed, its translations drafts."""
    base = tmp_path_factory.mktemp("gated")
    ws = copy_workspace(base / "ws")
    topic = ws / "data/topics/sciatica/topic.yaml"
    text = topic.read_text(encoding="utf-8")
    topic.write_text(text.replace("  status: draft\n", "  status: reviewed\n  reviewed_by: Test Clinician, MD\n"
                                  "  reviewed_on: 2026-11-30\n  next_review_due: 2027-11-30\n", 1), encoding="utf-8")
    with Server(ws, base / "server.log", "-j", "1", "--reviewed-only", env={"HANDOUTS_SERVE_TOKEN": TOKEN}) as server:
        yield server


@pytest.fixture
def client() -> Iterator[Callable[..., httpx.Client]]:
    """Return a maker of HTTP clients (cookies kept; Origin this server's unless told), closed after the test."""
    made: list[httpx.Client] = []

    def make(server: Server, origin: bool = True, **options: Any) -> httpx.Client:
        headers = {"origin": server.url} if origin else {}
        made.append(httpx.Client(base_url=server.url, timeout=60, headers=headers, **options))
        return made[-1]

    yield make
    for each in made:
        each.close()


def csrf(session: httpx.Client, path: str = "/") -> str:
    page = session.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if found:
        return found.group(1)
    return str(session.cookies.get("handouts_csrf"))


def health(server: Server) -> dict[str, int]:
    return dict(httpx.get(f"{server.url}/health", timeout=10).json())



def test_health_and_headers(served: tuple[Server, Path, Path]) -> None:
    server, _ws, _base = served
    assert health(server)["status"] == "ok"
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200
    assert '<html lang="en"' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "server" not in page.headers
    assert "<script>" not in page.text and " on" + "click=" not in page.text  # no inline script: CSP holds
    # one brand (handouts.yaml's clinic, without --brand): no choice of clinic, and no brand in links
    handout = httpx.get(f"{server.url}/handout?{EN}").text
    assert 'name="brand"' not in page.text + handout and "brand=" not in page.text + handout


@pytest.mark.parametrize("query", ["M54.3", "M543", "m54.31", "M5431", "M54"])
def test_search_by_code_with_or_without_the_dot(served: tuple[Server, Path, Path], query: str) -> None:
    page = httpx.get(f"{served[0].url}/", params={"q": query})
    assert "topic=sciatica&amp;kind=overview" in page.text
    assert "topic=sciatica&amp;kind=faq" in page.text


def test_search_by_words_in_any_language(served: tuple[Server, Path, Path]) -> None:
    url = f"{served[0].url}/"
    assert "topic=kratom" in httpx.get(url, params={"q": "Kratom"}).text
    assert "No handout matches" in httpx.get(url, params={"q": "kratom zzzqqq"}).text  # every word must be there
    assert "topic=sciatica&amp;kind=overview" in httpx.get(url, params={"q": "ciatica"}).text  # accents folded: ciática
    assert "topic=sciatica&amp;kind=overview" in httpx.get(url, params={"q": "Ciática nervio"}).text
    assert "No handout matches" in httpx.get(url, params={"q": "zzzqqq"}).text
    assert "No handout matches" in httpx.get(url, params={"q": "Z99.9"}).text


def test_languages_by_their_own_names_with_status_and_drafts_marked(served: tuple[Server, Path, Path]) -> None:
    page = httpx.get(f"{served[0].url}/handout?{EN}").text
    for name in ("Español", "Tiếng Việt", "العربية", "English"):
        assert name in page
    assert "English (en) · original" in page
    assert "Español (es) · draft translation" in page
    assert "Draft:" in page and "not reviewed by a clinician" in page
    assert "Draft: not reviewed by a clinician" in httpx.get(f"{served[0].url}/").text


def test_a_built_handout_is_previewed_from_its_pdf_without_a_new_render(served: tuple[Server, Path, Path]) -> None:
    server, ws, _base = served
    before = health(server)
    page = httpx.get(f"{server.url}/handout?{FR}")
    assert page.status_code == 200 and "built copy" in page.text
    image = httpx.get(f"{server.url}/preview?{FR}&page=1")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    pdf = httpx.get(f"{server.url}/pdf?{FR}")
    built = (ws / "output/fr/sciatica/overview-standard-letter.pdf").read_bytes()
    assert pdf.content == built
    after = health(server)
    assert after["renders"] == before["renders"]
    assert after["served_built"] == before["served_built"] + 1


def test_preview_pages_and_pdf_of_a_handout_not_built(served: tuple[Server, Path, Path]) -> None:
    from pypdf import PdfReader

    server = served[0]
    page = httpx.get(f"{server.url}/handout?{ES_LARGE}")
    assert page.status_code == 200
    pages = int(re.search(r"Preview: (\d+) page", page.text).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= 4
    # the length's budget as large print has it, so "4 pages" under "standard" is no surprise
    assert "standard (up to 4 pages in large print)</option>" in page.text
    assert "standard (up to 2 pages)</option>" in httpx.get(f"{server.url}/handout?{EN}").text
    for number in range(1, pages + 1):
        assert httpx.get(f"{server.url}/preview?{ES_LARGE}&page={number}").status_code == 200
    assert httpx.get(f"{server.url}/preview?{ES_LARGE}&page={pages + 1}").status_code == 404
    pdf = httpx.get(f"{server.url}/pdf?{ES_LARGE}&download=1")
    assert pdf.headers["content-disposition"] == 'attachment; filename="sciatica-overview-standard-es-letter-large.pdf"'
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == pages
    assert reader.trailer["/Root"]["/Lang"] == "es"


def test_patient_fields_leave_no_file_and_no_log_line(served: tuple[Server, Path, Path], client: Callable[..., httpx.Client]) -> None:
    from pypdf import PdfReader

    server, ws, base = served
    session = client(server)
    token = csrf(session, f"/handout?{ES_LARGE}")  # renders this handout once, without patient fields
    session.get(f"{server.url}/pdf?{ES_LARGE}")
    folders = (ws, base / "tmp")
    before = listing(*folders)
    fields = dict(x.split("=") for x in ES_LARGE.split("&"))
    response = session.post("/pdf", data={**fields, "csrf": token, "patient_name": NAME, "clinician": "Dr. Ortega",
                                          "follow_up": "2027-01-15", "note": "Camine 10 minutos", "action": "download"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == 'attachment; filename="handout.pdf"'
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert NAME in " ".join(text.split())
    assert listing(*folders) == before  # no file made or changed: workspace, cache, output, temp
    assert NAME not in (base / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "Quillfeather" not in str(response.url)


def test_patient_fields_are_never_taken_from_a_url(served: tuple[Server, Path, Path]) -> None:
    server = served[0]
    pdf = httpx.get(f"{server.url}/pdf?{EN}&patient_name=Someone")
    assert pdf.status_code == 200
    built = (served[1] / "output/en/sciatica/overview-standard-letter.pdf").read_bytes()
    assert pdf.content == built  # the field in the URL was ignored


def test_a_packet_of_two_handouts(served: tuple[Server, Path, Path], client: Callable[..., httpx.Client]) -> None:
    from pypdf import PdfReader

    session = client(served[0])
    token = csrf(session, "/packet")
    response = session.post("/packet", data={"csrf": token, "item": ["sciatica:overview", "kratom:caution"],
                                             "lang": "es", "length": "brief", "paper": "a4", "action": "download"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="packet.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3  # one page, a blank back, one page
    assert [item.title for item in reader.outline] == ["Ciática", "Kratom y terapias alternativas"]


def test_workspace_edits_are_noticed_and_old_content_never_served(served: tuple[Server, Path, Path]) -> None:
    server, ws, _base = served
    path = ws / "data/topics/sciatica/en.yaml"
    original = path.read_text(encoding="utf-8")
    old = "title: \"Sciatica: your questions answered\""
    assert old in original
    faq = "topic=sciatica&kind=faq&length=brief&lang=en&paper=letter&large=0"
    try:
        assert "your questions answered" in httpx.get(f"{server.url}/handout?{faq}").text
        path.write_text(original.replace(old, 'title: "Sciatica: answers to your questions"'), encoding="utf-8")
        page = httpx.get(f"{server.url}/handout?{faq}").text
        assert "answers to your questions" in page and "your questions answered" not in page
        from pypdf import PdfReader

        pdf = httpx.get(f"{server.url}/pdf?{faq}")
        assert "answers to your questions" in PdfReader(io.BytesIO(pdf.content)).metadata.title
        # the built copy of another handout of this topic is now older than its topic: never served
        before = health(server)
        assert "built copy" not in httpx.get(f"{server.url}/handout?{EN}").text
        assert health(server)["renders"] == before["renders"] + 1
    finally:
        path.write_text(original, encoding="utf-8")


@pytest.mark.parametrize("query", [
    "topic=../../etc/passwd&kind=overview", "topic=sciatica&kind=overview&lang=xx",
    "topic=sciatica&kind=overview&paper=b5", "topic=sciatica&kind=overview&length=huge",
    "topic=sciatica&kind=../../handouts.yaml",
])
def test_every_choice_is_checked_against_the_catalog(served: tuple[Server, Path, Path], query: str) -> None:
    for path in ("/handout", "/preview", "/pdf"):
        response = httpx.get(f"{served[0].url}{path}?{query}")
        assert response.status_code == 404, (path, query)
        assert "Error id:" in response.text and "Traceback" not in response.text
        assert response.headers["cache-control"] == "no-store"


def test_fonts_and_static_files_only_by_known_names(served: tuple[Server, Path, Path]) -> None:
    url = served[0].url
    font = httpx.get(f"{url}/fonts/NotoSans-Regular.ttf")
    assert font.status_code == 200 and font.headers["content-type"] == "font/ttf"
    assert httpx.get(f"{url}/static/app.js").headers["content-type"].startswith("text/javascript")
    for path in ("/fonts/..%2F..%2Fhandouts.yaml", "/fonts/fonts.css", "/static/..%2Fapp.py", "/static/base.html"):
        assert httpx.get(f"{url}{path}").status_code == 404, path


def test_posts_need_the_csrf_token_and_this_origin(served: tuple[Server, Path, Path], client: Callable[..., httpx.Client]) -> None:
    server = served[0]
    session = client(server)
    token = csrf(session)
    fields = dict(x.split("=") for x in EN.split("&"))
    assert session.post("/pdf", data={**fields, "csrf": token}).status_code == 200
    assert session.post("/pdf", data=fields).status_code == 403
    assert session.post("/pdf", data={**fields, "csrf": "x" * 43}).status_code == 403
    assert session.post("/pdf", data={**fields, "csrf": token}, headers={"origin": "http://evil.example"}).status_code == 403
    assert session.post("/pdf", data={**fields, "csrf": token}, headers={"origin": "null"}).status_code == 403
    bare = client(server, origin=False, cookies=session.cookies)  # neither Origin nor Referer
    assert bare.post("/pdf", data={**fields, "csrf": token}).status_code == 403
    assert bare.post("/pdf", data={**fields, "csrf": token},
                     headers={"referer": f"{server.url}/handout"}).status_code == 200


def test_the_host_header_is_checked(served: tuple[Server, Path, Path]) -> None:
    url = served[0].url
    assert httpx.get(f"{url}/", headers={"host": "evil.example"}).status_code == 400
    assert httpx.get(f"{url}/health", headers={"host": "rebind.attacker.example:8765"}).status_code == 400
    assert httpx.get(f"{url}/", headers={"host": f"localhost:{served[0].port}"}).status_code == 200


def test_request_sizes_are_limited(served: tuple[Server, Path, Path], client: Callable[..., httpx.Client]) -> None:
    server = served[0]
    session = client(server)
    token = csrf(session)
    fields = dict(x.split("=") for x in EN.split("&"))
    big = session.post("/pdf", data={**fields, "csrf": token, "note": "x" * 100_000})
    assert big.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body is read
        yield f"csrf={token}&topic=sciatica&kind=overview&note=".encode()
        for _ in range(20):
            yield b"y" * 8192

    assert session.post("/pdf", content=chunks(),
                        headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413
    long_name = session.post("/pdf", data={**fields, "csrf": token, "patient_name": "N" * 101})
    assert long_name.status_code == 400
    assert "longer than 100 characters" in long_name.text and "NNNN" not in long_name.text
    assert session.post("/pdf", data={**fields, "csrf": token, "follow_up": "soon"}).status_code == 400


def test_the_access_token_is_asked_once_on_a_sign_in_page(gated: Server, client: Callable[..., httpx.Client]) -> None:
    session = client(gated)
    assert session.get("/").status_code == 401
    assert session.get("/handout?topic=sciatica&kind=overview").status_code == 401
    assert session.get("/health").status_code == 200
    token = csrf(session, "/sign-in")
    assert session.post("/sign-in", data={"csrf": token, "token": "wrong"}).status_code == 401
    signed = session.post("/sign-in", data={"csrf": token, "token": TOKEN})
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie
    assert session.get("/").status_code == 200


def test_with_reviewed_only_drafts_are_not_offered_and_crafted_requests_refused(gated: Server, client: Callable[..., httpx.Client]) -> None:
    session = client(gated)
    token = csrf(session, "/sign-in")
    session.post("/sign-in", data={"csrf": token, "token": TOKEN})
    listing_page = session.get("/").text
    assert "topic=sciatica&amp;kind=overview" in listing_page
    assert "topic=kratom" not in listing_page  # a draft topic is not offered
    page = session.get(f"/handout?{EN}").text
    assert "Español" not in page  # a draft translation is not offered either
    for crafted in (ES_LARGE, "topic=kratom&kind=caution&lang=en"):
        for path in ("/handout", "/preview", "/pdf"):
            response = session.get(f"{path}?{crafted}")
            assert response.status_code == 404, (path, crafted)
            assert "offered" in response.text
    token = csrf(session, "/packet")
    fields = dict(x.split("=") for x in ES_LARGE.split("&"))
    assert session.post("/pdf", data={**fields, "csrf": token, "patient_name": "A"}).status_code == 404
    refused = session.post("/packet", data={"csrf": token, "item": ["sciatica:overview", "kratom:caution"],
                                            "lang": "en", "length": "brief"})
    assert refused.status_code == 404 and "is offered here" in refused.text
    assert session.post("/packet", data={"csrf": token, "item": ["sciatica:overview"], "lang": "en",
                                         "length": "brief"}).status_code == 200


def test_renders_do_not_block_other_requests(served: tuple[Server, Path, Path],
                                             client: Callable[..., httpx.Client]) -> None:
    """A long render runs in a worker process: the server answers others meanwhile."""
    import threading
    import time

    server = served[0]
    session = client(server)
    token = csrf(session)
    httpx.get(f"{server.url}/handout?{FR}")  # kept in memory from here on
    finished: dict[str, float] = {}

    def long_render() -> None:
        fields = {"topic": "sciatica", "kind": "faq", "length": "detailed", "lang": "ar", "paper": "a4", "large": "1",
                  "csrf": token, "patient_name": "Long Render"}
        assert session.post("/pdf", data=fields).status_code == 200
        finished["render"] = time.monotonic()

    thread = threading.Thread(target=long_render)
    thread.start()
    time.sleep(0.3)
    assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
    assert httpx.get(f"{server.url}/preview?{FR}&page=1", timeout=30).status_code == 200
    assert httpx.get(f"{server.url}/?q=M54", timeout=30).status_code == 200
    answered = time.monotonic()
    thread.join(120)
    assert answered < finished["render"]


def test_a_workspace_with_errors_shows_them_and_recovers(served: tuple[Server, Path, Path]) -> None:
    server, ws, _base = served
    path = ws / "data/topics/kratom/en.yaml"
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("language: en", "language: [en", 1), encoding="utf-8")
        page = httpx.get(f"{server.url}/")
        assert page.status_code == 500
        assert "data/topics/kratom/en.yaml:" in page.text and "Error id:" in page.text
        assert "Traceback" not in page.text
        assert httpx.get(f"{server.url}/health").status_code == 503
    finally:
        path.write_text(original, encoding="utf-8")
    assert httpx.get(f"{server.url}/").status_code == 200
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"


def test_the_time_limit_holds_in_the_workers(tmp_path: Path) -> None:
    ws = copy_workspace(tmp_path / "ws")
    limits = {"HANDOUTS_LIMIT_SECONDS_PER_HANDOUT": "0.01", "HANDOUTS_LIMIT_GRACE_SECONDS": "5"}
    with Server(ws, tmp_path / "server.log", "-j", "1", env=limits) as server:
        page = httpx.get(f"{server.url}/handout?{EN}", timeout=60)
        assert page.status_code == 500
        assert "took longer than the 0.01 s limit per handout (HANDOUTS_LIMIT_SECONDS_PER_HANDOUT" in page.text
        assert "Error id:" in page.text and "Traceback" not in page.text
        assert httpx.get(f"{server.url}/health").json()["status"] == "ok"


def test_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    """Workers killed under the server (out of memory, a crash in C) fail one request at most."""
    import signal

    from tests.serving import _children

    ws = copy_workspace(tmp_path / "ws")
    with Server(ws, tmp_path / "server.log", "-j", "1") as server:
        assert server.process is not None
        fork_servers = _children_of(server.process.pid)
        workers = [pid for parent in fork_servers for pid in _children_of(parent)]
        assert workers and set(workers) <= set(_children(server.process.pid))
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        first = httpx.get(f"{server.url}/handout?{EN}", timeout=120)
        assert first.status_code in (200, 500)
        if first.status_code == 500:
            assert "a worker process stopped while making this; please try again" in first.text
        again = httpx.get(f"{server.url}/handout?topic=kratom&kind=caution", timeout=120)
        assert again.status_code == 200
        assert httpx.get(f"{server.url}/health").json()["status"] == "ok"


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found
