"""The corpus of bad and hostile inputs (tests/corpus/): each case fails with exactly its expected lines.

A case is a folder: `files/` is laid over the small workspace of conftest (a topic `test` with an
English overview), `args.txt` holds the command's arguments, one a line (default: build one brief
English overview into a fresh folder), `env.txt` environment variables (NAME=VALUE), and
`expected.txt` the exact `error:`/`failed:`/`warning:` lines. `{ws}` and `{out}` stand for the
workspace and a fresh output folder. Every case must end with a non-zero status in well under the
time limit, with no traceback and no "internal error". HANDOUTS_CORPUS_RECORD=1 writes a missing
expected.txt from what the case prints (read it before you commit it).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
DEFAULT_ARGS = ["build", "test", "-k", "overview", "-l", "brief", "--lang", "en", "-o", "{out}/x.pdf"]
SHOWN = ("error: ", "failed: ", "warning: ", "refused: ", "Error: ")
#: Seconds each case may take: a case that needs the time limit per handout is a bug in a bound.
SECONDS = 20


def test_the_corpus_has_at_least_60_cases():
    assert len(CASES) >= 60
    missing = [name for name in CASES if not (CORPUS / name / "expected.txt").is_file()]
    assert not missing or os.environ.get("HANDOUTS_CORPUS_RECORD"), missing


@pytest.mark.parametrize("name", CASES)
def test_corpus_case(name, run, write_workspace, tmp_path, monkeypatch, caplog):
    case = CORPUS / name
    ws = write_workspace()
    if (case / "files").is_dir():
        shutil.copytree(case / "files", ws, dirs_exist_ok=True)
    out = tmp_path / "out"
    out.mkdir()
    args_file = case / "args.txt"
    args = args_file.read_text(encoding="utf-8").splitlines() if args_file.is_file() else DEFAULT_ARGS
    args = [a.replace("{ws}", str(ws)).replace("{out}", str(out)) for a in args]
    env_file = case / "env.txt"
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("HANDOUTS_LIMIT_SECONDS_PER_HANDOUT", os.environ.get("HANDOUTS_LIMIT_SECONDS_PER_HANDOUT_CORPUS",
                                                                            str(SECONDS)))
    started = time.monotonic()
    result = run("-w", ws, *args)
    elapsed = time.monotonic() - started
    # an image or font WeasyPrint cannot use is logged as well as failing the handout
    caplog.weasyprint_expected = sum(  # type: ignore[attr-defined]
        r.name.startswith("weasyprint") and r.levelno >= logging.WARNING for r in caplog.get_records("call"))
    text = result.output.replace(str(ws), "{ws}").replace(str(out), "{out}")
    shown = [line for line in text.splitlines() if line.startswith(SHOWN)]
    expected_file = case / "expected.txt"
    if not expected_file.is_file() and os.environ.get("HANDOUTS_CORPUS_RECORD"):
        expected_file.write_text("".join(line + "\n" for line in shown), encoding="utf-8")
    assert result.exit_code != 0, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert shown == expected_file.read_text(encoding="utf-8").splitlines(), text
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert not list(ws.rglob("*.pdf.*.tmp")), "a temporary file was left behind"
