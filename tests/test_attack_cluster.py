"""Attacks on the cluster door (handouts.jobs.cluster): a hostile workspace against the bundle.

Each test runs the real code on a real workspace; none mocks the file system or Dask.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from handouts.cache import load_json, save_json
from handouts.jobs.cluster import ClusterError, bundle_digest, make_bundle, unpack
from handouts.load.workspace import Workspace

from .conftest import WriteWorkspace

ROOT = Path(__file__).resolve().parent.parent

#: make_bundle in a process whose address space is capped at what it uses now plus 512 MB.
CAPPED = """\
import resource, sys
from handouts.cache import load_json, save_json
from handouts.jobs.cluster import ClusterError, make_bundle
from handouts.load.workspace import Workspace
with open("/proc/self/status") as status:
    used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (used + 512 * 2**20, resource.RLIM_INFINITY))
try:
    make_bundle(Workspace(sys.argv[1]), ["default"])
    print("bundled")
except ClusterError as exc:
    print(f"refused: {exc}")
except MemoryError:
    print("MemoryError")
"""


def test_a_huge_file_is_refused_by_the_bundle_limit_before_it_is_read(write_workspace: WriteWorkspace) -> None:
    """A sparse 4 GB file in data/ (no disk space, one command) must meet the bundle limit, not be
    read whole into the client's memory first (make_bundle read every file before counting)."""
    root = write_workspace()
    huge = root / "data" / "assets" / "huge.bin"
    huge.parent.mkdir(parents=True, exist_ok=True)
    with open(huge, "wb") as handle:
        handle.truncate(4 * 2**30)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HANDOUTS_LIMIT_BUNDLE_MB": "1"}
    done = subprocess.run([sys.executable, "-c", CAPPED, str(root)], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.stdout.strip() == ("refused: the workspace's files come to more than 1 MB, the most a cluster build "
                                   "sends its workers (HANDOUTS_LIMIT_BUNDLE_MB)"), done.stderr


def test_handouts_yaml_linked_inside_the_workspace_travels_in_the_bundle(write_workspace: WriteWorkspace) -> None:
    """handouts.yaml as a link to a file inside the workspace is read by a local build
    (contained(path, root)); the bundle left it out, so the workers built without the clinic."""
    root = write_workspace()
    config = (root / "handouts.yaml").read_bytes()
    (root / "handouts.yaml").rename(root / "data" / "clinic.yaml")
    (root / "handouts.yaml").symlink_to("data/clinic.yaml")
    workspace = Workspace(root)
    assert workspace.config.clinic.name  # the local build reads it
    assert make_bundle(workspace, ["default"]).files.get("handouts.yaml") == config


def test_a_brand_file_linked_inside_brands_travels_in_the_bundle(write_workspace: WriteWorkspace) -> None:
    """brands/north.yaml as a link to another file in brands/ is read by a local build; the bundle
    must carry it under the brand's name."""
    root = write_workspace({"brands/north-valley.yaml": "clinic:\n  name: North Valley Clinic\n"})
    (root / "brands" / "north.yaml").symlink_to("north-valley.yaml")
    workspace = Workspace(root)
    assert workspace.for_brand("north").config.clinic.name == "North Valley Clinic"  # the local build reads it
    assert make_bundle(workspace, ["north"]).files.get("brands/north.yaml") == b"clinic:\n  name: North Valley Clinic\n"


def test_a_file_name_that_is_not_utf8_neither_stops_a_build_nor_the_bundle(
        write_workspace: WriteWorkspace, run: Callable[..., Result], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file in data/assets named by bytes that are not UTF-8 (b"\\xff.svg", which Linux allows and
    a hostile workspace can ship) stopped every build with "internal error: UnicodeEncodeError"
    (the keys and the bundle's digest encoded its name); it is an unused file like any other."""
    root = write_workspace()
    (root / "data" / "assets").mkdir(parents=True)
    odd = os.fsencode(root / "data" / "assets") + b"/\xff.svg"
    with open(odd, "wb") as handle:
        handle.write(b"<svg/>")
    done = run("--workspace", root, "build", "test", "--kind", "overview", "--length", "brief", "--lang", "en",
               "--paper", "letter", "-q")
    assert done.exit_code == 0, done.output
    save_json(tmp_path / "digests.json", {os.fsdecode(odd): 1})  # the digests cache remembers it by name
    assert load_json(tmp_path / "digests.json") == {os.fsdecode(odd): 1}
    bundle = make_bundle(Workspace(root), ["default"])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "worker"))
    (tmp_path / "worker").mkdir()
    unpacked = unpack(bundle.files, bundle.digest)
    with open(os.fsencode(unpacked / "data" / "assets") + b"/\xff.svg", "rb") as handle:
        assert handle.read() == b"<svg/>"


def test_a_bundles_folder_that_is_a_link_is_neither_cleaned_nor_used(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """$TMPDIR/handouts-bundles planted as a link (by anyone who may write the worker's /tmp, before
    the worker's first task): unpack followed it, removed every folder there unused for 7 days (a
    worker's home, say) and unpacked bundles where the link's owner may swap them. Refused instead."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    victim = tmp_path / "home"
    (victim / "old-work").mkdir(parents=True)
    week = time.time() - 8 * 86400
    os.utime(victim / "old-work", (week, week))
    (tmp_path / "tmp" / "handouts-bundles").symlink_to(victim)
    files = {"handouts.yaml": b"clinic:\n  name: Test Clinic\n"}
    try:
        unpack(files, bundle_digest(files))
        refused = ""
    except ClusterError as exc:
        refused = str(exc)
    assert (victim / "old-work").is_dir()
    assert refused == (f"refused: {tmp_path / 'tmp' / 'handouts-bundles'} is not a private folder of this user "
                       "(a link, another user's, or writable by others); remove it")


def test_a_bundles_folder_others_may_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundles folder others may write (mode 777): whoever can write it can swap a bundle that
    unpack then reuses unchecked (it looks only for handouts.yaml), so a worker would build from
    files that are not the client's. Refused."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    files = {"handouts.yaml": b"clinic:\n  name: Test Clinic\n"}
    digest = bundle_digest(files)
    planted = tmp_path / "handouts-bundles" / digest
    planted.mkdir(parents=True)
    (tmp_path / "handouts-bundles").chmod(0o777)
    (planted / "handouts.yaml").write_bytes(b"clinic:\n  name: Someone Else\n")
    with pytest.raises(ClusterError, match="is not a private folder of this user"):
        unpack(files, digest)


#: Cluster(ADDRESS) with the connect deadline at 2 s (the handshake gets 5 s more), in a process of its own.
CONNECT = """\
import sys
from handouts.jobs import cluster
cluster.CONNECT_SECONDS = 2.0
try:
    cluster.Cluster(sys.argv[1]).close()
    print("connected")
except cluster.ClusterError as exc:
    print(f"error: {exc}")
"""


@pytest.mark.slow
def test_a_scheduler_that_never_answers_is_not_waited_for_forever(tmp_path: Path) -> None:
    """A listening socket that never speaks (a scheduler process that is stopped or stuck: the
    kernel still accepts its connections) hung the client for good: Dask's connect bounds the TCP
    connection by its timeout but waits for the handshake without one."""
    pytest.importorskip("distributed")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # never accepted, never answered
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    try:
        done = subprocess.run([sys.executable, "-c", CONNECT, address], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Cluster({address}) still waiting after 30 s with a 2 s connect deadline")
    finally:
        silent.close()
    assert done.stdout.strip() == f"error: cannot reach the Dask scheduler at {address}: it did not answer in 7 s"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_scheduler_stopped_mid_build_ends_the_build_instead_of_hanging(tmp_path: Path) -> None:
    """A scheduler stopped mid-build (SIGSTOP: its kernel still accepts and acknowledges, so no
    connection breaks) kept the build waiting for good in Cluster._watch's scheduler_info(), which
    has no deadline. It must end as a lost scheduler does: one line, exit status 1."""
    from .dask_cluster import DaskCluster, dask_command

    dask_command()
    root = tmp_path / "ws"
    root.mkdir()
    (root / "handouts.yaml").write_bytes((ROOT / "handouts.yaml").read_bytes())
    shutil.copytree(ROOT / "data", root / "data")
    out = tmp_path / "out"
    cluster = DaskCluster(tmp_path / "cluster").start(workers=1)
    try:
        log = tmp_path / "build.log"
        with open(log, "wb") as handle:
            build = subprocess.Popen(
                [sys.executable, "-m", "handouts", "--workspace", str(root), "build", "--all", "--lang", "en",
                 "--lang", "es", "--paper", "letter", "--paper", "a4", "-o", str(out), "--cluster", cluster.address],
                stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + 120
        while not any(out.rglob("*.pdf")) and build.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cluster.scheduler is not None and build.poll() is None, log.read_text()
        os.killpg(cluster.scheduler.pid, signal.SIGSTOP)
        try:
            status = build.wait(90)
        except subprocess.TimeoutExpired:
            build.kill()
            build.wait()
            pytest.fail("the build still waits 90 s after its scheduler stopped")
    finally:
        if cluster.scheduler is not None:
            os.killpg(cluster.scheduler.pid, signal.SIGCONT)
        cluster.stop()
    lines = log.read_text().splitlines()
    assert status == 1
    assert lines[-1] == (f"error: lost the Dask scheduler at {cluster.address}; what was built so far is recorded, "
                         "and the next run builds only the rest")


def test_no_link_at_any_level_brings_a_file_from_outside_into_the_bundle(write_workspace: WriteWorkspace,
                                                                         tmp_path: Path) -> None:
    """What held (a guard for the rule above): handouts.yaml, a brand file, a brand's folder, the
    workspace's templates/ and styles/, a folder in data/ and a file in data/ each linked out of
    the workspace; a named pipe is left out too, without blocking."""
    secret = tmp_path / "secret"
    (secret / "inner").mkdir(parents=True)
    for path in (secret / "key.yaml", secret / "inner" / "key.css"):
        path.write_text("clinic:\n  name: SECRET\n", encoding="utf-8")
    root = write_workspace({"brands/north.yaml": "clinic:\n  name: North\n", "templates/x.html": "x",
                            "styles/x.css": "p {}"})
    (root / "handouts.yaml").unlink()
    (root / "handouts.yaml").symlink_to(secret / "key.yaml")
    (root / "brands" / "south.yaml").symlink_to(secret / "key.yaml")
    (root / "brands" / "north").symlink_to(secret)
    (root / "templates" / "inner").symlink_to(secret / "inner")
    (root / "styles" / "linked.css").symlink_to(secret / "inner" / "key.css")
    (root / "data" / "assets").mkdir()
    (root / "data" / "assets" / "key.svg").symlink_to(secret / "key.yaml")
    (root / "data" / "topics" / "inner").symlink_to(secret)
    os.mkfifo(root / "data" / "assets" / "pipe.svg")
    bundle = make_bundle(Workspace(root), ["north", "south"])
    assert sorted(bundle.files) == ["brands/north.yaml", "data/topics/test/en.yaml", "data/topics/test/topic.yaml", "styles/x.css",
                                    "templates/x.html"]


@pytest.mark.slow
def test_tls_without_certificates_is_one_line_without_a_traceback(write_workspace: WriteWorkspace,
                                                                   tmp_path: Path) -> None:
    """--cluster tls://... with no TLS settings: Dask raises TypeError from connect. handouts said
    "internal error", and the half-made Client printed "Exception ignored in Client.__del__" with
    a traceback after waiting 40 s at exit. One line naming the scheduler instead."""
    pytest.importorskip("distributed")
    root = write_workspace()
    done = subprocess.run([sys.executable, "-m", "handouts", "--workspace", str(root), "build", "test", "--lang", "en",
                           "--paper", "letter", "-o", str(tmp_path / "out"), "--cluster", "tls://127.0.0.1:1"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: cannot connect to the Dask scheduler at tls://127.0.0.1:1: TLS expects"), lines
