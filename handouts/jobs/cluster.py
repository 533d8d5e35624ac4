"""Catalog builds on a Dask distributed cluster: the same jobs, run on other machines.

Imported only for `handouts build --cluster ADDRESS` (or HANDOUTS_CLUSTER), never from
handouts.yaml: a Dask client unpickles what the scheduler sends, so only whoever runs handouts
may choose a cluster. The engine plans, keys and gates the jobs as for a local build
(handouts.jobs.batch); this module only runs them elsewhere and brings the PDFs home:

- The workspace's files travel to the workers as a bundle named by its digest (every file's path
  and SHA-256): scattered once to every worker, unpacked there into
  $TMPDIR/handouts-bundles/<digest>/ and checked against the digest, so a worker builds exactly
  the client's inputs and never a stale copy.
- Before any job runs, every worker's fingerprint (handouts' code and built-in templates and
  styles, WeasyPrint, Pango, HarfBuzz and the rest, and the installed fonts) is compared with the
  client's; a different worker would make different bytes, so the build is refused, naming it
  and what differs. Each task checks again, for a worker that joins later.
- On a worker, each handout is made by the same Builder.make as locally, in a worker process of
  the same pool (handouts.jobs.executor): the time and memory limits hold, and a handout that
  crashes its process fails alone without taking the Dask worker down.
- The PDF comes back to the client, which writes it atomically and records it in the manifest:
  one output per job, however often Dask ran it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from handouts.errors import HandoutsError, UsageError
from handouts.jobs.planning import Job

if TYPE_CHECKING:
    from handouts.jobs.executor import _Pool
    from handouts.jobs.facts import LayoutFacts
    from handouts.jobs.pipeline import Builder
    from handouts.load.workspace import Workspace

#: The environment variable that names a cluster when --cluster is not given.
CLUSTER_VARIABLE = "HANDOUTS_CLUSTER"

#: What a worker sends back for one handout: (job, PDF bytes, pages, error, seconds, layout facts).
Made = tuple[Job, "bytes | None", int, "str | None", float, "LayoutFacts | None"]

#: Seconds to wait for the scheduler when connecting, and between looks at a build that has no news.
CONNECT_SECONDS = 20.0
WATCH_SECONDS = 5.0
#: Seconds a scheduler may take to say how it is before it counts as lost (stopped or stuck).
STUCK_SECONDS = 30.0


class ClusterError(HandoutsError):
    """The cluster cannot run this build (unreachable, no workers, a different renderer, lost): one line a problem."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0])
        self._lines = list(lines)

    def lines(self) -> list[str]:
        return list(self._lines)


def cluster_address(given: str | None) -> str | None:
    """Return the cluster's address from --cluster, else HANDOUTS_CLUSTER, else None (build locally)."""
    address = given if given is not None else os.environ.get(CLUSTER_VARIABLE, "")
    address = address.strip()
    if not address:
        return None
    if "://" not in address or address.split("://", 1)[0] not in ("tcp", "tls", "inproc", "ucx", "ws", "wss"):
        raise UsageError(f"--cluster {address}: expected a Dask scheduler address such as tcp://HOST:8786 "
                         "or tls://HOST:8786")
    return address


# --- the bundle: the workspace's files, named by their digest ------------------------------------


@dataclass(frozen=True)
class Bundle:
    """The workspace files a build reads, by path inside the workspace, and their digest."""

    files: dict[str, bytes]
    digest: str

    @property
    def size(self) -> int:
        """Return the bytes of all files."""
        return sum(len(data) for data in self.files.values())


def bundle_digest(files: dict[str, bytes]) -> str:
    """Return the digest of a bundle: every file's path and SHA-256, in path order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{hashlib.sha256(files[name]).hexdigest()}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def make_bundle(workspace: Workspace, brands: Sequence[str]) -> Bundle:
    """Return the bundle of the files a build of these brands reads from the workspace.

    handouts.yaml, data/ (topics and assets), the workspace's own templates/ and styles/ (the
    built-in ones are part of the fingerprint), and each brand's file and folder. A file or
    folder reached through a link out of its folder is left out, as the local build refuses it.
    """
    from handouts.jobs.batch import _files_below
    from handouts.limits import current
    from handouts.load.brands import BrandWorkspace
    from handouts.load.workspace import CONFIG_FILE, builtin_dir

    root = workspace.root
    folders = [root / "data"]
    for kind in ("templates", "styles"):
        own = root / kind
        if own.is_dir() and own.resolve() != builtin_dir(kind).resolve():
            folders.append(own)
    singles = [root / CONFIG_FILE]
    for brand in brands:
        branded = workspace.for_brand(brand)
        if isinstance(branded, BrandWorkspace):
            singles.append(branded.brand_file)
            folders.append(branded.brand_dir)
    # handouts.yaml and a brand file are read as the local build reads them (yamlio.load): through
    # a link that stays inside their own folder, under their own name
    paths = [p for p in singles if _readable(p, root)]
    for folder in folders:
        if folder.is_dir() and _inside(root, folder):
            paths.extend(_files_below(folder))
    limit = current().bundle_mb
    files: dict[str, bytes] = {}
    total = 0
    for path in paths:
        name = path.relative_to(root).as_posix()
        if name in files:
            continue
        # counted before it is read: a huge (or sparse) file never sits in memory whole
        if total + path.stat().st_size > limit * 1_000_000:
            _too_big(limit)
        data = path.read_bytes()
        total += len(data)
        if total > limit * 1_000_000:
            _too_big(limit)
        files[name] = data
    return Bundle(files, bundle_digest(files))


def _too_big(limit: int) -> NoReturn:
    from handouts.limits import current

    raise ClusterError(f"the workspace's files come to more than {limit} MB, the most a cluster build "
                       f"sends its workers ({current().variable('bundle_mb')})")


def _readable(path: Path, root: Path) -> bool:
    """Return whether the local build reads this file (a regular file, by a link that stays in its folder)."""
    from handouts.files import OutsideError, contained

    try:
        contained(path, path.parent, root)
    except OutsideError:
        return False
    return True


def _inside(root: Path, path: Path) -> bool:
    """Return whether path, with every link on the way resolved, is where it says below root."""
    return os.path.realpath(path) == str(root / path.relative_to(root))


def unpack(files: dict[str, bytes], digest: str) -> Path:
    """Return the folder holding this bundle on this machine, unpacking it the first time.

    Unpacked into a temporary folder, checked against its digest, then renamed into place, so
    tasks running at once never see half a bundle.
    """
    base = _private_folder(Path(tempfile.gettempdir()) / "handouts-bundles")
    target = base / digest
    if (target / "handouts.yaml").is_file():
        return target
    _remove_old_bundles(base)
    if bundle_digest(files) != digest:
        raise ClusterError(f"the workspace bundle {digest[:12]} arrived damaged (its files do not match its digest)")
    scratch = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=base))
    try:
        for name, data in files.items():
            parts = name.split("/")
            if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
                raise ClusterError(f"the workspace bundle {digest[:12]} names a file outside it: {name!r}")
            path = scratch.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as handle:
                handle.write(data)
        try:
            scratch.rename(target)
        except OSError:  # another task unpacked it first
            if not (target / "handouts.yaml").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _private_folder(base: Path) -> Path:
    """Make base (mode 700) if missing; refuse it unless it is a folder of this user's that no one
    else may write: in a shared /tmp, anyone could plant it as a link (unpack would clean old
    folders wherever it leads) or as a folder of theirs (and swap the bundles in it)."""
    try:
        base.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    info = os.lstat(base)
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    if not stat.S_ISDIR(info.st_mode) or not mine or info.st_mode & 0o022:
        raise ClusterError(f"refused: {base} is not a private folder of this user (a link, another user's, "
                           "or writable by others); remove it")
    return base


def _remove_old_bundles(base: Path) -> None:
    """Remove the bundles unpacked here that no task has used for BUNDLE_DAYS days."""
    cutoff = time.time() - BUNDLE_DAYS * 86400
    try:
        folders = list(base.iterdir())
    except OSError:
        return
    for folder in folders:
        try:
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


# --- the fingerprint: what makes a worker's bytes the same as ours -------------------------------


def fingerprint() -> dict[str, str]:
    """Return what decides a PDF's bytes besides its inputs, part by part.

    The renderer's versions (handouts.cache.renderer_fingerprint), handouts' own code, messages and
    built-in templates and styles, and the fonts fontconfig offers.
    """
    global _fingerprint
    if _fingerprint is None:
        from handouts import __version__
        from handouts.cache import PACKAGE_ROOT, Digests, code_files, renderer_fingerprint
        from handouts.load.workspace import builtin_dir

        parts = {"handouts": __version__}
        for part in renderer_fingerprint().split("; "):
            name, _, version = part.rpartition(" ")
            parts[name or part] = version
        named: list[tuple[str, Path]] = [(f"code/{p.relative_to(PACKAGE_ROOT).as_posix()}", p) for p in code_files()]
        for kind in ("templates", "styles"):
            folder = builtin_dir(kind)
            named.extend((f"{kind}/{p.relative_to(folder).as_posix()}", p)
                         for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts)
        parts["handouts code, templates and styles"] = Digests(None).combined(named)[:16]
        parts["fonts"] = _fonts_digest()
        _fingerprint = parts
    return dict(_fingerprint)


_fingerprint: dict[str, str] | None = None


def _fonts_digest() -> str:
    """Return a digest of the font files fontconfig lists (their paths and sizes)."""
    try:
        listed = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True, text=True,
                                timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown (fc-list did not run)"
    found = []
    for line in sorted(set(listed.splitlines())):
        try:
            found.append(f"{line}\0{os.stat(line).st_size}")
        except OSError:
            continue
    return hashlib.sha256("\n".join(found).encode()).hexdigest()[:16]


def differences(theirs: dict[str, str], ours: dict[str, str]) -> str:
    """Return what differs between a worker's fingerprint and ours, in words."""
    lines = []
    for name in sorted(set(theirs) | set(ours)):
        if theirs.get(name) != ours.get(name):
            if name in ("fonts", "handouts code, templates and styles"):
                lines.append(f"{name} differ")
            else:
                lines.append(f"{name} {theirs.get(name, 'missing')} there, {ours.get(name, 'missing')} here")
    return "; ".join(lines)


# --- on a worker ---------------------------------------------------------------------------------

#: This Dask worker's pools: one per (bundle, environment, thread), kept between tasks, the most
#: recently used last; at most POOLS_PER_THREAD a thread (two builds at once take turns without
#: starting their processes again each time).
_pools: OrderedDict[tuple[str, tuple[tuple[str, str | None], ...], int], _Pool[tuple[Job, str], Made]] = OrderedDict()
_pools_lock = threading.Lock()
POOLS_PER_THREAD = 4
#: An unpacked bundle not used for this long is removed when another is unpacked.
BUNDLE_DAYS = 7


def run_on_worker(files: dict[str, bytes], digest: str, env: dict[str, str | None], expected: dict[str, str],
                  task: tuple[Job, str]) -> Made:
    """Make one handout on a Dask worker and return its PDF (the function each task runs)."""
    import multiprocessing

    from handouts.jobs.executor import _Pool
    from handouts.load.workspace import Workspace

    ours = fingerprint()
    if ours != expected:
        raise ClusterError(f"refused: this worker would make different bytes ({differences(ours, expected)})")
    if multiprocessing.current_process().daemon:
        raise ClusterError(f"refused: {DAEMON}")
    root = unpack(files, digest)
    os.utime(root)  # in use: not removed as old
    key = (digest, tuple(sorted(env.items())), threading.get_ident())
    with _pools_lock:
        pool = _pools.get(key)
        if pool is not None:
            _pools.move_to_end(key)
        else:
            mine = [k for k in _pools if k[2] == key[2]]
            for old in mine[:max(0, len(mine) - POOLS_PER_THREAD + 1)]:
                _pools.pop(old).close()
            # spawned, not forked: a forked process would hold the Dask worker's sockets open after
            # the worker is killed, and the scheduler would not see it die
            pool = _pools[key] = _Pool(Workspace(root), _make_in_memory, _died, 1, env=env, start_method="spawn")
    (made,) = list(pool.run([task], ordered=False, keep=True))
    return made


#: Why a Dask worker under a nanny (a daemon process) cannot make handouts.
DAEMON = ("it runs as a daemon process (under a nanny), which cannot start the process a handout is made in; "
          "start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False")


def _worker_state() -> tuple[dict[str, str], bool]:
    """Return this worker's fingerprint and whether it is a daemon process (run on every worker)."""
    import multiprocessing

    return fingerprint(), bool(multiprocessing.current_process().daemon)


def _make_in_memory(builder: Builder, task: tuple[Job, str]) -> Made:
    job, key = task
    started = time.perf_counter()
    result = builder.make(job, None, key=key)
    return job, result.pdf, result.pages, result.error, time.perf_counter() - started, result.facts


def _died(task: tuple[Job, str], why: str) -> Made:
    return task[0], None, 0, why, 0.0, None


# --- on the client -------------------------------------------------------------------------------


def environment() -> dict[str, str | None]:
    """Return the variables of this process that a worker must share: the limits and SOURCE_DATE_EPOCH."""
    from dataclasses import fields

    from handouts.limits import Limits

    names = ["SOURCE_DATE_EPOCH", *(Limits().variable(f.name) for f in fields(Limits))]
    return {name: os.environ.get(name) for name in names}


def _quiet_dask_logs() -> None:
    """Silence the log lines (and tracebacks) Dask's client writes when a connection breaks: the build
    says what happened in one line. handouts --debug leaves them on."""
    import logging

    if logging.getLogger("handouts").getEffectiveLevel() > logging.DEBUG:
        families = ("distributed", "tornado", "asyncio")
        for name in [*families, *logging.root.manager.loggerDict]:
            if name.split(".")[0] in families:
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _answers(address: str) -> None:
    """Raise ClusterError unless a scheduler at address completes Dask's handshake in CONNECT_SECONDS.

    Dask's connect bounds the TCP connection by its timeout but then waits for the handshake
    without one: a scheduler that is stopped or stuck (its kernel still accepts connections) would
    keep the build waiting for good. In a thread of its own, so a caller's running event loop
    (a notebook's) is no obstacle.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm.core import connect
    from distributed.security import Security

    # a few seconds more than Dask's own deadline, so a refused or unroutable address still gets its words
    deadline = CONNECT_SECONDS + 5

    async def probe() -> None:
        args = Security().get_connection_args("client")
        comm = await asyncio.wait_for(connect(address, timeout=CONNECT_SECONDS, **args), deadline)
        await comm.close()

    with ThreadPoolExecutor(1) as thread:
        try:
            thread.submit(asyncio.run, probe()).result()
        except TimeoutError:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: it did not answer in "
                               f"{deadline:g} s") from None
        except OSError as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        except (TypeError, ValueError) as exc:  # Dask's words for missing or wrong TLS settings
            raise ClusterError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None


class Cluster:
    """A connection to a Dask scheduler that runs handout jobs and yields what its workers made."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--cluster needs Dask distributed: pip install 'handouts[cluster]'") from None
        self.address = address
        _quiet_dask_logs()
        _answers(address)
        try:
            self.client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def close(self) -> None:
        """Leave the cluster (its workers keep running)."""
        try:
            self.client.close(timeout=5)
        except Exception:  # noqa: BLE001 - leaving a scheduler that is gone
            pass

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_workers(self) -> int:
        """Refuse the build if a worker would make other bytes or cannot start a handout's process;
        return the number of workers."""
        ours = fingerprint()
        try:
            theirs: dict[str, tuple[dict[str, str], bool]] = self.client.run(_worker_state)
        except Exception as exc:  # noqa: BLE001 - a worker that cannot even run handouts
            raise ClusterError(f"the cluster's workers cannot run handouts: {type(exc).__name__}: {exc}") from None
        if not theirs:
            raise ClusterError(f"the cluster at {self.address} has no workers")
        bad = []
        for address, (theirs_fingerprint, daemon) in sorted(theirs.items()):
            if theirs_fingerprint != ours:
                bad.append(f"worker {address} refused: it would make different bytes "
                           f"({differences(theirs_fingerprint, ours)})")
            elif daemon:
                bad.append(f"worker {address} refused: {DAEMON}")
        if bad:
            raise ClusterError(*bad)
        return len(theirs)

    def run(self, workspace: Workspace, brands: Sequence[str], tasks: Sequence[tuple[Job, str]]) -> Iterator[Made]:
        """Yield what the workers made of each (job, key), as they finish; each job once."""
        from distributed import wait

        workers = self.check_workers()
        bundle = make_bundle(workspace, brands)
        expected = fingerprint()
        env = environment()
        [files] = self.client.scatter([bundle.files], broadcast=True, hash=False)
        # a bounded window of tasks: the scheduler holds a few per worker, not millions
        window = max(8, 4 * workers)
        todo = list(reversed(tasks))
        running: dict[Any, tuple[Job, str]] = {}
        try:
            while todo or running:
                while todo and len(running) < window:
                    task = todo.pop()
                    future = self.client.submit(run_on_worker, files, bundle.digest, env, expected, task,
                                                pure=False, retries=0, key=f"handout-{task[1][:20]}")
                    running[future] = task
                try:
                    with self.client.as_current():
                        done, _ = wait(list(running), timeout=WATCH_SECONDS, return_when="FIRST_COMPLETED")
                except CancelledError:  # the client cancels every future when it loses the scheduler
                    raise self._lost() from None
                except TimeoutError:  # no news for a while: is there still a scheduler, and a worker?
                    self._watch()
                    continue
                for future in done:
                    task = running.pop(future)
                    yield self._made(future, task)
        finally:
            for future in running:
                future.cancel()

    def _made(self, future: Any, task: tuple[Job, str]) -> Made:
        """Return one task's result, or its failure said as a handout's error."""
        from distributed import KilledWorker

        job = task[0]
        if future.status == "finished":
            made: Made = future.result()
            # the job this future was submitted for, whatever the worker says: it names where the PDF goes
            return (job, *made[1:])
        if self.client.status not in ("running", "connecting"):
            raise self._lost()
        try:
            future.result(timeout=WATCH_SECONDS)
        except KilledWorker as exc:
            tries = getattr(exc, "allowed_failures", None)
            times = (f"{tries + 1} worker{'s' if tries else ''}" if isinstance(tries, int) else "its workers")
            return _died(task, f"{times} died while running it on the cluster (Dask's distributed.scheduler."
                               "allowed-failures); the rest of the batch went on")
        except ClusterError as exc:
            return _died(task, str(exc))
        except CancelledError:
            raise self._lost() from None
        except Exception as exc:  # noqa: BLE001 - a task that raised fails once, like a local failure
            return _died(task, f"failed on the cluster: {type(exc).__name__}: {exc}")
        return job, None, 0, "failed on the cluster without an error", 0.0, None

    def _watch(self) -> None:
        """Raise when the scheduler is gone or no worker is left to run anything."""
        if self.client.status not in ("running", "connecting"):
            raise self._lost()
        scheduler = self.client.scheduler
        if scheduler is None:
            raise self._lost()
        try:  # with a deadline: a stopped or stuck scheduler still accepts, and would never answer
            info = self.client.sync(scheduler.identity, n_workers=-1, callback_timeout=STUCK_SECONDS)
        except Exception:  # noqa: BLE001
            raise self._lost() from None
        if not info.get("workers"):
            raise ClusterError(f"the cluster at {self.address} has no workers left; what was built so far is "
                               "recorded, and the next run builds only the rest")

    def _lost(self) -> ClusterError:
        return ClusterError(f"lost the Dask scheduler at {self.address}; what was built so far is recorded, and the "
                            "next run builds only the rest")
