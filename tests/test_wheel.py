"""The package works when installed from its wheel, outside this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO
from .pdfs import inspect_pdf


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO)],
        check=True,
    )
    [built] = out.glob("handouts-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_templates_styles_fonts_data_and_catalogs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "handouts/_builtin/templates/base.html",
        "handouts/_builtin/templates/kinds/overview.html",
        "handouts/_builtin/styles/handout.css",
        "handouts/_builtin/styles/fonts/NotoSans-Regular.ttf",
        "handouts/_builtin/styles/fonts/OFL.txt",
        "handouts/_builtin/data/topics/sciatica/en.yaml",
        "handouts/locale/es/LC_MESSAGES/handouts.po",
        "handouts/py.typed",
        "handouts/printing/purge-job.test",  # ipptool's request where `cancel -x` cannot purge
    ):
        assert needed in names


@pytest.mark.slow
def test_installed_wheel_builds_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    work = tmp_path / "elsewhere"
    work.mkdir()

    def handouts(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "handouts", *args], cwd=work, env=env, capture_output=True, text=True
        )

    where = subprocess.run(
        [sys.executable, "-c", "import handouts; print(handouts.__file__)"], cwd=work, env=env,
        capture_output=True, text=True, check=True,
    ).stdout
    assert where.startswith(str(target))
    assert handouts("init", "clinic").returncode == 0
    result = handouts("-w", "clinic", "build", "sciatica", "-k", "overview", "-l", "brief", "--lang", "es")
    assert result.returncode == 0, result.stderr
    pdf = work / "clinic/output/es/sciatica/overview-brief-letter.pdf"
    facts = inspect_pdf(pdf)
    assert facts.pages == 1 and facts.lang == "es"
