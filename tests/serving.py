"""Start a real `handouts serve` in a subprocess on a free loopback port, for tests and the benchmark.

Its output goes to a log file (never the test runner's output); every wait has a timeout, and the
server is stopped (SIGTERM, then SIGKILL) by its own process id.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def copy_workspace(target: Path) -> Path:
    """Copy the shipped workspace (handouts.yaml and data/) to target and return it."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "handouts.yaml", target / "handouts.yaml")
    shutil.copytree(REPO / "data", target / "data", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def listing(*folders: Path) -> set[tuple[str, int, int]]:
    """Return every file below folders with its size and modification time (to compare before and after)."""
    found = set()
    for folder in folders:
        for base, _dirs, names in os.walk(folder):
            for name in names:
                path = Path(base) / name
                try:
                    stat = path.stat()
                except OSError:
                    continue
                found.add((str(path), stat.st_size, stat.st_mtime_ns))
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A `handouts serve` process: `with Server(workspace, log) as server: server.url`."""

    def __init__(self, workspace: Path, log: Path, *args: str, env: dict[str, str] | None = None,
                 tmpdir: Path | None = None, start_timeout: float = 90) -> None:
        self.workspace = workspace
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        if tmpdir is not None:
            tmpdir.mkdir(parents=True, exist_ok=True)
            self.env["TMPDIR"] = str(tmpdir)
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "handouts", "-w", str(self.workspace), "serve", "--port", str(self.port),
             *self.args],
            stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=self.workspace)
        handle.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server ended with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer in {self.start_timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def memory_kb(self) -> int:
        """Return the resident memory of the server and its worker processes (kB, from /proc)."""
        assert self.process is not None
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total


def _children(pid: int) -> list[int]:
    """Return the descendants of pid (the fork server and the workers), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        kids = [child for child, p in parents.items() if p == parent]
        found.extend(kids)
        todo.extend(kids)
    return found
