"""Figures: a picture from data/assets/ with alt text, a caption and a key, tagged as a Figure in the PDF;
every problem with its file is one clear error, and no image gets past the limits on bytes and pixels."""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts.limits import Limits
from handouts.load.images import raster_size

from .conftest import EN, ES

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="80"><rect width="40" height="80"/></svg>'
#: The figure block added as the last block of the test topic's section, shown in standard and detailed.
FIGURE = """\
          - figure:
              src: {src}
              alt: A drawing of a leg
              caption: Where the nerve runs
              key: [Lower back, Back of the leg]
            lengths: [{lengths}]
"""
ES_FIGURE = """\
          - figure:
              src: {src}
              alt: Un dibujo de una pierna
              caption: Por dónde pasa el nervio
              key: [Parte baja de la espalda, Parte de atrás de la pierna]
            lengths: [{lengths}]
"""
SRC_FIELD = "data/topics/test/en.yaml:19: handouts.overview.sections[0].blocks[3].figure.src"
ONE = ("build", "test", "-k", "overview", "-l", "standard", "--lang", "en")


def png(width: int, height: int) -> bytes:
    """Return a PNG with this header; its pixels are real only when it is small."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height)) if width * height < 10_000 else b""
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def figure_ws(write_workspace, src: str = "leg.svg", content: str | bytes | None = SVG,
              lengths: str = "standard, detailed", es: bool = False) -> Path:
    files = {"data/topics/test/en.yaml": EN + FIGURE.format(src=src, lengths=lengths)}
    if es:
        files["data/topics/test/es.yaml"] = ES + ES_FIGURE.format(src=src, lengths=lengths)
    root = write_workspace(files)
    if content is not None:
        path = root / "data" / "assets" / src
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def figures(pdf: bytes) -> list[str]:
    """Return the alt text of every /Figure element in a PDF's structure tree, in order."""
    reader = PdfReader(io.BytesIO(pdf))
    found: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if hasattr(node, "get"):
            if node.get("/S") == "/Figure":
                found.append(str(node.get("/Alt")))
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def images(pdf: bytes) -> list[tuple[int, int]]:
    """Return (width, height) of every raster image drawn on the PDF's pages."""
    reader = PdfReader(io.BytesIO(pdf))
    sizes = []
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject") or {}
        for ref in xobjects.values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                sizes.append((int(xobject["/Width"]), int(xobject["/Height"])))
    return sizes


def text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60).stdout
    return re.sub(r"\s+", " ", out.decode())


def build_pdf(run, root: Path, tmp_path: Path, *args: str, name: str = "out.pdf") -> bytes:
    target = tmp_path / name
    result = run("-w", root, *(args or ONE), "-o", target)
    assert result.exit_code == 0, result.output
    return target.read_bytes()


# --- in the PDF ----------------------------------------------------------------------------------

def test_a_figure_is_drawn_tagged_with_its_alt_text_and_captioned(run, write_workspace, tmp_path):
    root = figure_ws(write_workspace, "leg.png", png(30, 60))
    pdf = build_pdf(run, root, tmp_path)
    assert figures(pdf) == ["A drawing of a leg"]
    assert images(pdf) == [(30, 60)]
    assert "Where the nerve runs 1. Lower back 2. Back of the leg" in text(pdf)


def test_a_figure_shows_only_in_its_lengths(run, write_workspace, tmp_path):
    root = figure_ws(write_workspace, lengths="detailed")
    assert figures(build_pdf(run, root, tmp_path)) == []
    detailed = build_pdf(run, root, tmp_path, "build", "test", "-k", "overview", "-l", "detailed", "--lang", "en")
    assert figures(detailed) == ["A drawing of a leg"]


def test_a_translation_has_its_own_alt_text_and_caption(run, write_workspace, tmp_path):
    root = figure_ws(write_workspace, es=True)
    pdf = build_pdf(run, root, tmp_path, "build", "test", "-k", "overview", "-l", "standard", "--lang", "es")
    assert figures(pdf) == ["Un dibujo de una pierna"]
    assert "Por dónde pasa el nervio 1. Parte baja de la espalda 2. Parte de atrás de la pierna" in text(pdf)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ar", "zh-Hans"])
def test_the_shipped_sciatica_drawing_is_on_the_standard_overview(tmp_path, lang):
    from handouts.jobs.pipeline import Builder
    from handouts.jobs.planning import Job
    from handouts.load.workspace import Workspace

    from .conftest import REPO

    workspace = Workspace(REPO)
    figure = workspace.catalog.topics["sciatica"].handout("overview", lang).sections[0].blocks[1].figure
    assert figure is not None and figure.src == "sciatic-nerve.svg" and len(figure.key or ()) == 4
    pdf = Builder(workspace).render(Job("sciatica", "overview", "standard", lang, "letter")).pdf
    assert figures(pdf) == [figure.alt]
    if lang != "ar":  # Arabic reading order is test_arabic_text.py's business
        squeezed = "".join(text(pdf).split())  # Chinese lines break between any two characters
        for item in (figure.caption, *figure.key):  # type: ignore[misc]
            assert "".join(item.split()) in squeezed


# --- the file: errors naming file, line and field ------------------------------------------------

def test_alt_text_is_required(run, write_workspace):
    root = figure_ws(write_workspace)
    path = root / "data/topics/test/en.yaml"
    path.write_text(path.read_text().replace("              alt: A drawing of a leg\n", ""))
    result = run("-w", root, *ONE)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: data/topics/test/en.yaml:18: handouts.overview.sections[0].blocks[3].figure: alt: required: say in "
        "words what the picture shows (screen readers read it aloud)\n"
    )


@pytest.mark.parametrize(
    ("src", "content", "message"),
    [
        ("nope.svg", None, "file not found: data/assets/nope.svg"),
        ("../topics/test/topic.yaml", None, "the figure must be a file inside data/assets/"),
        ("/etc/passwd", None, "the figure must be a file inside data/assets/"),
        ("leg.gif", b"GIF89a" + b"\0" * 20, "use an SVG, PNG or JPEG file"),
        ("leg.png", b"this is not a picture", "data/assets/leg.png: not a PNG file"),
        ("leg.jpg", b"\x89PNG\r\n\x1a\n", "data/assets/leg.jpg: not a JPEG file"),
        ("leg.svg", "<svg><rect></svg>", "data/assets/leg.svg: not valid SVG: mismatched tag: line 1, column 13"),
        ("leg.png", png(100_000, 100_000),
         "data/assets/leg.png: 100000 x 100000 pixels, more than 25000000 pixels (the limit: HANDOUTS_LIMIT_IMAGE_PIXELS)"),
    ],
)
def test_a_figure_file_that_cannot_be_shown_is_an_error(run, write_workspace, src, content, message):
    root = figure_ws(write_workspace, src, content)
    result = run("-w", root, *ONE)
    assert result.exit_code == 1
    assert result.stderr == f"error: {SRC_FIELD}: {message}\n"


def test_a_figure_link_out_of_data_assets_is_refused(run, write_workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leg.svg").write_text(SVG)
    root = figure_ws(write_workspace, "leg.svg", None)
    (root / "data" / "assets").mkdir(parents=True, exist_ok=True)
    (root / "data" / "assets" / "leg.svg").symlink_to(outside / "leg.svg")
    result = run("-w", root, *ONE)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {SRC_FIELD}: data/assets/leg.svg: refused: it leads to {outside / 'leg.svg'}, outside data/assets/ "
        "(links may not point out of it)\n"
    )


def test_a_file_over_the_size_limit_is_an_error(run, write_workspace, monkeypatch):
    monkeypatch.setenv("HANDOUTS_LIMIT_IMAGE_BYTES", "1000")
    root = figure_ws(write_workspace, "leg.svg", SVG.replace("</svg>", "<!--" + "x" * 1000 + "--></svg>"))
    result = run("-w", root, *ONE)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {SRC_FIELD}: data/assets/leg.svg: larger than 1000 bytes (the limit: HANDOUTS_LIMIT_IMAGE_BYTES)\n"
    )


def test_the_default_limits():
    assert (Limits().image_bytes, Limits().image_pixels) == (5_000_000, 25_000_000)


def test_a_translation_must_have_the_same_figure(run, write_workspace):
    root = figure_ws(write_workspace, es=True)
    path = root / "data/topics/test/es.yaml"
    path.write_text(path.read_text().replace(", Parte de atrás de la pierna]", "]"))
    result = run("-w", root, *ONE)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: data/topics/test/es.yaml:21: handouts.overview.sections[id=first].block 4: is figure leg.svg with a "
        "caption and a key of 1 items in standard/detailed; en.yaml has figure leg.svg with a caption and a key of "
        "2 items in standard/detailed\n"
    )


def test_the_logo_is_held_to_the_same_limits(run, write_workspace):
    root = write_workspace({"handouts.yaml": "clinic:\n  name: Test Clinic\n  logo: logo.png\n"})
    (root / "data" / "assets").mkdir(parents=True)
    (root / "data" / "assets" / "logo.png").write_bytes(png(30_000, 30_000))
    result = run("-w", root, *ONE)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: handouts.yaml:3: clinic.logo: data/assets/logo.png: 30000 x 30000 pixels, more than 25000000 pixels "
        "(the limit: HANDOUTS_LIMIT_IMAGE_PIXELS)\n"
    )


# --- what the renderer refuses, wherever the image is named --------------------------------------

@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        ('<image href="file:///etc/passwd" width="10" height="10"/>',
         "refused to read /etc/passwd: it is outside the asset folders (styles/, data/assets/)"),
        ('<image href="http://example.org/x.png" width="10" height="10"/>',
         "refused to fetch http://example.org/x.png: handouts reads only files inside its asset folders"),
    ],
)
def test_an_svg_figure_never_reads_outside_files_or_the_network(run, write_workspace, tmp_path, caplog,
                                                                inner, reason):
    caplog.weasyprint_expected = 1  # WeasyPrint's own log line; the build turns it into a failure
    root = figure_ws(write_workspace, "leg.svg", SVG.replace("</svg>", inner + "</svg>"))
    target = tmp_path / "out.pdf"
    result = run("-w", root, *ONE, "-o", target)
    assert result.exit_code == 1
    assert result.stderr == f"failed: test overview standard en letter: data/assets/leg.svg: SVG image not drawn: {reason}\n"
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bomb.png", png(100_000, 100_000),
         "100000 x 100000 pixels, more than 25000000 pixels (the limit: HANDOUTS_LIMIT_IMAGE_PIXELS)"),
        ("dots.gif", b"GIF89a" + b"\0" * 20, "use an SVG, PNG or JPEG file"),
    ],
)
def test_an_image_named_by_a_stylesheet_is_held_to_the_limits_before_it_is_decoded(run, write_workspace, tmp_path,
                                                                                  name, content, message):
    root = write_workspace({"styles/custom.css": f"main {{ background-image: url({name}); }}\n"})
    (root / "styles" / name).write_bytes(content)
    result = run("-w", root, *ONE, "-o", tmp_path / "out.pdf")  # filterwarnings=error: a Pillow warning would crash
    assert result.exit_code == 1
    assert result.stderr == f"failed: test overview standard en letter: styles/{name}: {message}\n"


# --- headers --------------------------------------------------------------------------------------

def test_raster_sizes_come_from_the_header():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (37, 21)).save(out, "JPEG", quality=50)
    assert raster_size(out.getvalue()) == (37, 21)
    out = io.BytesIO()
    Image.new("L", (5, 9)).save(out, "PNG")
    assert raster_size(out.getvalue()) == (5, 9)
    # a JPEG whose frame header claims 65000 x 65000, after an APP segment
    bomb = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 6) + b"JFIF" + b"\xff\xc0" + struct.pack(
        ">HBHHB", 11, 8, 65000, 65000, 1) + b"\x01\x11\x00"
    assert raster_size(bomb) == (65000, 65000)
    assert raster_size(b"\xff\xd8\xff\xda\x00\x02") is None  # image data before any frame header
    # a decoy 1 x 1 frame header before the real one: the largest counts (a decoder may take the last)
    decoy = b"\xff\xd8" + b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00" + bomb[2:]
    assert raster_size(decoy) == (65000, 65000)
    assert raster_size(b"GIF89a") is None


def test_the_shipped_drawing_is_small_self_contained_svg():
    from .conftest import REPO

    path = REPO / "data" / "assets" / "sciatic-nerve.svg"
    data = path.read_bytes()
    assert len(data) < 10_000
    assert not re.search(rb"href|url\(|<text|<image|<!DOCTYPE|<!ENTITY", data)  # no references, no words
    assert os.path.exists(REPO / "data" / "assets" / "README.md")


def test_a_handout_with_a_figure_is_the_same_bytes_every_time(run, write_workspace, tmp_path):
    root = figure_ws(write_workspace, "leg.png", png(30, 60))
    first = build_pdf(run, root, tmp_path, name="first.pdf")
    assert build_pdf(run, root, tmp_path, name="second.pdf") == first


def test_a_bomb_in_a_data_url_written_by_a_template_is_refused(run, write_workspace, tmp_path):
    import base64

    bomb = base64.b64encode(png(100_000, 100_000)).decode()
    override = ('{% extends "!builtin/kinds/overview.html" %}{% block body %}{{ super() }}'
                f'<img src="data:image/png;base64,{bomb}" alt="x">{{% endblock %}}')
    root = write_workspace({"templates/kinds/overview.html": override})
    result = run("-w", root, *ONE, "-o", tmp_path / "out.pdf")
    assert result.exit_code == 1
    assert result.stderr == (
        "failed: test overview standard en letter: an image in a data: URL: 100000 x 100000 pixels, more than "
        "25000000 pixels (the limit: HANDOUTS_LIMIT_IMAGE_PIXELS)\n"
    )
