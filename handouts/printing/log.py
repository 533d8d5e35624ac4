"""The print log: one CSV row per handout printed, appended, never a patient field.

A clinic documents patient education with it and finds who got a version it has to recall. It
lives at <workspace>/print-log.csv; rows are only ever appended (the file is opened for appending
alone, and never through a link, so a workspace cannot send the rows elsewhere).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from handouts.printing.cups import PrintError

LOG_FILE = "print-log.csv"


@dataclass(frozen=True)
class LogRow:
    """One handout sent to a printer. Only what the catalog knows: nothing typed for a patient."""

    when: str  #: UTC, ISO 8601, to the second
    who: str  #: the OS user, or the user a door (the web page) signed in
    printer: str  #: the CUPS queue
    job: str  #: the CUPS job, QUEUE-ID
    copies: int
    sides: str
    topic: str
    kind: str
    length: str
    lang: str
    paper: str
    large_print: bool
    brand: str  #: the clinic it was printed for: "default" (handouts.yaml's) or a brands/<name>.yaml
    version: str  #: the version id printed in the handout's footer
    packet: str  #: for a part of a packet, the packet's items; else empty
    personal: bool  #: whether patient fields were printed on it (which ones, never)
    outcome: str  #: purged, sent, pending or kept (see README: Printing)


COLUMNS = tuple(f.name for f in fields(LogRow))


def append(root: Path, rows: Sequence[LogRow]) -> Path:
    """Append rows to the workspace's print log (with a header when the file is new); return its path."""
    path = root / LOG_FILE
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(value) for value in astuple(row)])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o640)
    except OSError as exc:
        raise PrintError(f"printed, but cannot write the print log {LOG_FILE}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "a", encoding="utf-8", newline="") as handle:
        if handle.tell() == 0:
            handle.write(",".join(COLUMNS) + "\n")
        handle.write(buffer.getvalue())  # one write: rows of two prints at once do not interleave
    return path


def _cell(value: object) -> str:
    """Return a cell a spreadsheet shows as text, never runs as a formula."""
    text = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
