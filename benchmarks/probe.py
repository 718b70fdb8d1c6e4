"""Two probes inside a server process under load, for finding where a latency tail comes from.

- **Garbage collections**: every collection's generation, start and length (``gc.callbacks``). A collection
  stops the event loop, and no greenlet monitor sees it.
- **Event-loop lag**: a greenlet that sleeps 5 ms at a time and records how late it wakes: what any socket
  event waits for the loop, whatever holds it.

Each sample carries its wall-clock time, so the load script keeps only those of its measured window. The
samples are written as JSON to ``path`` when the process exits (the servers stop on SIGTERM and return).

Used by ``load.py`` with ``BENCH_PROBE=1`` (for Jikao and the bare server alike); not part of Jikao.
"""

from __future__ import annotations

import atexit
import gc
import json
import time

LAG_SLEEP_S = 0.005


def install(path: str) -> None:
    """Start both probes (after gevent's monkey-patching) and write their samples to ``path`` at exit."""
    import gevent

    collections: list[tuple[float, int, float]] = []  # (when, generation, seconds)
    lags: list[tuple[float, float]] = []  # (when, seconds late)
    began = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            collections.append((time.time(), info["generation"], time.perf_counter() - began[0]))

    def lag() -> None:
        while True:
            tick = time.perf_counter()
            gevent.sleep(LAG_SLEEP_S)
            lags.append((time.time(), time.perf_counter() - tick - LAG_SLEEP_S))

    def write() -> None:
        with open(path, "w") as out:
            json.dump({"collections": collections, "lags": lags}, out)

    gc.callbacks.append(on_gc)
    gevent.spawn(lag)
    atexit.register(write)


def summary(path: str, start: float, end: float) -> dict:
    """What the probes saw between ``start`` and ``end`` (wall clock)."""
    try:
        with open(path) as source:
            samples = json.load(source)
    except (OSError, ValueError):
        return {}
    lags = sorted(s for at, s in samples["lags"] if start <= at <= end)
    collections = [(g, s) for at, g, s in samples["collections"] if start <= at <= end]
    slow = [s for _, s in collections if s >= 0.01]

    def lag_at(q: float) -> float:
        return lags[min(len(lags) - 1, int(q * len(lags)))] * 1000 if lags else float("nan")

    return {
        "loop_lag_p50_ms": lag_at(0.5),
        "loop_lag_p99_ms": lag_at(0.99),
        "loop_lag_max_ms": lags[-1] * 1000 if lags else float("nan"),
        "gc_count": len(collections),
        "gc_full": sum(1 for g, _ in collections if g == 2),
        "gc_over_10ms": len(slow),
        "gc_max_ms": max((s for _, s in collections), default=0.0) * 1000,
        "gc_total_ms": sum(s for _, s in collections) * 1000,
    }


if __name__ == "__main__":  # python benchmarks/probe.py serve …: ``python -m server serve …`` with the probes
    import os
    import sys
    from pathlib import Path

    from gevent import monkey

    monkey.patch_all()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    install(os.environ["BENCH_PROBE_OUT"])
    from server.cli import main

    main()
