"""What `handouts list` shows: a matrix of handouts by language, with translation status.

The listing needs only a summary of the catalog. The summary is kept as JSON in
output/.handouts-listing.json, stamped with the size and change times of every file it comes
from (handouts.yaml, each topic file, and this package's code), so a repeat `handouts list`
reads one small file instead of importing pydantic and validating every topic. Any change to
those files, a new or removed file included, makes a new summary; invalid content is never
summarized, so its errors are reported every time. The file is data, never code: a damaged or
altered one is ignored or, at worst, shows a wrong listing, and the next change replaces it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import UsageError
from .files import settled, write_atomic
from .workspace import CONFIG_FILE, Workspace

CACHE = ".handouts-listing.json"
_FORMAT = 1
_CELL = {"source": "source", "draft": "draft", "reviewed": "reviewed"}
_PACKAGE = Path(__file__).resolve().parent


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
    budgets = summary["page_budgets"]
    lengths = ", ".join(
        f"{n} ({'exactly 1 page' if n == 'brief' else f'up to {budgets[n]} pages'})" for n in budgets
    )
    lines += [
        "",
        "REVIEW: clinical review of the topic. Languages: source = the language translations come from;",
        "draft = not yet checked by a qualified medical translator; reviewed = checked; - = none.",
        f"Lengths: {lengths}",
        f"Papers: {', '.join(summary['papers'])} (default {summary['paper']})",
    ]
    return "\n".join(line.rstrip() for line in lines)


def matches_code(codes: list[str], code: str) -> bool:
    """Return whether a diagnosis code (or a code prefix such as M54.3) fits a topic's codes."""
    query = code.strip().upper()
    return any(c.startswith(query) or query.startswith(c) for c in codes)


def catalog_summary(workspace: Workspace) -> dict[str, Any]:
    """Return what the listing shows, from the cache when no file it comes from has changed."""
    cache = workspace.output_dir / CACHE
    stamp, all_settled = _stamp(workspace)
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if kept.get("format") == _FORMAT and kept.get("stamp") == stamp:
            return dict(kept["summary"])
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    summary = _summarize(workspace)
    if all_settled:  # a file changed in the last seconds might change again unseen: don't keep it yet
        data = {"format": _FORMAT, "stamp": stamp, "summary": summary}
        try:
            write_atomic(cache, json.dumps(data, ensure_ascii=False).encode())
        except OSError:
            pass  # a read-only workspace still lists; it just does not get faster
    return summary


def _summarize(workspace: Workspace) -> dict[str, Any]:
    from .config import PAPERS
    from .model import PAGE_BUDGET

    return {
        "paper": workspace.config.defaults.paper,
        "papers": list(PAPERS),
        "page_budgets": dict(PAGE_BUDGET),
        "topics": [
            {
                "id": topic.id,
                "kinds": list(topic.kinds),
                "review": topic.meta.review.status,
                "codes": list(topic.meta.codes),
                "languages": {lang: topic.translation_status(lang) for lang in topic.languages},
            }
            for topic in workspace.catalog
        ],
    }


def _stamp(workspace: Workspace) -> tuple[list[list[Any]], bool]:
    """Return (name, size, mtime, ctime, inode) of every file the summary depends on, and whether
    all of them were last changed long enough ago to trust that stamp."""
    paths = [workspace.root / CONFIG_FILE, *sorted(_PACKAGE.glob("*.py"))]
    topics = workspace.topics_dir
    try:
        folders = sorted(p for p in topics.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        folders = []
    for folder in folders:
        paths.append(folder)
        paths.extend(sorted(folder.glob("*.yaml")))
    stamp: list[list[Any]] = []
    all_settled = True
    for path in paths:
        try:
            stat = path.stat()
        except OSError:  # gone since the folder was read: no cache this time
            stamp.append([str(path), None])
            all_settled = False
            continue
        stamp.append([str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino])
        all_settled = all_settled and settled(stat)
    stamp.append([str(topics), os.path.isdir(topics)])
    return stamp, all_settled
