"""Talk to CUPS through its own command-line client (cups-client: lp, lpstat, cancel; ipptool).

Why the commands and not pycups: they are one Debian package with no compiler or libcups2-dev to
build, they find the server exactly as every other program on the machine does (CUPS_SERVER,
client.conf, the local socket) and they do CUPS's local authentication for us. The PDF goes to
`lp` on its standard input, so it is never a file on this side of the socket.

Every message is parsed in the C locale. Each call has a time limit, so a hung server is one line.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from importlib.resources import files

from handouts.errors import HandoutsError

#: Seconds any one CUPS command may take before we say the server does not answer.
COMMAND_SECONDS = 30.0

#: What CUPS allows in a queue name: printable characters but space, slash, hash and quotes; we
#: also refuse a leading dash, so a name can never be read as an option.
QUEUE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,126}$"

#: The IPP names of the sides handouts prints.
SIDES = ("one-sided", "two-sided-long-edge")

#: CUPS media names for handouts' paper sizes.
MEDIA = {"letter": "Letter", "a4": "A4"}


class PrintError(HandoutsError):
    """CUPS is missing, does not answer, or refused or kept a job: one line that says what to do."""


@dataclass(frozen=True)
class Submitted:
    """A job CUPS accepted."""

    queue: str
    job_id: int

    def __str__(self) -> str:
        return f"{self.queue}-{self.job_id}"


class Cups:
    """The CUPS server this process prints to, reached through its command-line client."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        env.update(LC_ALL="C", LANG="C")  # messages to parse, never translated
        env.pop("LANGUAGE", None)
        self.env = env

    def run(self, *args: str, stdin: bytes | None = None, check: bool = False) -> subprocess.CompletedProcess[bytes]:
        """Run one CUPS command; raise PrintError when it is missing or hangs (or fails, with check)."""
        try:
            done = subprocess.run(list(args), input=stdin, capture_output=True, env=self.env,
                                  timeout=COMMAND_SECONDS, check=False)
        except FileNotFoundError:
            package = "cups-ipp-utils" if args[0] == "ipptool" else "cups-client"
            raise PrintError(f"cannot print: the CUPS command {args[0]} is not installed "
                             f"(on Debian: apt-get install {package})") from None
        except subprocess.TimeoutExpired:
            raise PrintError(f"cannot print: CUPS did not answer {args[0]} within {COMMAND_SECONDS:g} s "
                             f"(server {self.server()})") from None
        if check and done.returncode != 0:
            raise PrintError(f"cannot print: {_first_line(done)}")
        return done

    def server(self) -> str:
        """Return where the client looks for the server (CUPS_SERVER, client.conf or the local socket)."""
        try:
            done = subprocess.run(["lpstat", "-H"], capture_output=True, env=self.env, timeout=COMMAND_SECONDS,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            return self.env.get("CUPS_SERVER", "the default")
        return done.stdout.decode(errors="replace").strip() or "the default"

    def require_server(self) -> None:
        """Raise one line when no CUPS server answers."""
        done = self.run("lpstat", "-r")
        if done.returncode != 0 or b"scheduler is running" not in done.stdout:
            raise PrintError(f"cannot print: no CUPS server is running at {self.server()} "
                             "(start it with: systemctl start cups; or set CUPS_SERVER)")

    def default_queue(self) -> str | None:
        """Return the server's default destination, if it has one."""
        done = self.run("lpstat", "-d")
        match = re.search(rb"system default destination: (\S+)", done.stdout)
        return match.group(1).decode() if match else None

    def require_ready(self, queue: str) -> None:
        """Raise one line when the queue does not exist, is stopped or is not accepting jobs (the server
        answers: see require_server)."""
        if not re.fullmatch(QUEUE_PATTERN, queue):
            raise PrintError(f"cannot print: {queue!r} is not a printer queue name")
        state = self.run("lpstat", "-p", queue)
        text = state.stdout.decode(errors="replace")
        if state.returncode != 0 or not text.startswith(f"printer {queue} "):
            raise PrintError(f"cannot print: the CUPS server has no printer queue {queue} "
                             f"(lpstat -p lists the queues{self._known()})")
        if f"printer {queue} disabled" in text:
            raise PrintError(f"cannot print: printer {queue} is stopped{_reason(text)} "
                             f"(an administrator can start it with: cupsenable {queue})")
        accepting = self.run("lpstat", "-a", queue).stdout.decode(errors="replace")
        if f"{queue} not accepting" in accepting:
            raise PrintError(f"cannot print: printer {queue} is not accepting jobs "
                             f"(an administrator can allow them with: cupsaccept {queue})")

    def _known(self) -> str:
        names = re.findall(r"^printer (\S+) ", self.run("lpstat", "-p").stdout.decode(errors="replace"), re.M)
        return f"; known here: {', '.join(names)}" if names else "; this server has none"

    def submit(self, pdf: bytes, queue: str, title: str, *, copies: int, sides: str, media: str) -> Submitted:
        """Send a PDF to a queue on lp's standard input; return the job CUPS made."""
        done = self.run("lp", "-d", queue, "-t", title, "-n", str(copies), "-o", f"sides={sides}",
                        "-o", f"media={media}", "-o", "document-format=application/pdf", stdin=pdf)
        match = re.search(rb"request id is (\S+)-(\d+) ", done.stdout)
        if done.returncode != 0 or not match:
            raise PrintError(f"cannot print to {queue}: {_first_line(done)}")
        return Submitted(match.group(1).decode(), int(match.group(2)))

    def pending(self, job: Submitted) -> bool:
        """Return whether the job is still waiting or printing."""
        listing = self.run("lpstat", "-W", "not-completed", "-o", job.queue).stdout.decode(errors="replace")
        return re.search(rf"^{re.escape(str(job))}\s", listing, re.M) is not None

    def known(self, job: Submitted) -> bool:
        """Return whether CUPS still has the job at all (its history, and maybe its files)."""
        listing = self.run("lpstat", "-W", "all", "-o", job.queue).stdout.decode(errors="replace")
        return re.search(rf"^{re.escape(str(job))}\s", listing, re.M) is not None

    def wait(self, job: Submitted, seconds: float) -> bool:
        """Wait up to seconds for the job to finish; return whether it did."""
        end = time.monotonic() + seconds
        while self.pending(job):
            if time.monotonic() >= end:
                return False
            time.sleep(0.25)
        return True

    def purge(self, job: Submitted) -> None:
        """Remove one finished job's files and history from the server; raise PrintError when CUPS refuses.

        `cancel -x JOB` first. CUPS before 2.4.6 (Debian 12 has 2.4.2) sends the wrong attribute
        for one job ("purge-jobs"; OpenPrinting/cups pull request 742) and refuses a finished job,
        so then the same IPP request is sent right, with ipptool, for that job only.
        """
        done = self.run("cancel", "-x", str(job.job_id))
        if not self.known(job):
            return
        refusal = _first_line(done) if done.returncode != 0 else "the job is still listed"
        test = str(files("handouts.printing") / "purge-job.test")
        uri = f"ipp://{_uri_host(self.server())}/jobs/{job.job_id}"
        fallback = self.run("ipptool", "-q", "-T", str(int(COMMAND_SECONDS)), uri, test)
        if fallback.returncode == 0 and not self.known(job):
            return
        raise PrintError(f"CUPS refused to purge job {job} ({refusal}): its spool files may still hold "
                         f"patient data; an administrator can remove them with: sudo handouts print --purge {job} "
                         "(and set PreserveJobFiles No: README, Printing)")


def _uri_host(server: str) -> str:
    """Return the host part of an ipp:// URI for the server lpstat -H names (a socket path is %-encoded)."""
    if server.startswith("/"):
        return server.replace("%", "%25").replace("/", "%2F")
    return server


def _reason(text: str) -> str:
    """Return ' (why)' from lpstat -p's indented reason line, when CUPS gives one."""
    lines = [line.strip() for line in text.splitlines()[1:] if line.strip()]
    reason = next((line for line in lines if not line.startswith("Paused")), "")
    return f" ({reason})" if reason and reason != "reason unknown" else ""


def _first_line(done: subprocess.CompletedProcess[bytes]) -> str:
    text = (done.stderr or done.stdout).decode(errors="replace").strip()
    return text.splitlines()[0] if text else f"exit status {done.returncode}"
