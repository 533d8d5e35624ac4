"""Catalog builds: parallel workers, incremental (skip what is up to date), and a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import __version__
from .files import settled, write_atomic
from .pipeline import Builder
from .planning import Job, Result
from .workspace import Workspace

MANIFEST = "manifest.json"

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BatchReport:
    """What a catalog build did."""

    built: list[Result] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failed: list[Result] = field(default_factory=list)


DIGESTS = ".handouts-digests.json"


class FileDigests:
    """SHA-256 of input files, remembered by size and modification time so unchanged files are not re-read."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.known: dict[str, list[Any]] = {}
        if store is not None:
            try:
                self.known = json.loads(store.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.known = {}
        self.unsettled: dict[str, list[Any]] = {}
        self.changed = False

    def of(self, path: Path, *, ours: bool = False) -> str:
        """Return the SHA-256 of one file's bytes.

        A file changed in the last seconds is remembered for this build only, unless it is one we
        just wrote ourselves (ours=True).
        """
        stat = path.stat()
        key = str(path)
        entry = self.unsettled.get(key) or self.known.get(key)
        if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            return str(entry[2])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if ours or settled(stat):
            self.known[key] = [stat.st_size, stat.st_mtime_ns, digest]
            self.changed = True
        else:  # remembered for this build only: it may change again without a new mtime
            self.unsettled[key] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest

    def combined(self, paths: Sequence[Path]) -> str:
        """Return one digest of several files' names and contents."""
        digest = hashlib.sha256()
        for path in sorted(paths):
            digest.update(f"{path}\0{self.of(path)}\0".encode())
        return digest.hexdigest()

    def save(self) -> None:
        """Remember the digests for the next build."""
        if self.store is not None and self.changed:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.store, json.dumps(self.known).encode())


class Keys:
    """Hash everything an output depends on, so an unchanged handout is not built again."""

    def __init__(self, workspace: Workspace, digests: FileDigests | None = None) -> None:
        import weasyprint

        from .i18n import LOCALE_DIR

        self.workspace = workspace
        self.digests = digests or FileDigests(None)
        files: list[Path] = [workspace.root / "handouts.yaml"]
        for kind in ("templates", "styles"):
            for folder in workspace.search_path(kind):
                files.extend(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        if workspace.assets_dir.is_dir():
            files.extend(p for p in workspace.assets_dir.rglob("*") if p.is_file())
        self.shared = self.digests.combined(files) + __version__ + weasyprint.__version__
        self.locale_dir = LOCALE_DIR
        self._cache: dict[tuple[str, str], str] = {}

    def key(self, job: Job) -> str:
        """Return the key of one output: its topic files, shared inputs, options and versions."""
        if (job.topic, job.lang) not in self._cache:
            folder = self.workspace.topics_dir / job.topic
            files = [folder / "topic.yaml", folder / f"{job.lang}.yaml"]
            po = self.locale_dir / job.lang.replace("-", "_") / "LC_MESSAGES" / "handouts.po"
            if po.is_file():
                files.append(po)
            self._cache[(job.topic, job.lang)] = self.digests.combined(files)
        options = f"{job.kind}|{job.length}|{job.paper}|{job.large}|{os.environ.get('SOURCE_DATE_EPOCH', '')}"
        return hashlib.sha256(f"{self.shared}|{self._cache[(job.topic, job.lang)]}|{options}".encode()).hexdigest()


def load_manifest(output: Path) -> dict[str, Any]:
    """Return the manifest's entries by output path, or nothing if it is missing or damaged."""
    try:
        data = json.loads((output / MANIFEST).read_text(encoding="utf-8"))
        return {entry["path"]: entry for entry in data["outputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _up_to_date(output: Path, entry: dict[str, Any] | None, key: str, digests: FileDigests) -> bool:
    if entry is None or entry.get("key") != key:
        return False
    path = output / entry["path"]
    try:
        return path.stat().st_size == entry["size"] and digests.of(path) == entry["sha256"]
    except OSError:
        return False


def _remove_stale_temporaries(output: Path, older_than: float = 3600) -> None:
    """Remove temporary files an interrupted build left (never a finished PDF, never a fresh one)."""
    if not output.is_dir():
        return
    cutoff = time.time() - older_than
    for tmp in output.rglob(".*.pdf.*.tmp"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except OSError:
            pass


def in_workers(
    workspace: Workspace,
    work: Callable[[Builder, T], R],
    items: Sequence[T],
    died: Callable[[T, str], R],
    workers: int | None = None,
    *,
    ordered: bool = False,
) -> Iterator[R]:
    """Yield work(builder, item) for every item, in worker processes (see handouts.executor)."""
    from .executor import run_jobs

    yield from run_jobs(workspace, work, items, died, workers, ordered=ordered)


def _build_with(builder: Builder, task: tuple[Job, str]) -> tuple[Job, int, str | None, float]:
    """Build one handout to its target; return (job, pages, error or None, seconds)."""
    job, target = task
    started = time.perf_counter()
    result = builder.make(job, Path(target))
    return job, result.pages, result.error, time.perf_counter() - started


def _build_died(task: tuple[Job, str], why: str) -> tuple[Job, int, str | None, float]:
    return task[0], 0, why, 0.0


def build_catalog(
    workspace: Workspace,
    jobs: Sequence[Job],
    output: Path,
    *,
    workers: int | None = None,
    force: bool = False,
    on_result: Callable[[Result], None] | None = None,
    on_skip: Callable[[Job], None] | None = None,
) -> BatchReport:
    """Build jobs into output/, in parallel, skipping up-to-date outputs; then write the manifest."""
    _remove_stale_temporaries(output)
    digests = FileDigests(output / DIGESTS)
    keys = Keys(workspace, digests)
    manifest = Manifest(workspace, output, digests)
    report = BatchReport()
    todo: dict[Job, str] = {}
    for job in jobs:
        key = keys.key(job)
        if not force and _up_to_date(output, manifest.get(job), key, digests):
            report.skipped.append(job)
            if on_skip:
                on_skip(job)
        else:
            todo[job] = key
    tasks = [(job, str(output / job.relpath)) for job in todo]
    finished: set[Job] = set()
    try:
        for job, pages, error, seconds in in_workers(workspace, _build_with, tasks, _build_died, workers):
            finished.add(job)
            if error is None:
                result = Result(job, output / job.relpath, pages)
                report.built.append(result)
                manifest.add(job, pages, todo[job], seconds)
            else:
                result = Result(job, None, 0, error)
                report.failed.append(result)
                manifest.remove(job)
            manifest.save()
            if on_result:
                on_result(result)
    except BaseException:  # Ctrl-C: the workers are gone; remove what they left half-written
        _remove_orphaned_temporaries([output / job.relpath for job in todo if job not in finished])
        raise
    finally:  # on Ctrl-C too: what was built is recorded, so the next run builds only the rest
        manifest.save(final=True)
        digests.save()
    return report


def _remove_orphaned_temporaries(targets: Sequence[Path]) -> None:
    """Remove the temporary files of these targets whose writing process has ended (never those of
    a build still running, such as a second build into the same folder)."""
    for target in targets:
        for tmp in target.parent.glob(f".{target.name}.*.tmp"):
            pid = tmp.name[len(target.name) + 2:].split(".", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


class Manifest:
    """output/manifest.json: every output with its key, pages, size, SHA-256, language and status.

    Entries are added as handouts finish and the file is saved at most every CHECKPOINT seconds
    during a build (and at its end), so a build that is killed loses the record of a second or
    so of work, and the next run rebuilds only that and what was never built.
    """

    CHECKPOINT = 1.0

    def __init__(self, workspace: Workspace, output: Path, digests: FileDigests) -> None:
        self.workspace = workspace
        self.output = output
        self.digests = digests
        self.entries = load_manifest(output)
        self.dirty = not (output / MANIFEST).is_file()
        self.saved_at = time.monotonic()

    def get(self, job: Job) -> dict[str, Any] | None:
        """Return the entry of one output, if any."""
        return self.entries.get(job.relpath.as_posix())

    def add(self, job: Job, pages: int, key: str, seconds: float) -> None:
        """Record an output just built."""
        rel = job.relpath.as_posix()
        path = self.output / rel
        topic = self.workspace.catalog.topics[job.topic]  # the audit record reads the validated topics
        self.entries[rel] = {
            "path": rel,
            "topic": job.topic,
            "kind": job.kind,
            "length": job.length,
            "language": job.lang,
            "paper": job.paper,
            "large_print": job.large,
            "translation_status": topic.translation_status(job.lang),
            "review_status": topic.meta.review.status,
            "pages": pages,
            "size": path.stat().st_size,
            "sha256": self.digests.of(path, ours=True),
            "key": key,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(seconds, 3),
        }
        self.dirty = True

    def remove(self, job: Job) -> None:
        """Forget an output that failed to build."""
        if self.entries.pop(job.relpath.as_posix(), None) is not None:
            self.dirty = True

    def save(self, *, final: bool = False) -> None:
        """Write the manifest (and the digests) if anything changed: always when final, else at
        most once per CHECKPOINT seconds."""
        if not self.dirty or (not final and time.monotonic() - self.saved_at < self.CHECKPOINT):
            return
        data = {"generator": f"handouts {__version__}", "outputs": [self.entries[k] for k in sorted(self.entries)]}
        write_atomic(self.output / MANIFEST, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
        self.digests.save()
        self.dirty = False
        self.saved_at = time.monotonic()
