"""Cluster benchmark: a catalog built locally with --jobs 2 vs on a 2-worker Dask cluster on loopback.

    PYTHONPATH=. .venv/bin/python benchmarks/cluster_bench.py [--langs en,es,...] [--rounds 3]

Copies the sample workspace with two brand files to a temporary folder, then times, each build a
`handouts build` process of its own with --force:
- local: `--jobs 2` (worker processes on this machine);
- cluster, cold: right after the scheduler and two workers start (`--nthreads 1 --no-nanny`), so the
  bundle travels and each worker starts its handout process and loads the workspace;
- cluster, warm: the same workers again.
Prints seconds, handouts per second, the cluster's time as a ratio of the local build's (goal: warm
within 1.15x), and its overhead per handout; then what the README's scaling model uses: CPU seconds
per handout, the bundle's size, the average PDF's size, and the time to save a manifest shard of
one brand of the health-system catalog (21,600 entries: 100 topics x 12 languages x 9 handouts x 2
papers). The goal is a figure to compare, not a pass/fail test: speed goals live here, not in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dask_cluster import ROOT, DaskCluster  # noqa: E402

NORTH = "clinic:\n  name: North Valley Clinic\n  phone: (555) 010-0101\n  colors:\n    primary: '#00573f'\n"
SOUTH = "clinic:\n  name: South Side Health\n  colors:\n    primary: '#6b2d8a'\n"


def workspace(folder: Path) -> Path:
    root = folder / "ws"
    root.mkdir()
    shutil.copy(ROOT / "handouts.yaml", root / "handouts.yaml")
    shutil.copytree(ROOT / "data", root / "data")
    (root / "brands").mkdir()
    (root / "brands" / "north.yaml").write_text(NORTH, encoding="utf-8")
    (root / "brands" / "south.yaml").write_text(SOUTH, encoding="utf-8")
    return root


def build(root: Path, out: Path, langs: list[str], *extra: str) -> tuple[float, float, int]:
    """Run one forced build; return (wall seconds, CPU seconds of the build process and its children, handouts)."""
    args = [sys.executable, "-m", "handouts", "--workspace", str(root), "build", "--all", "--paper", "letter",
            "--brand", "north", "--brand", "south", "-o", str(out), "--force", "-q", *extra]
    for lang in langs:
        args += ["--lang", lang]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": "1790000000"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stdout}\n{done.stderr}")
    count = int(done.stdout.strip().splitlines()[-1].split()[0])
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), count


def shard_save_seconds(entry: dict[str, object], count: int = 21_600) -> float:
    """Time saving one brand's manifest shard of count entries (the health-system catalog's size)."""
    from handouts.cache import Digests
    from handouts.jobs.batch import Manifest
    from handouts.load.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        entries = {f"north/x{i:05d}.pdf": {**entry, "path": f"north/x{i:05d}.pdf", "brand": "north"}
                   for i in range(count)}
        manifest = Manifest(Workspace(ROOT), out, Digests(None))
        started = time.perf_counter()
        manifest._save_shard("north", dict(entries))  # noqa: SLF001 - what a checkpoint does for one shard
        first = time.perf_counter() - started
        one = {"north/x00000.pdf": entries["north/x00000.pdf"]}
        started = time.perf_counter()
        manifest._save_shard("north", one)  # noqa: SLF001 - a checkpoint that adds to a full shard
        return max(first, time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--langs", default="en,es,fr,zh-Hans", help="languages to build (default en,es,fr,zh-Hans)")
    parser.add_argument("--rounds", type=int, default=3, help="turns of a local and a warm cluster build (default 3)")
    options = parser.parse_args()
    langs = options.langs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = workspace(folder)
        cluster = DaskCluster(folder / "cluster")
        local: list[tuple[float, float, int]] = []
        warm: list[tuple[float, float, int]] = []
        try:
            cluster.start(2)
            cold = build(root, folder / "cluster-out", langs, "--cluster", cluster.address)
            for _ in range(options.rounds):  # in turns, so a slower minute of the machine hits both
                local.append(build(root, folder / "local", langs, "--jobs", "2"))
                warm.append(build(root, folder / "cluster-out", langs, "--cluster", cluster.address))
        finally:
            cluster.stop()
        from handouts.jobs.cluster import make_bundle
        from handouts.load.workspace import Workspace

        bundle = make_bundle(Workspace(root), ["north", "south"])
        pdfs = list((folder / "local").rglob("*.pdf"))
        average_pdf = sum(p.stat().st_size for p in pdfs) / len(pdfs)
        entry = json.loads((folder / "local" / "north" / "manifest.json").read_text())["outputs"][0]
        save = shard_save_seconds(entry)
        entry_bytes = len(json.dumps(entry, indent=2)) + 2
    count = local[0][2]
    best_local = min(w for w, _, _ in local)
    best_warm = min(w for w, _, _ in warm)
    print(f"{count} handouts ({len(langs)} languages x 2 brands x 9, Letter), 2 CPUs; best of {options.rounds}")
    print(f"local --jobs 2      {best_local:7.2f} s  {count / best_local:5.2f} handouts/s")
    print(f"cluster, cold       {cold[0]:7.2f} s  {count / cold[0]:5.2f} handouts/s  "
          f"ratio {cold[0] / best_local:.2f}x  overhead {(cold[0] - best_local) / count * 1000:+.0f} ms/handout")
    print(f"cluster, warm       {best_warm:7.2f} s  {count / best_warm:5.2f} handouts/s  "
          f"ratio {best_warm / best_local:.2f}x  overhead {(best_warm - best_local) / count * 1000:+.0f} ms/handout")
    cpu = min(c for _, c, _ in local) / count
    client = min(c for _, c, _ in warm) / count
    print(f"CPU per handout (local build, all processes): {cpu * 1000:.0f} ms; the cluster client's CPU per "
          f"handout (receive, write, hash, record): {client * 1000:.1f} ms")
    print(f"bundle: {len(bundle.files)} files, {bundle.size / 1e6:.2f} MB; average PDF {average_pdf / 1e3:.0f} kB; "
          f"manifest entry {entry_bytes} bytes")
    print(f"saving a 21,600-entry manifest shard: {save:.2f} s "
          f"(checkpoints then at most every {max(1.0, 20 * save):.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
