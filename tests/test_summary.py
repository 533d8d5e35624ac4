"""The cached catalog summary behind `handouts list` and planning: quick, and never stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from handouts.cache import CACHE_DIR
from handouts.load.summary import SUMMARY

from .conftest import ES

CACHE = f"{CACHE_DIR}/{SUMMARY}"


def _age(root, seconds: int = 60) -> None:
    """Make every file look last changed `seconds` ago, as files are between edits."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (then, then))


def _in_a_new_process(root, *args: str, status: int = 0) -> tuple[str, bool]:
    """Run handouts in a new Python; return its standard output and whether it imported pydantic."""
    code = ("import sys, runpy\n"
            f"sys.argv = ['handouts', '-w', {str(root)!r}, *{list(args)!r}]\n"
            "try:\n    runpy.run_module('handouts', run_name='__main__')\n"
            f"except SystemExit as exc:\n    assert (exc.code or 0) == {status}, exc.code\n"
            "print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    listing, _, imported = out.rstrip("\n").rpartition("\n")
    return listing, imported == "True"


def test_a_repeat_list_reads_the_summary_without_validating(write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root)
    first, validated = _in_a_new_process(root, "list")
    assert validated and (root / CACHE).is_file()
    second, validated_again = _in_a_new_process(root, "list")
    assert second == first and not validated_again
    assert first.splitlines()[1] == "test   overview  draft   source  draft  M54.31"


def test_the_summary_follows_every_change(run, write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root, 120)
    run("-w", root, "list")
    assert (root / CACHE).is_file()
    topic = root / "data/topics/test/topic.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace("M54.31", "M54.32"), encoding="utf-8")  # same size
    (root / "data/topics/test/fr.yaml").write_text(ES.replace("language: es", "language: fr"), encoding="utf-8")
    _age(root, 60)
    assert run("-w", root, "list").stdout.splitlines()[1] == "test   overview  draft   source  draft  draft  M54.32"
    (root / "data/topics/test/fr.yaml").unlink()
    assert run("-w", root, "list").stdout.splitlines()[1] == "test   overview  draft   source  draft  M54.32"


def test_invalid_content_is_reported_after_a_cached_listing(run, write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root)
    assert run("-w", root, "list").exit_code == 0
    es = root / "data/topics/test/es.yaml"
    es.write_text(ES.replace("title: Hoja de prueba", "title:"), encoding="utf-8")
    _age(root)
    for _ in range(2):
        result = run("-w", root, "list")
        assert result.exit_code == 1
        assert result.stderr == (
            'error: data/topics/test/es.yaml:7: handouts.overview.title: empty; write the text after "title:"\n')


def test_a_damaged_or_altered_summary_is_not_trusted(run, write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root)
    expected = run("-w", root, "list").stdout
    cache = root / CACHE
    cache.write_text("{not json", encoding="utf-8")
    assert run("-w", root, "list").stdout == expected
    run("-w", root, "list")
    good = json.loads(cache.read_text(encoding="utf-8"))
    for damage in ({"format": 0}, {"data": []}, {"data": {**good["data"], "summary": {"paper": "letter", "topics": "x"}}},
                   {"data": {**good["data"], "summary": {"paper": "letter", "topics": [{"id": "test", "kinds": "o"}]}}}):
        cache.write_text(json.dumps({**good, **damage}), encoding="utf-8")  # the stamp still matches
        assert run("-w", root, "list").stdout == expected


def test_reviewed_only_never_trusts_the_summary(run, write_workspace, tmp_path):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root)
    run("-w", root, "list")
    cache = root / CACHE
    data = json.loads(cache.read_text(encoding="utf-8"))
    topic = data["data"]["summary"]["topics"][0]
    topic["review"], topic["languages"]["es"] = "reviewed", "reviewed"  # someone edits the cache
    cache.write_text(json.dumps(data), encoding="utf-8")
    result = run("-w", root, "build", "test", "-l", "brief", "--lang", "es", "--reviewed-only", "-o", tmp_path / "o")
    assert result.exit_code == 1 and "refused: test overview brief es letter" in result.stderr
    assert not list((tmp_path / "o").rglob("*.pdf"))


def test_files_changed_seconds_ago_are_not_summarized_yet(run, write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})  # just written: may change again unseen
    assert run("-w", root, "list").exit_code == 0
    assert not (root / CACHE).exists()


def test_a_read_only_workspace_still_lists(run, write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root)
    (root / CACHE).mkdir(parents=True)  # cannot be replaced by a file
    assert run("-w", root, "list").exit_code == 0


def test_a_misspelt_name_is_reported_from_the_summary(write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root)
    _in_a_new_process(root, "list")
    for args in (["build", "tset"], ["build", "test", "--lang", "sp"], ["build"]):
        _, validated = _in_a_new_process(root, *args, status=2)
        assert not validated, args


def test_read_only_commands_write_nothing_into_output(run, write_workspace):
    root = write_workspace({"data/topics/test/es.yaml": ES})
    _age(root)
    for args in (["list"], ["list"], ["check", "--no-render"]):
        run("-w", root, *args)
    assert not (root / "output").exists()
    assert (root / CACHE).is_file()
