"""Read what a PDF really contains: pages, page size, text, metadata, outline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader


@dataclass
class PdfFacts:
    pages: int
    size_pt: tuple[float, float]
    text: str
    title: str | None
    author: str | None
    subject: str | None
    keywords: str | None
    lang: str | None
    outline: list[str]
    tagged: bool


def inspect_pdf(path: Path | bytes) -> PdfFacts:
    """Open a PDF with pypdf and collect the facts tests check."""
    import io

    reader = PdfReader(io.BytesIO(path) if isinstance(path, bytes) else str(path))
    box = reader.pages[0].mediabox
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    meta = reader.metadata or {}
    root = reader.trailer["/Root"]
    mark = root.get("/MarkInfo")
    outline = [item.title for item in _flatten(reader.outline)]
    return PdfFacts(
        pages=len(reader.pages),
        size_pt=(round(float(box.width), 1), round(float(box.height), 1)),
        text=re.sub(r"\s+", " ", text),
        title=meta.get("/Title"),
        author=meta.get("/Author"),
        subject=meta.get("/Subject"),
        keywords=meta.get("/Keywords"),
        lang=str(root.get("/Lang")) if root.get("/Lang") is not None else None,
        outline=outline,
        tagged=bool(mark and mark.get_object().get("/Marked")),
    )


def _flatten(items: list) -> list:
    out = []
    for item in items:
        if isinstance(item, list):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


LETTER = (612.0, 792.0)
A4 = (595.3, 841.9)
