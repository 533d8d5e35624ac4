"""The page's print button (issue 17) over real HTTP, to a real CUPS: a cupsd of our own with a CUPS-PDF queue.

A personal Spanish large-print handout printed from the page (over HTTP, and in Chromium with axe): the job printed with the copies,
sides and media asked for, was purged, and the patient's name is nowhere in CUPS's logs, its
spool, the print log or the server's log; a packet; the review gate; a printer not on the list;
the message when no printer is set up; CUPS trouble said in one line. With CI set, a missing CUPS
fails these tests (tests/cups_server.py).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.cups_server import Server as Cupsd
from tests.serving import Server, copy_workspace
from tests.test_print import POINTS, log_rows
from tests.test_serve_browser import axe_violations, browser, wait_for  # noqa: F401 (browser: a fixture)

httpx = pytest.importorskip("httpx")

pytestmark = pytest.mark.slow

NAME = "Philippa Ostergaard-Lindqvist"
NOTE = "Walk ten minutes after lunch"
PRINTERS = "\nprinters:\n  - queue: PDF\n    name: Front desk\n  - queue: Upstairs\n    name: Second floor\n"
ES_LARGE = {"topic": "sciatica", "kind": "overview", "length": "brief", "lang": "es", "paper": "letter", "large": "1"}
HOW_TO_ADD = ("No printers are set up for this page. An administrator lists the clinic's CUPS printers in "
              "handouts.yaml, under printers: (README: Branding, and Printing: handouts print); the page offers "
              "them at once.")


@pytest.fixture(scope="module")
def served(cupsd: Cupsd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, Path]]:
    """A server whose workspace lists two printers (PDF, on our cupsd, and Upstairs, which CUPS lacks)."""
    base = tmp_path_factory.mktemp("print")
    ws = copy_workspace(base / "ws")
    with (ws / "handouts.yaml").open("a", encoding="utf-8") as handle:
        handle.write(PRINTERS)
    with Server(ws, base / "server.log", "-j", "1", tmpdir=base / "tmp",
                env={"CUPS_SERVER": str(cupsd.socket)}) as server:
        yield server, ws, base


@pytest.fixture
def session(served: tuple[Server, Path, Path], cups: Cupsd) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url, timeout=120, headers={"origin": served[0].url}) as client:
        yield client


def form(client: httpx.Client, path: str = "/handout", **params: str) -> str:
    """Open the page and return its CSRF token."""
    page = client.get(path, params=params or ES_LARGE)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def result_lines(page: httpx.Response) -> list[str]:
    block = re.search(r'id="print-result"[^>]*>(.*?)</div>', page.text, re.S)
    assert block, page.text
    return re.findall(r"<p>(.*?)</p>", block.group(1).replace("&#39;", "'"))


@contextlib.contextmanager
def config_with(ws: Path, old: str, new: str) -> Iterator[None]:
    """Edit handouts.yaml for one test (the running server notices), and put it back."""
    path = ws / "handouts.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(text, encoding="utf-8")


def test_a_personal_handout_printed_from_the_page_leaves_nothing_of_the_patient(
        served: tuple[Server, Path, Path], session: httpx.Client, cups: Cupsd,
        cups_pdf_output: dict[str, Path]) -> None:
    server, ws, base = served
    token = form(session)
    page = session.post("/print", data={**ES_LARGE, "csrf": token, "printer": "PDF", "copies": "2",
                                        "two_sided": "1", "patient_name": NAME, "note": NOTE, "action": "print"})
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert NAME not in page.text and NOTE not in page.text
    [line] = result_lines(page)
    job = int(re.search(r"job PDF-(\d+)", line).group(1))  # type: ignore[union-attr]
    assert line == (f"Sent to Front desk printer (job PDF-{job}), 2 copies, two-sided. It has printed, and the "
                    "print server no longer keeps the patient's copy.")
    assert 'href="/handout?topic=sciatica&amp;kind=overview&amp;length=brief&amp;lang=es&amp;paper=letter&amp;' \
           'large=1"' in page.text

    # The paper: CUPS-PDF's output has the handout's pages on Letter
    reader = PdfReader(cups_pdf_output[str(job)])
    pages = len(reader.pages)
    assert pages >= 1
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {
        POINTS["letter"]}

    # CUPS completed it with what was asked for (its page log), then purged it: no history, no files
    title = "handout sciatica overview brief es large"
    page_log = (cups.logs / "page_log").read_text(errors="replace")
    logged = next(entry for entry in page_log.splitlines() if f"PDF root {job} " in entry)
    assert logged.endswith(f" total {2 * pages} {title} Letter two-sided-long-edge 2\""), logged
    assert f"[Job {job}] Purged by" in (cups.logs / "error_log").read_text(errors="replace")
    assert f"PDF-{job} " not in cups.run("lpstat", "-W", "all", "-o", "PDF")
    left = cups.spool_files()
    assert not [p for p in left if re.fullmatch(rf"[cd]0*{job}(-\d+)?", p.name)], left
    for path in left:
        assert NAME.encode() not in path.read_bytes(), path
    for name in ("page_log", "error_log", "access_log"):
        text = (cups.logs / name).read_text(errors="replace")
        assert NAME not in text and NOTE not in text, name

    # The print log names the page and the desk's address as who; never the patient
    rows = [r for r in log_rows(ws) if r["job"] == f"PDF-{job}"]
    assert [(r["who"], r["printer"], r["copies"], r["sides"], r["topic"], r["kind"], r["length"], r["lang"],
             r["large_print"], r["personal"], r["outcome"]) for r in rows] == [
        ("front desk page (127.0.0.1)", "PDF", "2", "two-sided-long-edge", "sciatica", "overview", "brief", "es",
         "yes", "yes", "purged")]
    log_text = (ws / "print-log.csv").read_text(encoding="utf-8")
    assert NAME not in log_text and NOTE not in log_text
    assert NAME not in (base / "server.log").read_text(encoding="utf-8", errors="replace")
    assert not list(ws.rglob("*.pdf")), "no PDF may be written into the workspace"

    # The desk's printer is remembered (a cookie with the queue's name): the next page has it chosen
    assert session.cookies.get("handouts_printer") == "PDF"
    again = session.get("/handout", params=ES_LARGE).text
    assert '<option value="PDF" selected>Front desk</option>' in again


def test_a_packet_prints_with_the_copies_sides_and_media_asked_for(
        served: tuple[Server, Path, Path], session: httpx.Client, cups: Cupsd,
        cups_pdf_output: dict[str, Path]) -> None:
    token = form(session, "/packet", item="sciatica:overview")
    assert 'formaction="/print"' in session.get("/packet").text
    page = session.post("/print", data={"csrf": token, "item": ["sciatica:overview", "sciatica:faq"], "lang": "en",
                                        "length": "brief", "paper": "a4", "printer": "PDF", "copies": "3"})
    assert page.status_code == 200, page.text
    [line] = result_lines(page)
    job = int(re.search(r"job PDF-(\d+)", line).group(1))  # type: ignore[union-attr]
    assert line == f"Sent to Front desk printer (job PDF-{job}), 3 copies."
    cups.wait_completed(job)
    attributes = cups.job_attributes(job)
    assert {k: attributes.get(k) for k in ("job-state", "copies", "sides", "media", "job-name")} == {
        "job-state": "completed", "copies": "3", "sides": "one-sided", "media": "A4",
        "job-name": "packet 2 handouts brief en"}
    reader = PdfReader(cups_pdf_output[str(job)])
    assert len(reader.pages) == 3  # 1 + a blank + 1: each part starts on a right-hand page
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {POINTS["a4"]}
    rows = [(r["kind"], r["paper"], r["packet"], r["outcome"]) for r in log_rows(served[1]) if r["job"] == f"PDF-{job}"]
    assert rows == [("overview", "a4", "sciatica:overview sciatica:faq", "sent"),
                    ("faq", "a4", "sciatica:overview sciatica:faq", "sent")]


def test_the_review_gate_refuses_a_crafted_print_of_a_draft(served: tuple[Server, Path, Path], session: httpx.Client,
                                                            cups: Cupsd) -> None:
    _server, ws, _base = served
    token = form(session)
    before = cups.run("lpstat", "-W", "all", "-o", "PDF")
    logged = (ws / "print-log.csv").read_text(encoding="utf-8") if (ws / "print-log.csv").exists() else ""
    with config_with(ws, "  paper: letter", "  paper: letter\n  reviewed_only: true"):
        time.sleep(1.1)
        page = session.post("/print", data={**ES_LARGE, "csrf": token, "printer": "PDF", "patient_name": NAME})
        assert page.status_code == 404, page.text
        assert "no handout &#39;sciatica&#39; of kind &#39;overview&#39; is offered here" in page.text
        assert NAME not in page.text
        packet = session.post("/print", data={"csrf": token, "item": ["sciatica:faq"], "printer": "PDF"})
        assert packet.status_code == 404, packet.text
    assert cups.run("lpstat", "-W", "all", "-o", "PDF") == before
    now = (ws / "print-log.csv").read_text(encoding="utf-8") if (ws / "print-log.csv").exists() else ""
    assert now == logged


def test_only_the_clinics_printers_and_cups_trouble_in_one_line(served: tuple[Server, Path, Path],
                                                                session: httpx.Client, cups: Cupsd) -> None:
    token = form(session)
    crafted = session.post("/print", data={**ES_LARGE, "csrf": token, "printer": "SomeoneElsesQueue"})
    assert crafted.status_code == 400
    assert "choose one of the clinic&#39;s printers from the list (reload the page)" in crafted.text
    missing = session.post("/print", data={**ES_LARGE, "csrf": token, "printer": "Upstairs", "patient_name": NAME})
    assert missing.status_code == 503
    assert result_lines(missing) == [
        "cannot print: the CUPS server has no printer queue Upstairs (lpstat -p lists the queues; known here: PDF)"]
    assert NAME not in missing.text
    cups.run("cupsdisable", "-r", "Paper jam", "PDF")
    stopped = session.post("/print", data={**ES_LARGE, "csrf": token, "printer": "PDF"})
    assert stopped.status_code == 503
    assert result_lines(stopped) == [
        "cannot print: printer PDF is stopped (Paper jam) (an administrator can start it with: cupsenable PDF)"]
    no_csrf = session.post("/print", data={**ES_LARGE, "printer": "PDF"})
    assert no_csrf.status_code == 403


def test_without_printers_the_page_says_how_to_add_one(served: tuple[Server, Path, Path],
                                                      session: httpx.Client) -> None:
    _server, ws, _base = served
    with config_with(ws, PRINTERS, "\n"):
        time.sleep(1.1)
        page = session.get("/handout", params=ES_LARGE)
        assert page.status_code == 200
        assert HOW_TO_ADD.replace("'", "&#39;") in page.text
        assert 'formaction="/print"' not in page.text
        token = form(session)
        refused = session.post("/print", data={**ES_LARGE, "csrf": token, "printer": "PDF"})
        assert refused.status_code == 400
        assert HOW_TO_ADD.replace("'", "&#39;") in refused.text


def test_in_a_browser_print_one_handout_and_see_it_sent(
        served: tuple[Server, Path, Path], cups: Cupsd, cups_pdf_output: dict[str, Path],
        browser: tuple[Any, Path]) -> None:  # noqa: F811 (the fixture imported above)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = served[0]
    driver, _downloads = browser
    driver.get(f"{server.url}/handout?topic=sciatica&kind=faq&length=brief&lang=en&paper=letter&large=0")
    assert Select(driver.find_element(By.ID, "printer")).first_selected_option.text in ("Front desk", "Second floor")
    Select(driver.find_element(By.ID, "printer")).select_by_visible_text("Front desk")
    copies = driver.find_element(By.ID, "copies")
    copies.clear()
    copies.send_keys("2")
    assert axe_violations(driver) == []
    driver.find_element(By.CSS_SELECTOR, 'button[formaction="/print"]').click()
    result = wait_for(lambda: driver.find_elements(By.ID, "print-result"), what="the print's result")[0]
    found = re.fullmatch(r"Sent to Front desk printer \(job PDF-(\d+)\), 2 copies\.", result.text)
    assert found, result.text
    assert result.get_attribute("role") == "status"
    assert axe_violations(driver) == []
    assert cups_pdf_output[found.group(1)].exists()  # it printed
    driver.find_element(By.LINK_TEXT, "Back to the handout").click()
    wait_for(lambda: driver.find_elements(By.ID, "printer"), what="the handout page")
    assert Select(driver.find_element(By.ID, "printer")).first_selected_option.text == "Front desk"


@pytest.mark.timeout(240)
def test_a_personal_job_still_waiting_is_reported_with_its_id_and_what_to_do(
        served: tuple[Server, Path, Path], session: httpx.Client, cups: Cupsd,
        cups_pdf_output: dict[str, Path]) -> None:
    _server, ws, _base = served
    token = form(session)
    cups.run("lpadmin", "-p", "PDF", "-o", "job-hold-until-default=indefinite")  # the printer holds every job
    try:
        page = session.post("/print", data={**ES_LARGE, "csrf": token, "printer": "PDF", "patient_name": NAME})
    finally:
        cups.run("lpadmin", "-p", "PDF", "-o", "job-hold-until-default=no-hold")
    assert page.status_code == 503, page.text
    [line] = result_lines(page)
    job = int(re.search(r"job PDF-(\d+) ", line).group(1))  # type: ignore[union-attr]
    assert line == (f"job PDF-{job} has not printed after 30 s (see: lpstat -p PDF); its spool file holds patient "
                    f"data: once it has printed, run: handouts print --purge PDF-{job} (or cancel it now with: "
                    f"cancel {job}, then the same purge)")
    assert NAME not in page.text
    assert [r["outcome"] for r in log_rows(ws) if r["job"] == f"PDF-{job}"] == ["pending"]
    # what the line says to do: let it print, then purge it
    cups.run("lp", "-i", str(job), "-H", "resume")
    assert cups_pdf_output[str(job)].exists()
    cups.wait_completed(job)
    from handouts.commands import purge_print_job

    assert purge_print_job(f"PDF-{job}") is True
    assert f"PDF-{job} " not in cups.run("lpstat", "-W", "all", "-o", "PDF")


def test_the_page_prints_the_brand_chosen_and_logs_it(cupsd: Cupsd, cups: Cupsd, cups_pdf_output: dict[str, Path],
                                                      tmp_path: Path) -> None:
    from tests.test_brands import BRANDS, colours, rgb

    ws = copy_workspace(tmp_path / "ws")
    with (ws / "handouts.yaml").open("a", encoding="utf-8") as handle:
        handle.write(PRINTERS)
    for rel, text in BRANDS.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text, encoding="utf-8")
    names = {"north": "North Valley Clinic", "south-side": "South Side Health"}
    marks = {"north": {rgb("#00573f"), rgb("#ff8800")}, "south-side": {rgb("#6b2d8a"), rgb("#0088ff")}}
    brief = {**ES_LARGE, "lang": "en", "large": "0"}
    with Server(ws, tmp_path / "server.log", "-j", "1", "--brand", "north", "--brand", "south-side",
                env={"CUPS_SERVER": str(cupsd.socket)}) as server, \
            httpx.Client(base_url=server.url, timeout=120, headers={"origin": server.url}) as session:
        token = form(session, **brief, brand="south-side")
        one = session.post("/print", data={**brief, "brand": "south-side", "csrf": token, "printer": "PDF"})
        assert one.status_code == 200, one.text
        assert ('href="/handout?topic=sciatica&amp;kind=overview&amp;length=brief&amp;lang=en&amp;paper=letter&amp;'
                'large=0&amp;brand=south-side"') in one.text
        packet = session.post("/print", data={"csrf": token, "item": ["sciatica:overview", "sciatica:faq"],
                                              "lang": "en", "length": "brief", "brand": "north", "printer": "PDF"})
        assert packet.status_code == 200, packet.text
        assert 'href="/packet?brand=north"' in packet.text
    jobs = {brand: int(re.search(r"job PDF-(\d+)", result_lines(page)[0]).group(1))  # type: ignore[union-attr]
            for brand, page in (("south-side", one), ("north", packet))}
    for brand, job in jobs.items():
        cups.wait_completed(job)
        # what the page sent (the server keeps a catalog handout's document), and the paper (CUPS-PDF's
        # Ghostscript output has no comparable text: the brand's colours and logo show it)
        [sent] = [p for p in cups.spool_files() if re.fullmatch(rf"d0*{job}-001", p.name)]
        text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(sent).pages).split())
        other = "north" if brand == "south-side" else "south-side"
        assert names[brand] in text and names[other] not in text, brand
        seen = colours(cups_pdf_output[str(job)])
        assert marks[brand] <= seen and not marks[other] & seen, brand
    rows = [(r["job"], r["brand"], r["kind"]) for r in log_rows(ws)]
    assert rows == [(f"PDF-{jobs['south-side']}", "south-side", "overview"),
                    (f"PDF-{jobs['north']}", "north", "overview"), (f"PDF-{jobs['north']}", "north", "faq")]
