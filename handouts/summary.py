"""A summary of the catalog (topics, kinds, languages and their status, codes), kept as JSON.

Listing the catalog and planning a build need only this summary. It is kept in
output/.handouts-summary.json, stamped with the size, change times and inode of every file it
comes from (handouts.yaml, each topic file, and this package's code), so a repeat `handouts list`,
or a `handouts build` with a misspelt name, reads one small file instead of importing pydantic and
validating every topic. Any change to those files, a new or removed file included, makes a new
summary; invalid content is never summarized, so its errors are reported every time. The file is
data, never code: a damaged or altered one is ignored, and the next change replaces it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .files import settled, write_atomic
from .workspace import CONFIG_FILE, Workspace

CACHE = ".handouts-summary.json"
_FORMAT = 2
_PACKAGE = Path(__file__).resolve().parent


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
        if kept.get("format") == _FORMAT and kept.get("stamp") == stamp and _well_formed(kept["summary"]):
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


def _well_formed(summary: Any) -> bool:
    """Return whether a summary read from disk has the shape _summarize gives (it may have been edited)."""

    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    return (
        isinstance(summary, dict) and isinstance(summary.get("paper"), str)
        and isinstance(summary.get("topics"), list)
        and all(
            isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("review"), str)
            and strings(t.get("kinds")) and strings(t.get("codes"))
            and isinstance(t.get("languages"), dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in t["languages"].items())
            for t in summary["topics"]
        )
    )


def _summarize(workspace: Workspace) -> dict[str, Any]:
    return {
        "paper": workspace.config.defaults.paper,
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
    every content file was last changed long enough ago to trust that stamp.

    The package's own code is stamped too, so a new version of handouts makes a new summary.
    """
    content = [workspace.root / CONFIG_FILE]
    topics = workspace.topics_dir
    try:
        folders = sorted(p for p in topics.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        folders = []
    for folder in folders:
        content.append(folder)
        content.extend(sorted(folder.glob("*.yaml")))
    stamp: list[list[Any]] = []
    all_settled = True
    for path in (*content, *sorted(_PACKAGE.glob("*.py"))):
        try:
            stat = path.stat()
        except OSError:  # gone since the folder was read: no cache this time
            stamp.append([str(path), None])
            all_settled = False
            continue
        stamp.append([str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino])
        if path.suffix != ".py":
            all_settled = all_settled and settled(stat)
    stamp.append([str(topics), topics.is_dir()])
    return stamp, all_settled
