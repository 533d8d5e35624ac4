"""Bounded work (issue 12): every limit stops a hostile input early with one line naming the file and the limit.

Each of these ran for minutes, grew without bound or ended in "internal error" before issue 12: a
YAML alias bomb (8.5 GB after 72 s), a self-referencing alias (RecursionError), template loops
and string repetition (until killed), a 10,000-item list (296 pages in 30 s).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from handouts import Workspace
from handouts.jobs.executor import run_jobs
from handouts.limits import Limits, current

from .conftest import EN

ONE = ("build", "test", "-k", "overview", "-l", "brief", "--lang", "en")
JOB = "test overview brief en letter"
EN_FILE = "data/topics/test/en.yaml"


def overview(body: str) -> dict[str, str]:
    return {"templates/kinds/overview.html": '{% extends "!builtin/kinds/overview.html" %}\n'
                                             "{% block body %}" + body + "{% endblock %}\n"}


def errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(("error: ", "failed: "))]


# --- YAML ---------------------------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def test_a_yaml_alias_bomb_is_refused_at_once(run, write_workspace, tmp_path):
    ws = write_workspace({EN_FILE: EN + "extra:\n" + "".join("  " + line + "\n" for line in BOMB.splitlines())})
    started = time.monotonic()
    result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert errors(result) == [f"error: {EN_FILE}:20: extra.b[0]: anchors and aliases (&name, *name) are not "
                              "allowed in handouts files; write the value out"]


def test_a_self_referencing_alias_is_a_plain_error(run, write_workspace, tmp_path):
    ws = write_workspace({EN_FILE: "a: &x [*x]\n"})
    result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert errors(result) == [f"error: {EN_FILE}:1: a[0]: anchors and aliases (&name, *name) are not allowed "
                              "in handouts files; write the value out"]
    assert "RecursionError" not in result.output


def test_deep_nesting_is_refused(run, write_workspace, tmp_path):
    ws = write_workspace({EN_FILE: EN + "extra: " + "[" * 60 + "]" * 60 + "\n"})
    result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert errors(result) == [f"error: {EN_FILE}:18: extra{'[0]' * 39}: nested more than 40 levels deep "
                              "(the limit: HANDOUTS_LIMIT_YAML_DEPTH)"]


def test_a_huge_yaml_file_is_refused_before_parsing(run, write_workspace, tmp_path):
    ws = write_workspace({EN_FILE: EN + "# " + "x" * 1_000_000 + "\n"})
    result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert errors(result) == [f"error: {EN_FILE}: larger than 1000000 bytes (the limit: HANDOUTS_LIMIT_YAML_BYTES)"]


def test_a_ten_thousand_item_list_is_refused_before_layout(run, write_workspace, tmp_path):
    items = "".join(f"              - Item {i}\n" for i in range(10_000))
    text = EN.replace("          - ul: [One, Two]\n", "          - ul:\n" + items)
    ws = write_workspace({EN_FILE: text})
    started = time.monotonic()
    result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    assert time.monotonic() - started < 15
    assert result.exit_code == 1
    assert errors(result) == [
        f"error: {EN_FILE}:17: handouts.overview.sections[0].blocks[2].ul: "
        "at most 100 items; this list has 10000"]


# --- the template sandbox -----------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ("{% for i in range(100000) %}{% endfor %}",
     "range() of 100000 items is over the limit of 10000 (HANDOUTS_LIMIT_TEMPLATE_RANGE)"),
    ("{{ 'x' * 10**9 }}",
     "a result of 1000000000 characters or items is over the limit of 100000 (HANDOUTS_LIMIT_TEMPLATE_STRING)"),
    ("{{ ['x'] * 10**9 }}",
     "a result of 1000000000 characters or items is over the limit of 100000 (HANDOUTS_LIMIT_TEMPLATE_STRING)"),
    ("{{ 10 ** (10 ** 10) }}",
     "a power with 10000000000 digits is over the limit of 100000 (HANDOUTS_LIMIT_TEMPLATE_STRING)"),
    ("{{ 'x'.center(10**9) }}",
     "an argument of 1000000000 is over the limit of 100000 (HANDOUTS_LIMIT_TEMPLATE_STRING)"),
    ("{{ '{:>999999999}'.format(1) }}",
     "a width of 999999999 is over the limit of 100000 (HANDOUTS_LIMIT_TEMPLATE_STRING)"),
    ("{{ '%999999999s' % 'x' }}",
     "a width of 999999999 is over the limit of 100000 (HANDOUTS_LIMIT_TEMPLATE_STRING)"),
    ("{{ 'x'|center(999999999) }}",
     "an argument of 999999999 is over the limit of 100000 (HANDOUTS_LIMIT_TEMPLATE_STRING)"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
     "more than 1000000 steps (the limit: HANDOUTS_LIMIT_TEMPLATE_STEPS)"),
    ("{% for i in range(10000) %}{{ 'x' * 100000 }}{% endfor %}",
     "more than 2000000 characters of output (the limit: HANDOUTS_LIMIT_TEMPLATE_OUTPUT)"),
])
def test_the_sandbox_bounds_work(run, write_workspace, tmp_path, body, message):
    ws = write_workspace(overview(body))
    started = time.monotonic()
    result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    assert errors(result) == [f"failed: {JOB}: templates/kinds/overview.html:2: blocked by the template sandbox: "
                              f"{message}"]


# --- time and memory ----------------------------------------------------------------------------

SLOW = "{% set s = 'x' * 60000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["env", "option"])
def test_a_handout_over_the_time_limit_fails_alone(run, write_workspace, tmp_path, monkeypatch, how):
    ws = write_workspace(overview(SLOW))
    started = time.monotonic()
    if how == "env":
        monkeypatch.setenv("HANDOUTS_LIMIT_SECONDS_PER_HANDOUT", "2")
        result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    else:
        result = run("-w", ws, "--time-limit", "2", *ONE, "-o", tmp_path / "x.pdf")
    assert time.monotonic() - started < 15
    assert result.exit_code == 1
    assert errors(result) == [f"failed: {JOB}: took longer than the 2 s limit per handout "
                              "(HANDOUTS_LIMIT_SECONDS_PER_HANDOUT, or handouts --time-limit)"]
    assert "HANDOUTS_LIMIT_SECONDS_PER_HANDOUT" not in os.environ or how == "env"


@pytest.mark.slow
def test_the_time_limit_holds_in_worker_processes(run, write_workspace, tmp_path, monkeypatch):
    ws = write_workspace(overview(SLOW))
    monkeypatch.setenv("HANDOUTS_LIMIT_SECONDS_PER_HANDOUT", "2")
    result = run("-w", ws, "build", "test", "-k", "overview", "--lang", "en", "-j", "2", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert sorted(errors(result)) == [
        f"failed: test overview {length} en letter: took longer than the 2 s limit per handout "
        "(HANDOUTS_LIMIT_SECONDS_PER_HANDOUT, or handouts --time-limit)" for length in ("brief", "detailed", "standard")]


def _stuck(builder, item: int) -> tuple[int, str]:
    if item == 1:  # C code that never returns to Python: no signal handler runs
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    return item, "ok"


def _died(item: int, why: str) -> tuple[int, str]:
    return item, why


@pytest.mark.slow
def test_a_worker_stuck_past_the_time_limit_is_killed(write_workspace, monkeypatch):
    monkeypatch.setenv("HANDOUTS_LIMIT_SECONDS_PER_HANDOUT", "1")
    monkeypatch.setenv("HANDOUTS_LIMIT_GRACE_SECONDS", "1")
    ws = Workspace(write_workspace())
    started = time.monotonic()
    results = dict(run_jobs(ws, _stuck, [0, 1, 2, 3], _died, workers=2))
    assert time.monotonic() - started < 20
    assert results[1] == ("took longer than the 1 s limit per handout (HANDOUTS_LIMIT_SECONDS_PER_HANDOUT, "
                          "or handouts --time-limit); its worker process was stopped; the rest of the batch went on")
    assert [results[i] for i in (0, 2, 3)] == ["ok"] * 3


def test_a_worker_over_its_memory_limit_fails_only_its_handout(write_workspace, tmp_path, run, monkeypatch):
    # a limit below what a worker already uses: the handout cannot even start
    monkeypatch.setenv("HANDOUTS_LIMIT_WORKER_MEMORY_MB", "1")
    ws = write_workspace()
    result = run("-w", ws, "build", "test", "-k", "overview", "--lang", "en", "-j", "2", "-o", tmp_path / "out")
    assert result.exit_code == 1
    failed = errors(result)
    assert len(failed) == 3
    assert all(line.endswith("out of memory while making this handout (the limit per worker process: 1 MB, "
                             "HANDOUTS_LIMIT_WORKER_MEMORY_MB)") or "the worker process" in line
               for line in failed), failed


def test_limits_come_from_the_environment_only():
    assert current({}) == Limits()
    assert current({"HANDOUTS_LIMIT_SECONDS_PER_HANDOUT": "2.5"}).seconds_per_handout == 2.5
    with pytest.raises(Exception, match="HANDOUTS_LIMIT_YAML_DEPTH=x: not a number"):
        current({"HANDOUTS_LIMIT_YAML_DEPTH": "x"})


def test_a_workspace_cannot_raise_its_limits(run, write_workspace, tmp_path):
    ws = write_workspace({"handouts.yaml": "clinic:\n  name: Test Clinic\nlimits:\n  seconds_per_handout: 9999\n"})
    result = run("-w", ws, *ONE, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert errors(result) == ["error: handouts.yaml:3: limits: unknown field; the fields here are clinic, defaults, check, printers"]


def test_a_bad_limit_in_the_environment_is_a_usage_error(run, write_workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("HANDOUTS_LIMIT_SECONDS_PER_HANDOUT", "soon")
    result = run("-w", write_workspace(), *ONE, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 2
    assert errors(result) == ["error: HANDOUTS_LIMIT_SECONDS_PER_HANDOUT=soon: not a number"]


def test_normal_handouts_are_unaffected(run, write_workspace, tmp_path):
    result = run("-w", write_workspace(), *ONE, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 0, result.output
    assert Path(tmp_path / "x.pdf").read_bytes().startswith(b"%PDF-")
