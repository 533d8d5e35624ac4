"""Template and style lookup: the workspace's own files first, the built-ins last."""

from __future__ import annotations

from handouts import Builder, Job, Workspace
from handouts.load.workspace import builtin_dir

from .pdfs import inspect_pdf

JOB = Job("test", "overview", "brief", "en", "letter")


def test_search_path_order_is_workspace_first(write_workspace):
    root = write_workspace({"templates/base.html": "x", "styles/custom.css": ""})
    ws = Workspace(root)
    assert ws.search_path("templates") == [root / "templates", builtin_dir("templates")]
    assert ws.search_path("styles") == [root / "styles", builtin_dir("styles")]


def test_search_path_without_overrides_is_builtin_only(write_workspace):
    ws = Workspace(write_workspace())
    assert ws.search_path("templates") == [builtin_dir("templates")]


def test_override_one_block_by_extending_the_builtin(write_workspace):
    base = (
        '{% extends "!builtin/base.html" %}\n'
        "{% block after_body %}{{ super() }}<p>Bring this sheet to your next visit.</p>{% endblock %}\n"
    )
    root = write_workspace({"templates/base.html": base})
    builder = Builder(Workspace(root))
    text = inspect_pdf(builder.render(JOB).pdf).text
    assert "Bring this sheet to your next visit." in text
    assert "Test handout" in text  # the rest of the built-in page is still there


def test_custom_css_loads_after_the_builtin_styles(write_workspace):
    root = write_workspace({"styles/custom.css": ".summary::before { content: 'CUSTOM STYLE ' }"})
    builder = Builder(Workspace(root))
    text = inspect_pdf(builder.render(JOB).pdf).text
    assert "CUSTOM STYLE A short summary." in text


def test_brand_logo_and_colours_reach_the_page(write_workspace):
    logo = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    config = (
        "clinic:\n  name: Logo Clinic\n  logo: mark.svg\n  logo_alt: Logo Clinic mark\n"
        "  colors:\n    primary: '#00573f'\n"
    )
    root = write_workspace({"handouts.yaml": config, "data/assets/mark.svg": logo})
    html = Builder(Workspace(root)).html(JOB)
    assert f'src="{(root / "data/assets/mark.svg").as_uri()}" alt="Logo Clinic mark"' in html
    assert "--primary: #00573f;" in html
