"""CSS that WeasyPrint would ignore: `check` reports it as errors with file and line, `build` warns once."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from pypdf import PdfReader

from handouts.load.workspace import Workspace, builtin_dir
from handouts.render.stylecheck import MAX_PER_FILE, STYLES_CACHE, css_problems, sources, style_problems

BASE = (builtin_dir("templates") / "base.html").read_text(encoding="utf-8")


def style_findings(run, root, *extra):
    """Run `handouts check --no-render --json` and return its exit code and the styles findings."""
    result = run("-w", root, "check", "--no-render", "--json", *extra)
    data = json.loads(result.stdout)
    return result.exit_code, [(f["level"], f["subject"], f["message"]) for f in data["findings"]
                              if f["check"] == "styles"]


def custom(css):
    return {"styles/custom.css": css}


@pytest.mark.parametrize(("css", "expected"), [
    ("p { colr: red; }\n", ["styles/custom.css:1: unknown property colr (did you mean color?)"]),
    ("p {\n  color: rde;\n}\n", ["styles/custom.css:2: invalid value for color: rde"]),
    ("p {\n  margin: 1px 2px 3px 4px 5px;\n}\n",
     ["styles/custom.css:2: invalid value for margin: 1px 2px 3px 4px 5px (Expected 1 to 4 tokens, got 5)"]),
    (".box {\n  color: red;\n\n.note { color: blue; }\n", ["styles/custom.css:1: `{` is never closed (missing `}`)"]),
    ("p { color: red; }\n}\nh2 { color: blue; }\n", ["styles/custom.css:2: stray `}` with no `{` before it"]),
    ("p { color: red; } ;\n", ["styles/custom.css:1: CSS syntax error: a selector or text with no { } block after it"]),
    ("/* a note\np { color: red; }\n", ["styles/custom.css:1: comment is never closed (missing `*/`)"]),
    ("@medai print {\n  p { color: red; }\n}\n", ["styles/custom.css:1: unknown at-rule @medai (did you mean @media?)"]),
    ("@media;\n", ["styles/custom.css:1: @media needs a { } block"]),
    ("@page {\n  @top-centr { content: 'x'; }\n}\n",
     ["styles/custom.css:2: unknown @page margin box @top-centr (did you mean @top-center?)"]),
    ("p:hovr { color: red; }\n", ["styles/custom.css:1: invalid or unsupported selector p:hovr"]),
    ("p { color: red; }\n@import 'more.css';\n",
     ["styles/custom.css:2: @import must come before every other rule; this one is ignored"]),
    ("p { -weasy-transform: none; }\n",
     ["styles/custom.css:1: prefixed property -weasy-transform is not supported; write transform"]),
])
def test_check_reports_each_kind_of_css_error_with_file_and_line(run, write_workspace, css, expected):
    root = write_workspace(custom(css))
    code, found = style_findings(run, root)
    assert code == 1  # an error, without --strict
    assert found == [("error", "styles/custom.css", message) for message in expected]


def test_the_table_names_file_and_line(run, write_workspace):
    root = write_workspace(custom("h2 {\n  colr: red;\n}\n"))
    result = run("-w", root, "check", "--no-render", "--problems", "--strict")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        "CHECK   RESULT   SUBJECT            DETAIL",
        "styles  ERROR    styles/custom.css  styles/custom.css:2: unknown property colr (did you mean color?)",
    ]


def test_line_numbers_count_comments_strings_and_blank_lines(run, write_workspace):
    css = textwrap.dedent("""\
        /* A comment
           over three lines, with a { brace } and a "quote */
        .note::before { content: "a { b"; }
        .quote::after {
          content: "multi\\
        line";
        }

        .box {
          border: 1pt solid black;
          background: bleu;
          colour: red;
        }
        """)
    root = write_workspace(custom(css))
    assert style_findings(run, root)[1] == [
        ("error", "styles/custom.css", "styles/custom.css:11: invalid value for background: bleu"),
        ("error", "styles/custom.css", "styles/custom.css:12: unknown property colour (did you mean color?)"),
    ]


def test_a_workspace_handout_css_and_fonts_css_are_checked(run, write_workspace):
    handout = (builtin_dir("styles") / "handout.css").read_text(encoding="utf-8")
    lines = handout.splitlines()
    at = lines.index("body { margin: 0; }")
    lines.insert(at + 1, "body { paddding: 0; }")
    fonts = (builtin_dir("styles") / "fonts.css").read_text(encoding="utf-8")
    fonts += '@font-face { font-famly: "Mine"; src: url(fonts/mine.ttf); }\n'
    root = write_workspace({"styles/handout.css": "\n".join(lines) + "\n", "styles/fonts.css": fonts})
    last = len(fonts.splitlines())
    assert style_findings(run, root)[1] == [
        ("error", "styles/handout.css", f"styles/handout.css:{at + 2}: unknown property paddding (did you mean padding?)"),
        ("error", "styles/fonts.css", f"styles/fonts.css:{last}: unknown descriptor font-famly (did you mean font-family?)"),
        ("error", "styles/fonts.css", f"styles/fonts.css:{last}: @font-face without font-family is ignored"),
    ]


def test_a_style_element_in_a_workspace_template_is_checked_on_its_own_line(run, write_workspace):
    text = BASE.replace("html { font-family: {{ family }}; }", "html { font-family: {{ family }}; }\nh1 { colr: red; }")
    assert text != BASE
    root = write_workspace({"templates/base.html": text})
    line = text.splitlines().index("h1 { colr: red; }") + 1
    code, found = style_findings(run, root)
    assert code == 1
    assert found == [("error", "templates/base.html",
                      f"templates/base.html:{line}: unknown property colr (did you mean color?)")]


def test_a_clean_workspace_has_no_css_finding(run, write_workspace):
    root = write_workspace(custom("/* ours */\n.section h2 { color: #0b5d4b; }\n"))
    assert style_findings(run, root, "--strict") == (
        0, [("ok", "styles", "the stylesheets and templates' <style> elements have no CSS errors")])


def test_the_built_in_styles_and_templates_have_no_css_finding():
    found = sources(Workspace(builtin_dir("styles").parent))
    shown = {source.shown for source in found}
    assert {"styles/handout.css", "styles/custom.css", "styles/fonts.css", "templates/base.html"} <= shown
    assert [p for source in found for p in css_problems(source)] == []


@pytest.mark.slow
def test_build_warns_once_per_problem_and_still_builds(run, write_workspace, tmp_path):
    root = write_workspace(custom("h2 {\n  colr: red;\n}\n.box { color: rde; }\n"))
    out = tmp_path / "out"
    result = run("-w", root, "build", "test", "-o", out, "-q", "-j", "1")
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: styles/custom.css:2: unknown property colr (did you mean color?)\n"
        "warning: styles/custom.css:4: invalid value for color: rde\n"
    )  # once, for three handouts
    assert result.stdout == "3 built, 0 up to date, 0 failed.\n"
    pdfs = sorted(out.rglob("*.pdf"))
    assert len(pdfs) == 3
    assert "Only in brief." in PdfReader(pdfs[0]).pages[0].extract_text()


@pytest.mark.slow
def test_a_single_build_warns_too(run, write_workspace, tmp_path):
    root = write_workspace(custom("p { colr: red; }\n"))
    target = tmp_path / "one.pdf"
    result = run("-w", root, "build", "test", "-k", "overview", "-l", "brief", "--lang", "en", "-o", target)
    assert result.exit_code == 0
    assert result.stderr == "warning: styles/custom.css:1: unknown property colr (did you mean color?)\n"
    assert PdfReader(target).pages


@pytest.mark.parametrize(("content", "expected"), [
    ("{" * 20_000, [(1, "`{` is never closed (missing `}`)")]),
    ("p { color: " + "(" * 3000 + ")" * 3000 + "; }\n", [(None, "CSS nested too deeply to read")]),
    ("a {" * 3000 + "}" * 3000, [(1, "WeasyPrint cannot read this rule (SyntaxError: too many nested parentheses "
                                     "(<string>, line 1))")]),
    ("(" * 100 + "\n" + "p { color: red; }\n", [(1, "`(` is never closed (missing `)`)")]),
    ("p { width: calc(1px + ); }\n", [(1, "WeasyPrint cannot read this rule (AssertionError)")]),
    ("p { colr: red; }\n" * 50, [(n, "unknown property colr (did you mean color?)") for n in range(1, MAX_PER_FILE + 1)]
     + [(None, f"{50 - MAX_PER_FILE} more CSS problems not shown")]),
])
def test_hostile_css_cannot_crash_the_check(run, write_workspace, content, expected):
    root = write_workspace()
    (root / "styles").mkdir()
    target = root / "styles" / "custom.css"
    target.write_text(content, encoding="utf-8")
    code, found = style_findings(run, root)
    assert code == 1
    where = [f"styles/custom.css:{line}" if line else "styles/custom.css" for line, _ in expected]
    assert found == [("error", "styles/custom.css", f"{w}: {m}") for w, (_, m) in zip(where, expected, strict=True)]


@pytest.mark.parametrize("make", ["link out", "not utf-8"])
def test_a_file_that_cannot_be_read_is_left_to_the_stage_that_reads_it(run, write_workspace, tmp_path, make):
    """The renderer and the template loader fail with the reason; the CSS check does not say it twice."""
    root = write_workspace()
    (root / "styles").mkdir()
    if make == "link out":
        outside = tmp_path / "elsewhere.css"
        outside.write_text("p { colr: red; }\n", encoding="utf-8")
        os.symlink(outside, root / "styles" / "custom.css")
    else:
        (root / "styles" / "custom.css").write_bytes(b"p { colr: \xff; }\n")
    assert style_findings(run, root) == (
        0, [("ok", "styles", "the stylesheets and templates' <style> elements have no CSS errors")])


def test_results_are_cached_by_content(write_workspace):
    root = write_workspace(custom("p { colr: red; }\n"))
    first = style_problems(Workspace(root))
    assert [str(p) for p in first] == ["styles/custom.css:1: unknown property colr (did you mean color?)"]
    assert (root / ".handouts-cache" / STYLES_CACHE).is_file()
    assert style_problems(Workspace(root)) == first
    (root / "styles" / "custom.css").write_text("p { color: red; }\n", encoding="utf-8")
    assert style_problems(Workspace(root)) == []
    (root / ".handouts-cache" / STYLES_CACHE).write_text("{damaged", encoding="utf-8")
    assert style_problems(Workspace(root)) == []


def test_a_hostile_template_cannot_make_the_style_scan_slow(run, write_workspace):
    """Unclosed <style> elements and template tags by the ten thousand: each is looked for once."""
    root = write_workspace({"templates/extra.html": "<style>" * 10_000 + "{{" * 10_000 + "{%" * 10_000})
    # the line holds template code, so what the CSS parser makes of it is not reported
    assert style_findings(run, root) == (
        0, [("ok", "styles", "the stylesheets and templates' <style> elements have no CSS errors")])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("hostile", ["<style " * 150_000, "<style></style>\n" * 60_000,
                                     "<style>" + "{{ x }}\n" * 100_000 + "</style>"])
def test_a_megabyte_of_style_tags_is_scanned_in_one_pass(run, write_workspace, hostile):
    """Each tag and line is looked at once: an unclosed `<style ` by the hundred thousand once took minutes."""
    root = write_workspace({"templates/extra.html": hostile})
    assert style_findings(run, root)[0] == 0


@pytest.mark.slow
def test_a_packet_warns_once_too(run, write_workspace, tmp_path):
    root = write_workspace(custom("p { colr: red; }\n"))
    target = tmp_path / "packet.pdf"
    result = run("-w", root, "packet", "test:overview", "--lang", "en", "-l", "brief", "-o", target)
    assert result.exit_code == 0
    assert result.stderr == "warning: styles/custom.css:1: unknown property colr (did you mean color?)\n"
    assert len(PdfReader(target).pages) >= 1
