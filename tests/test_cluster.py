"""Builds on a real Dask cluster: a scheduler and two workers on loopback (tests/dask_cluster.py).

The en+es catalog of the sample workspace for two brands (36 handouts) is built on the cluster and
compared byte for byte with a local build of the same inputs; a worker is killed by its PID while
it runs a job, after results have arrived; the scheduler is killed mid-build; a worker with other
code is refused; a handout that fails is reported once, as locally. Each build runs `handouts build`
in a process of its own with an audit hook that logs every PDF renamed into place, so "each output
written once" is counted, not assumed. No part of Dask or WeasyPrint is mocked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from handouts.errors import HandoutsError

from .dask_cluster import ROOT, DaskCluster, dask_command

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

EPOCH = "1790000000"
NORTH = "clinic:\n  name: North Valley Clinic\n  logo: north-logo.svg\n  phone: (555) 010-0101\n" \
        "  colors:\n    primary: '#00573f'\n"
SOUTH = "clinic:\n  name: South Side Health\n  colors:\n    primary: '#6b2d8a'\n"
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
        '<rect width="40" height="40" fill="#ff8800"/></svg>')
#: The catalog these tests build: every sample topic, kind and length, in English and Spanish, on
#: Letter, for two brands: 36 handouts.
CATALOG = ["--all", "--lang", "en", "--lang", "es", "--paper", "letter", "--brand", "north", "--brand", "south"]
COUNT = 36

#: `handouts build` with an audit hook that logs every file renamed into place (write_atomic's
#: os.replace), to count how often each PDF is written.
AUDITED = """\
import os, sys
log = open(os.environ["HANDOUTS_TEST_WRITES"], "a", buffering=1)
def hook(event, args):
    if event == "os.rename" and str(args[1]).endswith(".pdf"):
        log.write(os.fspath(args[1]) + "\\n")
sys.addaudithook(hook)
from handouts.cli import main
sys.argv[0] = "handouts"
main()
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample workspace (handouts.yaml and data/) with two brand files, one with a logo of its own."""
    root = tmp_path_factory.mktemp("cluster") / "ws"
    root.mkdir()
    shutil.copy(ROOT / "handouts.yaml", root / "handouts.yaml")
    shutil.copytree(ROOT / "data", root / "data")
    (root / "brands" / "north").mkdir(parents=True)
    (root / "brands" / "north.yaml").write_text(NORTH, encoding="utf-8")
    (root / "brands" / "north" / "north-logo.svg").write_text(LOGO, encoding="utf-8")
    (root / "brands" / "south.yaml").write_text(SOUTH, encoding="utf-8")
    return root


def handouts(workspace: Path, *args: str, out: Path | None = None, env: dict[str, str] | None = None,
             writes: Path | None = None, wait: bool = True) -> subprocess.Popen[bytes]:
    """Run `handouts --workspace WS build ARGS` in a process of its own; its output goes to out (a file)."""
    out = out or workspace.parent / "build.log"
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": EPOCH, **(env or {})}
    environ.pop("HANDOUTS_CLUSTER", None) if "HANDOUTS_CLUSTER" not in (env or {}) else None
    environ["HANDOUTS_TEST_WRITES"] = str(writes or workspace.parent / "writes.log")
    with open(out, "wb") as log:
        process = subprocess.Popen([sys.executable, "-c", AUDITED, "--workspace", str(workspace), "build", *args],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environ)
    if wait:
        process.wait(timeout=400)
    return process


def pdfs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.pdf"))}


def manifests(folder: Path) -> dict[str, dict[str, object]]:
    """Return every manifest entry of every shard, without the fields that say when and how long."""
    entries = {}
    for shard in folder.rglob("manifest.json"):
        for entry in json.loads(shard.read_text(encoding="utf-8"))["outputs"]:
            entries[entry["path"]] = {k: v for k, v in entry.items() if k not in ("built_at", "build_seconds")}
    return entries


def last_line(log: Path) -> str:
    return log.read_text(encoding="utf-8").strip().splitlines()[-1]


def wrote(log: Path) -> list[str]:
    return [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("wrote ")]


def wait_for_lines(log: Path, count: int, process: subprocess.Popen[bytes], timeout: float = 240) -> None:
    """Wait until the build has written count handouts (results arrived, not a sleep)."""
    deadline = time.monotonic() + timeout
    while len(wrote(log)) < count:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, f"no {count} results after {timeout} s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def local(workspace: Path) -> Path:
    """The catalog built locally with two worker processes: the bytes the cluster must match."""
    out = workspace.parent / "local"
    build = handouts(workspace, *CATALOG, "-o", str(out), "--jobs", "2", "-q", out=workspace.parent / "local.log")
    assert build.returncode == 0, (workspace.parent / "local.log").read_text()
    assert len(pdfs(out)) == COUNT
    return out


@pytest.fixture
def cluster(tmp_path: Path):
    dask_command()
    started = DaskCluster(tmp_path / "cluster").start(2)
    try:
        yield started
    finally:
        started.stop()


def test_two_brands_built_on_the_cluster_are_byte_identical_to_a_local_build(workspace, local, cluster, tmp_path):
    out, log, writes = tmp_path / "out", tmp_path / "build.log", tmp_path / "writes.log"
    build = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log, writes=writes)
    assert build.returncode == 0, log.read_text() + cluster.logs()
    assert last_line(log) == f"{COUNT} built, 0 up to date, 0 failed."
    assert pdfs(out) == pdfs(local)
    assert manifests(out) == manifests(local)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("manifest.json")) == [
        "north/manifest.json", "south/manifest.json"]  # one shard a brand
    assert sorted(Counter(writes.read_text().split()).values()) == [1] * COUNT  # each PDF written once

    # the bundle reached both workers, named by its digest
    assert all(len(list((tmp_path / "cluster" / f"worker-{n}-tmp" / "handouts-bundles").iterdir())) == 1
               for n in (1, 2))

    again = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log)
    assert again.returncode == 0 and last_line(log) == f"0 built, {COUNT} up to date, 0 failed."

    # HANDOUTS_CLUSTER does what --cluster does
    (workspace / "brands" / "south.yaml").write_text(SOUTH.replace("South Side Health", "South Side Clinic"))
    try:
        edited = handouts(workspace, *CATALOG, "-o", str(out), out=log, env={"HANDOUTS_CLUSTER": cluster.address})
        assert edited.returncode == 0 and last_line(log) == f"{COUNT // 2} built, {COUNT // 2} up to date, 0 failed."
    finally:
        (workspace / "brands" / "south.yaml").write_text(SOUTH)


def test_a_worker_killed_mid_job_loses_no_handout_and_writes_none_twice(workspace, local, cluster, tmp_path):
    out, log, writes = tmp_path / "out", tmp_path / "build.log", tmp_path / "writes.log"
    build = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log, writes=writes,
                     wait=False)
    try:
        wait_for_lines(log, 4, build)
        pids = cluster.worker_pids()
        with cluster.client() as client:
            busy = [address for address, keys in client.processing().items() if keys]
        assert busy, "no worker was running a job when results had arrived"
        cluster.kill(pids[busy[0]])  # a worker with a job running: Dask must run it elsewhere
        assert build.wait(timeout=400) == 0, log.read_text() + cluster.logs()
    finally:
        if build.poll() is None:
            build.kill()
    assert last_line(log) == f"{COUNT} built, 0 up to date, 0 failed."
    assert sorted(Counter(writes.read_text().split()).values()) == [1] * COUNT
    assert pdfs(out) == pdfs(local)
    assert not list(out.rglob("*.tmp"))
    rerun = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log)
    assert rerun.returncode == 0 and last_line(log) == f"0 built, {COUNT} up to date, 0 failed."


def test_a_handout_whose_workers_keep_dying_fails_alone(workspace, tmp_path):
    dask_command()
    # allowed-failures 0: the first worker that dies under a job fails that job (KilledWorker)
    cluster = DaskCluster(tmp_path / "cluster").start(
        2, scheduler_env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"})
    out, log = tmp_path / "out", tmp_path / "build.log"
    try:
        build = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log, wait=False)
        wait_for_lines(log, 4, build)
        pids = cluster.worker_pids()
        with cluster.client() as client:
            busy = [address for address, keys in client.processing().items() if keys]
        cluster.kill(pids[busy[0]])
        assert build.wait(timeout=400) == 1, log.read_text()
    finally:
        cluster.stop()
    failed = [line for line in log.read_text().splitlines() if line.startswith("failed: ")]
    assert 1 <= len(failed) <= 2  # what the killed worker was running (and had been given)
    assert all(line.endswith(": 1 worker died while running it on the cluster (Dask's distributed.scheduler."
                             "allowed-failures); the rest of the batch went on") for line in failed), failed
    assert last_line(log) == f"{COUNT - len(failed)} built, 0 up to date, {len(failed)} failed."
    assert len(pdfs(out)) == COUNT - len(failed) and not list(out.rglob("*.tmp"))


def test_when_the_scheduler_is_gone_what_was_built_is_kept_and_the_next_run_builds_the_rest(workspace, local,
                                                                                            cluster, tmp_path):
    out, log = tmp_path / "out", tmp_path / "build.log"
    build = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log, wait=False)
    try:
        wait_for_lines(log, 4, build)
        cluster.kill_scheduler()
        assert build.wait(timeout=120) == 1
    finally:
        if build.poll() is None:
            build.kill()
    assert last_line(log) == (f"error: lost the Dask scheduler at {cluster.address}; what was built so far is "
                              "recorded, and the next run builds only the rest")
    assert "Traceback" not in log.read_text()
    built = {line.split()[1] for line in wrote(log)}
    recorded = {str(out / path) for path in manifests(out)}
    assert len(built) >= 4 and recorded == built
    assert not list(out.rglob("*.tmp"))

    cluster.stop()
    cluster.start(2)
    rerun = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, "-q", out=log)
    assert rerun.returncode == 0, log.read_text()
    assert last_line(log) == f"{COUNT - len(built)} built, {len(built)} up to date, 0 failed."
    assert pdfs(out) == pdfs(local)


def test_ctrl_c_keeps_and_records_what_has_arrived(workspace, cluster, tmp_path):
    import signal

    out, log = tmp_path / "out", tmp_path / "build.log"
    build = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log, wait=False)
    try:
        wait_for_lines(log, 3, build)
        build.send_signal(signal.SIGINT)
        assert build.wait(timeout=60) == 130
    finally:
        if build.poll() is None:
            build.kill()
    built = {line.split()[1] for line in wrote(log)}
    assert last_line(log) == (f"interrupted: {len(built)} handouts built in this run are kept and recorded; run the "
                              "same command again to build the rest.")
    assert {str(out / path) for path in manifests(out)} == built and not list(out.rglob("*.tmp"))


def test_a_failing_handout_is_reported_once_as_in_a_local_build(workspace, cluster, tmp_path):
    broken = tmp_path / "ws"
    shutil.copytree(workspace, broken)
    (broken / "templates" / "kinds").mkdir(parents=True)
    (broken / "templates" / "kinds" / "caution.html").write_text("{{ h.title | no_such_filter }}\n")
    few = ["--all", "--lang", "en", "--paper", "letter", "--length", "brief"]
    here = handouts(broken, *few, "-o", str(tmp_path / "here"), "--jobs", "2", out=tmp_path / "here.log")
    there = handouts(broken, *few, "-o", str(tmp_path / "there"), "--cluster", cluster.address,
                     out=tmp_path / "there.log")
    assert (here.returncode, there.returncode) == (1, 1)

    def failed(log: Path) -> list[str]:
        return sorted(line for line in log.read_text().splitlines() if line.startswith("failed: "))

    assert failed(tmp_path / "there.log") == failed(tmp_path / "here.log")
    assert failed(tmp_path / "there.log") == [
        "failed: kratom caution brief en letter: templates/kinds/caution.html:1: template syntax error: No filter "
        "named 'no_such_filter'."]
    assert last_line(tmp_path / "there.log") == "2 built, 0 up to date, 1 failed."
    assert sorted(pdfs(tmp_path / "there")) == sorted(pdfs(tmp_path / "here"))


def test_a_worker_with_other_code_is_refused_before_anything_is_built(workspace, cluster, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(ROOT / "handouts", other / "handouts", ignore=shutil.ignore_patterns("__pycache__"))
    for kind in ("templates", "styles"):
        shutil.copytree(ROOT / kind, other / kind)
    with open(other / "handouts" / "compose" / "plain.py", "a", encoding="utf-8") as code:
        code.write("# a worker with a change of its own\n")
    known = set(cluster.worker_pids())
    cluster.add_worker(pythonpath=other, wait=True)
    (stranger,) = set(cluster.worker_pids()) - known
    out, log = tmp_path / "out", tmp_path / "build.log"
    build = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log)
    assert build.returncode == 1
    lines = log.read_text().strip().splitlines()
    refused = [line for line in lines if "refused" in line]
    assert refused == [f"error: worker {stranger} refused: it would make different bytes (handouts code, templates "
                       "and styles differ)"], lines
    assert not list(out.rglob("*.pdf"))


def test_the_review_gate_holds_on_the_cluster(workspace, cluster, tmp_path):
    reviewed = tmp_path / "ws"
    shutil.copytree(workspace, reviewed)
    topic = reviewed / "data" / "topics" / "sciatica" / "topic.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace(
        "  status: draft", "  status: reviewed\n  reviewed_by: Dr Ana Example, MD\n  reviewed_on: 2026-10-15\n"
        "  next_review_due: 2027-10-15"), encoding="utf-8")
    out, log = tmp_path / "out", tmp_path / "build.log"
    few = ["--all", "--lang", "en", "--paper", "letter", "--length", "brief", "--brand", "north"]
    build = handouts(reviewed, *few, "--reviewed-only", "-o", str(out), "--cluster", cluster.address, out=log)
    assert build.returncode == 0, log.read_text()
    lines = log.read_text().splitlines()
    assert [line for line in lines if line.startswith("refused: ")] == [
        "refused: kratom caution brief en letter for north: not reviewed by a clinician (--reviewed-only)"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.pdf")) == [
        "north/en/sciatica/faq-brief-letter.pdf", "north/en/sciatica/overview-brief-letter.pdf"]


def test_a_worker_under_a_nanny_that_cannot_start_processes_is_refused(workspace, cluster, tmp_path):
    known = set(cluster.worker_pids())
    cluster.add_worker(nanny=True, wait=True)  # Dask's default: the worker is a daemon process
    (nannied,) = set(cluster.worker_pids()) - known
    out, log = tmp_path / "out", tmp_path / "build.log"
    build = handouts(workspace, *CATALOG, "-o", str(out), "--cluster", cluster.address, out=log)
    assert build.returncode == 1
    assert log.read_text().strip().splitlines() == [
        f"error: worker {nannied} refused: it runs as a daemon process (under a nanny), which cannot start the "
        "process a handout is made in; start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"]
    assert not list(out.rglob("*.pdf"))


def test_patient_fields_never_go_to_a_cluster(workspace, run):
    one = ["sciatica", "-k", "overview", "-l", "brief", "--lang", "en"]
    result = run("--workspace", workspace, "build", *one, "--patient-name", "Ana Ruiz", "-o",
                 str(workspace.parent / "ana.pdf"), "--cluster", "tcp://127.0.0.1:9")
    assert result.exit_code == 2  # a usage error
    assert result.output.strip().splitlines()[-1] == (
        "error: --cluster: patient fields never go to a cluster; make a handout with patient fields here, "
        "without --cluster")
    assert not (workspace.parent / "ana.pdf").exists()


def test_a_cluster_address_is_checked(workspace, run):
    result = run("--workspace", workspace, "build", "--all", "--cluster", "localhost:8786")
    assert result.output.strip().splitlines()[-1] == (
        "error: --cluster localhost:8786: expected a Dask scheduler address such as tcp://HOST:8786 or "
        "tls://HOST:8786")


def test_with_handouts_cluster_set_a_patients_handout_is_made_here(workspace, tmp_path):
    target = tmp_path / "ana.pdf"
    log = tmp_path / "one.log"
    one = handouts(workspace, "sciatica", "-k", "overview", "-l", "brief", "--lang", "en", "--patient-name",
                   "Ana Ruiz", "-o", str(target), out=log, env={"HANDOUTS_CLUSTER": "tcp://127.0.0.1:9"})
    assert one.returncode == 0, log.read_text()
    assert target.read_bytes().startswith(b"%PDF-")


def test_a_local_build_never_imports_dask(workspace, tmp_path):
    code = (
        "import sys\n"
        "from handouts import build\n"
        f"build({str(workspace)!r}, topics=['sciatica'], kinds=['overview'], lengths=['brief'], langs=['en'],"
        f" output={str(tmp_path / 'out')!r}, workers=1)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_bundle_is_named_by_its_contents_and_leaves_out_what_a_build_may_not_read(workspace, tmp_path):
    from handouts.jobs.cluster import ClusterError, make_bundle, unpack
    from handouts.load.workspace import Workspace

    copy = tmp_path / "elsewhere" / "ws"
    shutil.copytree(workspace, copy)
    (copy / "output").mkdir()
    (copy / "output" / "old.pdf").write_bytes(b"%PDF-")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("do not send")
    (copy / "brands" / "north" / "linked").symlink_to(secret)  # a link out of the brand's folder

    first = make_bundle(Workspace(workspace), ["north", "south"])
    second = make_bundle(Workspace(copy), ["north", "south"])
    assert first.digest == second.digest  # where the workspace is does not matter
    names = sorted(second.files)
    assert names[:3] == ["brands/north.yaml", "brands/north/north-logo.svg", "brands/south.yaml"]
    assert "handouts.yaml" in names and "data/topics/sciatica/en.yaml" in names
    assert not [n for n in names if n.startswith(("output/", ".handouts-cache")) or "linked" in n]
    assert "brands/north.yaml" not in make_bundle(Workspace(copy), ["south"]).files

    damaged = dict(second.files, **{"handouts.yaml": b"clinic: {}\n"})
    with pytest.raises(ClusterError, match="arrived damaged"):
        unpack(damaged, second.digest)
    assert isinstance(ClusterError("x"), HandoutsError)


def test_the_bundle_has_a_size_limit(workspace, tmp_path, monkeypatch):
    from handouts.jobs.cluster import ClusterError, make_bundle
    from handouts.load.workspace import Workspace

    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)
    (copy / "data" / "assets" / "big.bin").write_bytes(b"x" * 1_500_000)
    monkeypatch.setenv("HANDOUTS_LIMIT_BUNDLE_MB", "1")
    with pytest.raises(ClusterError) as error:
        make_bundle(Workspace(copy), [])
    assert str(error.value) == ("the workspace's files come to more than 1 MB, the most a cluster build sends its "
                                "workers (HANDOUTS_LIMIT_BUNDLE_MB)")
