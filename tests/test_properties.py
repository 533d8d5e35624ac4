"""Property tests: random and mutated topics, configs and templates give a PDF or clean errors, in time.

Starting from the small workspace of conftest and the shipped sciatica topic, hypothesis mutates
the text of topic files, handouts.yaml and a template override, and builds one handout through the
command line. Whatever it makes: the result is a PDF, or `error:`/`failed:` lines and a non-zero
status, never a traceback or "internal error", within the time limit; and no file is opened for
writing outside the output folder, the workspace's cache folder and the temporary folder (an audit
hook, sys.addaudithook, watches every open). Profiles are in conftest.py (CI=true: "ci").
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .conftest import CONFIG, EN, REPO, TOPIC  # noqa: E402

pytestmark = pytest.mark.slow

SECONDS = 10  # the time limit per handout the builds here run with
ONE = ("build", "test", "-k", "overview", "-l", "brief", "--lang", "en")
SHIPPED_EN = (REPO / "data" / "topics" / "sciatica" / "en.yaml").read_text(encoding="utf-8")
SHIPPED_TOPIC = (REPO / "data" / "topics" / "sciatica" / "topic.yaml").read_text(encoding="utf-8")
SHIPPED_OVERVIEW = (REPO / "templates" / "kinds" / "overview.html").read_text(encoding="utf-8")

# --- the audit hook -------------------------------------------------------------------------------

_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_watch: dict[str, object] = {"allowed": None, "bad": []}


def _audit(event: str, args: tuple) -> None:
    allowed = _watch["allowed"]
    if allowed is None or event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path, mode, flags = (tuple(args) + (None, None))[:3]
    writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & _WRITES)
    if not writes:
        return
    where = os.path.abspath(os.fsdecode(path))
    if not any(where == root or where.startswith(root + os.sep) for root in allowed):  # type: ignore[union-attr]
        _watch["bad"].append(where)  # type: ignore[union-attr]


sys.addaudithook(_audit)  # cannot be removed: it does nothing while allowed is None

_counter = itertools.count()


@pytest.fixture(autouse=True)
def glyphs_may_be_missing(caplog):
    """Random text has characters no shipped font draws: WeasyPrint warns, and that is not what is tested here."""
    yield
    caplog.weasyprint_expected = sum(  # type: ignore[attr-defined]
        r.name.startswith("weasyprint") and r.levelno >= logging.WARNING for r in caplog.get_records("call"))


def _build(run, write_workspace, tmp_path: Path, files: dict[str, str]):
    """Build one handout in a fresh workspace with files laid over conftest's; check what must always hold."""
    number = next(_counter)
    ws = write_workspace(files, root=tmp_path / f"ws{number}")
    out = tmp_path / f"out{number}"
    out.mkdir()
    allowed = [str(out), str(ws / ".handouts-cache"), os.path.abspath(tempfile.gettempdir()), "/dev/null"]
    os.environ["HANDOUTS_LIMIT_SECONDS_PER_HANDOUT"] = str(SECONDS)
    _watch["allowed"], _watch["bad"] = allowed, []
    started = time.monotonic()
    try:
        result = run("-w", ws, *ONE, "-o", out / "x.pdf")
    finally:
        _watch["allowed"] = None
        del os.environ["HANDOUTS_LIMIT_SECONDS_PER_HANDOUT"]
    elapsed = time.monotonic() - started
    text = result.output
    assert "Traceback" not in text and "internal error" not in text, text
    assert elapsed < SECONDS * 2, f"took {elapsed:.1f} s: {text}"
    assert _watch["bad"] == [], f"wrote outside the output folder: {_watch['bad']}"
    if result.exit_code == 0:
        assert (out / "x.pdf").read_bytes().startswith(b"%PDF-")
    else:
        lines = [line for line in text.splitlines() if line.startswith(("error: ", "failed: "))]
        assert lines, text
        assert not (out / "x.pdf").exists()
    return result


# --- strategies -----------------------------------------------------------------------------------

#: What YAML and Jinja are made of, so that mutations reach their parsers' corners.
SYNTAX = list(":-[]{}&*!|>#%@`'\",?\n\t ") + ["{{", "}}", "{%", "%}", "---", "<<: ", "!!", "&a ", "*a", "\\u0000"]
pieces = st.one_of(st.sampled_from(SYNTAX), st.text(max_size=20), st.integers(-10**6, 10**12).map(str))


@st.composite
def mutated(draw, text: str) -> str:
    """text with a few random edits: a slice deleted, pieces inserted, a line doubled or moved."""
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["delete", "insert", "replace", "double"]))
        at = draw(st.integers(0, len(text)))
        if edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif edit == "insert":
            text = text[:at] + draw(pieces) + text[at:]
        elif edit == "replace":
            text = text[:at] + draw(pieces) + text[at + draw(st.integers(1, 10)):]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                index = draw(st.integers(0, len(lines) - 1))
                lines.insert(draw(st.integers(0, len(lines))), lines[index])
                text = "".join(lines)
    return text


JINJA = [
    "{{ h.title }}", "{% for s in h.sections %}{{ s.heading }}{% endfor %}", "{{ range(5)|list }}",
    "{{ 'ab' * 3 }}", "{{ h.title|upper }}", "{% if h.summary %}x{% endif %}", "{{ _('Page') }}",
    "{{ clinic.name|center(20) }}", "{{ '{:>5}'.format(1) }}", "{{ '%5s' % 'x' }}", "{{ h.__class__ }}",
    "{{ h.nope }}", "{% include 'partials/blocks.html' %}", "{{ 1/0 }}", "{{ range(10**6) }}",
    "{{ 'x' * 10**8 }}", "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{{ cycler(1, 2).next() }}", "{{ h.title.encode() }}", "{{ lipsum() }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "<img src='file:///etc/passwd'>", "{{ h.title.replace('', 'xx') }}", "{% raw %}{{{% endraw %}",
]


# --- the properties -------------------------------------------------------------------------------

@given(text=mutated(EN))
def test_mutated_language_file(run, write_workspace, tmp_path, text):
    _build(run, write_workspace, tmp_path, {"data/topics/test/en.yaml": text})


@given(text=mutated(SHIPPED_EN), topic=mutated(SHIPPED_TOPIC))
def test_mutated_shipped_topic(run, write_workspace, tmp_path, text, topic):
    files = {"data/topics/test/en.yaml": text, "data/topics/test/topic.yaml": topic}
    result = _build(run, write_workspace, tmp_path, files)
    assert result.exit_code in (0, 1, 2)


@given(config=mutated(CONFIG + "  footer: Call us.\n  colors:\n    primary: '#1d4e89'\ndefaults:\n  paper: a4\n"),
       topic=mutated(TOPIC))
def test_mutated_config_and_topic(run, write_workspace, tmp_path, config, topic):
    _build(run, write_workspace, tmp_path, {"handouts.yaml": config, "data/topics/test/topic.yaml": topic})


@given(parts=st.lists(st.one_of(st.sampled_from(JINJA), pieces), max_size=6))
def test_random_template_blocks(run, write_workspace, tmp_path, parts):
    body = "".join(parts)
    template = '{% extends "!builtin/kinds/overview.html" %}\n{% block body %}' + body + "{% endblock %}\n"
    _build(run, write_workspace, tmp_path, {"templates/kinds/overview.html": template})


@given(template=mutated(SHIPPED_OVERVIEW))
def test_mutated_shipped_template(run, write_workspace, tmp_path, template):
    _build(run, write_workspace, tmp_path, {"templates/kinds/overview.html": template})


@given(data=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30))
def test_random_yaml_data_as_a_language_file(run, write_workspace, tmp_path, data):
    import yaml

    _build(run, write_workspace, tmp_path, {"data/topics/test/en.yaml": yaml.safe_dump(data, allow_unicode=True)})
