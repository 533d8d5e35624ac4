"""Render real PDFs and look inside them: size, text, metadata, outline, safety."""

from __future__ import annotations

import re

import pytest

from handouts import Builder, Job, Workspace
from handouts.errors import RenderError, TemplateError

from .conftest import ES, TOPIC
from .pdfs import A4, LETTER, inspect_pdf


def render(root, job: Job):
    builder = Builder(Workspace(root))
    return builder.render(job)


@pytest.fixture
def ws(write_workspace):
    return write_workspace({"data/topics/test/es.yaml": ES})


@pytest.mark.parametrize(("paper", "size"), [("letter", LETTER), ("a4", A4)])
def test_paper_size(ws, paper, size):
    facts = inspect_pdf(render(ws, Job("test", "overview", "brief", "en", paper)).pdf)
    assert facts.size_pt == size
    assert facts.pages == 1


def test_metadata_language_and_outline(ws):
    facts = inspect_pdf(render(ws, Job("test", "overview", "standard", "es", "letter")).pdf)
    assert facts.title == "Hoja de prueba"
    assert facts.author == "Test Clinic"
    assert facts.subject == "Un resumen corto."
    assert re.fullmatch(r"test, overview, M54\.31, version [0-9a-f]{10}", facts.keywords)
    version = facts.keywords.rsplit(" ", 1)[1]
    assert f"Versión {version}" in facts.text  # the same id in the footer, in the handout's language
    assert facts.lang == "es"
    assert facts.tagged
    assert facts.outline == ["Hoja de prueba", "Busque ayuda ahora", "Primera sección", "Fuentes"]


def test_length_chooses_blocks(ws):
    brief = inspect_pdf(render(ws, Job("test", "overview", "brief", "en", "letter")).pdf).text
    standard = inspect_pdf(render(ws, Job("test", "overview", "standard", "en", "letter")).pdf).text
    assert "Only in brief." in brief and "Longer text" not in brief
    assert "Longer text for standard and detailed." in standard and "Only in brief." not in standard


def test_page_footer_and_draft_mark_in_the_handout_language(ws):
    text = inspect_pdf(render(ws, Job("test", "overview", "brief", "es", "letter")).pdf).text
    assert "Página 1 de 1" in text
    assert "Borrador: todavía no lo ha revisado un profesional clínico." in text
    assert "Traducción aún no revisada." in text  # page 1's notice
    assert "Traducción aún no revisada por un traductor médico." in text  # the footer's, on every page
    assert "This translation has not yet been checked by a qualified medical translator." in text
    assert "BUSQUE AYUDA AHORA" in text  # the warning box heading, upper-cased by the print styles


def test_sources_in_full_at_standard_and_by_publisher_at_brief(ws):
    brief = inspect_pdf(render(ws, Job("test", "overview", "brief", "en", "letter")).pdf).text
    standard = inspect_pdf(render(ws, Job("test", "overview", "standard", "en", "letter")).pdf).text
    assert "Sources: NHS." in brief and "https://www.nhs.uk" not in brief
    assert "All pages accessed Nov 1, 2026. NHS. Sciatica. https://www.nhs.uk/conditions/sciatica/" in standard


def test_reviewed_topic_shows_review_date_not_draft_mark(write_workspace):
    reviewed = TOPIC.replace(
        "  status: draft",
        "  status: reviewed\n  reviewed_by: Dr Ana Example, MD\n  reviewed_on: 2026-10-15\n  next_review_due: 2027-10-15",
    )
    root = write_workspace({"data/topics/test/topic.yaml": reviewed})
    text = inspect_pdf(render(root, Job("test", "overview", "brief", "en", "letter")).pdf).text
    assert "Reviewed by Dr Ana Example, MD on October 15, 2026." in text
    assert "Draft" not in text


def test_content_is_escaped_never_markup_or_template(write_workspace):
    from .conftest import EN

    hostile = EN.replace("summary: A short summary.", "summary: \"<img src='file:///etc/passwd'> {{ 7*7 }} **bold**\"")
    root = write_workspace({"data/topics/test/en.yaml": hostile})
    html = Builder(Workspace(root)).html(Job("test", "overview", "brief", "en", "letter"))
    assert "&lt;img src=&#39;file:///etc/passwd&#39;&gt; {{ 7*7 }} <strong>bold</strong>" in html


def test_renderer_refuses_files_outside_the_asset_folders(write_workspace):
    override = '{% extends "!builtin/base.html" %}{% block body %}<img src="file:///etc/hostname">{% endblock %}'
    root = write_workspace({"templates/kinds/overview.html": override})
    with pytest.raises(RenderError) as info:
        render(root, Job("test", "overview", "brief", "en", "letter"))
    assert str(info.value).startswith("refused to read /etc/hostname: it is outside the asset folders")


def test_renderer_refuses_the_network(write_workspace):
    override = '{% extends "!builtin/base.html" %}{% block body %}<img src="https://example.org/x.png">{% endblock %}'
    root = write_workspace({"templates/kinds/overview.html": override})
    with pytest.raises(RenderError) as info:
        render(root, Job("test", "overview", "brief", "en", "letter"))
    assert str(info.value) == (
        "refused to fetch https://example.org/x.png: handouts reads only files inside its asset folders"
    )


def test_templates_run_in_a_sandbox(write_workspace):
    override = "{{ h.__class__.__mro__ }}"
    root = write_workspace({"templates/kinds/overview.html": override})
    with pytest.raises(TemplateError) as info:
        Builder(Workspace(root)).html(Job("test", "overview", "brief", "en", "letter"))
    assert str(info.value).startswith("templates/kinds/overview.html:1: blocked by the template sandbox: ")


def test_template_syntax_error_names_file_and_line(write_workspace):
    root = write_workspace({"templates/kinds/overview.html": "line one\n{% if %}\n"})
    with pytest.raises(TemplateError) as info:
        Builder(Workspace(root)).html(Job("test", "overview", "brief", "en", "letter"))
    assert str(info.value).startswith("templates/kinds/overview.html:2: template syntax error: ")


def test_undefined_template_variable_is_an_error(write_workspace):
    root = write_workspace({"templates/kinds/overview.html": "first line\n{{ h.no_such_field }}"})
    with pytest.raises(TemplateError) as info:
        Builder(Workspace(root)).html(Job("test", "overview", "brief", "en", "letter"))
    assert str(info.value) == (
        "templates/kinds/overview.html:2: no field 'no_such_field' here; the fields are: call_care_team, call_today, codes, "
        "dir, draft, faq, get_help_now, kind, lang, length, next_review_due, questions, reviewed_by, reviewed_on, "
        "sections, source_language, sources, summary, title, topic, translation_draft, updated, updated_iso"
    )


def test_failed_render_never_leaves_a_partial_file(write_workspace, tmp_path):
    override = '{% extends "!builtin/base.html" %}{% block body %}<img src="file:///etc/hostname">{% endblock %}'
    root = write_workspace({"templates/kinds/overview.html": override})
    target = tmp_path / "out.pdf"
    target.write_bytes(b"%PDF-old")
    with pytest.raises(RenderError):
        Builder(Workspace(root)).build_one(Job("test", "overview", "brief", "en", "letter"), target)
    assert target.read_bytes() == b"%PDF-old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf", "ws"]  # no temporary file left


def test_call_today_box_comes_before_call_if_at_every_length(write_workspace):
    from .conftest import EN

    en = EN + (
        "    call_today:\n      items: [You have a fever with back pain]\n"
        "    call_care_team:\n      lengths: [standard]\n      items: [It is not better after a few weeks]\n"
    )
    root = write_workspace({"data/topics/test/en.yaml": en})
    for length in ("brief", "standard", "detailed"):
        text = inspect_pdf(render(root, Job("test", "overview", length, "en", "letter")).pdf).text
        assert "Call your care team today if" in text and "You have a fever with back pain" in text
        assert ("It is not better" in text) == (length == "standard")
        if length == "standard":
            assert text.index("today if") < text.index("Call your care team if") < text.index("It is not better")


def test_source_without_accessed_date_prints_no_date(write_workspace):
    topic = TOPIC + "  - title: Not opened yet\n    publisher: FDA\n    url: https://www.fda.gov/example\n"
    root = write_workspace({"data/topics/test/topic.yaml": topic})
    text = inspect_pdf(render(root, Job("test", "overview", "standard", "en", "letter")).pdf).text
    assert "All pages accessed" not in text
    assert "https://www.nhs.uk/conditions/sciatica/ (accessed Nov 1, 2026)" in text
    assert "FDA. Not opened yet. https://www.fda.gov/example" in text
    assert "example (accessed" not in text
