"""What `handouts list` shows: a matrix of handouts by language, with translation status."""

from __future__ import annotations

from handouts.errors import UsageError
from handouts.load.summary import catalog_summary, matches_code
from handouts.load.workspace import Workspace
from handouts.vocabulary import PAGE_BUDGET, PAPERS

_CELL = {"source": "source", "draft": "draft", "reviewed": "reviewed"}


def format_listing(workspace: Workspace, code: str | None = None) -> str:
    """Return the listing as text, optionally only the topics for a diagnosis code."""
    summary = catalog_summary(workspace)
    topics = [t for t in summary["topics"] if code is None or matches_code(t["codes"], code)]
    if code is not None and not topics:
        served = ", ".join(sorted({c for t in summary["topics"] for c in t["codes"]}))
        raise UsageError(f"no handout for code '{code}'; codes served: {served}")
    langs = sorted({lang for t in topics for lang in t["languages"]}, key=lambda x: (x != "en", x))
    rows = [("TOPIC", "KIND", "REVIEW", *langs, "CODES")]
    for topic in topics:
        for index, kind in enumerate(topic["kinds"]):
            first = index == 0
            cells = [_CELL.get(topic["languages"].get(lang, ""), "-") for lang in langs]
            rows.append((
                topic["id"] if first else "",
                kind,
                topic["review"] if first else "",
                *cells,
                " ".join(topic["codes"]) if first else "",
            ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows
    ]
    lengths = ", ".join(
        f"{n} ({'exactly 1 page' if n == 'brief' else f'up to {PAGE_BUDGET[n]} pages'})" for n in PAGE_BUDGET
    )
    lines += [
        "",
        "REVIEW: clinical review of the topic. Languages: source = the language translations come from;",
        "draft = not yet checked by a qualified medical translator; reviewed = checked; - = none.",
        f"Lengths: {lengths}",
        f"Papers: {', '.join(PAPERS)} (default {summary['paper']})",
    ]
    return "\n".join(line.rstrip() for line in lines)
