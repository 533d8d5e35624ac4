"""The one rule of "changed" for every cache: a file changed when its SHA-256 changed.

Every cached answer (the catalog summary, the digests of input and output files, the keys of
outputs, the layout facts `check` reuses) is keyed by content digests, the package's own code and
the renderer's versions included, so no edit or upgrade can leave a stale answer. A file's digest
is remembered by its size, modification and change times and inode, so an unchanged file is not
read again; a file changed in the last seconds may change again within the file system's time
resolution unseen, so its digest is used for this run only.

Caches live in one folder, <workspace>/.handouts-cache/, never in output/. They only save work:
a damaged or wrongly shaped cache is ignored and rebuilt, and no cache decides what is safe to
print (the review gate and the manifest read the validated topics).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from stat import S_ISREG
from typing import Any

from handouts.files import settled, write_atomic

CACHE_DIR = ".handouts-cache"
_PACKAGE = Path(__file__).resolve().parent
#: The handouts package's folder (its code, message catalogs and, when installed, built-in templates).
PACKAGE_ROOT = _PACKAGE
_FORMAT = 3


def cache_dir(root: Path) -> Path:
    """Return the workspace's cache folder."""
    return root / CACHE_DIR


def load_json(path: Path) -> Any:
    """Return a cache file's data, or None when it is missing or damaged (or the folder is a link)."""
    if path.parent.is_symlink():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    return data.get("data")


def save_json(path: Path, data: Any) -> None:
    """Write a cache file whole; a read-only workspace just gets no cache, nor does a cache folder
    that is a link (a workspace may not send our writes elsewhere)."""
    if path.parent.is_symlink():
        return
    whole = {"format": _FORMAT, "data": data}
    try:
        raw = json.dumps(whole, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a file name that is not UTF-8 (a lone surrogate): escaped, it reads back the same
        raw = json.dumps(whole).encode()
    try:
        write_atomic(path, raw)
    except OSError:
        pass


class Digests:
    """SHA-256 of files, remembered by (size, mtime, ctime, inode) so unchanged files are not re-read."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        known = load_json(store) if store is not None else None
        self.known: dict[str, list[Any]] = {
            k: v for k, v in known.items() if _entry(v)
        } if isinstance(known, dict) else {}
        self.unsettled: dict[str, list[Any]] = {}
        self.all_settled = True
        self.changed = False

    def of(self, path: Path, *, ours: bool = False) -> str:
        """Return the SHA-256 of one file's bytes.

        A file changed in the last seconds is remembered for this run only, unless it is one we
        just wrote ourselves (ours=True).
        """
        stat = path.stat()
        if not S_ISREG(stat.st_mode):  # never open a pipe or a device: reading it could block for good
            raise OSError(f"not a regular file: {path}")
        key = str(path)
        mark = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        entry = self.unsettled.get(key) or self.known.get(key)
        if entry and entry[:4] == mark:
            return str(entry[4])
        with path.open("rb") as handle:  # in chunks: a large (or sparse) file never sits in memory whole
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        if ours or settled(stat):
            self.known[key] = [*mark, digest]
            self.changed = True
        else:
            self.unsettled[key] = [*mark, digest]
            self.all_settled = False
        return digest

    def combined(self, files: Iterable[Path | tuple[str, Path]], *extra: str) -> str:
        """Return one digest of several files' names and contents (a missing file counts as missing).

        A file is a path, named by itself, or (name, path): a name that does not depend on where the
        file is, so the same inputs elsewhere give the same digest.
        """
        digest = hashlib.sha256()
        named = sorted((f, f) if isinstance(f, Path) else f for f in files)
        for name, path in named:
            try:
                of = self.of(path)
            except OSError:
                of = "missing"
            digest.update(f"{name}\0{of}\0".encode("utf-8", "surrogateescape"))  # any file name
        for text in extra:
            digest.update(f"{text}\0".encode())
        return digest.hexdigest()

    def save(self) -> None:
        """Remember the digests for the next run."""
        if self.store is not None and self.changed:
            save_json(self.store, self.known)
            self.changed = False


def _entry(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 5 and all(isinstance(v, int) for v in value[:4])
            and isinstance(value[4], str))


def code_files() -> list[Path]:
    """Return the package's own files that shape a handout: its code and its message catalogs."""
    return sorted(p for p in _PACKAGE.rglob("*") if p.suffix in (".py", ".po") and "__pycache__" not in p.parts)


@cache
def renderer_fingerprint() -> str:
    """Return the versions of everything that turns HTML into PDF bytes, without importing WeasyPrint.

    Two machines with the same fingerprint and the same inputs make the same bytes.
    """
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"python {sys.version.split()[0]}"]
    for name in ("weasyprint", "pydyf", "fonttools", "tinycss2", "cssselect2", "pyphen", "pillow", "jinja2",
                 "segno", "babel"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} none")
    parts.extend(_c_library_versions())
    return "; ".join(parts)


def _c_library_versions() -> Sequence[str]:
    """Return the versions of Pango and HarfBuzz, read from the shared libraries WeasyPrint loads."""
    import ctypes

    found = []
    for label, names, function in (  # the names WeasyPrint itself loads, on Linux, Windows and macOS
        ("pango", ("libpango-1.0.so.0", "libpango-1.0-0.dll", "libpango-1.0.dylib"), "pango_version_string"),
        ("harfbuzz", ("libharfbuzz.so.0", "libharfbuzz-0.dll", "libharfbuzz.dylib"), "hb_version_string"),
    ):
        text = "unknown"
        for name in names:
            try:
                library = ctypes.CDLL(name)
                getter = getattr(library, function)
                getter.restype = ctypes.c_char_p
                text = getter().decode()
                break
            except (OSError, AttributeError):
                continue
        found.append(f"{label} {text}")
    return found


def version_id(key: str) -> str:
    """Return the short id of an output's key, printed in its footer and metadata."""
    return key[:10]


def environ_key() -> str:
    """Return the environment variables that change a PDF's bytes."""
    return f"SOURCE_DATE_EPOCH={os.environ.get('SOURCE_DATE_EPOCH', '')}"
