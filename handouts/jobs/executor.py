"""How jobs run: in this process, or in a pool of worker processes that a dying worker cannot hang.

multiprocessing.Pool waits forever for the result of a task whose worker died (killed, out of
memory, a crash in a C library). This pool gives each worker one task at a time over its own pipe
and watches the worker's process, so a worker that dies fails only the handout it was making; a
new worker takes its place and the batch goes on.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from handouts.jobs.pipeline import Builder
    from handouts.load.workspace import Workspace

T = TypeVar("T")
R = TypeVar("R")

#: A worker process is replaced after this many handouts, so its memory cannot grow without bound.
TASKS_PER_WORKER = 200

#: The environment variable that chooses the start method of worker processes (fork, spawn...).
START_METHOD_VARIABLE = "HANDOUTS_START_METHOD"

#: The memory limit (MB) of this process when it is a worker with one (handouts.limits: worker_memory_mb).
_memory_limit: int | None = None

#: The parent's ready Builder: forked workers inherit it (topics parsed, styles parsed, fonts
#: loaded) instead of making their own; with the spawn start method they make their own.
_parent_builder: Builder | None = None


def run_jobs(
    workspace: Workspace,
    work: Callable[[Builder, T], R],
    items: Sequence[T],
    died: Callable[[T, str], R],
    workers: int | None = None,
    *,
    ordered: bool = False,
) -> Iterator[R]:
    """Yield work(builder, item) for every item, in `workers` processes (default: the CPUs).

    work must catch its own errors (Builder.make does) and be a module-level function whose result
    can be pickled. When a worker process dies while it runs an item, died(item, why) stands in
    for that item's result. Results come in the order of items when ordered, else as they finish.
    """
    from handouts.jobs.pipeline import Builder

    workers = max(1, workers or os.cpu_count() or 1)
    if not items:
        return
    if workers == 1 or len(items) == 1:
        builder = Builder(workspace)
        for item in items:
            yield work(builder, item)
        return
    yield from _Pool(workspace, work, died, min(workers, len(items))).run(items, ordered)


@dataclass
class _Worker(Generic[T]):
    process: BaseProcess
    conn: Connection
    task: tuple[int, T] | None = None
    done: int = 0
    #: When the current task must be done by (time.monotonic()), or the worker is killed.
    due: float = 0.0


class _Pool(Generic[T, R]):
    """Worker processes, each fed one task at a time over its own pipe."""

    def __init__(self, workspace: Workspace, work: Callable[[Builder, T], R], died: Callable[[T, str], R],
                 size: int, builder: Builder | None = None, env: dict[str, str | None] | None = None,
                 start_method: str | None = None) -> None:
        import multiprocessing

        # fork lets workers start with the parent's Builder (WeasyPrint imported, topics and styles
        # parsed, fonts loaded); spawn, where fork is missing (and with HANDOUTS_START_METHOD=spawn,
        # to test what macOS and Windows do), makes each worker load its own.
        methods = multiprocessing.get_all_start_methods()
        asked = os.environ.get(START_METHOD_VARIABLE, "")
        self.method = start_method or (asked if asked in methods else "fork" if "fork" in methods else "spawn")
        self.context = multiprocessing.get_context(self.method)
        from handouts.limits import current

        #: Environment variables the workers set for themselves (a cluster client's limits and
        #: SOURCE_DATE_EPOCH); None values are removed.
        self.env = env or {}
        self.limits = current(with_environment(self.env))
        self.workspace = workspace
        self.work = work
        self.died = died
        self.size = size
        self.builder = builder
        self.workers: list[_Worker[T]] = []
        self.scratch: str | None = None

    def run(self, items: Sequence[T], ordered: bool, *, keep: bool = False) -> Iterator[R]:
        """Yield the results of items; with keep, the workers stay for the next run (close() ends them)."""
        global _parent_builder
        from multiprocessing.connection import wait

        from handouts.jobs.pipeline import Builder

        if self.method == "fork":
            self.builder = self.builder or Builder(self.workspace)
            _parent_builder = self.builder
        # Workers keep their temporary files (WeasyPrint's FontConfiguration copies every font it
        # loads into a weasyprint-* folder that only a finalizer removes, and a killed worker runs
        # none) in one folder of this pool, removed when the workers are gone.
        if self.scratch is None:
            self.scratch = tempfile.mkdtemp(prefix="handouts-workers-")
        pending = deque(enumerate(items))
        finished = False
        waiting: dict[int, R] = {}
        next_out = 0
        try:
            while pending or any(w.task for w in self.workers):
                self._start_workers(len(pending))
                for worker in self.workers:
                    if worker.task is None and pending:
                        worker.task = pending.popleft()
                        worker.due = time.monotonic() + self.limits.seconds_per_handout + self.limits.grace_seconds
                        worker.conn.send(worker.task)
                busy = [w for w in self.workers if w.task is not None]
                timeout = max(0.0, min(w.due for w in busy) - time.monotonic())
                ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
                for worker in busy:
                    assert worker.task is not None
                    index, item = worker.task
                    if worker.conn in ready or worker.process.sentinel in ready:
                        result = self._receive(worker, item)
                    elif time.monotonic() >= worker.due:
                        result = self._overdue(worker, item)
                    else:
                        continue
                    worker.task = None
                    if ordered:
                        waiting[index] = result
                        while next_out in waiting:
                            yield waiting.pop(next_out)
                            next_out += 1
                    else:
                        yield result
            finished = True
        finally:
            _parent_builder = None
            if not (keep and finished):
                self.close()

    def close(self) -> None:
        """End every worker and remove their temporary files."""
        self._stop()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def _receive(self, worker: _Worker[T], item: T) -> R:
        """Return the worker's result for item, or died(item) when the worker ended without one."""
        try:
            if worker.conn.poll():
                result: R = worker.conn.recv()
                worker.done += 1
                if worker.done >= TASKS_PER_WORKER:
                    self._retire(worker)
                return result
        except (EOFError, OSError):
            pass
        worker.process.join(5)
        why = _death(worker.process.exitcode)
        self._retire(worker)
        return self.died(item, f"the worker process {why} while making this handout; the rest of the batch went on")

    def _overdue(self, worker: _Worker[T], item: T) -> R:
        """Kill a worker stuck past the time limit (in code that never returned to Python) and fail its item."""
        from handouts.jobs.pipeline import time_limit_message

        worker.process.kill()
        worker.process.join(5)
        self._retire(worker)
        return self.died(item, f"{time_limit_message(self.limits)}; its worker process was stopped; "
                               "the rest of the batch went on")

    def _start_workers(self, pending: int) -> None:
        idle = sum(w.task is None for w in self.workers)
        while len(self.workers) < self.size and idle < pending:
            parent_end, child_end = self.context.Pipe()
            process = self.context.Process(  # type: ignore[attr-defined]  # typeshed: BaseContext
                target=_worker_main, args=(child_end, str(self.workspace.root), self.work, self.scratch, self.env),
                daemon=True
            )
            process.start()
            child_end.close()
            self.workers.append(_Worker(process, parent_end))
            idle += 1

    def _retire(self, worker: _Worker[T]) -> None:
        self.workers.remove(worker)
        try:
            worker.conn.send(None)  # no more work: the worker ends by itself
        except OSError:
            pass
        worker.conn.close()
        worker.process.join(10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(5)

    def _stop(self) -> None:
        """End every worker: at the end of a batch, or at once on Ctrl-C or an error."""
        for worker in self.workers:
            if worker.task is not None:
                worker.process.kill()
        for worker in list(self.workers):
            self._retire(worker)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by signal {-exitcode} ({signal.Signals(-exitcode).name})"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"ended with exit code {exitcode}" if exitcode is not None else "stopped answering"


def with_environment(env: dict[str, str | None]) -> dict[str, str]:
    """Return this process's environment with env's variables set (and those that are None removed)."""
    merged = dict(os.environ)
    for name, value in env.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _worker_main(conn: Connection, root: str, work: Callable[[Builder, Any], Any], scratch: str,
                 env: dict[str, str | None]) -> None:
    """A worker: one Builder, then tasks from the pipe until the parent says stop."""
    from handouts.jobs.pipeline import Builder

    if env:
        wanted = with_environment(env)
        os.environ.clear()
        os.environ.update(wanted)
    tempfile.tempdir = tempfile.mkdtemp(prefix="worker-", dir=scratch)
    _limit_memory()
    # Ctrl-C reaches the whole process group: the parent alone stops the build, records what is
    # done and ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's clean-stop handler is not for workers
    inherited = _parent_builder
    if inherited is not None and str(inherited.workspace.root) == root:
        builder = inherited
    else:
        builder = Builder(_workspace(Path(root)))
    try:
        while True:
            try:
                task = conn.recv()
            except EOFError:
                return
            if task is None:
                return
            index, item = task
            conn.send(work(builder, item))
    finally:
        conn.close()
        shutil.rmtree(tempfile.tempdir, ignore_errors=True)


def _limit_memory() -> None:
    """Set this worker's RLIMIT_DATA (heap and private memory) to the worker_memory_mb limit.

    Not RLIMIT_AS: the fonts (CJK ones are tens of MB) are memory-mapped and would count. An
    allocation over the limit fails: a MemoryError fails the handout, a crash in C ends the worker,
    and the pool fails that handout alone either way.
    """
    global _memory_limit
    try:
        import resource
    except ImportError:  # not on Windows
        return
    from handouts.limits import current

    megabytes = current().worker_memory_mb
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft == resource.RLIM_INFINITY or wanted < soft:
        resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
        _memory_limit = megabytes


def memory_limit_mb() -> int | None:
    """Return this process's memory limit in MB when it is a worker that set one, else None."""
    return _memory_limit


def _workspace(root: Path) -> Workspace:
    from handouts.load.workspace import Workspace

    return Workspace(root)
