"""`handouts print` against a real CUPS (issue 17): a cupsd of our own with a CUPS-PDF queue.

The session starts its own cupsd (its config, spool, logs and socket in a temporary folder; its
output to files) whatever the machine's own CUPS is doing, and stops it at the end. With CI set,
a missing CUPS fails these tests instead of skipping them. What is checked: the job's attributes
(copies, sides, media, title) from the server itself; CUPS-PDF's output (pages, page size: it
re-renders with Ghostscript, so its text is not comparable); and that nothing of the patient is
left in the job's title, the page log, the error log, the spool, or the print log.
"""

from __future__ import annotations

import csv
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts.errors import ContentError
from handouts.load.config import load_config
from handouts.printing.cups import Cups, PrintError
from handouts.printing.log import COLUMNS, LogRow, append
from handouts.printing.send import job_title

from .conftest import CONFIG, ES, REPO
from .cups_server import missing
from .test_brands import BRANDS, colours, rgb
from .test_gate import GATED, REVIEWED

PATIENT = "Ana Ruiz"
NOTE = "Ice twice a day"
POINTS = {"letter": (612, 792), "a4": (595, 842)}


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """The shipped sciatica topic and brand in a workspace of its own (the print log is written there)."""
    ws = tmp_path / "clinic"
    (ws / "data" / "topics").mkdir(parents=True)
    shutil.copytree(REPO / "data" / "topics" / "sciatica", ws / "data" / "topics" / "sciatica")
    shutil.copytree(REPO / "data" / "assets", ws / "data" / "assets")
    config = (REPO / "handouts.yaml").read_text(encoding="utf-8")
    (ws / "handouts.yaml").write_text(
        config + "\nprinters:\n  - queue: PDF\n    name: Front desk\n  - queue: Upstairs\n    name: Second floor\n",
        encoding="utf-8")
    return ws


def log_rows(ws: Path) -> list[dict[str, str]]:
    with (ws / "print-log.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def job_number(output: str) -> int:
    match = re.search(r"job PDF-(\d+):", output)
    assert match, output
    return int(match.group(1))


# --- a real CUPS -------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(180)
def test_personal_handout_prints_and_leaves_nothing_of_the_patient(run, cups, shipped, cups_pdf_output):
    result = run("-w", shipped, "print", "sciatica:overview", "-l", "brief", "--lang", "es", "--large-print",
                 "--patient-name", PATIENT, "--note", NOTE, "-n", "2", "--two-sided", "--printer", "Front desk")
    assert result.exit_code == 0, result.output
    job = job_number(result.output)
    pages = int(re.search(r", (\d) pages x 2", result.output).group(1))  # type: ignore[union-attr]
    title = "handout sciatica overview brief es large"
    assert result.output == (f'job PDF-{job}: "{title}", {pages} pages x 2: printed and purged from the print '
                             'server\n')

    # The paper: CUPS-PDF's output has the handout's pages, on Letter (copies are the printer's to make)
    reader = PdfReader(cups_pdf_output[str(job)])
    assert len(reader.pages) == pages
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {
        POINTS["letter"]}

    # The job is gone from the server (purged, history and files), and nothing of it is in the spool
    assert f"PDF-{job} " not in cups.run("lpstat", "-W", "all", "-o", "PDF")
    left = cups.spool_files()
    assert not [p for p in left if re.fullmatch(rf"[cd]0*{job}(-\d+)?", p.name)], left
    for path in left:
        assert PATIENT.encode() not in path.read_bytes(), path

    # CUPS's page log recorded what was asked for, under the generic title; no log holds the patient
    page_log = (cups.logs / "page_log").read_text(errors="replace")
    line = next(line for line in page_log.splitlines() if f"PDF root {job} " in line)
    assert line.endswith(f" total {2 * pages} {title} Letter two-sided-long-edge 2\""), line
    for name in ("page_log", "error_log", "access_log"):
        text = (cups.logs / name).read_text(errors="replace")
        assert PATIENT not in text and NOTE not in text, name
    assert f"[Job {job}] Purged by" in (cups.logs / "error_log").read_text(errors="replace")

    # The print log: who, what, which version, when, where, how many; never the patient
    rows = log_rows(shipped)
    assert [(r["printer"], r["job"], r["copies"], r["sides"], r["topic"], r["kind"], r["length"], r["lang"],
             r["paper"], r["large_print"], r["personal"], r["outcome"]) for r in rows] == [
        ("PDF", f"PDF-{job}", "2", "two-sided-long-edge", "sciatica", "overview", "brief", "es", "letter", "yes",
         "yes", "purged")]
    assert re.fullmatch(r"[0-9a-f]{10}", rows[0]["version"])
    assert rows[0]["who"] == pwd.getpwuid(os.getuid()).pw_name
    text = (shipped / "print-log.csv").read_text(encoding="utf-8")
    assert PATIENT not in text and NOTE not in text
    assert not [p for p in shipped.rglob("*.pdf")], "no PDF may be written into the workspace"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_packet_job_has_the_copies_sides_and_media_asked_for(run, cups, shipped, cups_pdf_output):
    result = run("-w", shipped, "print", "sciatica:overview", "sciatica:faq", "--lang", "es", "-l", "brief",
                 "-p", "a4", "-n", "2", "--two-sided", "-d", "PDF", "--user", "front-desk-1")
    assert result.exit_code == 0, result.output
    job = job_number(result.output)
    assert '"packet 2 handouts brief es", 3 pages x 2: sent' in result.output  # 1 + blank + 1
    cups.wait_completed(job)
    attributes = cups.job_attributes(job)
    assert {k: attributes.get(k) for k in ("job-state", "copies", "sides", "media", "job-name")} == {
        "job-state": "completed", "copies": "2", "sides": "two-sided-long-edge", "media": "A4",
        "job-name": "packet 2 handouts brief es"}
    assert "document-name-supplied" not in attributes  # standard input: no file name to leak
    reader = PdfReader(cups_pdf_output[str(job)])
    assert len(reader.pages) == 3
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {POINTS["a4"]}
    # a catalog handout is left to the server's settings: here they keep files, so the spool shows one
    assert any(re.fullmatch(rf"d0*{job}-001", p.name) for p in cups.spool_files())
    rows = log_rows(shipped)
    assert [(r["who"], r["kind"], r["paper"], r["packet"], r["outcome"]) for r in rows] == [
        ("front-desk-1", "overview", "a4", "sciatica:overview sciatica:faq", "sent"),
        ("front-desk-1", "faq", "a4", "sciatica:overview sciatica:faq", "sent")]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_reviewed_only_refuses_before_anything_reaches_the_printer(run, cups, write_workspace):
    ws = write_workspace({"handouts.yaml": GATED, "data/topics/test/topic.yaml": REVIEWED,
                          "data/topics/test/es.yaml": ES})
    before = cups.run("lpstat", "-W", "all", "-o", "PDF")
    result = run("-w", ws, "print", "test:overview", "--lang", "es", "-d", "PDF", "--patient-name", PATIENT)
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "error: nothing to build: all 1 chosen handouts are unreviewed drafts (--reviewed-only)\n")
    assert PATIENT not in result.output
    assert cups.run("lpstat", "-W", "all", "-o", "PDF") == before
    assert not (ws / "print-log.csv").exists()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_pending_personal_job_is_reported_then_purged_by_id(run, cups, write_workspace, cups_pdf_output):
    ws = write_workspace()

    class StopsAfterTheCheck(Cups):
        """The printer stops between the check and the job: a jam, or someone pressing pause."""

        def require_ready(self, queue: str) -> None:
            super().require_ready(queue)
            cups.run("cupsdisable", "PDF")

    from handouts import commands
    from handouts.compose.personal import Personal

    with pytest.raises(PrintError) as caught:
        commands.print_(ws, ["test:overview"], length="brief", personal=Personal(PATIENT), printer="PDF",
                        wait=1, cups=StopsAfterTheCheck())
    job = int(re.search(r"job PDF-(\d+) ", str(caught.value)).group(1))  # type: ignore[union-attr]
    assert str(caught.value) == (
        f"job PDF-{job} has not printed after 1 s (see: lpstat -p PDF); its spool file holds patient data: once "
        f"it has printed, run: handouts print --purge PDF-{job} (or cancel it now with: cancel {job}, then the "
        "same purge)")
    assert [r["outcome"] for r in log_rows(ws)] == ["pending"]
    result = run("print", "--purge", f"PDF-{job}")
    assert result.exit_code == 1
    assert result.stderr == (f"error: job PDF-{job} has not finished printing; purge it once it has, or cancel "
                             f"it first with: cancel {job}\n")
    cups.run("cupsenable", "PDF")
    assert cups_pdf_output[str(job)].exists()  # it printed
    cups.wait_completed(job)
    result = run("print", "--purge", f"PDF-{job}")
    assert result.exit_code == 0, result.output
    assert result.output == f"purged job PDF-{job}\n"
    assert f"PDF-{job} " not in cups.run("lpstat", "-W", "all", "-o", "PDF")
    result = run("print", "--purge", f"PDF-{job}")
    assert (result.exit_code, result.output) == (
        0, f"the print server has no job PDF-{job}: nothing of it is left to purge\n")
    assert not [p for p in cups.spool_files() if re.fullmatch(rf"[cd]0*{job}(-\d+)?", p.name)]


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_missing_queue_is_one_line(run, cups, write_workspace):
    result = run("-w", write_workspace(), "print", "test:overview", "-d", "Nowhere")
    assert (result.exit_code, result.output) == (
        1, "error: cannot print: the CUPS server has no printer queue Nowhere (lpstat -p lists the queues; "
           "known here: PDF)\n")
    result = run("-w", write_workspace(), "print", "test:overview", "-d", "-o evil")
    assert (result.exit_code, result.output) == (1, "error: cannot print: '-o evil' is not a printer queue name\n")


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_stopped_printer_is_one_line(run, cups, write_workspace):
    cups.run("cupsdisable", "-r", "Paper jam", "PDF")
    result = run("-w", write_workspace(), "print", "test:overview", "-d", "PDF")
    assert (result.exit_code, result.output) == (
        1, "error: cannot print: printer PDF is stopped (Paper jam) (an administrator can start it with: "
           "cupsenable PDF)\n")


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_printer_not_accepting_jobs_is_one_line(run, cups, write_workspace):
    cups.run("cupsreject", "PDF")
    result = run("-w", write_workspace(), "print", "test:overview", "-d", "PDF")
    assert (result.exit_code, result.output) == (
        1, "error: cannot print: printer PDF is not accepting jobs (an administrator can allow them with: "
           "cupsaccept PDF)\n")


# --- brands -----------------------------------------------------------------------------------------

@pytest.fixture
def branded(shipped: Path) -> Path:
    """The shipped workspace with two brand files (tests/test_brands.py's North Valley and South Side)."""
    for rel, text in BRANDS.items():
        (shipped / rel).parent.mkdir(parents=True, exist_ok=True)
        (shipped / rel).write_text(text, encoding="utf-8")
    return shipped


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_print_takes_a_brand_and_logs_it(run, cups, branded, cups_pdf_output):
    printed = {}
    for brand in ("north", "south-side", "default"):
        result = run("-w", branded, "print", "sciatica:overview", "-l", "brief", "-d", "PDF", "--brand", brand)
        assert result.exit_code == 0, result.output
        printed[brand] = job_number(result.output)
    names = {"north": "North Valley Clinic", "south-side": "South Side Health",
             "default": load_config(branded / "handouts.yaml", branded).clinic.name}
    marks = {"north": {rgb("#00573f"), rgb("#ff8800")}, "south-side": {rgb("#6b2d8a"), rgb("#0088ff")},
             "default": set()}  # each brand's primary colour and logo
    for brand, job in printed.items():
        cups.wait_completed(job)
        # what was sent: the server keeps a catalog handout's document (PreserveJobFiles), as lp gave it
        [sent] = [p for p in cups.spool_files() if re.fullmatch(rf"d0*{job}-001", p.name)]
        text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(sent).pages).split())
        assert names[brand] in text, brand
        assert not [name for other, name in names.items() if other != brand and name in text], brand
        # the paper: CUPS-PDF re-renders with Ghostscript (its text is Type 3 glyphs, not comparable),
        # so the brand shows in its colours and logo
        seen = colours(cups_pdf_output[str(job)])
        assert marks[brand] <= seen, brand
        assert not [other for other, own in marks.items() if other != brand and own & seen], brand
    rows = log_rows(branded)
    assert [(r["job"], r["brand"], r["topic"], r["outcome"]) for r in rows] == [
        (f"PDF-{job}", brand, "sciatica", "sent") for brand, job in printed.items()]
    # each brand's handout has its own version id (its brand file is one of its inputs)
    assert len({r["version"] for r in rows}) == 3


def test_a_misspelt_brand_is_one_line_before_any_printer_is_asked(run, branded, tmp_path, monkeypatch):
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "none.sock"))  # no server: the brand is checked first
    result = run("-w", branded, "print", "sciatica:overview", "-d", "PDF", "--brand", "nort")
    assert (result.exit_code, result.output) == (
        2, "error: --brand nort: no file brands/nort.yaml (brands: north, south-side); did you mean north?\n")
    result = run("-w", branded, "print", "sciatica:overview", "-d", "PDF", "--brand", "all")
    assert (result.exit_code, result.output) == (
        2, "error: --brand all: a packet or print is for one brand; name one\n")
    assert not (branded / "print-log.csv").exists()


# --- no CUPS at all ----------------------------------------------------------------------------------

def test_no_server_is_one_line(run, write_workspace, tmp_path, monkeypatch):
    if not shutil.which("lpstat"):
        missing("lpstat (cups-client) is not installed")
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "none.sock"))
    result = run("-w", write_workspace(), "print", "test:overview", "-d", "PDF")
    assert (result.exit_code, result.output) == (
        1, f"error: cannot print: no CUPS server is running at {tmp_path / 'none.sock'} (start it with: systemctl "
           "start cups; or set CUPS_SERVER)\n")


def test_no_cups_client_is_one_line(run, write_workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run("-w", write_workspace(), "print", "test:overview", "-d", "PDF")
    assert (result.exit_code, result.output) == (
        1, "error: cannot print: the CUPS command lpstat is not installed (on Debian: apt-get install cups-client)\n")


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_no_printer_named_anywhere_is_one_line(run, cups, write_workspace):
    assert "no system default destination" in cups.run("lpstat", "-d")
    result = run("-w", write_workspace(), "print", "test:overview")
    assert (result.exit_code, result.output) == (
        2, "error: no printer: name one with --printer, or list the clinic's printers in handouts.yaml (printers:)\n")


# --- without a server: config, title, log -------------------------------------------------------------

def test_printers_in_handouts_yaml_are_validated(tmp_path):
    path = tmp_path / "handouts.yaml"
    path.write_text(CONFIG + "printers:\n  - queue: FrontDesk\n    name: Front desk\n"
                    "  - queue: -o evil\n    name: Upstairs\n  - queue: frontdesk\n    name: Front Desk\n"
                    "  - queue: Lab\n")
    with pytest.raises(ContentError) as caught:
        load_config(path, tmp_path)
    assert caught.value.lines() == [
        "handouts.yaml:7: printers[1].queue: a CUPS queue name has letters, digits and _ . @ + - only, and no dash "
        "first (lpstat -p lists the queues)",
        "handouts.yaml:11: printers[3].name: required field is missing",
    ]


def test_a_printer_listed_twice_is_named(tmp_path):
    path = tmp_path / "handouts.yaml"
    path.write_text(CONFIG + "printers:\n  - queue: FrontDesk\n    name: Front desk\n"
                    "  - queue: frontdesk\n    name: Front Desk\n")
    with pytest.raises(ContentError) as caught:
        load_config(path, tmp_path)
    assert caught.value.lines() == [
        "handouts.yaml:7: printers[1].queue: 'frontdesk' is listed twice",
        "handouts.yaml:8: printers[1].name: 'Front Desk' is listed twice"]


def test_job_title_holds_catalog_names_only():
    from handouts.jobs.planning import Job

    assert job_title([Job("sciatica", "overview", "standard", "es", "letter")]) == \
        "handout sciatica overview standard es"
    assert job_title([Job("sciatica", "faq", "brief", "en", "a4", large=True)] * 3) == \
        "packet 3 handouts brief en large"


def test_print_log_appends_and_never_writes_a_formula(tmp_path):
    row = LogRow("2026-11-30T00:00:00Z", "=HYPERLINK(\"x\")", "PDF", "PDF-1", 1, "one-sided", "sciatica",
                 "overview", "brief", "en", "letter", False, "default", "0123456789", "", False, "sent")
    append(tmp_path, [row])
    append(tmp_path, [row])
    lines = (tmp_path / "print-log.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1] == lines[2] == ("2026-11-30T00:00:00Z,\"'=HYPERLINK(\"\"x\"\")\",PDF,PDF-1,1,one-sided,sciatica,"
                                    "overview,brief,en,letter,no,default,0123456789,,no,sent")


def test_print_log_is_never_written_through_a_link(tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "print-log.csv").symlink_to(elsewhere)
    row = LogRow("t", "u", "PDF", "PDF-1", 1, "one-sided", "a", "b", "c", "d", "e", False, "default", "v", "", False, "sent")
    with pytest.raises(PrintError, match=r"^printed, but cannot write the print log print-log.csv: "):
        append(tmp_path / "ws", [row])
    assert not elsewhere.exists()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_refused_purge_is_said_plainly(cups, write_workspace, cups_pdf_output):
    ws = write_workspace()

    class PurgesAsAnotherUser(Cups):
        """cancel and ipptool run as nobody, whom CUPS's policy does not let purge root's job."""

        def run(self, *args: str, stdin: bytes | None = None, check: bool = False) -> subprocess.CompletedProcess[bytes]:
            if args[0] in ("cancel", "ipptool"):
                args = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *args)
            return super().run(*args, stdin=stdin, check=check)

    from handouts import commands
    from handouts.compose.personal import Personal

    with pytest.raises(PrintError) as caught:
        commands.print_(ws, ["test:overview"], length="brief", personal=Personal(PATIENT), printer="PDF",
                        cups=PurgesAsAnotherUser())
    message = str(caught.value)
    job = int(re.search(r"job PDF-(\d+) ", message).group(1))  # type: ignore[union-attr]
    assert message == (f"CUPS refused to purge job PDF-{job} (cancel: cancel-job failed: Forbidden): its spool "
                       "files may still hold patient data; an administrator can remove them with: sudo handouts "
                       f"print --purge PDF-{job} (and set PreserveJobFiles No: README, Printing)")
    assert [r["outcome"] for r in log_rows(ws)] == ["kept"]
    assert cups_pdf_output[str(job)].exists()  # it printed; only the purge was refused
    assert f"PDF-{job} " in cups.run("lpstat", "-W", "all", "-o", "PDF")  # it really is still there
    commands.purge_print_job(f"PDF-{job}")  # as ourselves, the owner: allowed
    assert f"PDF-{job} " not in cups.run("lpstat", "-W", "all", "-o", "PDF")


def test_a_queue_name_may_not_end_in_a_newline():
    """`$` in a Python pattern matches before a last newline: names are matched whole."""
    from handouts.load.config import Printer

    with pytest.raises(ValueError):
        Printer(queue="Front\n", name="Front desk")
    assert Printer(queue="Front", name="Front desk").queue == "Front"
