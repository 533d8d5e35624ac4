"""One rule of "changed" for every cache: no edit or upgrade leaves a stale PDF up to date,
damaged caches are ignored, and builds into one folder at once keep every manifest entry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handouts import build
from handouts.cache import CACHE_DIR

from .conftest import AR, ES, REPO


def _age(root: Path, seconds: int = 120) -> None:
    """Make every file look last changed a while ago (settled), as files are between edits."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (then, then))


def _edit(path: Path, text: str | None = None) -> None:
    """Change a file's bytes (same size when text is None), then age it like the rest."""
    data = path.read_bytes()
    same_size = data.replace(b"Test", b"Tost", 1) if b"Test" in data else data.replace(b"e", b"E", 1)
    path.write_bytes(same_size if text is None else text.encode())
    then = time.time() - 60
    os.utime(path, (then, then))


@pytest.fixture
def ws(write_workspace):
    root = write_workspace({
        "data/topics/test/es.yaml": ES,
        "templates/partials/extra.html": "<!-- a template of ours -->",
        "styles/custom.css": "h1 { letter-spacing: 0; }\n",
        "data/assets/note.txt": "an asset",
    })
    _age(root)
    return root


def counts(report) -> tuple[int, int]:
    return len(report.built), len(report.skipped)


def _build(root: Path, tmp_path: Path):
    return build(root, lengths=["brief", "standard"], output=tmp_path / "out", workers=1)


@pytest.mark.slow
@pytest.mark.parametrize("changed", ["templates/partials/extra.html", "styles/custom.css", "handouts.yaml",
                                     "data/assets/note.txt"])
def test_a_shared_input_rebuilds_every_handout(ws, tmp_path, changed):
    assert counts(_build(ws, tmp_path)) == (4, 0)
    assert counts(_build(ws, tmp_path)) == (0, 4)
    _edit(ws / changed)  # same size, new bytes: only a content digest sees it
    assert counts(_build(ws, tmp_path)) == (4, 0)


def test_a_language_file_rebuilds_only_its_handouts(ws, tmp_path):
    _build(ws, tmp_path)
    _edit(ws / "data/topics/test/es.yaml", ES.replace("Un resumen corto.", "Un resumen más corto."))
    report = _build(ws, tmp_path)
    assert counts(report) == (2, 2) and {r.job.lang for r in report.built} == {"es"}


@pytest.mark.slow
def test_a_font_rebuilds_every_handout(ws, tmp_path):
    fonts = ws / "styles" / "fonts"
    shutil.copytree(REPO / "styles" / "fonts", fonts, ignore=shutil.ignore_patterns("*CJK*", "*Arabic*"))
    shutil.copy(REPO / "styles" / "fonts.css", ws / "styles" / "fonts.css")
    _age(ws)
    assert counts(_build(ws, tmp_path)) == (4, 0)
    font = sorted(fonts.glob("*.ttf"))[0]
    with font.open("ab") as handle:  # a font file changed on disk (its glyphs, say): every handout may change
        handle.write(b"\0")
    then = time.time() - 60
    os.utime(font, (then, then))
    assert counts(_build(ws, tmp_path)) == (4, 0)


@pytest.mark.slow
def test_the_handouts_code_and_the_renderer_are_in_the_key(ws, tmp_path, monkeypatch):
    """A module of the package changes (as in an upgrade that keeps the version), or the renderer does."""
    import handouts.jobs.batch as batch

    code = tmp_path / "code"
    shutil.copytree(Path(batch.__file__).resolve().parent.parent, code,
                    ignore=shutil.ignore_patterns("__pycache__"))
    files = sorted(p for p in code.rglob("*") if p.suffix in (".py", ".po"))
    monkeypatch.setattr(batch, "code_files", lambda: files)
    monkeypatch.setattr(batch, "PACKAGE_ROOT", code)
    _age(code)
    assert counts(_build(ws, tmp_path)) == (4, 0)
    assert counts(_build(ws, tmp_path)) == (0, 4)
    _edit(code / "compose" / "select.py")
    assert counts(_build(ws, tmp_path)) == (4, 0)
    monkeypatch.setattr(batch, "renderer_fingerprint", lambda: "weasyprint 99.0; pango 9.9")
    assert counts(_build(ws, tmp_path)) == (4, 0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "damage"),
    [
        ("output/manifest.json", '{"outputs": [{"path": "en/test/overview-brief-letter.pdf", "key": "x"}]}'),
        ("output/manifest.json", '{"outputs": {"not": "a list"}}'),
        ("output/manifest.json", "{not json"),
        (f"{CACHE_DIR}/digests.json", '{"format": 3, "data": []}'),
        (f"{CACHE_DIR}/digests.json", '{"format": 3, "data": {"/x": ["a", 1]}}'),
        (f"{CACHE_DIR}/layout.json", '{"format": 3, "data": {"k": {"pages": "many"}}}'),
        (f"{CACHE_DIR}/summary.json", '{"format": 3, "data": {"stamp": 1, "summary": []}}'),
    ],
)
def test_a_damaged_cache_or_manifest_is_ignored(run, ws, tmp_path, where, damage):
    out = ws / "output"
    assert run("-w", ws, "build", "test", "-l", "brief").exit_code == 0
    (ws / where).parent.mkdir(parents=True, exist_ok=True)
    (ws / where).write_text(damage, encoding="utf-8")
    result = run("-w", ws, "build", "test", "-l", "brief")
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    assert run("-w", ws, "check", "--no-render").exit_code == 0
    assert len(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]) == 2


@pytest.mark.slow
def test_three_builds_at_once_keep_every_manifest_entry(write_workspace, tmp_path):
    root = write_workspace({"data/topics/test/es.yaml": ES, "data/topics/test/ar.yaml": AR})
    out = tmp_path / "out"
    procs = [
        subprocess.Popen([sys.executable, "-m", "handouts", "-w", str(root), "build", "test", "--lang", lang,
                          "-o", str(out), "-q", "-j", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for lang in ("en", "es", "ar")
    ]
    try:
        results = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0, 0], results
    entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert sorted((e["language"], e["length"]) for e in entries) == sorted(
        (lang, length) for lang in ("en", "es", "ar") for length in ("brief", "standard", "detailed"))
