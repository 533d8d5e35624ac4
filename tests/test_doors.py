"""Doors a user walks through: large print, check in parallel, the terminal's progress bar, the
spawn start method, the README's Python API and packets, each through the CLI or the public API."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from .conftest import ES, REPO

TIMEOUT = 300  # seconds: every subprocess a test starts is killed after this


@pytest.fixture
def ws(write_workspace):
    """The small test workspace with English and Spanish: 3 lengths x 2 languages = 6 handouts."""
    return write_workspace({"data/topics/test/es.yaml": ES})


def _pdfs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.pdf"))}


# --- large print ----------------------------------------------------------------------------

def _text_sizes(path: Path) -> list[tuple[str, float]]:
    """Return (text, size in pt as printed) for every piece of text on every page.

    The size drawn is the Tf size scaled by the text matrix and the current transformation
    matrix (WeasyPrint writes sizes in CSS px under a 0.75 scale): its vertical scale factor.
    """
    out: list[tuple[str, float]] = []

    def visit(text, cm, tm, _font, size):
        if not text.strip():
            return
        c, d = tm[2], tm[3]
        # text space -> user space is Tm x CTM (row vectors); its second row scales the glyphs' height
        c2 = c * cm[0] + d * cm[2]
        d2 = c * cm[1] + d * cm[3]
        out.append((text.strip(), round(size * (c2 * c2 + d2 * d2) ** 0.5, 2)))

    for page in PdfReader(str(path)).pages:
        page.extract_text(visitor_text=visit)
    return out


BODY = ("Longer text for standard and detailed.", "One", "Two", "Numbness in both legs", "Call 911 if you have:")


def test_large_print_body_text_is_18_pt(run, write_workspace, tmp_path):
    ws = write_workspace()
    out = tmp_path / "out"
    for extra in ((), ("--large-print",)):
        result = run("-w", ws, "build", "test", "-k", "overview", "-l", "standard", "--lang", "en", "-o", out, *extra)
        assert result.exit_code == 0, result.output
    normal = out / "en" / "test" / "overview-standard-letter.pdf"
    large = out / "en" / "test" / "overview-standard-letter-large.pdf"
    assert sorted(p.name for p in (out / "en" / "test").iterdir()) == [large.name, normal.name]
    assert large.name.endswith("-large.pdf") and not normal.name.endswith("-large.pdf")

    large_sizes, normal_sizes = _text_sizes(large), _text_sizes(normal)
    for text in BODY:
        assert {size for t, size in large_sizes if t == text} == {18.0}, (text, large_sizes)
        assert {size for t, size in normal_sizes if t == text} == {12.0}, (text, normal_sizes)
    assert [s for t, s in large_sizes if t == "Test handout"] == [24.0]  # the title, 24 pt bold
    # Nothing in large print is smaller than 14 pt, not the sources, the header or the footer.
    assert min(size for _, size in large_sizes) >= 14.0, large_sizes
    assert min(size for _, size in normal_sizes) < 14.0  # which normal print does have


# --- handouts check --jobs 2 ----------------------------------------------------------------

@pytest.mark.slow
def test_check_in_two_workers_reports_the_same_as_in_one(run, ws):
    import shutil

    from handouts.cache import CACHE_DIR

    one = run("-w", ws, "check", "--jobs", "1")
    shutil.rmtree(ws / CACHE_DIR)  # else the second check reuses the first one's layouts
    two = run("-w", ws, "check", "--jobs", "2")
    assert two.exit_code == one.exit_code == 0, one.output
    assert two.output == one.output
    pages = [line for line in one.output.splitlines() if line.startswith("pages ")]
    assert len(pages) == 24  # 3 lengths x 2 languages x 2 papers x normal and large print: all laid out
    assert one.output.rstrip().splitlines()[-1].endswith("passed.")


# --- subprocesses ---------------------------------------------------------------------------

def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def _handouts(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "handouts", *(str(a) for a in args)]


def _run_in_terminal(command: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run command with a pseudo-terminal as its stdin, stdout and stderr; return (status, output)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
                                close_fds=True)
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                pytest.fail(f"timed out after {timeout} s; output so far: {b''.join(chunks)!r}")
            ready, _, _ = select.select([master], [], [], min(left, 1.0))
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every process holding the terminal has ended
                    break
                if not data:
                    break
                chunks.append(data)
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return status, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_build_all_on_a_terminal_shows_a_progress_bar(ws, tmp_path):
    out = tmp_path / "out"
    status, output = _run_in_terminal(_handouts("-w", ws, "build", "--all", "-j", "1", "-o", out), _env(),
                                      timeout=TIMEOUT)
    assert status == 0, output
    assert "Building" in output  # click's progress bar, redrawn in place
    assert re.search(r"Building.*6/6", output), output  # and it reached the end
    assert "wrote " not in output  # on a terminal, the bar replaces the line per handout
    assert output.replace("\r\n", "\n").rstrip().splitlines()[-1].strip() == "6 built, 0 up to date, 0 failed."
    assert len(_pdfs(out)) == 6
    assert all(pdf.startswith(b"%PDF-") for pdf in _pdfs(out).values())


def _spawned_children(pid: int) -> set[str]:
    """Return the command lines of pid's child processes that multiprocessing started with spawn."""
    found: set[str] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in status and "spawn_main" in cmdline:
            found.add(entry.name)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads child processes from /proc")
def test_spawn_workers_build_the_same_bytes_as_one_process(ws, tmp_path):
    epoch = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01
    serial = subprocess.run(_handouts("-w", ws, "build", "--all", "-j", "1", "-o", tmp_path / "one"),
                            capture_output=True, text=True, env=_env(**epoch), cwd=REPO, timeout=TIMEOUT)
    assert serial.returncode == 0, serial.stderr

    spawn = subprocess.Popen(_handouts("-w", ws, "build", "--all", "-j", "2", "-o", tmp_path / "two"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env(HANDOUTS_START_METHOD="spawn", **epoch), cwd=REPO)
    workers: set[str] = set()
    deadline = time.monotonic() + TIMEOUT
    try:
        while spawn.poll() is None:  # watch for the workers while the build runs
            assert time.monotonic() < deadline, "the spawn build timed out"
            workers |= _spawned_children(spawn.pid)
            time.sleep(0.05)
        stdout, stderr = spawn.communicate(timeout=30)
    finally:
        if spawn.poll() is None:
            spawn.kill()
            spawn.wait()
    assert spawn.returncode == 0, stderr
    assert len(workers) == 2, "HANDOUTS_START_METHOD=spawn should start 2 spawned worker processes"
    assert stdout.splitlines()[-1] == serial.stdout.splitlines()[-1] == "6 built, 0 up to date, 0 failed."

    one, two = _pdfs(tmp_path / "one"), _pdfs(tmp_path / "two")
    assert len(one) == 6 and sorted(two) == sorted(one)
    assert [name for name in one if one[name] != two[name]] == []  # byte-identical


# --- the README's Python API ----------------------------------------------------------------

def _readme_python_api() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Python API\n.*?^```python\n(.*?)^```", readme, re.S | re.M)
    assert match, "README.md has no Python API example"
    return match.group(1)


@pytest.fixture
def api_ws(write_workspace):
    """A small workspace with the two topics the README example names, sciatica and kratom."""
    files: dict[str, str | None] = {"data/topics/test/topic.yaml": None, "data/topics/test/en.yaml": None}
    from .conftest import EN, TOPIC

    for topic in ("sciatica", "kratom"):
        files[f"data/topics/{topic}/topic.yaml"] = TOPIC.replace("name: Test topic", f"name: {topic.title()}")
        files[f"data/topics/{topic}/en.yaml"] = EN
        files[f"data/topics/{topic}/es.yaml"] = ES
    return write_workspace(files)


def _run_readme_example(root: Path, as_path: bool, capsys) -> None:
    code = _readme_python_api()
    assert code.count('"path/to/workspace"') == 2
    where = f"__import__('pathlib').Path({str(root)!r})" if as_path else repr(str(root))
    namespace: dict = {}
    exec(compile(code.replace('"path/to/workspace"', where), "README.md", "exec"), namespace)  # noqa: S102

    report = namespace["report"]
    # build(..., topics=["sciatica"], kinds=["overview"], langs=["es"]): the 3 lengths on Letter
    assert [(r.job.topic, r.job.kind, r.job.lang) for r in report.results] == [("sciatica", "overview", "es")] * 3
    for result in report.results:
        assert result.error is None and result.path.is_file() and result.path.read_bytes().startswith(b"%PDF-")
        assert result.pages == len(PdfReader(str(result.path)).pages)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3 and all(str(r.path) in line for r, line in zip(report.results, printed, strict=True))
    # for job in plan(ws, topics=["kratom"], papers=["a4"]): builder.build_one(job, ...)
    built = sorted(p.relative_to(root / "output") for p in (root / "output").rglob("*.pdf") if "kratom" in p.parts)
    assert [str(p) for p in built] == [f"{lang}/kratom/overview-{length}-a4.pdf" for lang in ("en", "es")
                                       for length in ("brief", "detailed", "standard")]


def test_readme_python_api_example_with_a_str_path(api_ws, capsys):
    _run_readme_example(api_ws, as_path=False, capsys=capsys)


@pytest.mark.slow
def test_readme_python_api_example_with_a_path(api_ws, capsys):
    _run_readme_example(api_ws, as_path=True, capsys=capsys)


# --- handouts packet ------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("length", "blanks"), [("brief", 1), pytest.param("standard", 0, marks=pytest.mark.slow)])
def test_packet_joins_two_handouts_each_on_a_right_hand_page(run, tmp_path, length, blanks):
    items = ["sciatica:overview", "kratom:caution"]
    parts = []
    for item in items:
        topic, kind = item.split(":")
        target = tmp_path / f"{topic}-{kind}.pdf"
        result = run("-w", REPO, "build", topic, "-k", kind, "-l", length, "--lang", "en", "-o", target)
        assert result.exit_code == 0, result.output
        parts.append(PdfReader(str(target)))

    packet = tmp_path / "packet.pdf"
    result = run("-w", REPO, "packet", *items, "--lang", "en", "-l", length, "-o", packet)
    assert result.exit_code == 0, result.output
    reader = PdfReader(str(packet))

    # Each part starts on an odd page (index 0, 2, 4...): a blank page follows a part with an odd count.
    starts, expected = [], 0
    for part in parts:
        expected += expected % 2
        starts.append(expected)
        expected += len(part.pages)
    assert expected - sum(len(p.pages) for p in parts) == blanks  # the case this parameter is about
    assert len(reader.pages) == expected
    assert result.output == f"wrote {packet} (2 handouts, {expected} pages)\n"

    # Bookmarks: one per handout, titled as the handout, at its first page.
    assert [item.title for item in reader.outline] == [p.metadata["/Title"] for p in parts]
    assert [reader.get_destination_page_number(item) for item in reader.outline] == starts
    assert reader.trailer["/Root"]["/Lang"] == "en"

    # The pages are the parts' pages, in order, and the blank ones are empty and the same size.
    texts = [page.extract_text() for page in reader.pages]
    for part, start in zip(parts, starts, strict=True):
        assert texts[start:start + len(part.pages)] == [page.extract_text() for page in part.pages]
    for index in set(range(len(reader.pages))) - {s + i for p, s in zip(parts, starts, strict=True)
                                                  for i in range(len(p.pages))}:
        assert texts[index].strip() == ""
        assert reader.pages[index].mediabox == reader.pages[0].mediabox


def test_packet_is_readable_from_memory(run, tmp_path):
    """The packet is a whole PDF: pypdf reads it back from its bytes with strict parsing."""
    packet = tmp_path / "p.pdf"
    assert run("-w", REPO, "packet", "kratom:caution", "-l", "brief", "--lang", "es", "-o", packet).exit_code == 0
    reader = PdfReader(io.BytesIO(packet.read_bytes()), strict=True)
    assert len(reader.pages) == 1 and reader.trailer["/Root"]["/Lang"] == "es"
