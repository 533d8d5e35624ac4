"""Issue 15 experiment: does /ActualText on right-to-left text boxes make the readers return whole sentences?

Builds every Arabic handout of tests/test_arabic_text.py three ways, each in its own process:

- ``none``: as shipped;
- ``logical``: each text box with a right-to-left letter wrapped in
  ``/Span <</ActualText <FEFF...>>> BDC ... EMC`` holding the box's text in logical order (as the
  PDF specification means it), inside WeasyPrint's own ``/Span <</MCID n>> BDC``;
- ``visual``: the same, with the text in visual order (right-to-left runs reversed), to test
  whether the readers treat /ActualText as if it were glyphs in drawing order.

Then counts, for each extractor, the source sentences of ar.yaml that do not come back, at four
levels of strictness (see ``normal``). Also checks that English and Spanish PDFs are byte-identical
with the wrapper installed. Run from the repository root:

    PYTHONPATH=$PWD .venv/bin/python docs/actualtext-experiment.py             # all three
    PYTHONPATH=$PWD .venv/bin/python docs/actualtext-experiment.py --shipped   # as shipped only

The findings are in docs/actualtext.md.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

LEVELS = ("no marks", "marks", "punctuation", "spaces")
LTR_RUN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 .,:\-/()]*[A-Za-z0-9])?|.", re.S)


def install(variant: str) -> None:
    """Wrap weasyprint.draw.draw_text so right-to-left text boxes carry /ActualText."""
    import pydyf
    import weasyprint.draw as draw

    original = draw.draw_text

    def actual_text(text: str) -> str | None:
        if not text.strip() or not any(unicodedata.bidirectional(c) in ("R", "AL") for c in text):
            return None
        text = text.replace("\u00ad", "")
        return "".join(reversed(LTR_RUN.findall(text))) if variant == "visual" else text

    def draw_text(stream: Any, textbox: Any, *args: Any, **kwargs: Any) -> Any:
        text = actual_text(textbox.text) if textbox.style["visibility"] == "visible" else None
        if text is None:
            return original(stream, textbox, *args, **kwargs)
        stream.begin_marked_content("Span", pydyf.Dictionary({"ActualText": pydyf.String(text)}))
        try:
            return original(stream, textbox, *args, **kwargs)
        finally:
            stream.end_marked_content()

    draw.draw_text = draw_text


def build(variant: str, out: Path) -> None:
    """Child process: build the Arabic handouts of the tests, and hash English and Spanish ones."""
    from handouts import Builder, plan
    from tests.test_arabic_text import JOBS, WORKSPACE

    if variant != "none":
        install(variant)
    builder = Builder(WORKSPACE)
    builder.render(JOBS[0])  # fonts and stylesheets loaded before the clock starts
    start = time.perf_counter()
    for job in JOBS:
        path = out / job.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(builder.render(job).pdf)
    print(f"{variant}: {len(JOBS)} Arabic handouts in {time.perf_counter() - start:.2f} s")
    ltr = plan(WORKSPACE, kinds=("overview",), lengths=("brief", "standard"), langs=("en", "es"), papers=("letter",))
    hashes = [hashlib.sha256(builder.render(job).pdf).hexdigest() for job in ltr]
    (out / "ltr.txt").write_text("\n".join(f"{job} {h}" for job, h in zip(ltr, hashes, strict=True)))


def normal(text: str, level: str) -> str:
    """Bidi controls out and NFKC; then keep letters and digits (no marks); or letters, digits and
    marks; or everything but white space (punctuation); or everything with white space collapsed."""
    from tests.test_arabic_text import BIDI_CONTROLS

    text = unicodedata.normalize("NFKC", text.translate(BIDI_CONTROLS))
    if level == "no marks":
        return "".join(c for c in text if c.isalnum() and unicodedata.category(c) != "Mn")
    if level == "marks":
        return "".join(c for c in text if c.isalnum() or unicodedata.category(c) == "Mn")
    if level == "punctuation":
        return "".join(c for c in text if not c.isspace())
    return " ".join(text.split())


def measure(root: Path) -> None:
    from tests.test_arabic_text import EXTRACTORS, JOBS, source_sentences

    for name, extract in EXTRACTORS.items():
        lost = dict.fromkeys(LEVELS, 0)
        total = 0
        for job in JOBS:
            text = extract(root / job.relpath)
            sentences = source_sentences(job)
            total += len(sentences)
            for level in LEVELS:
                page = normal(text, level)
                lost[level] += sum(normal(s, level) not in page for s in sentences)
        print(f"  {name:10} sentences lost of {total}: " + ", ".join(f"{k} {v}" for k, v in lost.items()))


def main() -> None:
    if len(sys.argv) == 3:
        build(sys.argv[1], Path(sys.argv[2]))
        return
    shipped = sys.argv[1:] == ["--shipped"]  # the handouts as shipped only: no /ActualText variants
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("none",) if shipped else ("none", "logical", "visual"):
            out = Path(tmp) / variant
            subprocess.run([sys.executable, __file__, variant, str(out)], check=True)
            measure(out)
        if not shipped:
            same = (Path(tmp) / "none" / "ltr.txt").read_text() == (Path(tmp) / "logical" / "ltr.txt").read_text()
            print("English and Spanish PDFs byte-identical with the wrapper:", same)


if __name__ == "__main__":
    main()
