"""One engine behind every door: the review gate holds at each of them, and the README's API example runs.

Before issue 11, `defaults.reviewed_only: true` was enforced by `handouts build` alone: packets and
the library's build() wrote PDFs of drafts.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from handouts import build
from handouts.compose.personal import Personal

from .conftest import CONFIG, ES, TOPIC

GATED = CONFIG + "defaults:\n  reviewed_only: true\n"
REVIEWED = TOPIC.replace(
    "review:\n  status: draft\n",
    "review:\n  status: reviewed\n  reviewed_by: Dr. Test\n  reviewed_on: 2026-11-01\n  next_review_due: 2027-11-01\n",
)


@pytest.fixture
def gated(write_workspace):
    """A workspace with reviewed_only on: English reviewed, the Spanish translation still a draft."""
    return write_workspace({"handouts.yaml": GATED, "data/topics/test/topic.yaml": REVIEWED,
                            "data/topics/test/es.yaml": ES})


def pdfs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pdf")) if folder.exists() else []


def test_gate_at_the_catalog_build(run, gated, tmp_path):
    result = run("-w", gated, "build", "test", "-l", "brief", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "refused: test overview brief es letter: translation not checked by a qualified medical translator" \
        in result.stderr
    assert [p.relative_to(tmp_path / "out").as_posix() for p in pdfs(tmp_path / "out")] == [
        "en/test/overview-brief-letter.pdf"]


def test_gate_at_one_named_file(run, gated, tmp_path):
    result = run("-w", gated, "build", "test", "-l", "brief", "--lang", "es", "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "error: nothing to build: all 1 chosen handouts are unreviewed drafts (--reviewed-only)\n")
    assert not (tmp_path / "x.pdf").exists()


def test_gate_with_patient_fields(run, gated, tmp_path):
    result = run("-w", gated, "build", "test", "-l", "brief", "--lang", "es", "--patient-name", "Ana Ruiz",
                 "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "Ana Ruiz" not in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_gate_at_standard_output(run, gated):
    result = run("-w", gated, "build", "test", "-l", "brief", "--lang", "es", "-o", "-")
    assert result.exit_code == 1
    assert not result.stdout_bytes.startswith(b"%PDF")


def test_gate_at_the_packet(run, gated, tmp_path):
    result = run("-w", gated, "packet", "test", "--lang", "es", "-o", tmp_path / "p.pdf")
    assert result.exit_code == 1
    assert result.stderr == (
        "refused: test overview standard es letter: translation not checked by a qualified medical translator "
        "(--reviewed-only)\n"
        "error: nothing to build: all 1 chosen handouts are unreviewed drafts (--reviewed-only)\n"
    )
    assert not (tmp_path / "p.pdf").exists()
    ok = run("-w", gated, "packet", "test", "--lang", "en", "-o", tmp_path / "p.pdf")
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")


def test_gate_at_the_library(gated, tmp_path):
    from handouts.commands import RefusedError

    with pytest.raises(RefusedError):
        build(str(gated), langs=["es"], output=tmp_path / "out")
    assert pdfs(tmp_path / "out") == []
    report = build(str(gated), output=tmp_path / "out", lengths=["brief"])
    assert [r.job.lang for r in report.built] == ["en"]
    assert [job.lang for job, _ in report.refused] == ["es"]


def test_the_library_can_turn_the_gate_off(gated, tmp_path):
    report = build(gated, langs=["es"], lengths=["brief"], output=tmp_path / "out", reviewed_only=False)
    assert [r.job.lang for r in report.built] == ["es"]


def test_library_build_is_incremental_with_large_print_and_one_report_type(write_workspace, tmp_path):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    first = build(root, lengths=["brief"], large_print=[False, True], output=tmp_path / "out", workers=1)
    assert sorted(r.job.relpath.as_posix() for r in first.built) == [
        "en/test/overview-brief-letter-large.pdf", "en/test/overview-brief-letter.pdf",
        "es/test/overview-brief-letter-large.pdf", "es/test/overview-brief-letter.pdf"]
    assert all(re.fullmatch(r"[0-9a-f]{10}", r.version or "") for r in first.built)
    again = build(root, lengths=["brief"], large_print=[False, True], output=tmp_path / "out", workers=1)
    assert (again.built, len(again.skipped)) == ([], 4)


def test_patient_fields_only_to_a_named_file_in_the_library(write_workspace, tmp_path):
    from handouts.errors import UsageError

    root = write_workspace()
    with pytest.raises(UsageError):
        build(root, personal=Personal("Ana Ruiz"), output=tmp_path / "out")
    report = build(root, lengths=["brief"], personal=Personal("Ana Ruiz", follow_up=date(2026, 12, 1)),
                   output=tmp_path / "ana.pdf")
    assert report.built[0].path == tmp_path / "ana.pdf"
