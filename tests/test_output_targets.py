"""-o writes only regular files: never a device, a pipe, a socket, the workspace's inputs, or a
file that is not a PDF (unless --overwrite)."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from .conftest import ES

ONE = ("build", "test", "-k", "overview", "-l", "brief", "--lang", "en")
ONLY_REGULAR = "not a regular file; handouts writes only regular files"


@pytest.fixture
def ws(write_workspace):
    return write_workspace({"data/topics/test/es.yaml": ES})


def _refused(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["pipe.pdf", "pipe"])
def test_a_named_pipe_is_refused_and_left_alone(run, ws, tmp_path, name):
    target = tmp_path / name
    os.mkfifo(target)
    _refused(run("-w", ws, *ONE, "-o", target), f"-o {target}: is a named pipe (FIFO), {ONLY_REGULAR}")
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    _refused(run("-w", ws, "packet", "test:overview", "-o", target),
             f"-o {target}: is a named pipe (FIFO), {ONLY_REGULAR}")
    assert stat.S_ISFIFO(os.lstat(target).st_mode)


def test_a_device_is_refused_and_left_alone(run, ws, tmp_path):
    target = tmp_path / "null.pdf"
    try:  # a device node of our own (like /dev/null), so a failing test never replaces a real one
        os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    _refused(run("-w", ws, *ONE, "-o", target), f"-o {target}: is a device, {ONLY_REGULAR}")
    _refused(run("-w", ws, "packet", "test", "-o", target), f"-o {target}: is a device, {ONLY_REGULAR}")
    assert stat.S_ISCHR(os.lstat(target).st_mode)


def test_a_socket_is_refused_and_left_alone(run, ws, tmp_path):
    target = tmp_path / "s.pdf"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(target))
        _refused(run("-w", ws, *ONE, "-o", target), f"-o {target}: is a socket, {ONLY_REGULAR}")
        _refused(run("-w", ws, "packet", "test", "-o", target), f"-o {target}: is a socket, {ONLY_REGULAR}")
        assert stat.S_ISSOCK(os.lstat(target).st_mode)
    finally:
        server.close()


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["build", "test", "-o", "data/topics"], "data/"),
        (["build", "test", "-o", "data"], "data/"),
        ([*ONE, "-o", "data/topics/test/en.pdf"], "data/"),
        ([*ONE, "-o", "templates/x.pdf"], "templates/"),
        ([*ONE, "-o", "styles/x.pdf"], "styles/"),
        (["build", "test", "-o", "handouts.yaml"], "handouts.yaml"),
        (["packet", "test", "-o", "handouts.yaml", "--overwrite"], "handouts.yaml"),
        (["packet", "test", "-o", "data/assets/packet.pdf"], "data/"),
    ],
)
def test_the_workspace_inputs_are_refused(run, ws, monkeypatch, args, where):
    (ws / "templates").mkdir(exist_ok=True)
    (ws / "styles").mkdir(exist_ok=True)
    monkeypatch.chdir(ws)
    before = sorted(str(p.relative_to(ws)) for p in ws.rglob("*"))
    target = args[args.index("-o") + 1]
    _refused(run(*args), f"-o {target}: is the workspace's input {where}; write handouts outside data/, "
                         "templates/, styles/ and handouts.yaml")
    assert sorted(str(p.relative_to(ws)) for p in ws.rglob("*")) == before


def test_an_existing_file_that_is_not_a_pdf_is_kept_unless_overwrite(run, ws, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    message = f"-o {notes}: exists and is not a PDF; not replacing it (add --overwrite to replace it)"
    _refused(run("-w", ws, "packet", "test", "-o", notes), message)
    assert notes.read_text(encoding="utf-8") == "my notes\n"
    named = tmp_path / "notes.pdf"
    named.write_text("not a PDF at all\n", encoding="utf-8")
    _refused(run("-w", ws, *ONE, "-o", named),
             f"-o {named}: exists and is not a PDF; not replacing it (add --overwrite to replace it)")
    assert named.read_text(encoding="utf-8") == "not a PDF at all\n"
    result = run("-w", ws, "packet", "test", "-o", notes, "--overwrite")
    assert result.exit_code == 0, result.output
    assert notes.read_bytes().startswith(b"%PDF-")
    result = run("-w", ws, *ONE, "-o", named, "--overwrite")
    assert result.exit_code == 0, result.output
    assert named.read_bytes().startswith(b"%PDF-")


def test_an_existing_pdf_is_replaced(run, ws, tmp_path):
    old = tmp_path / "old.pdf"
    old.write_bytes(b"%PDF-1.7\nold handout\n")
    assert run("-w", ws, *ONE, "-o", old).exit_code == 0
    assert b"old handout" not in old.read_bytes()
    assert run("-w", ws, "packet", "test", "-o", old).exit_code == 0


def test_a_folder_name_that_is_a_file_is_refused(run, ws, tmp_path):
    notes = tmp_path / "notes"
    notes.write_text("my notes\n", encoding="utf-8")
    _refused(run("-w", ws, "build", "test", "-o", notes),
             f"-o {notes}: exists and is not a folder; name a folder, or a .pdf file for one handout")
    assert notes.read_text(encoding="utf-8") == "my notes\n"


def test_a_file_name_that_is_a_folder_is_refused(run, ws, tmp_path):
    folder = tmp_path / "made.pdf"
    folder.mkdir()
    _refused(run("-w", ws, *ONE, "-o", folder), f"-o {folder}: is a folder; name a file")
    _refused(run("-w", ws, "packet", "test", "-o", folder), f"-o {folder}: is a folder; name a file")


def test_packet_to_standard_output(run, ws, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from click.testing import CliRunner

    from handouts.cli import main

    result = CliRunner().invoke(main, ["-w", str(ws), "packet", "test", "--lang", "es", "-o", "-"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"%PDF-") and result.stdout_bytes.rstrip().endswith(b"%%EOF")
    assert result.stderr == "wrote standard output (1 handouts, 1 pages)\n"
    assert not (tmp_path / "-").exists()
