"""What `handouts list` shows: a matrix of handouts by language, with translation status."""

from __future__ import annotations

from .config import PAPERS
from .errors import UsageError
from .model import LENGTHS, PAGE_BUDGET
from .workspace import Workspace

_CELL = {"source": "source", "draft": "draft", "reviewed": "reviewed"}


def format_listing(workspace: Workspace, code: str | None = None) -> str:
    """Return the listing as text, optionally only the topics for a diagnosis code."""
    catalog = workspace.catalog
    topics = [t for t in catalog if code is None or t.matches_code(code)]
    if code is not None and not topics:
        served = ", ".join(sorted({c for t in catalog for c in t.meta.codes}))
        raise UsageError(f"no handout for code '{code}'; codes served: {served}")
    langs = sorted({lang for t in topics for lang in t.languages}, key=lambda x: (x != "en", x))
    rows = [("TOPIC", "KIND", "REVIEW", *langs, "CODES")]
    for topic in topics:
        for index, kind in enumerate(topic.kinds):
            first = index == 0
            cells = [
                _CELL[topic.translation_status(lang)] if lang in topic.languages else "-" for lang in langs
            ]
            rows.append((
                topic.id if first else "",
                kind,
                topic.meta.review.status if first else "",
                *cells,
                " ".join(topic.meta.codes) if first else "",
            ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows
    ]
    lengths = ", ".join(
        f"{n} ({'exactly 1 page' if n == 'brief' else f'up to {PAGE_BUDGET[n]} pages'})" for n in LENGTHS
    )
    lines += [
        "",
        "REVIEW: clinical review of the topic. Languages: source = the language translations come from;",
        "draft = not yet checked by a qualified medical translator; reviewed = checked; - = none.",
        f"Lengths: {lengths}",
        f"Papers: {', '.join(PAPERS)} (default {workspace.config.defaults.paper})",
    ]
    return "\n".join(line.rstrip() for line in lines)
