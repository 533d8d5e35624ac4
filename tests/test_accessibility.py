"""Accessible and print-ready: PDF structure, large print, patient fields, QR codes, same bytes."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from pypdf import PdfReader

from handouts import Builder, Job, Workspace
from handouts.compose.personal import Personal

from .conftest import REPO
from .pdfs import inspect_pdf

JOB = Job("sciatica", "overview", "standard", "en", "letter")


def struct_tags(pdf) -> list[tuple[str, str | None]]:
    """Return the structure tree in reading order, as (tag, alt text) pairs; pdf is a path or bytes."""
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else str(pdf))
    out: list[tuple[str, str | None]] = []

    def walk(node) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if not hasattr(node, "keys"):
            return
        if node.get("/S") is not None:
            out.append((str(node["/S"]), node.get("/Alt")))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return out


@pytest.fixture(scope="module")
def standard_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("a11y") / "overview.pdf"
    Builder(Workspace(REPO)).build_one(JOB, path)
    return path


def test_tagged_with_title_shown_and_language(standard_pdf):
    root = PdfReader(str(standard_pdf)).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert root["/Lang"] == "en"
    assert inspect_pdf(standard_pdf).title == "Sciatica"


def test_headings_in_order_without_skipped_levels(standard_pdf):
    levels = [int(tag[2]) for tag, _ in struct_tags(standard_pdf) if tag in ("/H1", "/H2", "/H3", "/H4", "/H5", "/H6")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert len(levels) >= 6


def test_lists_are_tagged_as_lists(standard_pdf):
    tags = [tag for tag, _ in struct_tags(standard_pdf)]
    assert tags.count("/L") >= 4
    assert tags.count("/LI") == tags.count("/Lbl") == tags.count("/LBody") > 10


def test_warning_box_comes_right_after_the_title_in_reading_order(standard_pdf):
    tags = [tag for tag, _ in struct_tags(standard_pdf)]
    first_h2 = tags.index("/H2")
    assert tags.index("/H1") < first_h2 < tags.index("/L")  # box heading, then its list
    outline = inspect_pdf(standard_pdf).outline
    assert outline[:3] == ["Sciatica", "Get help now", "What is sciatica?"]


def test_running_header_and_footer_stay_out_of_the_reading_order(standard_pdf):
    # Margin boxes (clinic line, page numbers, draft mark) are not in the structure tree.
    reader = PdfReader(str(standard_pdf))
    mcids_in_tree: set[int] = set()

    def collect(node) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, int):
            mcids_in_tree.add(node)
        elif hasattr(node, "keys"):
            if "/MCID" in node:
                mcids_in_tree.add(int(node["/MCID"]))
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                collect(kid)

    collect(reader.trailer["/Root"]["/StructTreeRoot"])
    from pypdf.generic import ContentStream

    page = reader.pages[0]
    marked = [int(ops[1]["/MCID"]) for ops, op in ContentStream(page.get_contents(), reader).operations
              if op == b"BDC" and hasattr(ops[1], "keys") and "/MCID" in ops[1]]
    outside = [m for m in marked if m not in mcids_in_tree]
    assert outside, "the running header and footer should be outside the structure tree"
    assert len(outside) < len(marked) / 2


@pytest.mark.parametrize("lang", ["en", "es", "ar"])
def test_large_print_sizes(lang):
    builder = Builder(Workspace(REPO))
    document = builder.layout(Job("sciatica", "overview", "standard", lang, "letter", large=True))
    sizes = []

    # Sources and the translation notice are 14 pt by design; everything else a patient reads is 18 pt.
    small_print = {"sources", "sources-line", "translation-notice"}

    def walk(box, in_margin=False, in_small=False):
        from weasyprint.formatting_structure import boxes

        in_margin = in_margin or isinstance(box, boxes.MarginBox)
        element = getattr(box, "element", None)
        classes = set((element.get("class") or "").split()) if element is not None else set()
        in_small = in_small or bool(classes & small_print)
        if hasattr(box, "text") and box.text.strip() and not in_margin:
            sizes.append((box.style["font_size"] * 0.75, box.element_tag, in_small))
        for child in getattr(box, "children", ()):
            walk(child, in_margin, in_small)

    for page in document.pages:
        walk(page._page_box)
    assert min(size for size, _, _ in sizes) >= 13.99  # nothing small, not even the sources (14 pt)
    body = [size for size, tag, small in sizes if tag in ("p", "li") and not small]
    assert body and sum(s >= 18 for s in body) / len(body) > 0.9  # body text is 18 pt


@pytest.mark.slow
def test_same_inputs_give_the_same_bytes(tmp_path):
    first, second = tmp_path / "1.pdf", tmp_path / "2.pdf"
    env = {**os.environ, "SOURCE_DATE_EPOCH": ""}
    for target in (first, second):  # two processes: nothing may depend on memory addresses
        subprocess.run([sys.executable, "-m", "handouts", "-w", str(REPO), "build", "sciatica", "-k", "faq",
                        "-l", "brief", "--lang", "zh-Hant", "-o", str(target)], check=True, env=env,
                       capture_output=True)
    assert first.read_bytes() == second.read_bytes()
    assert "D:20261130" in PdfReader(str(first)).metadata["/CreationDate"]  # the topic's updated_on, not the clock


def test_source_date_epoch_sets_the_document_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    pdf = Builder(Workspace(REPO)).render(Job("kratom", "caution", "brief", "en", "a4")).pdf
    import io

    assert PdfReader(io.BytesIO(pdf)).metadata["/CreationDate"].startswith("D:20260101")


def test_metadata_names_topic_codes_and_tool(standard_pdf):
    facts = inspect_pdf(standard_pdf)
    assert facts.keywords.startswith("sciatica, overview, M54.30")
    meta = PdfReader(str(standard_pdf)).metadata
    assert meta["/Creator"].startswith("handouts ")
    assert meta["/Producer"].startswith("WeasyPrint ")
    assert facts.author == "Riverbend Community Health"


# --- patient fields ---

def test_patient_fields_print_in_the_for_you_box(tmp_path):
    from datetime import date

    target = tmp_path / "for-ana.pdf"
    personal = Personal("Ana Ruiz", "Dra. Lee", date(2026, 12, 3), "Camine 10 minutos al día")
    Builder(Workspace(REPO)).build_one(Job("sciatica", "overview", "standard", "es", "letter"), target, personal)
    text = inspect_pdf(target).text
    assert "Para usted Nombre: Ana Ruiz Profesional de salud: Dra. Lee Próxima cita: 3 de diciembre de 2026" in text
    assert "Notas: Camine 10 minutos al día" in text


def test_patient_fields_need_a_named_output_and_stay_out_of_messages(run, tmp_path):
    result = run("-w", REPO, "build", "sciatica", "-k", "overview", "-l", "brief", "--lang", "en",
                 "--patient-name", "Ana Ruiz", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "Ana" not in result.output
    assert not (tmp_path / "out").exists()
    named = tmp_path / "visit.pdf"
    result = run("-w", REPO, "build", "sciatica", "-k", "overview", "-l", "standard", "--lang", "en",
                 "--patient-name", "Ana Ruiz", "--note", "Walk daily", "-o", named)
    assert result.exit_code == 0
    assert "Ana" not in result.output and "Walk daily" not in result.output
    assert "Name: Ana Ruiz" in inspect_pdf(named).text
    assert [p.name for p in tmp_path.iterdir()] == ["visit.pdf"]  # no other file, no temporary left


@pytest.mark.slow
def test_patient_handout_to_standard_output(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "handouts", "-w", str(REPO), "build", "sciatica", "-k", "faq", "-l", "brief",
         "--lang", "en", "--patient-name", "Ana Ruiz", "-o", "-"],
        capture_output=True, check=True,
    )
    assert result.stdout.startswith(b"%PDF-")
    assert b"Ana" not in result.stderr
    assert "Ana Ruiz" in inspect_pdf(result.stdout).text


def test_personal_data_never_shows_in_a_repr():
    assert repr(Personal("Ana Ruiz")) == "Personal(<hidden>)"


def test_write_in_lines_when_configured(write_workspace):
    root = write_workspace({"handouts.yaml": "clinic:\n  name: Test Clinic\ndefaults:\n  patient_box: write-in\n"})
    text = inspect_pdf(Builder(Workspace(root)).render(Job("test", "overview", "brief", "en", "letter")).pdf).text
    assert "For you Name: Clinician: Follow-up:" in text
    default = write_workspace({}, root=root.parent / "default")  # patient_box: omit
    assert "For you" not in inspect_pdf(Builder(Workspace(default)).render(
        Job("test", "overview", "brief", "en", "letter")).pdf).text


# --- QR code ---

def test_qr_code_and_short_address_when_a_url_is_set(write_workspace):
    config = ("clinic:\n  name: Test Clinic\n"
              "  handout_url: https://clinic.example.org/handouts/{topic}/{kind}?lang={lang}\n")
    root = write_workspace({"handouts.yaml": config})
    builder = Builder(Workspace(root))
    html = builder.html(Job("test", "overview", "brief", "en", "letter"))
    assert 'href="https://clinic.example.org/handouts/test/overview?lang=en"' in html
    assert 'src="data:image/svg+xml' in html  # made here, not fetched
    pdf = builder.render(Job("test", "overview", "brief", "en", "letter")).pdf
    text = inspect_pdf(pdf).text.replace(" ", "")
    assert "clinic.example.org/handouts/test/overview?lang=en" in text
    assert ("/Figure", "QR code for clinic.example.org/handouts/test/overview?lang=en") in [
        (t, str(a) if a else None) for t, a in struct_tags(pdf)]


def test_no_qr_code_without_a_url(write_workspace):
    html = Builder(Workspace(write_workspace())).html(Job("test", "overview", "brief", "en", "letter"))
    assert 'class="qr"' not in html
