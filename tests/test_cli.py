"""Every command-line path: its output, its exact error line and its exit code."""

from __future__ import annotations

import os
import re
import stat

import pytest

from .conftest import ES
from .pdfs import LETTER, inspect_pdf


@pytest.fixture
def ws(write_workspace):
    return write_workspace({"data/topics/test/es.yaml": ES})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "nope"], "error: unknown topic 'nope'; available: test"),
        (["build", "test", "--kind", "leaflet"], "error: unknown kind 'leaflet'; available: overview"),
        (["build", "test", "--length", "long"], "error: unknown length 'long'; available: brief, standard, detailed"),
        (["build", "test", "--lang", "sp"], "error: unknown language 'sp'; available: en, es; did you mean es?"),
        (["build", "test", "--paper", "legal"], "error: unknown paper 'legal'; available: letter, a4"),
        (["build"], "error: name a topic or use --all; available: test"),
        (["list", "--code", "Z99.9"], "error: no handout for code 'Z99.9'; codes served: M54.31"),
    ],
)
def test_unknown_values_get_one_line_and_exit_2(run, ws, args, message):
    result = run("-w", ws, *args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert result.stdout == ""


def test_content_error_lists_problems_without_traceback(run, write_workspace):
    ws = write_workspace({"data/topics/test/es.yaml": ES.replace("title: Hoja de prueba", "title:")})
    result = run("-w", ws, "build", "test")
    assert result.exit_code == 1
    assert result.stderr == (
        'error: data/topics/test/es.yaml:7: handouts.overview.title: empty; write the text after "title:"\n'
    )
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(write_workspace):
    from click.testing import CliRunner

    from handouts.cli import main
    from handouts.errors import ContentError

    ws = write_workspace({"data/topics/test/es.yaml": ES.replace("title: Hoja de prueba", "title:")})
    result = CliRunner().invoke(main, ["--debug", "-w", str(ws), "build", "test"])
    assert isinstance(result.exception, ContentError)


def test_no_workspace_is_a_clear_error(run, tmp_path):
    result = run("-w", tmp_path, "list")
    assert result.exit_code == 1
    assert result.stderr == f"error: no handouts.yaml in {tmp_path}; run 'handouts init {tmp_path}' to make one\n"


def test_version_names_every_component(run):
    result = run("--version")
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["handouts", "WeasyPrint", "Pango", "Python"]
    assert all(re.fullmatch(r"\S+ \d+(\.\d+)*\S*", line) for line in lines)


def test_every_command_has_help_with_an_example(run):
    for command in ([], ["build"], ["list"], ["init"]):
        result = run(*command, "--help")
        assert result.exit_code == 0
        assert "handouts " in result.stdout.split("Example")[1]


def test_list_shows_kinds_languages_and_status(run, ws):
    result = run("-w", ws, "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "TOPIC  KIND      REVIEW  en      es     CODES",
        "test   overview  draft   source  draft  M54.31",
    ]


def test_list_by_code_prefix(run, ws):
    assert "test" in run("-w", ws, "list", "--code", "m54.3").stdout
    assert run("-w", ws, "list", "--code", "M54.31").exit_code == 0


def test_build_one_handout_to_a_named_file(run, ws, tmp_path):
    target = tmp_path / "one.pdf"
    result = run("-w", ws, "build", "test", "-k", "overview", "-l", "brief", "--lang", "es", "-o", target)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {target} (1 page)\n1 built, 0 failed.\n"
    facts = inspect_pdf(target)
    assert facts.size_pt == LETTER
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # an ordinary file, not a 0600 temp file
    assert "Hoja de prueba" in facts.text


def test_a_file_name_for_many_handouts_is_refused(run, ws, tmp_path):
    result = run("-w", ws, "build", "test", "-o", tmp_path / "one.pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: -o {tmp_path / 'one.pdf'} names one file, but these choices make 6 handouts; give a folder\n"
    )


def test_build_topic_makes_every_kind_length_and_language(run, ws, tmp_path):
    result = run("-w", ws, "build", "test", "-o", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    made = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.pdf"))
    assert made == [
        f"{lang}/test/overview-{length}-letter.pdf"
        for lang in ("en", "es")
        for length in ("brief", "detailed", "standard")
    ]
    assert result.stdout == "6 built, 0 up to date, 0 failed.\n"


def test_a_batch_goes_on_past_a_bad_handout(run, write_workspace, tmp_path):
    # Two kinds; the 'leaflet' kind has no template, so its handouts fail and the others are built.
    from .conftest import EN

    second = EN.split("handouts:\n")[1].replace("  overview:", "  leaflet:")
    ws = write_workspace({"data/topics/test/en.yaml": EN + second})
    result = run("-w", ws, "build", "test", "-l", "brief", "-o", tmp_path / "out", "-q")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "failed: test leaflet brief en letter: template not found: kinds/leaflet.html "
        f"(looked in {(ws / 'templates').as_posix() if (ws / 'templates').is_dir() else _builtin('templates')})"
    ]
    assert result.stdout == "1 built, 0 up to date, 1 failed.\n"
    assert (tmp_path / "out/en/test/overview-brief-letter.pdf").is_file()
    assert not (tmp_path / "out/en/test/leaflet-brief-letter.pdf").exists()


def _builtin(name: str) -> str:
    from handouts.errors import display_path
    from handouts.load.workspace import builtin_dir

    return display_path(builtin_dir(name))


def test_init_makes_a_workspace_that_builds(run, tmp_path):
    target = tmp_path / "clinic"
    result = run("init", target)
    assert result.exit_code == 0, result.output
    assert (target / "handouts.yaml").is_file()
    assert (target / "templates").is_dir() and (target / "styles").is_dir()
    # every "next step" is a real command (there is no `edit` command)
    assert result.stdout.splitlines()[-1] == (
        f"Next: edit {target}/handouts.yaml (your clinic's name, logo, colours), then run: "
        f"cd {target} && handouts build --all")
    built = run("-w", target, "build", "--all", "-l", "brief", "--lang", "en", "-q")
    assert built.exit_code == 0, built.output
    pdfs = sorted((target / "output").rglob("*.pdf"))
    assert pdfs, "init's sample topics should build"
    assert inspect_pdf(pdfs[0]).author == "Your Clinic Name"


def test_init_refuses_an_existing_workspace(run, ws):
    result = run("init", ws)
    assert result.exit_code == 1
    assert result.stderr == f"error: {ws / 'handouts.yaml'} already exists; not changing an existing workspace\n"


def test_reviewed_only_refuses_drafts_with_a_clear_message(run, ws, tmp_path):
    result = run("-w", ws, "build", "test", "-l", "brief", "--lang", "es", "--reviewed-only", "-o", tmp_path / "o")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "refused: test overview brief es letter: not reviewed by a clinician and translation not checked "
        "by a qualified medical translator (--reviewed-only)",
        "error: nothing to build: all 1 chosen handouts are unreviewed drafts (--reviewed-only)",
    ]
    assert not (tmp_path / "o").exists()


def test_reviewed_only_builds_what_is_reviewed(run, write_workspace, tmp_path):
    from .conftest import TOPIC

    reviewed = TOPIC.replace(
        "  status: draft",
        "  status: reviewed\n  reviewed_by: Dr Ana Example, MD\n  reviewed_on: 2026-10-15\n  next_review_due: 2027-10-15",
    )
    ws = write_workspace({"data/topics/test/topic.yaml": reviewed, "data/topics/test/es.yaml": ES,
                          "handouts.yaml": "clinic:\n  name: Test Clinic\ndefaults:\n  reviewed_only: true\n"})
    result = run("-w", ws, "build", "test", "-l", "brief", "-o", tmp_path / "o")
    assert result.exit_code == 0
    assert result.stderr == (
        "refused: test overview brief es letter: translation not checked by a qualified medical translator "
        "(--reviewed-only)\n"
    )
    assert [p.name for p in (tmp_path / "o").rglob("*.pdf")] == ["overview-brief-letter.pdf"]
    assert run("-w", ws, "build", "test", "-l", "brief", "--any-status", "-o", tmp_path / "p").exit_code == 0
    assert len(list((tmp_path / "p").rglob("*.pdf"))) == 2


def test_init_notes_point_at_sections_the_readme_has(run, tmp_path):
    import re

    from .conftest import REPO

    run("init", tmp_path / "clinic")
    headings = {line.lstrip("#").strip() for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("#")}
    named = 0
    for note in ("templates/README.txt", "styles/README.txt", "handouts.yaml"):
        text = (tmp_path / "clinic" / note).read_text(encoding="utf-8")
        for section in re.findall(r'(?:"|\()"?([^"()]+)"?(?:"|\))? in the\s+README|README \("([^"]+)"\)', text):
            section = next(part for part in section if part)
            named += 1
            assert " ".join(section.split()) in headings, f"{note} names a README section that does not exist: {section}"
    assert named >= 2
    config = (tmp_path / "clinic" / "handouts.yaml").read_text(encoding="utf-8")
    assert "(SVG, PNG or JPEG)" in config  # as the README and the check say


@pytest.mark.parametrize(("extra", "message"), [({}, "valid; en only, no translations"),
                                                ({"data/topics/test/es.yaml": ES}, "valid; translations match en: es")])
def test_check_says_which_translations_it_compared(run, write_workspace, extra, message):
    result = run("-w", write_workspace(extra), "check", "--no-render")
    assert message in result.output
