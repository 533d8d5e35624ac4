"""A summary of the catalog (topics, kinds, languages and their status, codes), kept as JSON.

Listing the catalog and planning a build need only this summary. It is kept in the workspace's
cache folder (handouts.cache), keyed by the digests of every file it comes from (handouts.yaml,
each topic file, and this package's code), so a repeat `handouts list`, or a `handouts build` with
a misspelt name, reads small files instead of importing pydantic and validating every topic. Any
change to those files, a new or removed file included, makes a new summary; invalid content is
never summarized, so its errors are reported every time. The file is data, never code: a damaged
or altered one is ignored, and the next change replaces it. It decides nothing about safety:
the review gate and the manifest read the validated topics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handouts.cache import Digests, cache_dir, code_files, load_json, save_json
from handouts.load.workspace import CONFIG_FILE, Workspace

SUMMARY = "summary.json"
DIGESTS = "digests.json"


def matches_code(codes: list[str], code: str) -> bool:
    """Return whether a diagnosis code (or a code prefix such as M54.3) fits a topic's codes."""
    query = code.strip().upper()
    return any(c.startswith(query) or query.startswith(c) for c in codes)


def catalog_summary(workspace: Workspace, digests: Digests | None = None) -> dict[str, Any]:
    """Return what the listing shows, from the cache when no file it comes from has changed."""
    folder = cache_dir(workspace.root)
    digests = digests or Digests(folder / DIGESTS)
    stamp = digests.combined(summary_inputs(workspace))
    kept = load_json(folder / SUMMARY)
    if isinstance(kept, dict) and kept.get("stamp") == stamp and _well_formed(kept.get("summary")):
        return dict(kept["summary"])
    summary = summarize(workspace)
    if digests.all_settled:  # a file changed in the last seconds might change again unseen: don't keep it yet
        save_json(folder / SUMMARY, {"stamp": stamp, "summary": summary})
        digests.save()
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


def summarize(workspace: Workspace) -> dict[str, Any]:
    """Return the summary from the validated catalog."""
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


def summary_inputs(workspace: Workspace) -> list[Path]:
    """Return every file the summary comes from: the config, each topic file, the package's code.

    Topic folders are listed too (as names), so a new or removed topic or language changes it.
    """
    paths = [workspace.root / CONFIG_FILE, *code_files()]
    topics = workspace.topics_dir
    try:
        folders = sorted(p for p in topics.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        folders = []
    for folder in folders:
        paths.append(folder)  # a folder counts by its name (its bytes cannot be read)
        paths.extend(sorted(folder.glob("*.yaml")))
    return paths
