"""Languages: right-to-left layout, logical text order, fonts per script, catalogs, codes."""

from __future__ import annotations

import re
import subprocess

import pytest

from handouts import Builder, Job, Workspace
from handouts.compose.i18n import format_date, po_path, translations
from handouts.load.languages import font_stack

from .conftest import AR, REPO
from .pdfs import inspect_pdf

SHIPPED = ("en", "es", "zh-Hans", "zh-Hant", "vi", "tl", "ko", "ar", "ru", "ht", "fr", "pt")


@pytest.fixture
def arabic(write_workspace):
    return write_workspace({"data/topics/test/ar.yaml": AR})


def test_arabic_page_is_right_to_left(arabic):
    html = Builder(Workspace(arabic)).html(Job("test", "overview", "brief", "ar", "letter"))
    assert '<html lang="ar" dir="rtl"' in html
    # The footer sits on the right and the page number on the left: the page is mirrored.
    assert "@bottom-right { content: element(footer);" in html
    assert "text-align: left;" in html


def tokens(text: str) -> list[str]:
    """Split text into runs of one script (Arabic letters, digits, Latin letters), dropping the rest.

    pdftotext marks embedded left-to-right runs with bidi controls and may move a space or a
    full stop across a run's edge; the order of the words is what logical order means here.
    """
    return re.findall(r"[\u0600-\u06FF]+|[0-9]+|[A-Za-z]+", text)


def contains(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def test_arabic_text_extracts_in_logical_order(arabic, tmp_path):
    pdf = tmp_path / "ar.pdf"
    Builder(Workspace(arabic)).build_one(Job("test", "overview", "brief", "ar", "letter"), pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = tokens(text)
    assert contains(words, tokens("اتصل بالرقم 911 إذا كان لديك:"))  # digits inside Arabic keep their place
    assert contains(words, tokens("تناول دواء ibuprofen مرتين في اليوم."))  # and a Latin word
    assert contains(words, tokens("ملخص قصير عن وجع الظهر."))
    assert not contains(words, list(reversed(tokens("ملخص قصير عن وجع الظهر."))))
    assert inspect_pdf(pdf).lang == "ar"


def test_each_script_gets_its_own_font():
    assert font_stack("en", "Noto Sans") == ("Noto Sans",)
    assert font_stack("ar", "Noto Sans") == ("Noto Sans Arabic", "Noto Sans")  # its punctuation too (issue 15)
    assert font_stack("ar", "Atkinson") == ("Noto Sans Arabic", "Atkinson", "Noto Sans")
    assert font_stack("zh-Hant", "Atkinson") == ("Atkinson", "Noto Sans", "Noto Sans CJK TC")
    assert font_stack("ko", "Noto Sans") == ("Noto Sans", "Noto Sans CJK KR")


def test_arabic_pdf_embeds_the_arabic_font(arabic, tmp_path):
    pdf = tmp_path / "ar.pdf"
    Builder(Workspace(arabic)).build_one(Job("test", "overview", "brief", "ar", "letter"), pdf)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "NotoSansArabic" in fonts.replace("-", "").replace(" ", "")
    assert "DejaVu" not in fonts  # nothing came from the machine's own fonts


@pytest.mark.parametrize("lang", [lang for lang in SHIPPED if lang != "en"])
def test_every_shipped_language_has_a_complete_catalog(lang):
    path = po_path(lang)
    assert path.is_file(), f"no template strings for {lang}: {path}"
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    with (REPO / "handouts/locale/handouts.pot").open("rb") as handle:
        template = read_po(handle)
    wanted = {m.id for m in template if m.id}
    done = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert wanted <= done, f"{lang}: untranslated: {sorted(wanted - done)}"
    for message in catalog:
        if message.id and "{" in message.id:
            placeholders = sorted(part.split("}")[0] for part in message.id.split("{")[1:])
            got = sorted(part.split("}")[0] for part in message.string.split("{")[1:])
            assert got == placeholders, f"{lang}: {message.id!r} -> {message.string!r}"


def test_page_number_words_come_from_the_catalog():
    assert translations("es").gettext("Page {page} of {pages}") == "Página {page} de {pages}"


def test_dates_are_formatted_for_the_language():
    from datetime import date

    day = date(2026, 11, 25)
    assert format_date(day, "es") == "25 de noviembre de 2026"
    assert format_date(day, "ht") == "25 novanm 2026"  # CLDR lends Haitian Creole the French names


def test_every_shipped_language_is_shipped():
    ws = Workspace(REPO)
    for topic in ws.catalog:
        assert set(topic.languages) == set(SHIPPED), topic.id


def test_latin_runs_read_left_to_right_on_arabic_pages(write_workspace):
    """Drug names, phone numbers and '7-OH' keep their own order inside Arabic text, with no control characters."""
    root = write_workspace({"data/topics/test/ar.yaml": AR.replace("ibuprofen", "ibuprofen 7-OH (1-800-662-4357)")})
    html = Builder(Workspace(root)).html(Job("test", "overview", "brief", "ar", "letter"))
    assert '<span dir="ltr">ibuprofen 7-OH</span> (<span dir="ltr">1-800-662-4357</span>)' in html
    english = Builder(Workspace(root)).html(Job("test", "overview", "brief", "en", "letter"))
    assert '<span dir="ltr">' not in english.split("<main>", 1)[1].split('class="sources', 1)[0]


@pytest.mark.parametrize(("lang", "expected"), [("ko", "2026. 11. 25"), ("vi", "25 tháng 11, 2026"),
                                                ("en", "Nov 25, 2026")])
def test_short_dates_read_plainly(lang, expected):
    """Korean gets no double full stop ('25..') in a sentence; Vietnamese no abbreviated month ('thg 11')."""
    from datetime import date

    assert format_date(date(2026, 11, 25), lang, "medium") == expected


def test_an_abbreviation_keeps_its_full_stop():
    from datetime import date

    assert format_date(date(2026, 11, 25), "ru", "medium").endswith("г.")
