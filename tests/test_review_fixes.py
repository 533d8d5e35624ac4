"""What an attacker's read of issues 10 and 11 found, each pinned by a test that failed before its fix."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CONFIG, ES, TOPIC
from .pdfs import inspect_pdf

REVIEWED = TOPIC.replace(
    "review:\n  status: draft\n",
    "review:\n  status: reviewed\n  reviewed_by: Dr. Test\n  reviewed_on: 2026-11-01\n  next_review_due: 2027-11-01\n",
)


@pytest.mark.parametrize("value", ["yes", "on", "1", '"true"'])
def test_reviewed_only_that_is_not_a_plain_boolean_never_turns_the_gate_off(run, write_workspace, tmp_path, value):
    ws = write_workspace({"handouts.yaml": CONFIG + f"defaults:\n  reviewed_only: {value}\n",
                          "data/topics/test/topic.yaml": REVIEWED, "data/topics/test/es.yaml": ES})
    result = run("-w", ws, "build", "test", "-l", "brief", "--lang", "es", "-o", tmp_path / "out")
    assert result.exit_code != 0
    assert not list((tmp_path / "out").rglob("*.pdf"))
    assert "defaults.reviewed_only" in result.stderr


def test_a_personal_handout_never_replaces_a_catalog_handout(run, write_workspace):
    ws = write_workspace()
    target = ws / "output" / "en" / "test" / "overview-brief-letter.pdf"
    result = run("-w", ws, "build", "test", "-l", "brief", "--patient-name", "Ana Ruiz", "-o", target)
    assert result.exit_code == 2
    assert "may not go into the catalog's output folder (output/)" in result.stderr
    assert not target.exists()


def test_patient_fields_never_reach_an_error_message(run, write_workspace, tmp_path):
    ws = write_workspace({"templates/kinds/overview.html": '{% extends "!builtin/kinds/overview.html" %}\n'
                                                          "{% block body %}{{ h[personal.patient_name] }}"
                                                          '<img src="{{ personal.note }}">{% endblock %}\n'})
    result = run("-w", ws, "build", "test", "-l", "brief", "--patient-name", "Ana Ruiz", "--note", "HIV follow-up",
                 "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "Ana Ruiz" not in result.output and "HIV follow-up" not in result.output
    assert "failed with patient fields filled in; the error is not shown" in result.stderr


def test_a_patient_field_changed_by_a_template_never_reaches_an_error_message(run, write_workspace, tmp_path):
    """|upper (or a slice, a format) would get past a search for the value itself."""
    ws = write_workspace({"templates/kinds/overview.html": '{% extends "!builtin/kinds/overview.html" %}\n'
                                                          "{% block body %}{{ {}[personal.patient_name|upper] }}"
                                                          "{% endblock %}\n"})
    result = run("-w", ws, "build", "test", "-l", "brief", "--patient-name", "Jane Doe", "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "JANE DOE" not in result.output and "Jane Doe" not in result.output
    assert result.stderr == ("failed: test overview brief en letter: templates/kinds/overview.html:2: failed with "
                             "patient fields filled in; the error is not shown, as a template may have put them in "
                             "it: make the handout without patient fields to see it\n")
    assert not (tmp_path / "x.pdf").exists()


def test_the_same_inputs_elsewhere_give_the_same_version_and_bytes(run, write_workspace, tmp_path):
    first, second = (write_workspace(root=tmp_path / name) for name in ("a", "elsewhere/b"))
    pdfs = []
    for ws in (first, second):
        target = tmp_path / f"{ws.name}.pdf"
        assert run("-w", ws, "build", "test", "-l", "brief", "-o", target).exit_code == 0
        pdfs.append(target.read_bytes())
    assert pdfs[0] == pdfs[1]
    assert "version" in (inspect_pdf(pdfs[0]).keywords or "")


def test_a_default_output_folder_that_is_a_link_is_refused(run, write_workspace, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "manifest.json").write_text("precious", encoding="utf-8")
    ws = write_workspace()
    (ws / "output").symlink_to(victim)
    result = run("-w", ws, "build", "test", "-l", "brief")
    assert result.exit_code == 2
    assert "output/ is a link to" in result.stderr
    assert (victim / "manifest.json").read_text(encoding="utf-8") == "precious"
    assert not list(victim.rglob("*.pdf"))


def test_links_inside_the_output_folder_do_not_send_pdfs_elsewhere(run, write_workspace, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ws = write_workspace()
    (ws / "output").mkdir()
    (ws / "output" / "en").symlink_to(elsewhere)
    (ws / "output" / ".manifest.lock").symlink_to(tmp_path / "created-by-lock")
    result = run("-w", ws, "build", "test", "-l", "brief")
    assert result.exit_code == 1
    assert "refused to write en/test/overview-brief-letter.pdf: a link in the output folder leads outside it" in (
        result.stderr)
    assert not list(elsewhere.rglob("*.pdf"))
    assert not (tmp_path / "created-by-lock").exists()


def test_a_cache_folder_that_is_a_link_is_not_written(run, write_workspace, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ws = write_workspace()
    then = time.time() - 60
    for path in ws.rglob("*"):
        os.utime(path, (then, then))
    (ws / ".handouts-cache").symlink_to(elsewhere)
    assert run("-w", ws, "build", "test", "-l", "brief").exit_code == 0
    assert list(elsewhere.iterdir()) == []


def test_a_file_linked_from_outside_reaches_no_key(run, write_workspace, tmp_path):
    """Its bytes must not change the version id (an oracle on files outside the workspace)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("one", encoding="utf-8")
    ws = write_workspace()
    (ws / "templates").mkdir()
    (ws / "templates" / "unused.html").symlink_to(secret)
    then = time.time() - 60  # settled files: their digests are kept in the cache
    for path in [*ws.rglob("*"), secret]:
        os.utime(path, (then, then), follow_symlinks=False)
    ids = []
    for text in ("one", "two"):
        secret.write_text(text, encoding="utf-8")
        os.utime(secret, (then, then))
        assert run("-w", ws, "build", "test", "-l", "brief", "-o", tmp_path / "x.pdf").exit_code == 0
        ids.append(inspect_pdf(tmp_path / "x.pdf").keywords)
    assert ids[0] == ids[1]
    digests = json.loads((ws / ".handouts-cache" / "digests.json").read_text(encoding="utf-8"))["data"]
    assert not [path for path in digests if path.endswith("unused.html")]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="uses a fresh TMPDIR and signals")
def test_sigterm_stops_a_build_cleanly(write_workspace, tmp_path):
    ws = write_workspace({"data/topics/test/es.yaml": ES})
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-m", "handouts", "-w", str(ws), "build", "--all", "-j", "2",
                             "-p", "letter", "-p", "a4", "-o", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("wrote ")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 128 + signal.SIGTERM
    assert list(scratch.iterdir()) == []  # no worker scratch, no weasyprint-* font copies
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]  # what was built is recorded
