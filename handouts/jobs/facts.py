"""Layout facts a build records so `handouts check` need not lay the same handout out again.

For each output key (handouts.jobs.batch.Keys: every input, the code and the renderer's versions),
the pages a handout filled and, for the handouts that show every kind of box, the text colours
it used. They live in the workspace's cache folder; a damaged file is ignored. They are only
facts about the layout of exact inputs: whether a handout is safe to print is never read here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from handouts.cache import cache_dir, load_json, save_json
from handouts.vocabulary import PAPERS

if TYPE_CHECKING:
    from handouts.jobs.planning import Job
    from handouts.load.workspace import Workspace
    from handouts.render.contrast import TextColour

LAYOUT = "layout.json"


@dataclass(frozen=True)
class LayoutFacts:
    """What `check` needs of one laid-out handout."""

    pages: int
    colours: tuple[TextColour, ...] = ()


def wants_colours(job: Job) -> bool:
    """Return whether this handout's text colours are measured: detailed, Letter, normal print shows every box."""
    return job.length == "detailed" and job.paper == PAPERS[0] and not job.large


class FactsCache:
    """The layout facts of outputs, by key."""

    def __init__(self, workspace: Workspace) -> None:
        self.path = cache_dir(workspace.root) / LAYOUT
        data = load_json(self.path)
        self.known: dict[str, Any] = data if isinstance(data, dict) else {}
        self.new: dict[str, Any] = {}

    def get(self, key: str) -> LayoutFacts | None:
        """Return the recorded facts of an output, or None."""
        entry = self.new.get(key) or self.known.get(key)
        if not isinstance(entry, dict):
            return None
        try:
            from handouts.render.contrast import TextColour

            return LayoutFacts(int(entry["pages"]), tuple(TextColour(**c) for c in entry["colours"]))
        except (TypeError, KeyError, ValueError):
            return None

    def add(self, key: str, facts: LayoutFacts) -> None:
        """Record the facts of an output just laid out."""
        self.new[key] = {"pages": facts.pages, "colours": [asdict(c) for c in facts.colours]}

    def save(self) -> None:
        """Merge what this run recorded into the file (other runs may have added theirs)."""
        if not self.new:
            return
        data = load_json(self.path)
        merged = data if isinstance(data, dict) else {}
        merged.update(self.new)
        save_json(self.path, merged)
        self.known, self.new = merged, {}
