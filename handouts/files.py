"""Files written safely: whole or not at all, and caches that never trust a file still being edited."""

from __future__ import annotations

import os
import stat
import tempfile
import time
from pathlib import Path

from handouts.errors import HandoutsError, UsageError, display_path

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


#: What a workspace reads: an output path must never be one of them or inside one of them.
WORKSPACE_INPUTS = ("data", "templates", "styles", "handouts.yaml", "brands")
#: The first bytes of every PDF file.
PDF_MAGIC = b"%PDF-"


def check_output_target(path: Path, workspace_root: Path, overwrite: bool = False, *, folder: bool = False) -> None:
    """Refuse an -o target that handouts must not write (raise UsageError naming it); "-" is standard output.

    Refused: a device, a named pipe or a socket; the workspace's inputs (data/, templates/, styles/,
    handouts.yaml, the built-in ones too) or anything inside them; for a file (folder=False), a
    folder or an existing file that is not a PDF (by its %PDF- header) unless overwrite; for a
    folder of handouts (folder=True), an existing file. Only regular files are ever written: a PDF is
    written to a temporary file and renamed over the target, never written into it.
    """
    if str(path) == "-":
        return
    shown = f"-o {path}"
    try:
        mode: int | None = os.stat(path).st_mode  # follows a symbolic link to what it names
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot be used: {exc.strerror}") from None
    if mode is not None:
        kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a named pipe (FIFO)"
                if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else None)
        if kind is None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            kind = "a special file"
        if kind is not None:
            raise UsageError(f"{shown}: is {kind}, not a regular file; handouts writes only regular files")
    _refuse_inputs(Path(path), workspace_root, shown)
    if mode is None:
        return
    if folder:
        if not stat.S_ISDIR(mode):
            raise UsageError(f"{shown}: exists and is not a folder; name a folder, or a .pdf file for one handout")
        return
    if stat.S_ISDIR(mode):
        raise UsageError(f"{shown}: is a folder; name a file")
    if not overwrite and not _is_pdf(Path(path)):
        raise UsageError(f"{shown}: exists and is not a PDF; not replacing it (add --overwrite to replace it)")


def _refuse_inputs(path: Path, workspace_root: Path, shown: str) -> None:
    from handouts.load.workspace import builtin_dir

    resolved = path.resolve()
    root = workspace_root.resolve()
    for name in WORKSPACE_INPUTS:
        places = [root / name]
        if name not in ("handouts.yaml", "brands"):
            places.append(builtin_dir(name).resolve())
        if any(resolved == place or resolved.is_relative_to(place) for place in places):
            where = name if name == "handouts.yaml" else f"{name}/"
            inputs = "data/, templates/, styles/, brands/" if name == "brands" else "data/, templates/, styles/"
            raise UsageError(f"{shown}: is the workspace's input {where}; write handouts outside {inputs} "
                             "and handouts.yaml")


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(PDF_MAGIC)) == PDF_MAGIC
    except OSError:
        return False


def settled(stat: os.stat_result) -> bool:
    """Return whether a file was last changed long enough ago for a (size, mtime) cache to trust."""
    return time.time_ns() - stat.st_mtime_ns > SETTLE_NS


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class OutsideError(HandoutsError):
    """A file to read is a link that leads outside its folder, or not a regular file."""

    def __init__(self, shown: str, reason: str) -> None:
        self.shown, self.reason = shown, reason
        super().__init__(f"{shown}: {reason}")


def contained(path: Path, folder: Path, root: Path | None = None) -> Path:
    """Return the real path of path if it is a regular file inside folder, else raise OutsideError.

    folder is taken as written, not resolved: when folder itself is a link to elsewhere, nothing in
    it counts as inside. Every file a build reads (templates, styles, fonts, assets, topics, config)
    goes through here, so a link in a workspace cannot make handouts read a file outside it.
    """
    shown = display_path(path, root)
    real = Path(os.path.realpath(path))
    folder = Path(os.path.abspath(folder))
    base = Path(os.path.realpath(folder.parent)) / folder.name
    if root is not None and folder.is_relative_to(top := Path(os.path.abspath(root))):
        # inside the workspace, no folder between its root and this one may be a link either
        # (brands/<name> linked elsewhere would bring that place's styles/ and templates/ in)
        base = Path(os.path.realpath(top)).joinpath(*folder.relative_to(top).parts)
    if not real.is_relative_to(base):
        where = display_path(base, root)
        raise OutsideError(shown, f"refused: it leads to {real}, outside {where}/ (links may not point out of it)")
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        raise OutsideError(shown, "file not found") from None
    except OSError as exc:
        raise OutsideError(shown, f"cannot read it: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise OutsideError(shown, f"refused: not a regular file ({_file_type(mode)})")
    return real


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"
