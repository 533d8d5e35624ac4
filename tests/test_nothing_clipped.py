"""Nothing is clipped at the page edge: patient fields and long words wrap, in every script."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .conftest import EN, REPO

LONG_LATIN = "Maximiliana Alexandrina Bartholomew-Fitzgerald Vanderbilt-Rockefeller de la Concepción"
LONG_CLINICIAN = "Dr Christopher Jonathan Montgomery-Wellington-Smythe III, MD, FACP, FAAFP"
LONG_CJK = "欧阳" + "慕容司马诸葛上官东方" * 6 + "明"
LONG_ARABIC = "عبد الرحمن بن محمد بن عبد الله بن إبراهيم آل الشيخ القحطاني الدوسري العتيبي الشمري المطيري"
LONG_ARABIC_CLINICIAN = "الدكتورة فاطمة الزهراء بنت عبد العزيز بن عبد الرحمن آل سعود الهاشمية"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _words(pdf: Path) -> list[tuple[int, float, float, float, float, float, float, str]]:
    """Every word pdftotext sees: (page, page width, page height, xmin, ymin, xmax, ymax, text)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    words = []
    for number, (width, height, body) in enumerate(re.findall(
            r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xml, re.S)):
        for x0, y0, x1, y1, text in re.findall(
                r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', body):
            words.append((number, float(width), float(height), float(x0), float(y0), float(x1), float(y1), text))
    return words


def _text(pdf: Path) -> str:
    """The whole text layer, without any whitespace (a wrapped line must still read as one)."""
    text = subprocess.run(["pdftotext", "-nopgbrk", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    return _unspaced(text)


def _unspaced(text: str) -> str:
    return "".join(c for c in text if not c.isspace() and c not in BIDI_CONTROLS)


def _lines_of_letters(pdf: Path) -> str:
    """The lines made only of the letters a to z (the pieces of a long word), joined: what a long
    word prints, without the running header and footer that a page break puts between its pieces."""
    text = subprocess.run(["pdftotext", "-nopgbrk", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    return "".join(line for line in text.splitlines() if re.fullmatch(r"[a-z]+", line))


def assert_nothing_outside_the_page(pdf: Path) -> None:
    outside = [w for w in _words(pdf) if w[3] < 0 or w[4] < 0 or w[5] > w[1] + 0.01 or w[6] > w[2] + 0.01]
    assert not outside, outside


@pytest.mark.parametrize(
    ("lang", "name", "clinician", "follow_up"),
    [
        ("en", LONG_LATIN, LONG_CLINICIAN, "December 15, 2026"),
        ("zh-Hans", LONG_CJK, LONG_CJK[::-1], "2026年12月15日"),
        ("ar", LONG_ARABIC, LONG_ARABIC_CLINICIAN, "15 ديسمبر 2026"),
    ],
)
def test_long_patient_fields_wrap_instead_of_running_off_the_page(run, tmp_path, lang, name, clinician, follow_up):
    target = tmp_path / "patient.pdf"
    result = run("-w", REPO, "build", "sciatica", "-k", "overview", "-l", "standard", "--lang", lang,
                 "--patient-name", name, "--clinician", clinician, "--follow-up", "2026-12-15",
                 "--note", "Bring your medicine list. " + name, "-o", target)
    assert result.exit_code == 0, result.output
    assert_nothing_outside_the_page(target)
    text = _text(target)
    for field in (name, clinician, follow_up):
        if lang == "ar":  # wrapped right-to-left lines come out in visual order: every word, whole
            assert all(part in text for part in field.split()), field
        else:
            assert _unspaced(field) in text, field


def test_a_long_unbroken_word_is_printed_whole(run, write_workspace, tmp_path):
    word = "".join(chr(ord("a") + i % 26) for i in range(3000))
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("Longer text for standard and detailed.", word)})
    target = tmp_path / "word.pdf"
    result = run("-w", root, "build", "test", "-k", "overview", "-l", "detailed", "--lang", "en", "-o", target)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert _lines_of_letters(target) == word
    assert_nothing_outside_the_page(target)


@pytest.mark.slow
def test_a_word_too_long_for_the_page_budget_is_reported(run, write_workspace, tmp_path):
    word = "x" * 20_000
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("Longer text for standard and detailed.", word)})
    target = tmp_path / "word.pdf"
    result = run("-w", root, "build", "test", "-k", "overview", "-l", "detailed", "--lang", "en", "-o", target)
    pages = int(re.search(r"\((\d+) pages\)", result.stdout).group(1))
    assert pages > 4
    assert result.stderr == (
        f"warning: {target}: {pages} pages, over the detailed budget (at most 4)\n"
    )
    assert _lines_of_letters(target) == word
