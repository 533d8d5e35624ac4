"""Catalog builds: parallel workers, incremental (skip what is up to date), and a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handouts import __version__
from handouts.cache import (
    PACKAGE_ROOT,
    Digests,
    cache_dir,
    code_files,
    environ_key,
    renderer_fingerprint,
    version_id,
)
from handouts.errors import display_path
from handouts.files import write_atomic
from handouts.jobs.executor import run_jobs
from handouts.jobs.facts import FactsCache, LayoutFacts
from handouts.jobs.planning import Job, Report, Result
from handouts.load.summary import DIGESTS
from handouts.load.workspace import Workspace, builtin_dir
from handouts.vocabulary import DEFAULT_BRAND

if TYPE_CHECKING:
    from handouts.jobs.pipeline import Builder

MANIFEST = "manifest.json"



class Keys:
    """Hash everything an output depends on, so an unchanged handout is not built again.

    An output's key covers its topic files, the workspace's config, templates, styles, fonts and
    assets, the package's own code and message catalogs, the renderer's versions (see
    handouts.cache.renderer_fingerprint), the handout's options and SOURCE_DATE_EPOCH. No edit or
    upgrade leaves a stale PDF marked up to date. Computing keys imports neither pydantic nor
    WeasyPrint, so a rebuild with nothing to do stays quick.
    """

    def __init__(self, workspace: Workspace, digests: Digests | None = None) -> None:
        self.workspace = workspace
        self.digests = digests or Digests(None)
        self._shared: dict[str, str] = {}
        self.shared = self.shared_of(workspace.brand)
        self._cache: dict[tuple[str, str], str] = {}

    def shared_of(self, brand: str) -> str:
        """Return the digest of everything but the topic that a brand's handouts depend on.

        Each file is named by its role and its path inside its folder, never by where the folder
        is: the same inputs elsewhere make the same keys, version ids and bytes. A brand adds its
        file and everything in its folder (logo, templates, styles), so editing one brand rebuilds
        only that brand's handouts.
        """
        if brand in self._shared:
            return self._shared[brand]
        from handouts.load.brands import BrandWorkspace

        workspace = self.workspace.for_brand(brand)
        named: list[tuple[str, Path]] = [("workspace/handouts.yaml", workspace.root / "handouts.yaml")]
        named.extend((f"code/{p.relative_to(PACKAGE_ROOT).as_posix()}", p) for p in code_files())
        if isinstance(workspace, BrandWorkspace):
            named.append(("brand/brand.yaml", workspace.brand_file))
            folder = workspace.brand_dir
            named.extend((f"brand/files/{p.relative_to(folder).as_posix()}", p) for p in _files_below(folder))
        for kind in ("templates", "styles"):
            for folder in workspace.search_path(kind):
                role = ("builtin" if folder == builtin_dir(kind) else
                        "brand" if isinstance(workspace, BrandWorkspace) and folder == workspace.brand_dir / kind
                        else "workspace")
                named.extend((f"{role}/{kind}/{p.relative_to(folder).as_posix()}", p) for p in _files_below(folder))
        assets = workspace.assets_dir
        named.extend((f"workspace/assets/{p.relative_to(assets).as_posix()}", p) for p in _files_below(assets))
        self._shared[brand] = self.digests.combined(named, renderer_fingerprint(), environ_key())
        return self._shared[brand]

    def key(self, job: Job) -> str:
        """Return the key of one output."""
        if (job.topic, job.lang) not in self._cache:
            folder = self.workspace.topics_dir / job.topic
            named = [(f"topic/{name}", folder / name) for name in ("topic.yaml", f"{job.lang}.yaml")]
            self._cache[(job.topic, job.lang)] = self.digests.combined(named)
        options = f"{job.brand}|{job.kind}|{job.length}|{job.paper}|{job.large}"
        shared = self.shared_of(job.brand)
        return hashlib.sha256(f"{shared}|{self._cache[(job.topic, job.lang)]}|{options}".encode()).hexdigest()


def _files_below(folder: Path) -> list[Path]:
    """Return the regular files inside folder (through links only when they stay inside it: the
    renderer refuses the others, and their bytes must not reach a key)."""
    found: list[Path] = []
    inside = os.path.realpath(os.path.abspath(folder))
    for base, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = Path(base) / name
            if path.is_file() and Path(os.path.realpath(path)).is_relative_to(inside):
                found.append(path)
    return sorted(found)


def up_to_date(output: Path, entry: dict[str, Any] | None, key: str, digests: Digests) -> bool:
    """Return whether an output exists, unchanged, with the manifest entry of this key."""
    if entry is None or entry.get("key") != key:
        return False
    path = output / entry["path"]
    try:
        return bool(path.stat().st_size == entry["size"] and digests.of(path) == entry["sha256"])
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


Task = tuple[Job, str, str]
Done = tuple[Job, int, "str | None", float, "LayoutFacts | None"]


def _build_with(builder: Builder, task: Task) -> Done:
    """Build one handout to its target (in a worker); return (job, pages, error, seconds, layout facts)."""
    job, target, key = task
    started = time.perf_counter()
    result = builder.make(job, Path(target), key=key)
    return job, result.pages, result.error, time.perf_counter() - started, result.facts


def _build_died(task: Task, why: str) -> Done:
    return task[0], 0, why, 0.0, None


def build_catalog(
    workspace: Workspace,
    jobs: Sequence[Job],
    output: Path,
    *,
    workers: int | None = None,
    force: bool = False,
    on_result: Callable[[Result], None] | None = None,
    on_skip: Callable[[Job], None] | None = None,
    cluster: str | None = None,
) -> Report:
    """Build jobs into output/, in parallel, skipping up-to-date outputs; record each in the manifest.

    The jobs run in worker processes here, or with cluster (a Dask scheduler's address) on its
    workers (handouts.jobs.cluster), whose PDFs are written here: either way each output is
    written once, atomically, and recorded as it arrives.
    """
    _remove_stale_temporaries(output)
    digests = Digests(cache_dir(workspace.root) / DIGESTS)
    keys = Keys(workspace, digests)
    manifest = Manifest(workspace, output, digests)
    report = Report()
    todo: dict[Job, str] = {}
    for job in jobs:
        key = keys.key(job)
        if not force and up_to_date(output, manifest.get(job), key, digests):
            report.skipped.append(job)
            if on_skip:
                on_skip(job)
        else:
            todo[job] = key
    if not todo:  # nothing to do: neither pydantic nor WeasyPrint was imported
        digests.save()
        return report
    facts = FactsCache(workspace)
    for job in _outside_output(output, list(todo)):  # a link in output/ must not send a PDF elsewhere
        todo.pop(job)
        result = Result(job, None, 0, f"refused to write {job.relpath.as_posix()}: a link in the output folder "
                                      "leads outside it")
        report.results.append(result)
        if on_result:
            on_result(result)
    finished: set[Job] = set()
    if cluster is not None:
        done: Iterator[Done] = _from_cluster(cluster, workspace, output, todo)
    else:
        tasks = [(job, str(output / job.relpath), key) for job, key in todo.items()]
        done = run_jobs(workspace, _build_with, tasks, _build_died, workers)
    try:
        for job, pages, error, seconds, found in done:
            if job in finished:  # never counted or recorded twice
                continue
            finished.add(job)
            if error is None:
                result = Result(job, output / job.relpath, pages, version=version_id(todo[job]))
                manifest.add(job, pages, todo[job], seconds)
                if found is not None:
                    facts.add(todo[job], found)
            else:
                result = Result(job, None, 0, error)
                manifest.remove(job)
            report.results.append(result)
            manifest.save()
            if on_result:
                on_result(result)
    except BaseException:  # Ctrl-C: the workers are gone; remove what they left half-written
        _remove_orphaned_temporaries([output / job.relpath for job in todo if job not in finished])
        raise
    finally:  # on Ctrl-C too: what was built is recorded, so the next run builds only the rest
        manifest.save(final=True)
        facts.save()
        digests.save()
    return report


def _from_cluster(address: str, workspace: Workspace, output: Path, todo: dict[Job, str]) -> Iterator[Done]:
    """Run the jobs on a Dask cluster; write each PDF that comes back into place here, atomically."""
    from handouts.jobs.cluster import Cluster

    brands = sorted({job.brand for job in todo})
    with Cluster(address) as cluster:
        for job, pdf, pages, error, seconds, found in cluster.run(workspace, brands, list(todo.items())):
            if error is None and pdf is not None:
                target = output / job.relpath
                try:
                    write_atomic(target, pdf)
                except OSError as exc:
                    error = f"cannot write {display_path(target)}: {exc.strerror or exc}"
            yield job, pages, error, seconds, found


def _outside_output(output: Path, jobs: list[Job]) -> list[Job]:
    """Make the folders of these jobs' outputs; return the jobs whose folder leads outside output."""
    root = os.path.realpath(output)
    bad = []
    for job in jobs:
        folder = output / job.relpath.parent
        # a link on the way (output/<brand>, output/<lang>) is looked at before a folder is made through it
        below = [p for p in (folder, *folder.parents) if p.is_relative_to(output) and p != output]
        existing = next((p for p in below if os.path.lexists(p)), None)
        if existing is not None and not Path(os.path.realpath(existing)).is_relative_to(root):
            bad.append(job)
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue  # the job itself reports why it cannot write
        if not Path(os.path.realpath(folder)).is_relative_to(root):
            bad.append(job)
    return bad


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
    """The manifest: every output with its key, version id, pages, size, SHA-256, language and status.

    Sharded by brand, so a health system's millions of outputs are never rewritten whole: the
    workspace's own clinic's outputs are listed in output/manifest.json, brand NAME's in
    output/NAME/manifest.json (paths relative to output/ either way). A shard is read when a job
    of its brand first asks for it.

    Entries are added as handouts finish and the changed shards are saved at most every
    CHECKPOINT seconds during a build (less often when saving takes long, so that saving never
    takes more than about a twentieth of the build), and at its end: a build that is killed loses
    the record of a few seconds of work at most, and the next run rebuilds only that and what was
    never built. Saving merges this build's changes into the shard on disk under a lock, so builds
    running at the same time into one folder keep each other's entries.
    """

    CHECKPOINT = 1.0
    #: A checkpoint waits at least this many times as long as the last save took.
    SAVE_SHARE = 20

    def __init__(self, workspace: Workspace, output: Path, digests: Digests) -> None:
        self.workspace = workspace
        self.output = output
        self.digests = digests
        self.shards: dict[str, dict[str, dict[str, Any]]] = {}
        self.changes: dict[str, dict[str, dict[str, Any] | None]] = {}
        self.saved_at = time.monotonic()
        self.wait = self.CHECKPOINT

    def entries(self, brand: str) -> dict[str, dict[str, Any]]:
        """Return one brand's entries by output path, read from its shard the first time."""
        if brand not in self.shards:
            self.shards[brand] = load_manifest(self.output, brand)
        return self.shards[brand]

    def get(self, job: Job) -> dict[str, Any] | None:
        """Return the entry of one output, if any."""
        return self.entries(job.brand).get(job.relpath.as_posix())

    def add(self, job: Job, pages: int, key: str, seconds: float) -> None:
        """Record an output just built."""
        rel = job.relpath.as_posix()
        path = self.output / rel
        topic = self.workspace.catalog.topics[job.topic]  # the audit record reads the validated topics
        self.changes.setdefault(job.brand, {})[rel] = self.entries(job.brand)[rel] = {
            "path": rel,
            "brand": job.brand,
            "topic": job.topic,
            "kind": job.kind,
            "length": job.length,
            "language": job.lang,
            "paper": job.paper,
            "large_print": job.large,
            "translation_status": topic.translation_status(job.lang),
            "review_status": topic.meta.review.status,
            "version": version_id(key),
            "pages": pages,
            "size": path.stat().st_size,
            "sha256": self.digests.of(path, ours=True),
            "key": key,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(seconds, 3),
        }

    def remove(self, job: Job) -> None:
        """Forget an output that failed to build."""
        rel = job.relpath.as_posix()
        changes = self.changes.setdefault(job.brand, {})
        if self.entries(job.brand).pop(rel, None) is not None or rel in changes:
            changes[rel] = None

    def save(self, *, final: bool = False) -> None:
        """Merge this build's changes into the shards on disk: always when final, else at most
        once per checkpoint."""
        if not any(self.changes.values()) or (not final and time.monotonic() - self.saved_at < self.wait):
            return
        started = time.monotonic()
        self.output.mkdir(parents=True, exist_ok=True)
        with locked(self.output / LOCK):
            for brand, changes in self.changes.items():
                if changes:
                    self.shards[brand] = self._save_shard(brand, changes)
        self.changes = {}
        self.digests.save()
        self.saved_at = time.monotonic()
        self.wait = max(self.CHECKPOINT, self.SAVE_SHARE * (self.saved_at - started))

    def _save_shard(self, brand: str, changes: dict[str, dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
        merged = load_manifest(self.output, brand)  # what other builds saved meanwhile
        for rel, entry in changes.items():
            if entry is None:
                merged.pop(rel, None)
            else:
                merged[rel] = entry
        data = {"generator": f"handouts {__version__}", "brand": brand, "outputs": [merged[k] for k in sorted(merged)]}
        path = manifest_path(self.output, brand)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
        return merged


def manifest_path(output: Path, brand: str = DEFAULT_BRAND) -> Path:
    """Return the manifest shard of one brand: output/manifest.json, or output/<brand>/manifest.json."""
    return output / MANIFEST if brand == DEFAULT_BRAND else output / brand / MANIFEST


#: The fields every manifest entry has, with their types; an entry without them is ignored.
_ENTRY_FIELDS = {"path": str, "key": str, "size": int, "sha256": str, "pages": int}


def load_manifest(output: Path, brand: str = DEFAULT_BRAND) -> dict[str, dict[str, Any]]:
    """Return one brand's well-formed manifest entries by output path; nothing if its shard is missing or damaged.

    An entry of another brand (a manifest written before shards, which listed every brand in
    output/manifest.json) is left out: that output is built again once and recorded in its shard.
    """
    try:
        data = json.loads(manifest_path(output, brand).read_text(encoding="utf-8"))
        outputs = data["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(outputs, list):
        return {}
    prefix = "" if brand == DEFAULT_BRAND else f"{brand}/"
    return {
        entry["path"]: entry for entry in outputs
        if isinstance(entry, dict) and all(isinstance(entry.get(k), t) for k, t in _ENTRY_FIELDS.items())
        and entry.get("brand", DEFAULT_BRAND) == brand and entry["path"].startswith(prefix)
    }


LOCK = ".manifest.lock"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on path (a lock file) while the block runs. A link there is not followed."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    with os.fdopen(fd, "r+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: builds into one folder at once are not merged there
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
