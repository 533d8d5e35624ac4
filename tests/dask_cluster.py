"""A real Dask cluster on loopback for the cluster tests (tests/test_cluster.py) and the benchmark.

`dask scheduler --host 127.0.0.1 --no-dashboard --scheduler-file F` and `dask worker --scheduler-file
F --nworkers 1 --nthreads 1 --no-dashboard --no-nanny` processes, started as the README tells an
admin to, each with its output in a log file (never the test run's output), each with a time
limit, and each ended when the cluster is stopped. Without a nanny a killed worker stays dead.
With CI set, a missing Dask fails these tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The longest a test's cluster process may live (they are stopped long before, unless a test hangs).
LIFETIME = 900


def dask_command() -> str:
    """Return the `dask` command of this Python's environment, or skip (fail in CI) without Dask."""
    command = Path(sys.executable).parent / "dask"
    found = str(command) if command.exists() else shutil.which("dask")
    try:
        import distributed  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        why = "Dask distributed is not installed (pip install 'handouts[cluster]')"
        if os.environ.get("CI"):
            pytest.fail(f"cluster tests cannot run in CI: {why}")
        pytest.skip(why)
    return found


@dataclass
class DaskCluster:
    """A scheduler and its workers, each a process of its own."""

    folder: Path
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    address: str = ""

    @property
    def scheduler_file(self) -> Path:
        return self.folder / "scheduler.json"

    def start(self, workers: int = 2, *, pythonpath: Path = ROOT,
              scheduler_env: dict[str, str] | None = None) -> DaskCluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scheduler_file.unlink(missing_ok=True)
        self.address = ""
        self.scheduler = self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                                   "--no-dashboard", "--scheduler-file", str(self.scheduler_file)],
                                     env=scheduler_env)
        deadline = time.monotonic() + 60
        while not self.address:
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                self.stop()
                raise RuntimeError(f"the Dask scheduler did not start; see {self.folder / 'scheduler.log'}")
            try:
                self.address = json.loads(self.scheduler_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        for _ in range(workers):
            self.add_worker(pythonpath=pythonpath)
        self.wait_for_workers(workers)
        return self

    def add_worker(self, *, pythonpath: Path = ROOT, wait: bool = False, nanny: bool = False) -> subprocess.Popen[bytes]:
        """Start one more worker (its own TMPDIR, where it unpacks bundles); without a nanny unless asked."""
        number = len(self.workers) + 1
        tmp = self.folder / f"worker-{number}-tmp"
        tmp.mkdir(exist_ok=True)
        worker = self._spawn(f"worker-{number}", ["worker", "--scheduler-file", str(self.scheduler_file),
                                                  "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                                  *([] if nanny else ["--no-nanny"])],
                             env={"PYTHONPATH": str(pythonpath), "TMPDIR": str(tmp)})
        self.workers.append(worker)
        if wait:
            self.wait_for_workers(sum(w.poll() is None for w in self.workers))
        return worker

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - the process writes it until it ends
        environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        environ.pop("HANDOUTS_CLUSTER", None)
        process = subprocess.Popen(["timeout", "-s", "KILL", str(LIFETIME), dask_command(), *args],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environ,
                                   cwd=self.folder, start_new_session=True)
        log.close()
        return process

    def client(self):  # noqa: ANN201 - a distributed.Client
        from distributed import Client

        return Client(self.address, timeout=30, set_as_default=False)

    def wait_for_workers(self, count: int) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=90)

    def worker_pids(self) -> dict[str, int]:
        """Return each worker's address and the PID of its process (the one `dask worker` runs in)."""
        with self.client() as client:
            return dict(client.run(os.getpid))

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def kill_scheduler(self) -> None:
        assert self.scheduler is not None
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(10)

    def stop(self) -> None:
        """End every process of the cluster (and the worker processes of handouts they started)."""
        for process in [*self.workers, *([self.scheduler] if self.scheduler else [])]:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.workers = []
        self.scheduler = None

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.folder.glob("*.log")))
