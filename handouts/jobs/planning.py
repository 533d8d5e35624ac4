"""Planning: which handouts to make: the jobs for the chosen topics, kinds, lengths, languages and papers.

Planning reads only the catalog summary (handouts.load.summary), so a misspelt name is reported
without importing pydantic, Jinja2 or WeasyPrint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from handouts.errors import HandoutsError, UsageError, display_path
from handouts.load.summary import catalog_summary, summarize
from handouts.names import did_you_mean
from handouts.vocabulary import DEFAULT_BRAND, LENGTHS, PAGE_BUDGET, PAPERS

if TYPE_CHECKING:
    from handouts.jobs.facts import LayoutFacts
from handouts.load.workspace import Workspace


@dataclass(frozen=True, order=True)
class Job:
    """One handout to make: a topic's kind, at one length, in one language, on one paper size."""

    topic: str
    kind: str
    length: str
    lang: str
    paper: str
    large: bool = False
    brand: str = DEFAULT_BRAND

    @property
    def relpath(self) -> Path:
        """Return the path below the output folder: [<brand>/]<lang>/<topic>/<kind>-<length>-<paper>[-large].pdf."""
        suffix = "-large" if self.large else ""
        brand = Path(self.brand) if self.brand != DEFAULT_BRAND else Path()
        return brand / self.lang / self.topic / f"{self.kind}-{self.length}-{self.paper}{suffix}.pdf"

    @property
    def budget(self) -> int:
        """Return the most pages this handout may have: double for large print."""
        return PAGE_BUDGET[self.length] * (2 if self.large else 1)

    @property
    def budget_rule(self) -> str:
        """Return the page budget in words: 'exactly 1' for a brief handout, else 'at most N'."""
        return "exactly 1" if self.length == "brief" and not self.large else f"at most {self.budget}"

    def __str__(self) -> str:
        brand = f" for {self.brand}" if self.brand != DEFAULT_BRAND else ""
        return f"{self.topic} {self.kind} {self.length} {self.lang} {self.paper}{' large' if self.large else ''}{brand}"


@dataclass(frozen=True)
class Result:
    """What happened to one job: the file written, or why it failed."""

    job: Job
    path: Path | None = None
    pages: int = 0
    error: str | None = None
    #: The short id of the inputs' digest, printed in the PDF's footer and metadata.
    version: str | None = None
    #: What `check` would measure of its layout, when the build recorded it.
    facts: LayoutFacts | None = None
    #: The PDF itself, when it was made in memory (target None: on a cluster worker).
    pdf: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Return whether the PDF was written."""
        return self.error is None

    @property
    def over_budget(self) -> bool:
        """Return whether the PDF has more pages than its length allows."""
        return self.ok and self.pages > self.job.budget


@dataclass
class Report:
    """What one build, packet or print did: every result in order, what was up to date, what was refused."""

    results: list[Result] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    refused: list[tuple[Job, str]] = field(default_factory=list)

    @property
    def failed(self) -> list[Result]:
        """Return the results that did not make a PDF."""
        return [r for r in self.results if not r.ok]

    @property
    def built(self) -> list[Result]:
        """Return the results that made a PDF."""
        return [r for r in self.results if r.ok]


def _choose(kind: str, asked: Sequence[str], valid: Sequence[str], where: str = "") -> tuple[str, ...]:
    if not asked:
        return tuple(valid)
    for value in asked:
        if value not in valid:
            hint = did_you_mean(value, valid) if kind != "language" else _language_hint(value, valid)
            raise UsageError(f"unknown {kind} '{value}'{where}; available: {', '.join(valid)}{hint}")
    return tuple(dict.fromkeys(asked))


def _language_hint(value: str, valid: Sequence[str]) -> str:
    from handouts.load.languages import suggest_code

    meant = suggest_code(value, valid)
    return f"; did you mean {meant}?" if meant is not None else ""


def plan(
    workspace: Workspace,
    topics: Sequence[str] = (),
    kinds: Sequence[str] = (),
    lengths: Sequence[str] = (),
    langs: Sequence[str] = (),
    papers: Sequence[str] = (),
    large_print: Sequence[bool] = (False,),
    *,
    validated: bool = False,
) -> list[Job]:
    """Return the jobs for the chosen values; an empty choice means every value there is.

    By default the names are checked against the cached catalog summary, which is quick; with
    validated, against the validated topics, as everything that is made or refused must be.
    """
    summary = summarize(workspace) if validated else catalog_summary(workspace)
    catalog = {t["id"]: t for t in summary["topics"]}
    if not catalog:
        raise HandoutsError(f"no topics in {display_path(workspace.topics_dir)}; see README: adding a topic")
    chosen_topics = _choose("topic", topics, sorted(catalog))
    _choose("kind", kinds, sorted({k for t in catalog.values() for k in t["kinds"]}))
    _choose("language", langs, sorted({lang for t in catalog.values() for lang in t["languages"]}))
    chosen_lengths = _choose("length", lengths, LENGTHS)
    chosen_papers = _choose("paper", papers, PAPERS) if papers else (summary["paper"],)
    jobs: list[Job] = []
    for topic_id in chosen_topics:
        topic_kinds, topic_langs = tuple(catalog[topic_id]["kinds"]), tuple(catalog[topic_id]["languages"])
        if len(chosen_topics) == 1:
            where = f" for topic '{topic_id}'"
            topic_kinds = _choose("kind", kinds, topic_kinds, where)
            topic_langs = _choose("language", langs, topic_langs, where)
        else:
            topic_kinds = tuple(k for k in (kinds or topic_kinds) if k in topic_kinds)
            topic_langs = tuple(lang for lang in (langs or topic_langs) if lang in topic_langs)
        for kind in topic_kinds:
            for length in chosen_lengths:
                for lang in topic_langs:
                    for paper in chosen_papers:
                        for large in large_print:
                            jobs.append(Job(topic_id, kind, length, lang, paper, large))
    if not jobs:
        raise UsageError("no handout matches those choices; see 'handouts list'")
    return jobs


def unreviewed(workspace: Workspace, job: Job) -> str | None:
    """Return why a handout is not fully reviewed (clinically, and its translation), or None.

    A safety gate: it reads the validated topics, never the cached summary.
    """
    topic = workspace.catalog.topics[job.topic]
    reasons = []
    if topic.meta.review.status != "reviewed":
        reasons.append("not reviewed by a clinician")
    if topic.translation_status(job.lang) == "draft":
        reasons.append("translation not checked by a qualified medical translator")
    return " and ".join(reasons) or None


def only_reviewed(workspace: Workspace, jobs: Sequence[Job]) -> tuple[list[Job], list[tuple[Job, str]]]:
    """Split jobs into those fully reviewed and those refused, with the reason for each."""
    kept: list[Job] = []
    refused: list[tuple[Job, str]] = []
    for job in jobs:
        reason = unreviewed(workspace, job)
        if reason is None:
            kept.append(job)
        else:
            refused.append((job, reason))
    return kept, refused
