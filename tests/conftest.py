"""Shared fixtures: the shipped sample workspace, and small workspaces written per test."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from handouts.cli import main

REPO = Path(__file__).resolve().parent.parent

CONFIG = """\
clinic:
  name: Test Clinic
  phone: (555) 010-0199
"""

TOPIC = """\
name: Test topic
source_language: en
codes: [M54.31]
updated_on: 2026-11-01
review:
  status: draft
sources:
  - title: Sciatica
    publisher: NHS
    url: https://www.nhs.uk/conditions/sciatica/
    accessed: 2026-11-01
"""

EN = """\
language: en
handouts:
  overview:
    title: Test handout
    summary: A short summary.
    get_help_now:
      intro: "Call 911 if you have:"
      items: [Numbness in both legs]
    sections:
      - id: first
        heading: First section
        blocks:
          - p: Only in brief.
            lengths: [brief]
          - p: Longer text for standard and detailed.
            lengths: [standard, detailed]
          - ul: [One, Two]
"""

ES = """\
language: es
translation:
  status: draft
  translated_from: en
handouts:
  overview:
    title: Hoja de prueba
    summary: Un resumen corto.
    get_help_now:
      intro: "Llame al 911 si tiene:"
      items: [Entumecimiento en las dos piernas]
    sections:
      - id: first
        heading: Primera sección
        blocks:
          - p: Solo en la breve.
            lengths: [brief]
          - p: Texto más largo para la estándar y la detallada.
            lengths: [standard, detailed]
          - ul: [Uno, Dos]
"""

WriteWorkspace = Callable[..., Path]


@pytest.fixture(autouse=True)
def weasyprint_logs_nothing(caplog: pytest.LogCaptureFixture):
    """Fail any test during which WeasyPrint warned (a missing font, a CSS rule it ignored...)."""
    yield
    # After the yield is the teardown phase, where caplog.records holds only teardown's records.
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    warnings = [r for r in records if r.name.startswith("weasyprint") and r.levelno >= logging.WARNING]
    expected = getattr(caplog, "weasyprint_expected", 0)
    assert len(warnings) == expected, [r.getMessage() for r in warnings]


@pytest.fixture
def write_workspace(tmp_path: Path) -> WriteWorkspace:
    """Write a small workspace; files maps relative paths to text (dedented); None removes a default."""

    def write(files: dict[str, str | None] | None = None, root: Path | None = None) -> Path:
        root = root or tmp_path / "ws"
        defaults: dict[str, str | None] = {
            "handouts.yaml": CONFIG,
            "data/topics/test/topic.yaml": TOPIC,
            "data/topics/test/en.yaml": EN,
        }
        defaults.update(files or {})
        for rel, text in defaults.items():
            if text is None:
                continue
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write


@pytest.fixture
def run() -> Callable[..., Result]:
    """Run the CLI in-process and return click's Result (output, exit_code)."""

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke

AR = """\
language: ar
translation:
  status: draft
  translated_from: en
handouts:
  overview:
    title: ورقة اختبار
    summary: ملخص قصير عن وجع الظهر.
    get_help_now:
      intro: "اتصل بالرقم 911 إذا كان لديك:"
      items: [خدر في الساقين معا]
    sections:
      - id: first
        heading: القسم الأول
        blocks:
          - p: تناول دواء ibuprofen مرتين في اليوم.
            lengths: [brief]
          - p: نص أطول للنسخة العادية والمفصلة.
            lengths: [standard, detailed]
          - ul: [واحد, اثنان]
"""


# --- hypothesis profiles (tests/test_properties.py) ----------------------------------------------
# "ci" (chosen when CI is set): the same examples every run, few enough that the property tests
# take well under 3 minutes on 2 cores. "dev" (the default): fewer, random. "deep": many, for a
# long local hunt (HYPOTHESIS_PROFILE=deep). A render takes longer than hypothesis's 200 ms deadline.
try:
    import os as _os

    from hypothesis import HealthCheck, settings

    _common = {"deadline": None, "database": None, "print_blob": True,
               "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                         HealthCheck.data_too_large]}
    settings.register_profile("ci", derandomize=True, max_examples=50, **_common)
    settings.register_profile("dev", max_examples=20, **_common)
    settings.register_profile("deep", max_examples=300, **_common)
    settings.load_profile("ci" if _os.environ.get("CI") else _os.environ.get("HYPOTHESIS_PROFILE", "dev"))
except ImportError:  # hypothesis is in the test extra; without it only test_properties.py is skipped
    pass


# A cupsd of our own with a CUPS-PDF queue (one per session), for every test that prints
from .cups_server import cups, cups_pdf_output, cupsd  # noqa: E402, F401
