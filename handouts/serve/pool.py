"""The web page's executor: a long-lived pool of worker processes that make PDFs and page images.

Created once at start-up, before the server's event loop and threads exist, from a fork server
(so no worker is ever forked from a threaded process). Each task runs in a worker's main thread,
where the time limit per handout (SIGALRM, handouts.jobs.pipeline.deadline) works as it does for
the command line; a task that outlives the limit and its grace is stopped by killing the pool's
workers, and a new pool takes their place. Workers keep one Builder (WeasyPrint, fonts, templates
loaded) for as long as the workspace's inputs do not change: every task carries the stamp of the
inputs it was planned with, and a worker that sees a new stamp makes a new Builder.

Patient fields reach a worker only inside a task, live in its memory for one render and are never
written: the PDF comes back as bytes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handouts.errors import HandoutsError

if TYPE_CHECKING:
    from handouts.compose.personal import Personal
    from handouts.jobs.pipeline import Builder
    from handouts.jobs.planning import Job

#: A worker process is replaced after this many tasks, so its memory cannot grow without bound.
TASKS_PER_WORKER = 200

#: Width in pixels of a page image in the preview.
PREVIEW_WIDTH = 900


@dataclass(frozen=True)
class Made:
    """A PDF made (or read) and its pages as PNG images (none when not asked for)."""

    pdf: bytes
    pages: int
    images: tuple[bytes, ...] = ()


# --- in the worker processes ---

_root: Path | None = None
_builder: tuple[str, Builder] | None = None


def _start_worker(root: str, scratch: str) -> None:
    """Set up one worker: its own temporary folder, the memory limit, signals left to the parent."""
    global _root
    from handouts.jobs.executor import _limit_memory

    _root = Path(root)
    tempfile.tempdir = tempfile.mkdtemp(prefix="worker-", dir=scratch)
    _limit_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the pool


def _builder_for(stamp: str) -> Builder:
    """Return this worker's Builder for the workspace as it is at stamp (a new one when it changed)."""
    global _builder
    from handouts.jobs.pipeline import Builder
    from handouts.load.workspace import Workspace

    if _builder is None or _builder[0] != stamp:
        assert _root is not None
        _builder = (stamp, Builder(Workspace(_root)))
    return _builder[1]


def warm(stamp: str) -> int:
    """Load the Builder (WeasyPrint, templates, fonts) so the first real request is quick."""
    _builder_for(stamp)
    return os.getpid()


def warm_images(_stamp: str) -> int:
    """Load what turns PDF pages into images (the "quick" lane needs no WeasyPrint)."""
    import pypdfium2  # noqa: F401

    return os.getpid()


def make(stamp: str, job: Job, key: str, personal: Personal | None, images: bool) -> Made | str:
    """Render one handout in memory under the time limit; return it, or one line saying why not."""
    from handouts.jobs.pipeline import deadline, safe_failure
    from handouts.limits import current

    try:
        with deadline(current()):
            rendered = _builder_for(stamp).render(job, personal, key)
            pictures = page_images(rendered.pdf) if images else ()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - said as one line; never a traceback to the page
        return safe_failure(exc, personal)
    return Made(rendered.pdf, rendered.pages, pictures)


def make_packet(stamp: str, jobs: list[Job]) -> Made | str:
    """Join jobs into one PDF in memory (each part under the time limit); return it or why not."""
    from handouts.jobs.packet import join_packet
    from handouts.jobs.pipeline import failure

    try:
        data, pages = join_packet(_builder_for(stamp), jobs)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001
        return failure(exc)
    return Made(data, pages)


def rasterize(pdf: bytes) -> tuple[bytes, ...] | str:
    """Return the pages of a PDF already made (a built handout) as PNG images."""
    from handouts.jobs.pipeline import deadline, failure
    from handouts.limits import current

    try:
        with deadline(current()):
            return page_images(pdf)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001
        return failure(exc)


def page_images(pdf: bytes, width: int = PREVIEW_WIDTH) -> tuple[bytes, ...]:
    """Return each page of a PDF as a PNG image `width` pixels wide (pypdfium2, in memory)."""
    import io

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        out = []
        for index in range(len(document)):
            page = document[index]
            scale = width / page.get_width()
            image = page.render(scale=scale).to_pil()
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG", optimize=False, compress_level=3)
            out.append(buffer.getvalue())
            page.close()
        return tuple(out)
    finally:
        document.close()


# --- in the server process ---

class RenderPool:
    """Worker processes for the server, created at start-up; awaitable from the event loop."""

    def __init__(self, root: Path, size: int) -> None:
        import multiprocessing

        from handouts.limits import current

        methods = multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if self.context.get_start_method() == "forkserver":
            # the fork server imports these once; every worker forked from it starts with them loaded
            self.context.set_forkserver_preload(["handouts.serve.pool", "handouts.jobs.pipeline"])
        self.root = root
        self.size = max(1, size)
        self.limits = current()
        self.scratch = tempfile.mkdtemp(prefix="handouts-serve-")
        #: Two lanes: handouts are laid out in "render"; pages of PDFs already made become images in
        #: "quick", so a built handout's preview never waits behind a queue of renders.
        self.sizes = {"render": self.size, "quick": 1}
        self.executors = {lane: self._new_executor(lane) for lane in self.sizes}
        self.tasks = 0

    def _new_executor(self, lane: str) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.sizes[lane], mp_context=self.context, initializer=_start_worker,
                                   initargs=(str(self.root), self.scratch), max_tasks_per_child=TASKS_PER_WORKER)

    def warm(self, stamp: str) -> None:
        """Start every worker and load its Builder (call at start-up, before serving)."""
        futures = [self.executors[lane].submit(warm if lane == "render" else warm_images, stamp)
                   for lane, size in self.sizes.items() for _ in range(size)]
        for future in futures:
            future.result(timeout=self.limits.seconds_per_handout + self.limits.grace_seconds)

    async def run(self, function: Any, *args: Any, lane: str = "render", seconds: float | None = None) -> Any:
        """Run function(*args) in a worker; raise HandoutsError when it takes too long or a worker dies.

        The bound is the time limit per handout and its grace, or seconds (a print, which also waits
        for CUPS)."""
        self.tasks += 1
        loop = asyncio.get_running_loop()
        executor = self.executors[lane]
        seconds = seconds or self.limits.seconds_per_handout + self.limits.grace_seconds
        try:
            return await asyncio.wait_for(loop.run_in_executor(executor, function, *args), seconds)
        except TimeoutError:
            self._replace(lane, executor)
            from handouts.jobs.pipeline import time_limit_message

            raise HandoutsError(f"{time_limit_message(self.limits)}; its worker process was stopped") from None
        except BrokenProcessPool:
            self._replace(lane, executor)
            raise HandoutsError("a worker process stopped while making this; please try again") from None

    def _replace(self, lane: str, broken: ProcessPoolExecutor) -> None:
        """Kill the workers of a pool with a stuck or dead worker and start a new pool (once)."""
        if broken is not self.executors[lane]:
            return
        self.executors[lane] = self._new_executor(lane)
        processes = getattr(broken, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        broken.shutdown(wait=False, cancel_futures=True)

    def workers(self) -> int:
        """Return how many worker processes are alive."""
        alive = 0
        for executor in self.executors.values():
            processes = getattr(executor, "_processes", None) or {}
            alive += sum(1 for p in processes.values() if p.is_alive())
        return alive

    def close(self) -> None:
        """Stop the workers and remove their temporary files."""
        for executor in self.executors.values():
            executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.scratch, ignore_errors=True)
