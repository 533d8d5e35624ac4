"""Catalog builds: parallel, incremental, a manifest, safe when interrupted or run twice at once."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest
from pypdf import PdfReader

from handouts import Workspace, plan
from handouts.jobs.batch import build_catalog

from .conftest import ES, REPO


def catalog_ws(write_workspace):
    return write_workspace({"data/topics/test/es.yaml": ES})


@pytest.mark.slow
def test_incremental_rebuild_skips_what_is_up_to_date(write_workspace, tmp_path):
    root = catalog_ws(write_workspace)
    ws, out = Workspace(root), tmp_path / "out"
    jobs = plan(ws, papers=("letter",))
    first = build_catalog(ws, jobs, out, workers=1)
    assert (len(first.built), len(first.skipped), len(first.failed)) == (6, 0, 0)
    again = build_catalog(Workspace(root), jobs, out, workers=1)
    assert (len(again.built), len(again.skipped)) == (0, 6)
    # Editing one language file rebuilds only that language's handouts.
    es = root / "data/topics/test/es.yaml"
    es.write_text(es.read_text(encoding="utf-8").replace("Un resumen corto.", "Un resumen breve."), encoding="utf-8")
    edited = build_catalog(Workspace(root), jobs, out, workers=1)
    assert sorted(r.job.lang for r in edited.built) == ["es", "es", "es"]
    assert len(edited.skipped) == 3
    # A damaged or deleted output is rebuilt; --force rebuilds everything.
    (out / "en/test/overview-brief-letter.pdf").write_bytes(b"%PDF-broken")
    (out / "en/test/overview-detailed-letter.pdf").unlink()
    repaired = build_catalog(Workspace(root), jobs, out, workers=1)
    assert sorted(r.job.length for r in repaired.built) == ["brief", "detailed"]
    assert len(build_catalog(Workspace(root), jobs, out, workers=1, force=True).built) == 6


def test_manifest_lists_every_output(write_workspace, tmp_path):
    root = catalog_ws(write_workspace)
    out = tmp_path / "out"
    build_catalog(Workspace(root), plan(Workspace(root), lengths=("brief",)), out, workers=1)
    entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert [e["path"] for e in entries] == ["en/test/overview-brief-letter.pdf", "es/test/overview-brief-letter.pdf"]
    es = entries[1]
    assert es["language"] == "es" and es["translation_status"] == "draft" and es["pages"] == 1
    import hashlib

    pdf = (out / es["path"]).read_bytes()
    assert es["sha256"] == hashlib.sha256(pdf).hexdigest() and es["size"] == len(pdf)
    assert len(es["key"]) == 64 and es["built_at"].endswith("Z")


@pytest.mark.slow
def test_parallel_build_makes_the_same_files(write_workspace, tmp_path):
    root = catalog_ws(write_workspace)
    jobs = plan(Workspace(root), papers=("letter", "a4"))
    serial = build_catalog(Workspace(root), jobs, tmp_path / "one", workers=1)
    parallel = build_catalog(Workspace(root), jobs, tmp_path / "two", workers=2)
    assert len(serial.built) == len(parallel.built) == 12
    for job in jobs:
        assert (tmp_path / "one" / job.relpath).read_bytes() == (tmp_path / "two" / job.relpath).read_bytes()


def test_a_failure_does_not_stop_a_parallel_batch(write_workspace, tmp_path):
    from .conftest import EN

    second = EN.split("handouts:\n")[1].replace("  overview:", "  leaflet:")
    root = write_workspace({"data/topics/test/en.yaml": EN + second})
    report = build_catalog(Workspace(root), plan(Workspace(root)), tmp_path / "out", workers=2)
    assert len(report.built) == 3 and len(report.failed) == 3
    assert all("template not found: kinds/leaflet.html" in r.error for r in report.failed)


def _all_pdfs_whole(out):
    pdfs = sorted(out.rglob("*.pdf"))
    for pdf in pdfs:
        PdfReader(str(pdf), strict=True)  # raises on a truncated file
    return pdfs


def _recorded(out) -> int:
    try:
        return len(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"])
    except (OSError, ValueError):
        return 0


def _start_and_wait_for_records(out, count: int):
    command = [sys.executable, "-m", "handouts", "-w", str(REPO), "build", "--all", "--lang", "en", "--lang", "es",
               "-o", str(out), "-q", "-j", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and _recorded(out) < count:
        time.sleep(0.05)
    return command, proc


@pytest.mark.slow
def test_killed_build_leaves_no_truncated_pdf_and_the_next_run_finishes_the_rest(tmp_path):
    import os

    out = tmp_path / "out"
    command, proc = _start_and_wait_for_records(out, 3)
    os.killpg(proc.pid, signal.SIGKILL)  # like kill -9 or a power cut, workers included
    proc.communicate()
    recorded = _recorded(out)
    done = _all_pdfs_whole(out)
    assert 3 <= recorded <= len(done) < 18
    finish = subprocess.run(command, capture_output=True, text=True, check=True)
    built, up_to_date = (int(n) for n in re.findall(r"(\d+) (?:built|up to date)", finish.stdout))
    assert up_to_date >= recorded and built + up_to_date == 18
    assert len(_all_pdfs_whole(out)) == 18


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_keeps_what_was_built(tmp_path):
    import os

    out = tmp_path / "out"
    command, proc = _start_and_wait_for_records(out, 2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on a terminal sends: the whole process group
    stdout, stderr = proc.communicate()
    assert proc.returncode == 130
    lines = stderr.splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r"interrupted: \d+ handouts built in this run are kept and recorded; "
        r"run the same command again to build the rest\.", lines[0]), stderr
    assert not list(out.rglob("*.tmp"))
    assert 2 <= _recorded(out) <= len(_all_pdfs_whole(out))


@pytest.mark.slow
def test_two_builds_at_once_never_corrupt_a_file(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "handouts", "-w", str(REPO), "build", "sciatica", "--lang", "es",
               "-o", str(out), "-q", "-j", "1", "--force"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert first.wait() == 0 and second.wait() == 0
    assert len(_all_pdfs_whole(out)) == 6
    json.loads((out / "manifest.json").read_text(encoding="utf-8"))  # whole, not interleaved
    assert not list(out.rglob("*.tmp"))


def test_packet_starts_each_handout_on_a_right_hand_page(tmp_path):
    from handouts import Builder
    from handouts.jobs.packet import make_packet, packet_jobs

    builder = Builder(Workspace(REPO))
    jobs = packet_jobs(builder, ["sciatica:overview", "kratom"], "brief", "es", "letter")
    target = tmp_path / "paquete.pdf"
    pages = make_packet(builder, jobs, target)
    reader = PdfReader(str(target))
    assert pages == len(reader.pages) == 3  # 1 page, a blank back, then the next handout
    starts = [reader.get_destination_page_number(item) for item in reader.outline]
    assert starts == [0, 2] and all(start % 2 == 0 for start in starts)
    assert [item.title for item in reader.outline] == ["Ciática", "Kratom y terapias alternativas"]
    assert (reader.pages[1].extract_text() or "").strip() == ""
    assert reader.trailer["/Root"]["/Lang"] == "es"


def test_help_and_list_do_not_import_weasyprint():
    for args in (["--help"], ["-w", str(REPO), "list"], ["build", "--length"]):
        code = (f"import sys, runpy; sys.argv = ['handouts', *{args!r}]\n"
                "try:\n    runpy.run_module('handouts', run_name='__main__')\n"
                "except SystemExit:\n    pass\n"
                "assert 'weasyprint' not in sys.modules, sorted(m for m in sys.modules if 'weasy' in m)")
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_only_temporaries_of_ended_processes_are_removed(tmp_path):
    import os

    from handouts.jobs.batch import _remove_orphaned_temporaries

    target = tmp_path / "en" / "t" / "overview-brief-letter.pdf"
    target.parent.mkdir(parents=True)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    orphan = target.parent / f".{target.name}.{ended}.abc123.tmp"
    running = target.parent / f".{target.name}.{os.getpid()}.def456.tmp"  # a build still writing
    other = target.parent / f".faq-brief-letter.pdf.{ended}.ghi789.tmp"  # not one of the targets
    for path in (orphan, running, other):
        path.write_bytes(b"%PDF-1.7 half")
    _remove_orphaned_temporaries([target])
    assert not orphan.exists() and running.exists() and other.exists()


@pytest.mark.slow
def test_parallel_builds_leave_no_temporary_folders(write_workspace, tmp_path):
    import os

    root = catalog_ws(write_workspace)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    for jobs in ("2", "1"):
        command = [sys.executable, "-m", "handouts", "-w", str(root), "build", "test", "-o", str(tmp_path / "out"),
                   "-q", "-j", jobs, "--force"]
        finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, cwd=REPO)
        assert finished.returncode == 0, finished.stderr
        assert finished.stdout == "6 built, 0 up to date, 0 failed.\n"
        assert sorted(p.name for p in scratch.iterdir()) == [], jobs
