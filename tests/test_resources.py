"""A resource WeasyPrint refuses or cannot draw (image, SVG reference, font) fails the handout
with one line naming the file, and `handouts check` reports it; it is never dropped silently."""

from __future__ import annotations

import pytest

from .conftest import CONFIG

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" '
       'height="40"><rect width="40" height="40" fill="#1d4e89"/>{inner}</svg>')
ONE = ("build", "test", "-k", "overview", "-l", "brief", "--lang", "en")
JOB = "test overview brief en letter"
OUTSIDE = "refused to read /etc/passwd: it is outside the asset folders (styles/, data/assets/)"
NETWORK = "refused to fetch http://example.org/x.png: handouts reads only files inside its asset folders"


def _logo_ws(write_workspace, name: str, content: str | bytes):
    root = write_workspace({"handouts.yaml": CONFIG + f"  logo: {name}\n"})
    path = root / "data" / "assets" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        ('<image href="file:///etc/passwd" width="10" height="10"/>', OUTSIDE),
        ('<image xlink:href="http://example.org/x.png" width="10" height="10"/>', NETWORK),
    ],
)
def test_an_svg_logo_whose_references_are_refused_fails_the_handout(run, write_workspace, tmp_path, caplog,
                                                                    inner, reason):
    caplog.weasyprint_expected = 1  # WeasyPrint's own log line; the build turns it into a failure
    root = _logo_ws(write_workspace, "logo.svg", SVG.format(inner=inner))
    target = tmp_path / "out.pdf"
    result = run("-w", root, *ONE, "-o", target)
    assert result.exit_code == 1
    assert result.stderr == f"failed: {JOB}: data/assets/logo.svg: SVG image not drawn: {reason}\n"
    assert result.stdout == "0 built, 1 failed.\n"
    assert not target.exists()


def test_a_damaged_png_logo_fails_the_handout(run, write_workspace, tmp_path, caplog):
    caplog.weasyprint_expected = 1
    root = _logo_ws(write_workspace, "logo.png", b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10)
    result = run("-w", root, *ONE, "-o", tmp_path / "out.pdf")
    assert result.exit_code == 1
    assert result.stderr == (
        f"failed: {JOB}: data/assets/logo.png: image not drawn: the file is damaged or not an image format "
        "WeasyPrint reads\n"
    )


def test_a_catalog_build_fails_each_handout_with_a_bad_logo(run, write_workspace, tmp_path, caplog):
    caplog.weasyprint_expected = 3
    root = _logo_ws(write_workspace, "logo.svg", SVG.format(inner='<image href="file:///etc/passwd"/>'))
    result = run("-w", root, "build", "test", "-o", tmp_path / "out", "-q", "-j", "1")
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()) == [
        f"failed: test overview {length} en letter: data/assets/logo.svg: SVG image not drawn: {OUTSIDE}"
        for length in ("brief", "detailed", "standard")
    ]
    assert result.stdout == "0 built, 0 up to date, 3 failed.\n"


def test_a_font_that_cannot_be_loaded_fails_every_handout(run, write_workspace, tmp_path, caplog):
    caplog.weasyprint_expected = 1  # once: the family is remembered as broken, not loaded again
    fonts_css = (REPO_FONTS_CSS + '\n@font-face { font-family: "Broken Sans"; src: url(fonts/broken.ttf); }\n')
    root = write_workspace({
        "handouts.yaml": CONFIG + "  font: Broken Sans\n",
        "styles/fonts.css": fonts_css,
        "styles/fonts/broken.ttf": "this is not a font file\n",
    })
    result = run("-w", root, "build", "test", "-l", "brief", "-l", "standard", "-o", tmp_path / "out", "-q",
                 "-j", "1")
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()) == [
        f"failed: test overview {length} en letter: styles/fonts.css: font 'Broken Sans' cannot be loaded "
        "from styles/fonts/broken.ttf (a file that is not a font, or that cannot be read)"
        for length in ("brief", "standard")
    ]


def test_check_reports_a_logo_that_cannot_be_drawn(run, write_workspace, caplog):
    caplog.weasyprint_expected = 1
    root = _logo_ws(write_workspace, "logo.svg", SVG.format(inner='<image href="file:///etc/passwd"/>'))
    result = run("-w", root, "check", "--no-render", "--problems")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].split(None, 3) == [
        "branding", "ERROR", "brand", f"logo data/assets/logo.svg: SVG image not drawn: {OUTSIDE}",
    ]


def _fonts_css() -> str:
    from handouts.load.workspace import builtin_dir

    css = (builtin_dir("styles") / "fonts.css").read_text(encoding="utf-8")
    return css.replace("url(fonts/", f"url({(builtin_dir('styles') / 'fonts').as_uri()}/")


REPO_FONTS_CSS = _fonts_css()
