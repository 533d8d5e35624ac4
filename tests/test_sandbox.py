"""A hostile workspace: templates see only plain data, and no file outside a folder is read.

Every test here failed before the sandbox fixes of issue 10 (a pickle through a pydantic method ran
a command; links read /etc/passwd and files outside data/assets).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from handouts import Builder, Job, Workspace
from handouts.compose.personal import Personal

from .conftest import REPO
from .pdfs import inspect_pdf

JOB = Job("test", "overview", "brief", "en", "letter")
PICKLE = "cbuiltins\\neval\\n(S\\\"__import__('os').system('touch {marker}')\\\"\\ntR."


def overview(body: str) -> dict[str, str]:
    """A workspace kinds/overview.html that extends the built-in one and adds body to it."""
    return {"templates/kinds/overview.html": '{% extends "!builtin/kinds/overview.html" %}\n'
                                             "{% block body %}" + body + "{% endblock %}\n"}


def build(run, ws: Path, out: Path):
    return run("-w", ws, "build", "test", "-k", "overview", "-l", "brief", "--lang", "en", "-o", out)


# --- templates see data, not objects -----------------------------------------------------------

def walk_callables(value, where=""):
    """Everything in value that is not a Record, tuple, str, number, bool, date or None."""
    from datetime import date

    from handouts.compose.plain import Record

    if isinstance(value, Record):
        return [p for name in value for p in walk_callables(value[name], f"{where}.{name}")]
    if isinstance(value, tuple):
        return [p for i, item in enumerate(value) for p in walk_callables(item, f"{where}[{i}]")]
    if isinstance(value, (str, int, float, bool, date)) or value is None:
        return []
    return [f"{where}: {type(value).__name__}"]


@pytest.mark.parametrize(("topic", "kind"), [("sciatica", "overview"), ("sciatica", "faq"), ("kratom", "caution")])
def test_templates_receive_only_plain_data(topic, kind):
    from datetime import date

    builder = Builder(Workspace(REPO))
    personal = Personal("Ana Ruiz", "Dr. Lee", date(2026, 12, 1), "Walk daily")
    context = builder.template_context(Job(topic, kind, "detailed", "es", "letter", True), personal)
    assert set(context) >= {"h", "clinic", "personal", "link", "fonts", "paper"}
    found = [p for name, value in context.items() for p in walk_callables(value, name)]
    assert found == []
    assert context["personal"].patient_name == "Ana Ruiz"
    assert context["clinic"].footer == "Llámenos si tiene preguntas, de día o de noche."


def test_template_data_has_no_methods_to_call():
    from handouts.compose.plain import Record, plain

    record = plain({"items": ("a", "b"), "name": "x"})
    assert isinstance(record, Record)
    assert record.items == ("a", "b")  # a field, not dict.items
    assert [n for n in dir(record) if not n.startswith("_")] == []
    with pytest.raises(AttributeError):
        record.name = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        plain(object())


def test_pickle_through_a_pydantic_method_runs_nothing(run, write_workspace, tmp_path):
    marker = tmp_path / "pwned.txt"
    payload = PICKLE.format(marker=marker)
    ws = write_workspace(overview(
        '{% set _x = clinic.parse_raw("' + payload + '", proto="pickle", allow_pickle=True) %}{{ _x }}'
    ))
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert not marker.exists()
    assert not (tmp_path / "x.pdf").exists()
    assert "failed: test overview brief en letter: templates/kinds/overview.html:2: no field 'parse_raw' here" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ h.__class__ }}", "access to attribute '__class__' of 'Record' object is unsafe"),
        ("{{ h.lang.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ clinic|attr('model_dump') }}", "no field 'model_dump' here"),
        ("{{ clinic._fields }}", "access to attribute '_fields' of 'Record' object is unsafe"),
        ("{{ '{0.__class__}'.format(h) }}", "access to attribute '__class__' of 'Record' object is unsafe"),
        ("{{ '{0._fields}'.format(clinic) }}", "access to attribute '_fields' of 'Record' object is unsafe"),
        ("{{ 'x'.encode() }}", "calling str.encode() is not allowed in templates"),
        ("{{ h.updated_iso.__len__() }}", "access to attribute '__len__' of 'str' object is unsafe"),
        ("{{ lipsum(100000) }}", "'lipsum' is undefined"),
        ("{{ self.__init__ }}", "access to attribute '__init__' of 'TemplateReference' object is unsafe"),
    ],
)
def test_known_escape_routes_are_closed(run, write_workspace, tmp_path, body, message):
    ws = write_workspace(overview(body))
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.startswith("failed: test overview brief en letter: templates/kinds/overview.html:")
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_allowed_calls_still_work(write_workspace):
    ws = write_workspace(overview(
        "<p>{{ h.lang.upper() }} {{ '{0}-{1}'.format(h.kind, h.length) }} {{ range(3)|list|length }}"
        "{% for s in h.sections %}{{ loop.cycle('a', 'b') }}{% endfor %}</p>"
    ))
    html = Builder(Workspace(ws)).html(JOB)
    assert "<p>EN overview-brief 3a</p>" in html


def test_check_runs_no_template_code_either(run, write_workspace, tmp_path):
    marker = tmp_path / "pwned.txt"
    ws = write_workspace(overview(
        '{{ clinic.parse_raw("' + PICKLE.format(marker=marker) + '", proto="pickle", allow_pickle=True) }}'
    ))
    result = run("-w", ws, "check", "--jobs", "1")
    assert result.exit_code == 1
    assert not marker.exists()
    assert "no field 'parse_raw' here" in result.output


# --- files stay inside ---------------------------------------------------------------------------

SECRET = "s3cret-outside-the-workspace"


@pytest.fixture
def secret(tmp_path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.html").write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    (outside / "secret.css").write_text(f'body::after {{ content: "{SECRET}" }}', encoding="utf-8")
    (outside / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        encoding="utf-8",
    )
    return outside


def test_template_link_to_a_file_outside_is_refused(run, write_workspace, tmp_path, secret):
    ws = write_workspace(overview('{% include "leak.html" %}'))
    (ws / "templates" / "leak.html").symlink_to(secret / "secret.html")
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"failed: test overview brief en letter: templates/leak.html: refused: it leads to {secret / 'secret.html'}, "
        "outside templates/ (links may not point out of it)"
    )
    assert not (tmp_path / "x.pdf").exists()


def test_etc_passwd_through_a_template_link_is_refused(run, write_workspace, tmp_path):
    ws = write_workspace(overview('{% include "leak.html" %}'))
    (ws / "templates" / "leak.html").symlink_to("/etc/passwd")
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "templates/leak.html: refused: it leads to /etc/passwd" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_templates_folder_that_is_a_link_is_refused(run, write_workspace, tmp_path, secret):
    (secret / "kinds").mkdir()
    (secret / "kinds" / "overview.html").write_text(f"{SECRET}", encoding="utf-8")
    ws = write_workspace()
    (ws / "templates").symlink_to(secret)
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "templates/kinds/overview.html: refused: it leads to" in result.stderr


def test_link_inside_the_templates_folder_is_fine(write_workspace):
    ws = write_workspace({"templates/partials/extra.html": "<p>shared</p>"})
    (ws / "templates" / "kinds").mkdir()
    (ws / "templates" / "kinds" / "overview.html").write_text(
        '{% extends "!builtin/kinds/overview.html" %}{% block body %}{% include "extra.html" %}{% endblock %}',
        encoding="utf-8",
    )
    (ws / "templates" / "extra.html").symlink_to(ws / "templates" / "partials" / "extra.html")
    assert "<p>shared</p>" in Builder(Workspace(ws)).html(JOB)


def test_stylesheet_link_outside_is_refused(run, write_workspace, tmp_path, secret):
    ws = write_workspace()
    (ws / "styles").mkdir()
    (ws / "styles" / "custom.css").symlink_to(secret / "secret.css")
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert f"styles/custom.css: refused: it leads to {secret / 'secret.css'}" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_assets_folder_that_is_a_link_is_refused(run, write_workspace, tmp_path, secret):
    ws = write_workspace({"handouts.yaml": "clinic:\n  name: Test Clinic\n  logo: logo.svg\n"})
    (ws / "data" / "assets").symlink_to(secret)
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: handouts.yaml:3: clinic.logo: data/assets/logo.svg: refused: it leads to {secret / 'logo.svg'}, "
        "outside data/assets/ (links may not point out of it)\n"
    )


def test_logo_link_outside_is_refused_by_check_too(run, write_workspace, secret):
    ws = write_workspace({"handouts.yaml": "clinic:\n  name: Test Clinic\n  logo: logo.svg\n"})
    (ws / "data" / "assets").mkdir()
    (ws / "data" / "assets" / "logo.svg").symlink_to(secret / "logo.svg")
    result = run("-w", ws, "check", "--no-render")
    assert result.exit_code == 1
    assert "clinic.logo: data/assets/logo.svg: refused: it leads to" in result.output


def test_css_url_through_a_link_outside_is_refused(run, write_workspace, tmp_path, secret):
    ws = write_workspace({"styles/custom.css": "h1 { background: url(pic.svg) }"})
    (ws / "styles" / "pic.svg").symlink_to(secret / "logo.svg")
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert f"styles/pic.svg: refused: it leads to {secret / 'logo.svg'}" in result.stderr


def test_topic_file_link_outside_is_refused(run, write_workspace, tmp_path):
    outside = tmp_path / "es.yaml"
    outside.write_text("language: es\n", encoding="utf-8")
    ws = write_workspace()
    (ws / "data" / "topics" / "test" / "es.yaml").symlink_to(outside)
    result = run("-w", ws, "build", "test", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: data/topics/test/es.yaml: refused: it leads to {outside}, outside data/topics/test/ "
        "(links may not point out of it)\n"
    )


def test_topic_folder_link_outside_is_refused(run, write_workspace, tmp_path):
    other = write_workspace(root=tmp_path / "other")
    ws = write_workspace()
    (ws / "data" / "topics" / "linked").symlink_to(other / "data" / "topics" / "test")
    result = run("-w", ws, "list")
    assert result.exit_code == 1
    assert "data/topics/linked/topic.yaml: refused: it leads to" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_pipe_as_a_template_is_refused_without_blocking(run, write_workspace, tmp_path):
    ws = write_workspace(overview('{% include "pipe.html" %}'))
    os.mkfifo(ws / "templates" / "pipe.html")
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "templates/pipe.html: refused: not a regular file (a named pipe)" in result.stderr


def test_nothing_outside_reaches_the_pdf(run, write_workspace, tmp_path, secret):
    """The same build with every link removed works, and no run above put the secret in a PDF."""
    ws = write_workspace(overview("<p>inside</p>"))
    result = build(run, ws, tmp_path / "x.pdf")
    assert result.exit_code == 0, result.output
    text = inspect_pdf(tmp_path / "x.pdf").text
    assert "inside" in text
    assert not re.search(SECRET, text)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_pipe_as_a_topic_file_does_not_block_list(tmp_path, write_workspace):
    import subprocess
    import sys

    ws = write_workspace()
    os.mkfifo(ws / "data" / "topics" / "test" / "fr.yaml")
    proc = subprocess.run([sys.executable, "-m", "handouts", "-w", str(ws), "list"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr == "error: data/topics/test/fr.yaml: refused: not a regular file (a named pipe)\n"
