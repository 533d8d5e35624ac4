"""Files written safely: whole or not at all, and caches that never trust a file still being edited."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

#: A file changed this recently may change again within the file system's time resolution without
#: its size or modification time changing, so caches keyed by (size, mtime) do not remember it yet.
SETTLE_NS = 2_000_000_000


def write_atomic(target: Path, data: bytes) -> None:
    """Write data to a temporary file beside target, then rename it over target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # .NAME.PID.RANDOM.tmp: the writer's process id lets a build tell its own leftovers from the
    # files a concurrent build is still writing
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; a PDF is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def settled(stat: os.stat_result) -> bool:
    """Return whether a file was last changed long enough ago for a (size, mtime) cache to trust."""
    return time.time_ns() - stat.st_mtime_ns > SETTLE_NS


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
