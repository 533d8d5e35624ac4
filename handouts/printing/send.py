"""Send one PDF in memory to a CUPS queue; for a personal handout, wait for it and purge its files."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from handouts.errors import UsageError
from handouts.printing.cups import MEDIA, Cups, PrintError, Submitted
from handouts.printing.log import LogRow, append

if TYPE_CHECKING:
    from handouts.jobs.planning import Job
    from handouts.load.config import Printer


@dataclass(frozen=True)
class Printed:
    """What one print did: the CUPS job, its generic title, and what became of its files."""

    job: Submitted
    title: str
    pages: int
    copies: int
    #: purged (a personal handout, printed and removed from the spool) or sent (a catalog handout,
    #: left to the server's own settings)
    outcome: str
    log: Path


def choose_queue(printers: Sequence[Printer], asked: str | None, cups: Cups) -> str:
    """Return the queue to print to: the one asked for (by queue or by the friendly name in
    handouts.yaml), else the first of handouts.yaml's printers, else the server's default."""
    if asked:
        for printer in printers:
            if asked in (printer.queue, printer.name):
                return printer.queue
        return asked
    if printers:
        return printers[0].queue
    default = cups.default_queue()
    if default:
        return default
    raise UsageError("no printer: name one with --printer, or list the clinic's printers in handouts.yaml "
                     "(printers:)")


def job_title(jobs: Sequence[Job]) -> str:
    """Return the job's title, built from catalog names only: queue listings and CUPS's page log show it."""
    if len(jobs) == 1:
        job = jobs[0]
        return f"handout {job.topic} {job.kind} {job.length} {job.lang}{' large' if job.large else ''}"
    first = jobs[0]
    return f"packet {len(jobs)} handouts {first.length} {first.lang}{' large' if first.large else ''}"


def send(root: Path, jobs: Sequence[Job], pdf: bytes, pages: int, versions: Sequence[str], *, queue: str,
         copies: int, sides: str, personal: bool, user: str | None, wait: float, cups: Cups,
         packet: str = "") -> Printed:
    """Submit the PDF (on lp's standard input), then log it; a personal handout is waited for and purged.

    Raises PrintError, after logging, when a personal handout has not printed within wait seconds
    (its id and what to do are in the message) or CUPS refuses to purge it.
    """
    title = job_title(jobs)
    submitted = cups.submit(pdf, queue, title, copies=copies, sides=sides, media=MEDIA[jobs[0].paper])
    outcome = "sent"
    problem: PrintError | None = None
    try:
        if personal:
            if not cups.wait(submitted, wait):
                outcome = "pending"
                problem = PrintError(
                    f"job {submitted} has not printed after {wait:g} s (see: lpstat -p {queue}); its spool file holds "
                    f"patient data: once it has printed, run: handouts print --purge {submitted} "
                    f"(or cancel it now with: cancel {submitted.job_id}, then the same purge)")
            else:
                try:
                    cups.purge(submitted)
                    outcome = "purged"
                except PrintError as exc:
                    outcome = "kept"
                    problem = exc
    finally:
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        who = user or getpass.getuser()
        log = append(root, [
            LogRow(when, who, queue, str(submitted), copies, sides, job.topic, job.kind, job.length, job.lang,
                   job.paper, job.large, job.brand, version, packet, personal, outcome)
            for job, version in zip(jobs, versions, strict=True)
        ])
    if problem is not None:
        raise problem
    return Printed(submitted, title, pages, copies, outcome, log)


def parse_job(text: str) -> Submitted:
    """Return the job named QUEUE-ID (as lp and the print log show it)."""
    queue, _, number = text.rpartition("-")
    if not queue or not number.isdigit():
        raise UsageError(f"--purge {text}: name a job as the print log shows it, QUEUE-ID, e.g. FrontDesk-12")
    return Submitted(queue, int(number))
