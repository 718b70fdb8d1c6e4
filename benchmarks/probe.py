"""Two probes inside a server process under load, for finding where a latency tail comes from.

- **Garbage collections**: every collection's generation, start and length (``gc.callbacks``). A collection
  stops the event loop, and no greenlet monitor sees it.
- **Event-loop lag**: a greenlet that sleeps 5 ms at a time and records how late it wakes: what any socket
  event waits for the loop, whatever holds it.

Each sample carries its wall-clock time, so the load script keeps only those of its measured window. The
samples are written as JSON to ``path`` when the process exits (the servers stop on SIGTERM and return).

Used by ``load.py`` with ``BENCH_PROBE=1``, which summarises the samples, for Jikao and the bare server alike.
Not part of Jikao.
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


def window(path: str, start: float, end: float) -> tuple[list[float], list[tuple[int, float]]] | None:
    """The samples taken between ``start`` and ``end`` (wall clock): the event-loop lags (seconds late) and the
    collections (generation, seconds); ``None`` if the server wrote none."""
    try:
        with open(path) as source:
            samples = json.load(source)
    except (OSError, ValueError):
        return None
    lags = [late for at, late in samples["lags"] if start <= at <= end]
    collections = [(generation, s) for at, generation, s in samples["collections"] if start <= at <= end]
    return lags, collections


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
