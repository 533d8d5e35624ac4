"""A heading keeps at least two lines of what follows, and a paragraph two lines at a page break."""

from __future__ import annotations

import pytest

from handouts import Builder, Workspace, plan
from handouts.render import breaks, pdf
from handouts.vocabulary import PAPERS

from .conftest import REPO

LANGS = ("en", "es", "fr", "ht", "ko", "pt", "ru", "tl", "vi", "zh-Hans", "zh-Hant", "ar")


def _page_of_filler(lines: int) -> str:
    """An overview whose list under 'Kept heading' starts after `lines` one-line paragraphs."""
    filler = "".join(f"          - p: Line {n}.\n" for n in range(lines))
    items = "".join(f"              - Item {n}\n" for n in range(8))
    return f"""\
language: en
handouts:
  overview:
    title: Breaks
    summary: Where pages break.
    get_help_now:
      intro: "Call 911 if you have:"
      items: [Numbness in both legs]
    sections:
      - id: filler
        heading: Filler
        blocks:
{filler}      - id: kept
        heading: Kept heading
        blocks:
          - ul:
{items}"""


@pytest.mark.slow
def test_a_heading_never_ends_a_page_with_one_line_under_it(write_workspace, tmp_path, monkeypatch):
    """Find a layout where CSS alone leaves one list item under a heading, then show the renderer keeps two."""
    job = plan(Workspace(write_workspace()), lengths=["detailed"])[0]
    for lines in range(1, 80):
        root = write_workspace({"data/topics/test/en.yaml": _page_of_filler(lines)}, root=tmp_path / f"ws{lines}")
        monkeypatch.setattr(pdf, "KEEP_PASSES", 0)
        alone = breaks.problems(Builder(Workspace(root)).layout(job))
        if alone:
            break
    else:
        pytest.fail("no layout left a heading with one line under it; change the filler")
    assert [p.message for p in alone] == ["page 1 ends 1 line(s) after the heading 'Kept heading'"], lines
    monkeypatch.setattr(pdf, "KEEP_PASSES", 3)
    document = Builder(Workspace(root)).layout(job)
    assert breaks.problems(document) == []
    leaves = [leaf for page in breaks.pages_of(document) for leaf in page]
    heading = next(i for i, leaf in enumerate(leaves) if "".join(leaf.element.itertext()) == "Kept heading")
    assert leaves[heading + 1].element.get("style") == "break-after: avoid"  # the one line, kept with the next


@pytest.mark.catalog
@pytest.mark.parametrize("lang", LANGS)
def test_shipped_handouts_keep_headings_and_paragraph_lines_together(lang):
    builder = Builder(Workspace(REPO))
    found = []
    for job in plan(builder.workspace, langs=[lang], papers=list(PAPERS), large_print=[False, True]):
        found += [f"{job}: {p.message}" for p in breaks.problems(builder.layout(job))]
    assert found == []
