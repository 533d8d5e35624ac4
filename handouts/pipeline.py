"""Plan which handouts to make, make them, and write each PDF safely into place."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compose import Composer
from .config import PAPERS
from .errors import HandoutsError, UsageError, display_path
from .files import write_atomic
from .i18n import format_date
from .languages import font_stack
from .model import LENGTHS, PAGE_BUDGET
from .personal import Personal
from .qr import handout_url, link_for
from .select import select
from .workspace import Workspace

if TYPE_CHECKING:
    from .render import Rendered


@dataclass(frozen=True, order=True)
class Job:
    """One handout to make: a topic's kind, at one length, in one language, on one paper size."""

    topic: str
    kind: str
    length: str
    lang: str
    paper: str
    large: bool = False

    @property
    def relpath(self) -> Path:
        """Return the path below the output folder: <lang>/<topic>/<kind>-<length>-<paper>[-large].pdf."""
        suffix = "-large" if self.large else ""
        return Path(self.lang) / self.topic / f"{self.kind}-{self.length}-{self.paper}{suffix}.pdf"

    @property
    def budget(self) -> int:
        """Return the most pages this handout may have: double for large print."""
        return PAGE_BUDGET[self.length] * (2 if self.large else 1)

    @property
    def budget_rule(self) -> str:
        """Return the page budget in words: 'exactly 1' for a brief handout, else 'at most N'."""
        return "exactly 1" if self.length == "brief" and not self.large else f"at most {self.budget}"

    def __str__(self) -> str:
        return f"{self.topic} {self.kind} {self.length} {self.lang} {self.paper}{' large' if self.large else ''}"


@dataclass(frozen=True)
class Result:
    """What happened to one job: the file written, or why it failed."""

    job: Job
    path: Path | None = None
    pages: int = 0
    error: str | None = None

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
    """Every result of one build, in order."""

    results: list[Result] = field(default_factory=list)

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
            raise UsageError(f"unknown {kind} '{value}'{where}; available: {', '.join(valid)}")
    return tuple(dict.fromkeys(asked))


def plan(
    workspace: Workspace,
    topics: Sequence[str] = (),
    kinds: Sequence[str] = (),
    lengths: Sequence[str] = (),
    langs: Sequence[str] = (),
    papers: Sequence[str] = (),
    large_print: Sequence[bool] = (False,),
) -> list[Job]:
    """Return the jobs for the chosen values; an empty choice means every value there is."""
    catalog = workspace.catalog
    if not catalog.topics:
        raise HandoutsError(f"no topics in {display_path(workspace.topics_dir)}; see README: adding a topic")
    chosen_topics = _choose("topic", topics, sorted(catalog.topics))
    _choose("kind", kinds, catalog.kinds)
    _choose("language", langs, catalog.languages)
    chosen_lengths = _choose("length", lengths, LENGTHS)
    chosen_papers = _choose("paper", papers, PAPERS) if papers else (workspace.config.defaults.paper,)
    jobs: list[Job] = []
    for topic_id in chosen_topics:
        topic = catalog.topics[topic_id]
        where = f" for topic '{topic_id}'"
        topic_kinds = _choose("kind", kinds, topic.kinds, where) if len(chosen_topics) == 1 else (
            tuple(k for k in (kinds or topic.kinds) if k in topic.kinds)
        )
        topic_langs = _choose("language", langs, tuple(topic.languages), where) if len(chosen_topics) == 1 else (
            tuple(lang for lang in (langs or topic.languages) if lang in topic.languages)
        )
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
    """Return why a handout is not fully reviewed (clinically, and its translation), or None."""
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


class Builder:
    """Makes handouts for one workspace, keeping templates, fonts and styles loaded between them."""

    def __init__(self, workspace: Workspace) -> None:
        from .render import Renderer

        self.workspace = workspace
        root = workspace.root
        self.composer = Composer(workspace.search_path("templates"), root)
        self.renderer = Renderer(workspace.search_path("styles"), workspace.asset_roots(), root)

    def fonts(self, job: Job) -> tuple[str, ...]:
        """Return the font families of one handout: brand font, Noto Sans, the script's fonts."""
        return font_stack(job.lang, self.workspace.config.clinic.font)

    def layout(self, job: Job, personal: Personal | None = None) -> Any:
        """Lay out one handout into pages (a WeasyPrint Document)."""
        return self.renderer.layout(self.html(job, personal), self.workspace.root, self.fonts(job))

    def render(self, job: Job, personal: Personal | None = None) -> Rendered:
        """Make one handout's PDF in memory."""
        return self.renderer.render(self.html(job, personal), self.workspace.root, self.fonts(job))

    def html(self, job: Job, personal: Personal | None = None) -> str:
        """Return the HTML of one handout."""
        ws = self.workspace
        topic = ws.catalog.topics[job.topic]
        view = select(topic, job.kind, job.length, job.lang)
        clinic = ws.config.clinic
        logo = (ws.assets_dir / clinic.logo).resolve().as_uri() if clinic.logo else None
        topic = ws.catalog.topics[job.topic]
        link = link_for(handout_url(topic.meta.links, clinic.handout_url, job.topic, job.kind, job.lang))
        personal = personal or Personal()
        patient_box = "filled" if personal else ws.config.defaults.patient_box
        return self.composer.compose(
            view, clinic=clinic, logo_url=logo, paper=job.paper, fonts=self.fonts(job), large_print=job.large,
            personal=personal, patient_box=patient_box, link=link, document_date=document_date(topic),
            follow_up=format_date(personal.follow_up, job.lang) if personal.follow_up else "",
        )

    def build_one(self, job: Job, target: Path, personal: Personal | None = None) -> Result:
        """Make one PDF and move it into place at target; never leave a partial file.

        target "-" writes the PDF to standard output.
        """
        rendered = self.render(job, personal)
        if str(target) == "-":
            sys.stdout.buffer.write(rendered.pdf)
            sys.stdout.buffer.flush()
        else:
            write_atomic(target, rendered.pdf)
        return Result(job, target, rendered.pages)

    def build(
        self,
        jobs: Sequence[Job],
        output: Path,
        on_result: Callable[[Result], None] | None = None,
        personal: Personal | None = None,
    ) -> Report:
        """Make every job into output/<relpath>; go on past failures and report them all.

        output may name a .pdf file (or "-", standard output) when there is exactly one job.
        A handout with patient fields goes only to such a named file, never into the catalog.
        """
        single = str(output) == "-" or output.suffix.lower() == ".pdf"
        if single and len(jobs) != 1:
            raise UsageError(f"-o {output} names one file, but these choices make {len(jobs)} handouts; give a folder")
        if personal and not single:
            raise UsageError(
                "a handout with patient fields goes only to a file you name: add -o NAME.pdf, or -o - for "
                "standard output, and choose one topic, kind, length and language"
            )
        report = Report()
        for job in jobs:
            try:
                result = self.build_one(job, output if single else output / job.relpath, personal)
            except HandoutsError as exc:
                result = Result(job, error="; ".join(exc.lines()))
            report.results.append(result)
            if on_result is not None:
                on_result(result)
        return report


def document_date(topic: Any) -> str:
    """Return the PDF's creation date: SOURCE_DATE_EPOCH if set, else the review or update date.

    Never the clock, so the same inputs give the same bytes.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        from datetime import datetime

        return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    review = topic.meta.review
    return (review.reviewed_on or topic.meta.updated_on).isoformat()


def build(
    workspace: Workspace | Path | None = None,
    *,
    topics: Sequence[str] = (),
    kinds: Sequence[str] = (),
    lengths: Sequence[str] = (),
    langs: Sequence[str] = (),
    papers: Sequence[str] = (),
    output: Path | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> Report:
    """Build handouts: the library entry point behind `handouts build`."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    jobs = plan(ws, topics, kinds, lengths, langs, papers)
    return Builder(ws).build(jobs, output or ws.output_dir, on_result)
