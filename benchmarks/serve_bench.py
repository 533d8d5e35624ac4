"""Load benchmark of `handouts serve` on loopback: built previews and personal handouts at once.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_bench.py [--requests 1000] [--workers 2]

Copies the shipped workspace to a temporary folder, builds the handouts whose previews are asked
for, starts the server there (127.0.0.1, a free port, its log in the temporary folder), then
sends, at the same time, 8 clients asking for built handouts' pages and previews and 4 clients
each making a personal standard sciatica overview (a patient's name, so a full render every
time). Prints p50 and p95 latency and errors per kind, and the memory of the server and its
workers every 100 requests. Bounded: --requests in all (default 1,000), every request with a timeout.
Goals on 2 cores: built preview p95 under 300 ms; personal handout p95 under 2 s; 0 errors; memory flat.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.serving import Server, copy_workspace  # noqa: E402

BUILT = [f"topic=sciatica&kind={kind}&length={length}&lang={lang}&paper=letter&large=0"
         for kind in ("overview", "faq") for length in ("brief", "standard") for lang in ("en", "es")]
PERSONAL = {"topic": "sciatica", "kind": "overview", "length": "standard", "lang": "en", "paper": "letter",
            "large": "0", "action": "download"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests in all (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="the server's worker processes (default 2)")
    parser.add_argument("--personal-share", type=float, default=0.2,
                        help="share of the requests that make personal handouts (default 0.2)")
    args = parser.parse_args()
    import httpx

    from handouts.commands import build

    with tempfile.TemporaryDirectory(prefix="serve-bench-") as scratch:
        base = Path(scratch)
        ws = copy_workspace(base / "ws")
        build(ws, topics=["sciatica"], lengths=["brief", "standard"], langs=["en", "es"], papers=["letter"],
              workers=args.workers)
        personal_total = int(args.requests * args.personal_share)
        preview_total = args.requests - personal_total
        with Server(ws, base / "server.log", "-j", str(args.workers)) as server:
            lock = threading.Lock()
            timings: dict[str, list[float]] = {"built preview": [], "personal handout": []}
            errors: dict[str, int] = {"built preview": 0, "personal handout": 0}
            memory: list[tuple[int, int]] = [(0, server.memory_kb())]
            done = 0
            left = {"built preview": preview_total, "personal handout": personal_total}

            def take(kind: str) -> bool:
                with lock:
                    if left[kind] <= 0:
                        return False
                    left[kind] -= 1
                    return True

            def record(kind: str, seconds: float, ok: bool) -> None:
                nonlocal done
                with lock:
                    timings[kind].append(seconds)
                    errors[kind] += not ok
                    done += 1
                    if done % 100 == 0:
                        memory.append((done, server.memory_kb()))

            def previews(number: int) -> None:
                with httpx.Client(base_url=server.url, timeout=60) as client:
                    index = number
                    while take("built preview"):
                        query = BUILT[index % len(BUILT)]
                        path = f"/handout?{query}" if index % 3 == 0 else f"/preview?{query}&page=1"
                        started = time.perf_counter()
                        try:
                            ok = client.get(path).status_code == 200
                        except httpx.HTTPError:
                            ok = False
                        record("built preview", time.perf_counter() - started, ok)
                        index += 1

            def personal(number: int) -> None:
                with httpx.Client(base_url=server.url, timeout=60, headers={"origin": server.url}) as client:
                    page = client.get("/")
                    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0] if 'name="csrf"' in \
                        page.text else client.cookies.get("handouts_csrf", "")
                    count = 0
                    while take("personal handout"):
                        fields = {**PERSONAL, "csrf": token, "patient_name": f"Bench Patient {number}-{count}"}
                        started = time.perf_counter()
                        try:
                            response = client.post("/pdf", data=fields)
                            ok = response.status_code == 200 and response.content.startswith(b"%PDF-")
                        except httpx.HTTPError:
                            ok = False
                        record("personal handout", time.perf_counter() - started, ok)
                        count += 1

            threads = [threading.Thread(target=previews, args=(n,)) for n in range(8)]
            threads += [threading.Thread(target=personal, args=(n,)) for n in range(4)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(600)
            elapsed = time.perf_counter() - started
    print(f"handouts serve on loopback, {args.workers} worker processes, {done} requests in {elapsed:.1f} s "
          f"(8 clients on built previews, 4 on personal standard sciatica overviews at the same time)")
    print(f"{'':18} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}")
    for kind, values in timings.items():
        print(f"{kind:18} {len(values):>8} {percentile(values, .5) * 1000:>8.0f} "
              f"{percentile(values, .95) * 1000:>8.0f} {errors[kind]:>6}")
    print("memory of the server and its workers (MB, after N requests): "
          + ", ".join(f"{n}: {kb / 1024:.0f}" for n, kb in memory))
    return 1 if any(errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
