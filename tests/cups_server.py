"""A cupsd of our own with a CUPS-PDF queue named PDF, for the tests that print (tests/test_print.py,
tests/test_serve_print.py); conftest.py offers its fixtures: cupsd (one per session), cups (CUPS_SERVER
pointed at it for one test) and cups_pdf_output (what CUPS-PDF wrote).

The session starts its own cupsd (its config, spool, logs and socket in a temporary folder; its
output to files) whatever the machine's own CUPS is doing, and stops it at the end. With CI set,
a missing CUPS fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")


def missing(why: str) -> None:
    """Skip, or in CI fail: CI must run these tests."""
    if os.environ.get("CI"):
        pytest.fail(f"CUPS tests cannot run in CI: {why} (./dev installs cups, cups-client, printer-driver-cups-pdf)")
    pytest.skip(why)


@dataclass
class Server:
    """Our own cupsd: where it listens and keeps its files."""

    folder: Path
    socket: Path
    spool: Path
    logs: Path
    env: dict[str, str]

    def run(self, *args: str) -> str:
        done = subprocess.run(args, capture_output=True, env=self.env, timeout=30, check=True)
        return done.stdout.decode()

    def job_attributes(self, job_id: int) -> dict[str, str]:
        """Return the job's IPP attributes as the server holds them (name -> value as ipptool prints it)."""
        test = self.folder / "get-job.test"
        test.write_text('{\n OPERATION Get-Job-Attributes\n GROUP operation-attributes-tag\n'
                        ' ATTR charset attributes-charset utf-8\n ATTR naturalLanguage attributes-natural-language en\n'
                        ' ATTR uri job-uri $uri\n ATTR name requesting-user-name $user\n'
                        ' ATTR keyword requested-attributes all\n STATUS successful-ok\n}\n')
        host = str(self.socket).replace("/", "%2F")
        out = self.run("ipptool", "-tv", f"ipp://{host}/jobs/{job_id}", str(test))
        received = out.split("RECEIVED:", 1)[1]
        return dict(re.findall(r"^\s+(\S+) \([^)]*\) = (.*)$", received, re.M))

    def wait_completed(self, job: int, queue: str = "PDF", seconds: float = 60) -> None:
        """Wait until the job has left the queue's list of jobs not completed; fail after seconds."""
        end = time.monotonic() + seconds
        while f"{queue}-{job} " in self.run("lpstat", "-W", "not-completed", "-o", queue):
            assert time.monotonic() < end, f"job {queue}-{job} did not complete in {seconds:g} s"
            time.sleep(0.2)

    def spool_files(self) -> list[Path]:
        return sorted(p for p in self.spool.rglob("*") if p.is_file())


def cups_pdf_out() -> Path:
    """Return the folder CUPS-PDF writes a job of ours to (Out in /etc/cups/cups-pdf.conf; ~/PDF by default)."""
    user = pwd.getpwuid(os.getuid())
    out = "${HOME}/PDF"
    conf = Path("/etc/cups/cups-pdf.conf")
    if conf.exists():
        for line in conf.read_text(errors="replace").splitlines():
            if line.startswith("Out "):
                out = line[4:].strip()
    return Path(out.replace("${HOME}", user.pw_dir).replace("${USER}", user.pw_name))


@pytest.fixture(scope="session")
def cupsd() -> Iterator[Server]:
    """Start a cupsd of our own with a CUPS-PDF queue named PDF; stop it at the end."""
    for tool in ("cupsd", "lp", "lpstat", "lpadmin", "cupsdisable", "ipptool"):
        if not shutil.which(tool) and not Path("/usr/sbin", tool).exists():
            missing(f"{tool} is not installed")
    if not CUPS_PDF_PPD.exists() or not Path("/usr/lib/cups/backend/cups-pdf").exists():
        missing("CUPS-PDF (printer-driver-cups-pdf) is not installed")
    if os.getuid() != 0:
        missing("cupsd runs its filters as user lp and CUPS-PDF as root: run as root")
    # not pytest's tmp_path: its folders are private to us, and CUPS's filters run as user lp
    folder = Path(tempfile.mkdtemp(prefix="handouts-cups-"))
    folder.chmod(0o755)
    conf, spool, logs = folder / "conf", folder / "spool", folder / "log"
    for sub in (conf, spool, logs, folder / "state", folder / "cache"):
        sub.mkdir(mode=0o755)
    (spool / "tmp").mkdir()
    socket = folder / "cups.sock"
    policy = Path("/etc/cups/cupsd.conf").read_text() if Path("/etc/cups/cupsd.conf").exists() else ""
    policy = policy[policy.find("DefaultAuthType"):] if "DefaultAuthType" in policy else ""
    # Debian's own policy (who may cancel which job), logging at debug: the more it logs, the more
    # a patient field could leak into it, and the stronger the checks below. Files are kept, as on
    # a stock server (PreserveJobFiles), so the purge has something to do.
    (conf / "cupsd.conf").write_text(
        f"Listen {socket}\nBrowsing No\nLogLevel debug\nPreserveJobFiles Yes\nPreserveJobHistory Yes\n"
        'PageLogFormat "%p %u %j %T %P %C %{job-name} %{media} %{sides} %{copies}"\n' + policy)
    (conf / "cups-files.conf").write_text(
        f"ServerRoot {conf}\nRequestRoot {spool}\nTempDir {spool}/tmp\nStateDir {folder}/state\n"
        f"CacheDir {folder}/cache\nErrorLog {logs}/error_log\nAccessLog {logs}/access_log\n"
        f"PageLog {logs}/page_log\nPrintcap\nFileDevice No\n")
    env = {**os.environ, "CUPS_SERVER": str(socket), "LC_ALL": "C"}
    with (logs / "cupsd.out").open("wb") as out:
        process = subprocess.Popen(["cupsd", "-f", "-c", str(conf / "cupsd.conf"), "-s", str(conf / "cups-files.conf")],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(folder, socket, spool, logs, env)
    try:
        end = time.monotonic() + 30
        while b"scheduler is running" not in subprocess.run(["lpstat", "-r"], capture_output=True, env=env,
                                                             timeout=30).stdout:
            if process.poll() is not None or time.monotonic() > end:
                pytest.fail(f"our cupsd did not start: {(logs / 'cupsd.out').read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        server.run("lpadmin", "-p", "PDF", "-v", "cups-pdf:/", "-P", str(CUPS_PDF_PPD), "-E")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cups(cupsd: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The server, with lp, lpstat and cancel pointed at it (CUPS_SERVER) for this test."""
    monkeypatch.setenv("CUPS_SERVER", str(cupsd.socket))
    yield cupsd
    subprocess.run(["cupsenable", "PDF"], env=cupsd.env, timeout=30, check=False)
    subprocess.run(["cupsaccept", "PDF"], env=cupsd.env, timeout=30, check=False)


@pytest.fixture
def cups_pdf_output() -> Iterator[dict[str, Path]]:
    """Collect what CUPS-PDF writes during the test (job id -> file), and remove it afterwards."""
    out = cups_pdf_out()
    # a file CUPS-PDF writes again (the same title and job number as in an earlier session) is new too
    before = {(p, p.stat().st_mtime_ns) for p in out.glob("*.pdf")} if out.is_dir() else set()
    found: dict[str, Path] = {}

    class Files(dict[str, Path]):
        def __missing__(self, job: str) -> Path:
            end = time.monotonic() + 30
            while time.monotonic() < end:
                new = [p for p in out.glob(f"*-job_{job}.pdf") if (p, p.stat().st_mtime_ns) not in before]
                if new:
                    found[job] = new[0]
                    return new[0]
                time.sleep(0.2)
            raise AssertionError(f"CUPS-PDF wrote nothing for job {job} in {out}")

    yield Files()
    for path in found.values():
        path.unlink(missing_ok=True)
