"""Many brands from one catalog: brands/<name>.yaml, each printed into output/<name>/, checked and sandboxed."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from handouts import Builder, Job, Workspace, build
from handouts.check.quality import run_checks
from handouts.commands import packet
from handouts.errors import ContentError, UsageError

from .conftest import ES
from .pdfs import inspect_pdf


def svg(colour: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
            f'<rect width="40" height="40" fill="{colour}"/></svg>')


NORTH = """\
clinic:
  name: North Valley Clinic
  logo: north-logo.svg
  phone: (555) 010-0101
  colors:
    primary: '#00573f'
"""

SOUTH = """\
clinic:
  name: South Side Health
  logo: south-logo.svg
  colors:
    primary: '#6b2d8a'
"""

BRANDS = {
    "brands/north.yaml": NORTH,
    "brands/north/north-logo.svg": svg("#ff8800"),  # in the brand's own folder
    "brands/south-side.yaml": SOUTH,
    "data/assets/south-logo.svg": svg("#0088ff"),  # in the workspace's shared assets
}

ONE = {"topics": ["test"], "kinds": ["overview"], "lengths": ["brief"], "langs": ["en"]}


def colours(pdf: Path) -> set[tuple[int, int, int]]:
    """Return the colours of the first page's pixels, drawn at 100 dpi."""
    image = pdfium.PdfDocument(pdf)[0].render(scale=100 / 72).to_pil().convert("RGB")
    return {rgb for _count, rgb in image.getcolors(maxcolors=1 << 24)}


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


@pytest.mark.slow
def test_two_brands_print_their_own_name_colour_and_logo(write_workspace):
    root = write_workspace(BRANDS)
    report = build(root, **ONE, brand="all")
    assert sorted(str(r.path.relative_to(root)) for r in report.built) == [
        "output/north/en/test/overview-brief-letter.pdf",
        "output/south-side/en/test/overview-brief-letter.pdf",
    ]
    assert not (root / "output" / "en").exists()  # the workspace's own clinic was not asked for
    north = root / "output/north/en/test/overview-brief-letter.pdf"
    south = root / "output/south-side/en/test/overview-brief-letter.pdf"
    north_text, south_text = inspect_pdf(north).text, inspect_pdf(south).text
    assert "North Valley Clinic" in north_text and "(555) 010-0101" in north_text
    assert "South Side Health" in south_text
    assert "North Valley" not in south_text and "Test Clinic" not in south_text + north_text
    assert inspect_pdf(north).author == "North Valley Clinic"
    north_colours, south_colours = colours(north), colours(south)
    assert {rgb("#00573f"), rgb("#ff8800")} <= north_colours  # its primary colour and its logo
    assert {rgb("#6b2d8a"), rgb("#0088ff")} <= south_colours
    assert not {rgb("#00573f"), rgb("#ff8800")} & south_colours
    assert not {rgb("#6b2d8a"), rgb("#0088ff")} & north_colours


@pytest.mark.slow
def test_without_brand_the_workspace_clinic_builds_where_it_always_did(write_workspace):
    root = write_workspace(BRANDS)
    report = build(root, **ONE)
    assert [str(r.path.relative_to(root)) for r in report.built] == ["output/en/test/overview-brief-letter.pdf"]
    assert "Test Clinic" in inspect_pdf(report.built[0].path).text
    assert not (root / "output" / "north").exists()


@pytest.mark.slow
def test_manifest_has_an_entry_per_brand_and_an_edit_rebuilds_only_that_brand(write_workspace):
    root = write_workspace(BRANDS)
    first = build(root, **ONE, brand=["default", "all"])
    assert len(first.built) == 3
    # one shard a brand: output/manifest.json for handouts.yaml's clinic, output/<brand>/manifest.json
    shards = {name: json.loads((root / "output" / name / "manifest.json").read_text())["outputs"]
              for name in ("", "north", "south-side")}
    assert {name: [(e["brand"], e["path"]) for e in entries] for name, entries in shards.items()} == {
        "": [("default", "en/test/overview-brief-letter.pdf")],
        "north": [("north", "north/en/test/overview-brief-letter.pdf")],
        "south-side": [("south-side", "south-side/en/test/overview-brief-letter.pdf")],
    }
    assert len({e["key"] for entries in shards.values() for e in entries}) == 3

    again = build(root, **ONE, brand=["default", "all"])
    assert (len(again.built), len(again.skipped)) == (0, 3)

    (root / "brands" / "north.yaml").write_text(NORTH.replace("010-0101", "010-0177"), encoding="utf-8")
    edited = build(root, **ONE, brand=["default", "all"])
    assert [r.job.brand for r in edited.built] == ["north"]
    assert sorted(job.brand for job in edited.skipped) == ["default", "south-side"]
    assert "(555) 010-0177" in inspect_pdf(edited.built[0].path).text

    # a file in the brand's folder (its logo, an override) is part of its handouts' keys too
    (root / "brands" / "north" / "north-logo.svg").write_text(svg("#ff8801"), encoding="utf-8")
    logo = build(root, **ONE, brand=["default", "all"])
    assert [r.job.brand for r in logo.built] == ["north"]
    assert len(json.loads((root / "output" / "north" / "manifest.json").read_text())["outputs"]) == 1


@pytest.mark.slow
def test_a_manifest_from_before_shards_is_read_for_its_own_clinic_only(write_workspace):
    root = write_workspace(BRANDS)
    build(root, **ONE, brand=["default", "north"])
    old = root / "output" / "manifest.json"
    north = json.loads((root / "output" / "north" / "manifest.json").read_text())["outputs"]
    data = json.loads(old.read_text())
    data["outputs"] += north  # the one file that listed every brand before
    old.write_text(json.dumps(data))
    (root / "output" / "north" / "manifest.json").unlink()
    again = build(root, **ONE, brand=["default", "north"])
    assert [r.job.brand for r in again.built] == ["north"]  # built once more, now recorded in its shard
    assert [e["brand"] for e in json.loads((root / "output/north/manifest.json").read_text())["outputs"]] == ["north"]


def test_brand_names_are_checked_with_clear_messages(write_workspace):
    root = write_workspace(BRANDS)
    with pytest.raises(UsageError) as unknown:
        build(root, **ONE, brand="west")
    assert str(unknown.value) == "--brand west: no file brands/west.yaml (brands: north, south-side)"
    with pytest.raises(UsageError) as language:
        build(root, **ONE, brand="es")
    assert str(language.value) == ("--brand es: brand name 'es' looks like a language code, whose handouts go to "
                                   "output/es/; choose another name")
    with pytest.raises(UsageError) as script:
        build(root, **ONE, brand="zh-hans")
    assert str(script.value).startswith("--brand zh-hans: brand name 'zh-hans' looks like a language code")
    with pytest.raises(UsageError) as newline:
        build(root, **ONE, brand="north\n")
    assert str(newline.value) == ("--brand north\n: brand names use lower-case letters, digits and hyphens, like north, "
                                  "at most 63 characters")
    with pytest.raises(UsageError) as slug:
        build(root, **ONE, brand="../north")
    assert str(slug.value) == ("--brand ../north: brand names use lower-case letters, digits and hyphens, like north, "
                               "at most 63 characters")


def test_a_badly_named_brand_file_is_reported_by_build_and_check(write_workspace):
    root = write_workspace({**BRANDS, "brands/North Clinic.yaml": NORTH})
    with pytest.raises(ContentError) as caught:
        build(root, **ONE, brand="all")
    assert caught.value.lines() == [
        "brands/North Clinic.yaml: brand names use lower-case letters, digits and hyphens, like north-clinic, "
        "at most 63 characters",
    ]
    report = run_checks(Workspace(root), render=False)
    assert [(f.check, f.subject, f.message) for f in report.findings if f.level == "error"] == [
        ("config", "brands/North Clinic.yaml", caught.value.lines()[0]),
    ]


def test_a_brand_file_error_names_file_line_and_field(run, write_workspace):
    root = write_workspace({**BRANDS, "brands/north.yaml": NORTH.replace("'#00573f'", "green")})
    result = run("-w", root, "build", "test", "--brand", "north")
    assert result.exit_code == 1
    assert result.stderr == ("error: brands/north.yaml:6: clinic.colors.primary: 'green' is not a colour; write # and "
                             "six hex digits, like \"#0b5d4b\"\n")


def test_a_brand_logo_linked_outside_is_refused(write_workspace, tmp_path):
    outside = tmp_path / "outside.svg"
    outside.write_text(svg("#000000"), encoding="utf-8")
    root = write_workspace({**BRANDS, "brands/north/north-logo.svg": None})
    (root / "brands" / "north").mkdir()
    (root / "brands" / "north" / "north-logo.svg").symlink_to(outside)
    with pytest.raises(ContentError) as caught:
        build(root, **ONE, brand="north")
    assert caught.value.lines() == [
        f"brands/north.yaml:3: clinic.logo: brands/north/north-logo.svg: refused: it leads to {outside}, "
        "outside brands/north/ (links may not point out of it)",
    ]
    assert not (root / "output").exists()


def test_a_brand_template_override_is_used_for_that_brand_only(write_workspace):
    base = ('{% extends "!builtin/base.html" %}\n'
            "{% block after_body %}{{ super() }}<p>Parking is free at North Valley.</p>{% endblock %}\n")
    root = write_workspace({**BRANDS, "brands/north/templates/base.html": base})
    builder = Builder(Workspace(root))
    north = inspect_pdf(builder.render(Job("test", "overview", "brief", "en", "letter", brand="north")).pdf).text
    south = inspect_pdf(builder.render(Job("test", "overview", "brief", "en", "letter", brand="south-side")).pdf).text
    assert "Parking is free at North Valley." in north and "Test handout" in north
    assert "Parking is free" not in south


def test_a_brand_template_override_is_sandboxed(run, write_workspace, tmp_path):
    secret = tmp_path / "secret.html"
    secret.write_text("<p>s3cret</p>", encoding="utf-8")
    override = ('{% extends "!builtin/kinds/overview.html" %}\n'
                '{% block body %}{% include "leak.html" %}{{ "".__class__.__mro__ }}{% endblock %}\n')
    root = write_workspace({**BRANDS, "brands/north/templates/kinds/overview.html": override})
    (root / "brands" / "north" / "templates" / "leak.html").symlink_to(secret)
    result = run("-w", root, "build", "test", "-k", "overview", "-l", "brief", "--lang", "en", "--brand", "north",
                 "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"failed: test overview brief en letter for north: brands/north/templates/leak.html: refused: it leads to "
        f"{secret}, outside brands/north/templates/ (links may not point out of it)"
    )
    assert not (tmp_path / "x.pdf").exists()
    (root / "brands" / "north" / "templates" / "leak.html").unlink()
    (root / "brands" / "north" / "templates" / "leak.html").write_text("", encoding="utf-8")
    result = run("-w", root, "build", "test", "-k", "overview", "-l", "brief", "--lang", "en", "--brand", "north",
                 "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "access to attribute '__class__' of 'str' object is unsafe" in result.stderr


@pytest.mark.slow
def test_check_reports_a_brand_colour_with_its_file_and_line(write_workspace):
    root = write_workspace({**BRANDS, "brands/south-side.yaml": SOUTH.replace("#6b2d8a", "#9ab8d8")})
    report = run_checks(Workspace(root), render=True, large_print=False)
    assert [(f.check, f.subject, f.message) for f in report.findings if f.level == "error"] == [(
        "contrast", "brand south-side",
        "text #9ab8d8 on #ffffff: 2.05:1 at 12 pt bold (WCAG AA needs 4.5:1), e.g. 'Sources' "
        "(brands/south-side.yaml:5: clinic.colors.primary)",
    )]
    subjects = {(f.check, f.subject) for f in report.findings}
    assert {("config", "brand north"), ("branding", "brand north"), ("glyphs", "en for north"),
            ("pages", "test overview brief en a4 for north"), ("contrast", "brand north")} <= subjects


def test_check_reports_a_brand_font_and_footer_languages(write_workspace):
    north = NORTH + "  font: Papyrus\n  footer:\n    en: Call us any time.\n"
    root = write_workspace({**BRANDS, "brands/north.yaml": north, "data/topics/test/es.yaml": ES})
    report = run_checks(Workspace(root), render=False)
    problems = [(f.check, f.level, f.subject, f.message) for f in report.findings if f.level in ("error", "warning")]
    assert problems == [
        ("branding", "warning", "brand north",
         "clinic.footer: no text for es; those handouts print the en line (brands/north.yaml:8: clinic.footer)"),
        ("branding", "error", "brand north",
         "font 'Papyrus' is not declared in styles/fonts.css (declared: Noto Sans, Noto Sans Arabic, Noto Sans CJK SC, "
         "Noto Sans CJK TC, Noto Sans CJK KR) (brands/north.yaml:7: clinic.font)"),
    ]


@pytest.mark.slow
def test_packet_and_cli_take_a_brand(run, write_workspace, tmp_path):
    root = write_workspace(BRANDS)
    report, pages = packet(root, ["test:overview"], tmp_path / "p.pdf", length="brief", brand="south-side")
    assert pages == 1 and "South Side Health" in inspect_pdf(tmp_path / "p.pdf").text
    result = run("-w", root, "build", "test", "-k", "overview", "-l", "brief", "--lang", "en",
                 "--brand", "north", "--brand", "default")
    assert result.exit_code == 0, result.output
    assert (root / "output/north/en/test/overview-brief-letter.pdf").is_file()
    assert (root / "output/en/test/overview-brief-letter.pdf").is_file()
    assert result.output.endswith("2 built, 0 up to date, 0 failed.\n")


def test_a_brand_output_folder_linked_elsewhere_is_refused(write_workspace, tmp_path):
    root = write_workspace(BRANDS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "output").mkdir()
    (root / "output" / "north").symlink_to(elsewhere)
    report = build(root, **ONE, brand="north")
    assert [r.error for r in report.failed] == [
        "refused to write north/en/test/overview-brief-letter.pdf: a link in the output folder leads outside it"
    ]
    assert list(elsewhere.iterdir()) == []


@pytest.mark.slow
def test_an_up_to_date_brand_build_imports_neither_pydantic_nor_weasyprint(write_workspace):
    import os
    import subprocess
    import sys

    root = write_workspace(BRANDS)
    for path in root.rglob("*"):  # files changed in the last seconds are digested afresh, never trusted
        os.utime(path, (1e9, 1e9))
    build(root, **ONE, brand="all")
    code = ("import sys\nfrom handouts import build\n"
            f"report = build({str(root)!r}, topics=['test'], kinds=['overview'], lengths=['brief'], langs=['en'], "
            "brand='all')\n"
            "print(len(report.skipped), 'pydantic' in sys.modules, 'weasyprint' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout == "2 False False\n"


def test_output_into_a_brand_folder_is_refused(write_workspace):
    root = write_workspace(BRANDS)
    with pytest.raises(UsageError) as caught:
        build(root, **ONE, brand="north", output=root / "brands" / "north" / "out")
    assert str(caught.value) == (f"-o {root / 'brands/north/out'}: is the workspace's input brands/; write handouts "
                                 "outside data/, templates/, styles/, brands/ and handouts.yaml")


def test_a_brand_reads_its_file_and_folder_besides_the_workspace_inputs(write_workspace):
    root = write_workspace({**BRANDS, "brands/north/templates/base.html": "x", "brands/north/styles/custom.css": ""})
    ws = Workspace(root)
    north = ws.for_brand("north")
    assert north.search_path("templates") == [root / "brands/north/templates", *ws.search_path("templates")]
    assert north.search_path("styles") == [root / "brands/north/styles", *ws.search_path("styles")]
    assert north.input_paths() == [*ws.input_paths()[:2], *north.search_path("templates"),
                                   *north.search_path("styles"), root / "brands/north.yaml", root / "brands/north"]
    assert ws.for_brand("default") is ws and north.for_brand("north") is north
    assert north.for_brand("south-side").brand == "south-side"


def test_check_reports_css_errors_in_a_brand_stylesheet(write_workspace):
    root = write_workspace({**BRANDS, "brands/north/styles/custom.css": "h1 { colr: red }\n"})
    report = run_checks(Workspace(root), render=False)
    assert [(f.check, f.subject, f.message) for f in report.findings if f.level == "error"] == [(
        "styles", "brands/north/styles/custom.css",
        "brands/north/styles/custom.css:1: unknown property colr (did you mean color?)",
    )]


def test_a_brand_folder_linked_elsewhere_brings_nothing_in(run, write_workspace, tmp_path):
    """brands/<name> as a link: its styles/ and templates/ are outside the workspace, and refused."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "styles").mkdir(parents=True)
    (elsewhere / "styles" / "custom.css").write_text('h1::after { content: " OUTSIDE" }', encoding="utf-8")
    root = write_workspace({**BRANDS, "brands/north.yaml": "clinic:\n  name: North Valley Clinic\n"})
    for path in (root / "brands" / "north").glob("*"):
        path.unlink()
    (root / "brands" / "north").rmdir()
    (root / "brands" / "north").symlink_to(elsewhere, target_is_directory=True)
    result = run("-w", root, "build", "test", "-k", "overview", "-l", "brief", "--lang", "en", "--brand", "north",
                 "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert (f"brands/north/styles/custom.css: refused: it leads to {elsewhere / 'styles' / 'custom.css'}, outside "
            "brands/north/styles/ (links may not point out of it)") in result.stderr
    assert not (tmp_path / "x.pdf").exists()
