"""Plan which handouts to make, make them, and write each PDF safely into place."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handouts.cache import version_id
from handouts.compose.i18n import format_date
from handouts.compose.personal import Personal
from handouts.compose.plain import plain
from handouts.compose.qr import handout_url, link_for
from handouts.compose.select import select
from handouts.compose.templates import Composer
from handouts.errors import HandoutsError, display_path
from handouts.files import contained, write_atomic
from handouts.jobs.facts import LayoutFacts, wants_colours
from handouts.jobs.planning import Job, Result
from handouts.limits import Limits
from handouts.limits import current as current_limits
from handouts.load.languages import font_stack
from handouts.load.workspace import Workspace

if TYPE_CHECKING:
    from handouts.jobs.batch import Keys
    from handouts.load.catalog import Topic
    from handouts.render.pdf import Rendered


class Builder:
    """Makes handouts for one workspace, keeping templates, fonts and styles loaded between them."""

    def __init__(self, workspace: Workspace) -> None:
        from handouts.render.pdf import Renderer

        self.workspace = workspace
        root = workspace.root
        self.composer = Composer(workspace.search_path("templates"), root)
        self.renderer = Renderer(workspace.search_path("styles"), workspace.asset_roots(), root)
        self._brands: dict[str, Builder] = {}

    def for_brand(self, brand: str) -> Builder:
        """Return the Builder of one brand of this workspace (itself for its own), made once."""
        if brand == self.workspace.brand:
            return self
        if brand not in self._brands:
            self._brands[brand] = Builder(self.workspace.for_brand(brand))
        return self._brands[brand]

    def fonts(self, job: Job) -> tuple[str, ...]:
        """Return the font families of one handout: brand font, Noto Sans, the script's fonts."""
        if job.brand != self.workspace.brand:
            return self.for_brand(job.brand).fonts(job)
        return font_stack(job.lang, self.workspace.config.clinic.font)

    @cached_property
    def keys(self) -> Keys:
        """Return the keys of this workspace's outputs (their inputs' digests)."""
        from handouts.jobs.batch import Keys

        return Keys(self.workspace)

    def layout(self, job: Job, personal: Personal | None = None, key: str | None = None) -> Any:
        """Lay out one handout into pages (a WeasyPrint Document)."""
        if job.brand != self.workspace.brand:
            return self.for_brand(job.brand).layout(job, personal, key)
        return self.renderer.layout(self.html(job, personal, key), self.workspace.root, self.fonts(job))

    def render(self, job: Job, personal: Personal | None = None, key: str | None = None, *,
               measure_colours: bool = False) -> Rendered:
        """Make one handout's PDF in memory."""
        if job.brand != self.workspace.brand:
            return self.for_brand(job.brand).render(job, personal, key, measure_colours=measure_colours)
        return self.renderer.render(self.html(job, personal, key), self.workspace.root, self.fonts(job),
                                    measure_colours=measure_colours)

    def html(self, job: Job, personal: Personal | None = None, key: str | None = None) -> str:
        """Return the HTML of one handout."""
        if job.brand != self.workspace.brand:
            return self.for_brand(job.brand).html(job, personal, key)
        return self.composer.compose(job.lang, job.kind, self.template_context(job, personal, key))

    def template_context(self, job: Job, personal: Personal | None = None, key: str | None = None) -> dict[str, Any]:
        """Return what the templates of one handout see: plain, read-only data, nothing to call.

        key is the output's key (batch.Keys) when the caller has it; its short form is the
        version id printed in the footer and the PDF's keywords.
        """
        if job.brand != self.workspace.brand:
            return self.for_brand(job.brand).template_context(job, personal, key)
        ws = self.workspace
        topic = ws.catalog.topics[job.topic]
        view = select(topic, job.kind, job.length, job.lang)
        clinic = ws.config.clinic
        logo = None
        if clinic.logo:
            logo = contained(*ws.logo_file(clinic.logo), ws.root).as_uri()
        link = link_for(handout_url(topic.meta.links, clinic.handout_url, job.topic, job.kind, job.lang))
        personal = personal or Personal()
        context = {
            "h": view,
            # the footer line in this handout's language: templates need no method to pick it
            "clinic": {**clinic.model_dump(), "footer": clinic.footer_for(job.lang)},
            "logo_url": logo,
            "paper": job.paper,
            "fonts": self.fonts(job),
            "large_print": job.large,
            "personal": personal,
            "patient_box": "filled" if personal else ws.config.defaults.patient_box,
            "link": link,
            "document_date": document_date(topic),
            "follow_up": format_date(personal.follow_up, job.lang) if personal.follow_up else "",
            "version_id": version_id(key or self.keys.key(job)),
        }
        return {name: plain(value) for name, value in context.items()}

    def build_one(self, job: Job, target: Path | None, personal: Personal | None = None,
                  key: str | None = None) -> Result:
        """Make one PDF and move it into place at target; never leave a partial file.

        target "-" writes the PDF to standard output; None keeps it in the result (a cluster worker
        sends it home, where it is written). Without patient fields, the result carries the layout
        facts `check` reuses.
        """
        key = key or self.keys.key(job)
        measure = wants_colours(job) and not personal
        rendered = self.render(job, personal, key, measure_colours=measure)
        facts = None if personal else LayoutFacts(rendered.pages, rendered.colours)
        if target is None:
            return Result(job, None, rendered.pages, version=version_id(key), facts=facts, pdf=rendered.pdf)
        try:
            if str(target) == "-":
                sys.stdout.buffer.write(rendered.pdf)
                sys.stdout.buffer.flush()
            else:
                write_atomic(target, rendered.pdf)
        except OSError as exc:
            raise HandoutsError(f"cannot write {display_path(target)}: {exc.strerror or exc}") from None
        return Result(job, target, rendered.pages, version=version_id(key), facts=facts)

    def make(self, job: Job, target: Path | None, personal: Personal | None = None, key: str | None = None) -> Result:
        """Make one handout into target and return its Result; never raise for a failure of this handout.

        The one function every door (CLI, library, packets, workers) makes a handout through: any
        error, even one derived from BaseException, becomes this handout's error and the batch goes
        on. Only Ctrl-C and SystemExit pass. A handout that takes longer than the time limit
        (handouts.limits: seconds_per_handout) fails; in a worker process, the pool also kills a
        worker stuck past it in code that never returns to Python.
        """
        try:
            with deadline(current_limits()):
                return self.build_one(job, target, personal, key)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - one bad handout fails alone
            return Result(job, error=safe_failure(exc, personal))


def render_bounded(builder: Builder, job: Job, personal: Personal | None = None) -> Rendered:
    """Make one handout's PDF in memory under the time limit (for packets, which join parts in
    memory, and printing); any failure is raised as one HandoutsError line naming the part, with
    no patient field in it."""
    try:
        with deadline(current_limits()):
            return builder.render(job, personal)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - said as one line, like a failed handout
        raise HandoutsError(f"{job}: {safe_failure(exc, personal)}") from None


def safe_failure(exc: BaseException, personal: Personal | None) -> str:
    """Return failure(exc), or with patient fields filled in, only where it failed.

    A template can put a patient field into any error message, changed on the way (|upper, a
    slice, a format), so no search for the values can be trusted to find it: the message itself
    is left out, except the time and memory limits, whose words are ours.
    """
    message = failure(exc)
    if not personal or isinstance(exc, (TimeLimitExceeded, MemoryError)):
        return message
    where = re.match(r"[\w./-]+:\d+: ", message)
    return (f"{where.group() if where else ''}failed with patient fields filled in; the error is not shown, as a "
            "template may have put them in it: make the handout without patient fields to see it")


class TimeLimitExceeded(BaseException):
    """The time limit per handout ran out. A BaseException, so no `except Exception` in a library stops it."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(time_limit_message(limits))


def time_limit_message(limits: Limits) -> str:
    """Return the line that says a handout took too long."""
    return (f"took longer than the {limits.seconds_per_handout:g} s limit per handout "
            f"({limits.variable('seconds_per_handout')}, or handouts --time-limit)")


@contextmanager
def deadline(limits: Limits) -> Iterator[None]:
    """Raise TimeLimitExceeded in the block once it has run for limits.seconds_per_handout.

    With SIGALRM, in the main thread only (elsewhere the block runs unbounded here; the worker pool
    still kills a worker past the limit). A timer already running (pytest-timeout's) is put back,
    and fires as it would have if it falls due first.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    seconds = limits.seconds_per_handout
    started = time.monotonic()
    outer_handler = signal.getsignal(signal.SIGALRM)
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)

    def expired(signum: int, frame: Any) -> None:
        if outer_left and time.monotonic() - started >= outer_left - 0.001 and callable(outer_handler):
            outer_handler(signum, frame)
        raise TimeLimitExceeded(limits)

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left) if outer_left else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_left:
            left = max(0.001, outer_left - (time.monotonic() - started))
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


def failure(exc: BaseException) -> str:
    """Return one line that says why a handout failed, in the user's words where we can."""
    if isinstance(exc, TimeLimitExceeded):
        return str(exc)
    if isinstance(exc, HandoutsError):
        return "; ".join(exc.lines())
    if isinstance(exc, OSError):
        where = f"{display_path(Path(exc.filename))}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, RecursionError):
        return "too deeply nested to lay out (RecursionError)"
    if isinstance(exc, MemoryError):
        from handouts.jobs.executor import memory_limit_mb

        limit = memory_limit_mb()
        if limit is not None:
            return (f"out of memory while making this handout (the limit per worker process: {limit} MB, "
                    f"{Limits().variable('worker_memory_mb')})")
        return "out of memory while making this handout"
    return f"internal error: {type(exc).__name__}: {exc}"


def document_date(topic: Topic) -> str:
    """Return the PDF's creation date: SOURCE_DATE_EPOCH if set, else the review or update date.

    Never the clock, so the same inputs give the same bytes.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        from datetime import datetime

        return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    review = topic.meta.review
    return str((review.reviewed_on or topic.meta.updated_on).isoformat())
