"""A whole test centre on one server (issue 7): the load ladder, N = 250 … 5,000 candidates.

Drives a real ``jikao serve`` process (gevent, SQLite with full sync) on loopback with real Socket.IO clients
(python-socketio's asyncio client, in several load processes), the way a test centre uses it:
- rooms of 30 (the last one partly filled); every room has a proctor console watching it;
- every candidate logs in over HTTP and connects (timed: the **connect time**), and the room's proctor bot
  confirms each identity; they wait;
- **the start storm**: at one moment every console gives its room's start signal, and every candidate's screen
  gets its paper pushed; timed from the signal until the last candidate holds the paper;
- **answering** for ``--seconds`` at a candidate's pace: an answer every 10–20 s, a fifth of them changing an
  earlier answer, a tenth of the candidates' actions marking a question for review, and the exam client's clock
  sync every 30 s. Timed: each answer's acknowledgement (p50, p95, p99), and on the room's console the time
  from an answer to the seat update that shows it (the **proctor event**, p99);
- **submissions** at the end, every candidate within 5 s; each submission's acknowledgement timed.
Also reported: errors (any refused or failed call), the server's CPU per answer in the answering window, and its
peak resident memory.

**The framework's ceiling**, in the same go for every N: ``bare_server.py`` (Flask-SocketIO on gevent, served
the same way, acknowledging every event at once with no database) driven by the same candidates at the same
pace. Jikao's server CPU per answer is compared with the bare server's (target: at most 3×).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/load.py --ladder 250,500,1000,2000,5000 --runs 1 --chart docs/load-ladder.png
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import math
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOM_SIZE = 30  # SPEC.md: at most 30 candidates a room
PACE_S = (10.0, 20.0)  # between a candidate's answers
CHANGE = 0.2  # of answers: an earlier question answered again, differently
FLAG = 0.1  # of actions: a question marked for review instead
CLOCK_SYNC_S = 30.0  # the exam client's clock sync (exam_client/main.js CLOCK_SYNC_MS)


# ---- the plan: pure, and unit-tested (tests/unit/test_load_generator.py) --------------------------------------


def room_sizes(candidates: int, room_size: int = ROOM_SIZE) -> list[int]:
    """Rooms of ``room_size`` for ``candidates``, the last one holding the rest."""
    if candidates < 1:
        raise ValueError("at least one candidate")
    full, rest = divmod(candidates, room_size)
    return [room_size] * full + ([rest] if rest else [])


@dataclass(frozen=True)
class Action:
    at: float  # seconds after the answering began
    kind: str  # "answer" | "flag"
    item: int  # index into the candidate's questions
    option: int  # index into the question's options (answers)
    new: bool  # the first answer to this question (the console's answered count goes up)


def candidate_plan(rng: random.Random, seconds: float, items: int, options: int = 4) -> list[Action]:
    """What one candidate does in ``seconds``: the first action within one pace interval, then one every 10–20 s;
    each a new answer (questions in order), a changed earlier answer, or a question marked for review."""
    actions: list[Action] = []
    answered = 0
    chosen: dict[int, int] = {}
    at = rng.uniform(0, PACE_S[1])
    while at < seconds:
        roll = rng.random()
        if roll < FLAG:
            actions.append(Action(at, "flag", rng.randrange(items), 0, False))
        elif roll < FLAG + CHANGE and chosen:
            item = rng.choice(sorted(chosen))
            option = (chosen[item] + rng.randrange(1, options)) % options  # a different option
            chosen[item] = option
            actions.append(Action(at, "answer", item, option, False))
        elif answered < items:
            option = rng.randrange(options)
            chosen[answered] = option
            actions.append(Action(at, "answer", answered, option, True))
            answered += 1
        at += rng.uniform(*PACE_S)
    return actions


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0…1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def probe_summary(path: str, start: float, end: float) -> dict:
    """What a server's probes (``probe.py``) saw between ``start`` and ``end`` (wall clock)."""
    from probe import window

    found = window(path, start, end)
    if found is None:
        return {}
    lags, collections = found
    return {
        "loop_lag_p50_ms": percentile(lags, 0.5) * 1000,
        "loop_lag_p99_ms": percentile(lags, 0.99) * 1000,
        "loop_lag_max_ms": max(lags, default=float("nan")) * 1000,
        "gc_count": len(collections),
        "gc_full": sum(1 for generation, _ in collections if generation == 2),
        "gc_max_ms": max((s for _, s in collections), default=0.0) * 1000,
        "gc_total_ms": sum(s for _, s in collections) * 1000,
    }


def all_holding(signal: float, arrivals: dict[str, float], expected: int) -> float | None:
    """Seconds from the start signal until every one of ``expected`` candidates held the paper; None if some
    never did."""
    if len(arrivals) < expected:
        return None
    return max(arrivals.values()) - signal if arrivals else 0.0


def cpu_between(samples: list[tuple[float, float]], start: float, end: float) -> float:
    """CPU seconds used between two moments, from ``(time, cumulative CPU seconds)`` samples in time order,
    read linearly between the samples on either side; NaN if the samples do not cover both moments."""

    def at(moment: float) -> float:
        for (t0, c0), (t1, c1) in itertools.pairwise(samples):
            if t0 <= moment <= t1:
                return c0 if t1 == t0 else c0 + (c1 - c0) * (moment - t0) / (t1 - t0)
        return float("nan")

    return at(end) - at(start)


def source_address(ticket: str) -> str:
    """The loopback address a load candidate connects from, one per exam computer as in a test centre (the
    whole of 127.0.0.0/8 is this host's): nginx in front of several workers spreads computers by address.
    Tickets are ``9`` + room (4 digits) + seat (3 digits)."""
    room, seat = int(ticket[1:5]), int(ticket[5:8])
    return f"127.{1 + room // 250}.{1 + room % 250}.{seat}"


def load_processes(candidates: int) -> int:
    """Load-generating processes: one asyncio loop drives about 1,500 clients comfortably."""
    return max(2, math.ceil(candidates / 1500))


# ---- one load process: some rooms, their consoles and candidates -----------------------------------------------


async def drive(url: str, rooms: list[dict], bare: bool, seconds: float, control: dict, out) -> None:
    from proctor_live import PASSWORD, connect, disconnect, http_login

    rng = random.Random(rooms[0]["index"])
    limit = asyncio.Semaphore(50)  # logins at once in this process
    connect_s: list[float] = []
    holding: dict[str, float] = {}
    papers: dict[str, dict] = {}
    acks: list[float] = []
    submits: list[float] = []
    shown: list[float] = []
    sent: dict[tuple[int, int], float] = {}  # (candidate, answered count) -> when the answer was sent
    errors: list[str] = []
    signal = {"at": None}

    def failed(what: str, reply) -> None:
        errors.append(f"{what}: {json.dumps(reply, ensure_ascii=False)[:200]}")

    async def call(client, event: str, data: dict, timeout: float) -> dict:
        """An event with its acknowledgement; one not acknowledged in time is an error of the run, reported
        with the others, not the end of this load process."""
        import socketio

        try:
            return await client.call(event, data, namespace="/candidate", timeout=timeout)
        except socketio.exceptions.TimeoutError:
            return {"ok": False, "error": {"code": "timeout", "message": f"no acknowledgement in {timeout:.0f} s"}}

    async def console_of(room: dict):
        def on_seat(seat):
            at = sent.pop((seat["candidate_id"], seat.get("answered", -1)), None)
            if at is not None:
                shown.append(time.monotonic() - at)

        async with limit:
            cookie = await http_login(url, "/api/auth/login", {"username": room["username"], "password": PASSWORD})
        console = await connect(url, "/proctor", cookie, {"seat_update": on_seat, "seat_progress": on_seat})
        reply = await console.call("watch_room", {"room_id": room["room_id"]}, namespace="/proctor", timeout=60)
        room["ids"] = {s["ticket"]: s["candidate_id"] for s in reply["room"]["seats"]}
        return console

    async def candidate_of(ticket: str):
        def on_state(state):
            if signal["at"] is not None and ticket not in holding and state.get("paper"):
                holding[ticket] = time.time()
                papers[ticket] = state["paper"]  # as the exam client, which renders what is pushed

        began = time.monotonic()
        async with limit:
            cookie = "" if bare else await http_login(url, "/api/candidate/login", {"ticket": ticket})
        client = await connect(url, "/candidate", cookie, {"state": on_state}, source_address(ticket))
        connect_s.append(time.monotonic() - began)
        return ticket, client

    consoles = [] if bare else await asyncio.gather(*(console_of(room) for room in rooms))
    clients: dict[str, object] = {}
    for room in rooms:
        clients.update(dict(await asyncio.gather(*(candidate_of(t) for t in room["tickets"]))))

    async def confirm(room: dict, console) -> None:
        for ticket in room["tickets"]:
            reply = await console.call(
                "confirm_identity", {"candidate_id": room["ids"][ticket]}, namespace="/proctor", timeout=60
            )
            if not reply.get("ok"):
                failed(f"confirm {ticket}", reply)

    if not bare:
        await asyncio.gather(*(confirm(room, console) for room, console in zip(rooms, consoles, strict=True)))
    out.put({"ready": len(clients)})
    # The instrument must not add its own pauses: a full collection in a load process, among thousands of
    # clients, stopped its event loop for 100-240 ms and counted as the server's latency (the bare server's
    # too). Everything built so far is frozen out of the collector's sight and collection waits to the end.
    gc.collect()
    gc.freeze()
    gc.disable()
    while control["start_at"].value == 0:  # the parent gives every process the same moment
        await asyncio.sleep(0.05)
    start_at, answer_at = control["start_at"].value, control["answer_at"].value
    await asyncio.sleep(max(0.0, start_at - time.time()))
    signal["at"] = start_at
    if bare:  # no rooms to start: the bare server's paper is there from the connection on
        holding.update({ticket: start_at for ticket in clients})
    else:

        async def start(room: dict, console) -> None:
            reply = await console.call("start_room", {"room_id": room["room_id"]}, namespace="/proctor", timeout=60)
            if not reply.get("ok"):
                failed(f"start room {room['room_id']}", reply)

        await asyncio.gather(*(start(room, console) for room, console in zip(rooms, consoles, strict=True)))

    ids = {ticket: room["ids"][ticket] for room in rooms for ticket in room["tickets"]} if not bare else {}

    async def candidate(ticket: str, client) -> None:
        deadline = time.time() + 120
        while ticket not in holding and time.time() < deadline:
            await asyncio.sleep(0.05)
        paper = papers.get(ticket)
        if paper is None:  # never pushed (the bare server's is there from the connection on): asked for
            paper = (await client.call("get_state", {}, namespace="/candidate", timeout=60))["state"]["paper"]
        items = [i for s in paper["sections"] for i in s["items"] if i["type"] == "single"]
        plan = candidate_plan(rng, seconds, len(items))
        seq, answered = 0, 0
        syncs = asyncio.create_task(sync_clock(client))
        for action in plan:
            await asyncio.sleep(max(0.0, answer_at + action.at - time.time()))
            item = items[action.item]
            tick = time.monotonic()
            if action.kind == "flag":
                reply = await call(client, "flag", {"item_id": item["id"], "flagged": True}, 30)
            else:
                seq += 1
                if action.new:
                    answered += 1
                    if ids:
                        sent[(ids[ticket], answered)] = tick
                response = item["options"][action.option]["id"]
                reply = await call(client, "answer", {"item_id": item["id"], "response": response, "seq": seq}, 30)
                if reply.get("ok"):
                    acks.append(time.monotonic() - tick)
            if not reply.get("ok"):
                failed(f"{action.kind} {ticket}", reply)
        syncs.cancel()
        await asyncio.sleep(max(0.0, answer_at + seconds - time.time()) + rng.uniform(0, 5))
        tick = time.monotonic()
        reply = await call(client, "submit", {"confirm": True}, 120)
        if reply.get("ok"):
            submits.append(time.monotonic() - tick)
        if not reply.get("ok"):
            failed(f"submit {ticket}", reply)

    lags: list[float] = []

    async def probe() -> None:
        """How late this load process's event loop wakes a 5 ms sleep: the instrument's own delay, which every
        acknowledgement it times includes."""
        await asyncio.sleep(max(0.0, answer_at - time.time()))
        while time.time() < answer_at + seconds:
            tick = time.monotonic()
            await asyncio.sleep(0.005)
            lags.append(time.monotonic() - tick - 0.005)

    async def sync_clock(client) -> None:
        await asyncio.sleep(rng.uniform(0, CLOCK_SYNC_S))
        while True:
            reply = await call(client, "sync_clock", {}, 30)
            if not reply.get("ok"):
                failed("sync_clock", reply)
            await asyncio.sleep(CLOCK_SYNC_S)

    await asyncio.gather(probe(), *(candidate(t, c) for t, c in clients.items()))
    grace = time.monotonic() + 5  # the last seat updates still on their way
    while sent and time.monotonic() < grace:
        await asyncio.sleep(0.05)
    out.put(
        {
            "connect_s": connect_s,
            "holding": holding,
            "acks": acks,
            "submits": submits,
            "shown": shown,
            "unshown": len(sent),
            "lags": lags,
            "errors": errors,
        }
    )
    gc.enable()
    for client in [*clients.values(), *consoles]:
        await disconnect(client)


def worker(url: str, rooms: list[dict], bare: bool, seconds: float, control: dict, out) -> None:
    from proctor_live import run_load

    run_load(drive(url, rooms, bare, seconds, control, out), out)


# ---- one run: one N, Jikao or the bare server ---------------------------------------------------------------------


SETUPS = {  # what serves the load: database, server processes
    "sqlite": ("sqlite", 1),  # the default: one process, SQLite
    "postgresql": ("postgresql", 1),  # one process over PostgreSQL (the baseline of the scale-out)
    "postgresql-2": ("postgresql", 2),  # two processes over PostgreSQL, Redis, nginx (docs/deployment.md)
}
BACKING = ("postgres", "redis-server", "nginx")


def backing_cpu_seconds() -> float:
    """CPU used so far by the PostgreSQL, Redis and nginx processes of this host."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text[text.index("(") + 1 : text.rindex(")")] in BACKING:
            fields = text.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int, int]:
    """The host's CPU ticks so far: busy, stolen by the hypervisor, and in all (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    steal = fields[7] if len(fields) > 7 else 0
    total = sum(fields[:8])
    return total - idle - steal, steal, total


def pin(pid: int, cpus: set[int]) -> None:
    """Bind every thread of a process to ``cpus`` (threads started later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)


def run(
    candidates: int, bare: bool, seconds: float, settle: float, setup: str = "sqlite", pinned: bool = False
) -> dict:
    from proctor_live import Server, cpu_seconds_of, seed_site
    from restart import BareServer, expect

    from tests.services import Nginx, PostgreSQL, Redis

    database, processes_serving = SETUPS[setup]
    workdir = Path(tempfile.mkdtemp(prefix="jikao-load-"))
    sizes = room_sizes(candidates)
    backing: list = []
    servers: list = []
    try:
        if bare:
            plan = [{"tickets": [f"9{r:04d}{s:03d}" for s in range(1, n + 1)]} for r, n in enumerate(sizes, 1)]
            servers.append(BareServer(workdir))
            url = servers[0].url
        else:
            env = {}
            if database == "postgresql":
                backing.append(PostgreSQL())
                env["JIKAO_DATABASE_URL"] = backing[-1].url
            if processes_serving > 1:
                backing.append(Redis())
                env["JIKAO_MESSAGE_QUEUE"] = backing[-1].url
            site = seed_site(
                workdir,
                len(sizes),
                ROOM_SIZE,
                sizes=sizes,
                database_url=env.get("JIKAO_DATABASE_URL"),
                submit_after_s=0,
            )
            plan = site["plan"]
            servers.extend(Server(workdir, site["custodians"], env) for _ in range(processes_serving))
            if processes_serving > 1:
                backing.append(Nginx([server.port for server in servers]))
            url = backing[-1].url if processes_serving > 1 else servers[0].url
        for index, room in enumerate(plan):
            room["index"] = index
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        control = {"start_at": context.Value("d", 0.0), "answer_at": context.Value("d", 0.0)}
        processes = load_processes(candidates)
        shares = [plan[n::processes] for n in range(processes)]
        workers = [
            context.Process(target=worker, args=(url, share, bare, seconds, control, out)) for share in shares if share
        ]
        peak = {"rss": 0.0, "running": True}

        def rss_mib() -> float:
            return sum(server.rss_mib() for server in servers)

        def cpu_seconds() -> float:
            return sum(server.cpu_seconds() for server in servers)

        def sample_memory() -> None:
            while peak["running"]:
                try:
                    peak["rss"] = max(peak["rss"], rss_mib())
                except FileNotFoundError:  # a server process ended
                    return
                time.sleep(0.5)

        storm_samples: list[tuple[float, float, float]] = []  # (time, server CPU, load processes' CPU)

        def sample_storm() -> None:
            """Everyone's CPU every 0.1 s from just before the start signal to answering: what the storm cost the
            server, and the load processes that take the papers (on the same cores)."""
            while control["start_at"].value == 0 or time.time() < control["start_at"].value - 0.5:
                time.sleep(0.05)
            while time.time() < control["answer_at"].value:
                try:
                    load = sum(cpu_seconds_of(w.pid) for w in workers)
                    storm_samples.append((time.time(), cpu_seconds(), load))
                except FileNotFoundError:  # a process ended: the run fails, and says why elsewhere
                    return
                time.sleep(0.1)

        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        storm_sampler = threading.Thread(target=sample_storm, daemon=True)
        storm_sampler.start()
        for process in workers:
            process.start()
        if pinned:  # --pin: the server alone on the first core, the load (and this process) on the others
            others = set(range(1, os.cpu_count() or 2))
            for server in servers:
                pin(server.process.pid, {0})
            for process in workers:
                pin(process.pid, others)
            pin(os.getpid(), others)
        expect(out, "ready", len(workers), 900)
        connected_rss = rss_mib()
        start_at = time.time() + 2
        answer_at = start_at + settle
        control["answer_at"].value = answer_at
        control["start_at"].value = start_at
        if os.environ.get("BENCH_PYSPY_STORM") and not bare:  # a sampled profile of Jikao from the start signal on
            spy = Path(sys.executable).with_name("py-spy")
            command = [str(spy), "record", "-p", str(servers[0].process.pid), "-d", str(int(settle)), "-f", "raw"]
            time.sleep(max(0.0, start_at - 0.5 - time.time()))
            subprocess.Popen([*command, "-o", os.environ["BENCH_PYSPY_STORM"]], stdout=subprocess.DEVNULL)
        time.sleep(max(0.0, answer_at - time.time()))
        cpu0, backing0 = cpu_seconds(), backing_cpu_seconds()
        load0, machine0 = sum(cpu_seconds_of(w.pid) for w in workers), machine_ticks()
        each0 = [server.cpu_seconds() for server in servers]
        if os.environ.get("BENCH_PYSPY") and not bare:  # a sampled profile of Jikao in the answering window
            spy = Path(sys.executable).with_name("py-spy")
            command = [
                str(spy),
                "record",
                "-p",
                str(servers[0].process.pid),
                "-d",
                str(int(seconds)),
                "-f",
                "raw",
                "--nonblocking",
            ]
            subprocess.Popen([*command, "-o", os.environ["BENCH_PYSPY"]], stdout=subprocess.DEVNULL)
        time.sleep(max(0.0, answer_at + seconds - time.time()))
        cpu, backing_cpu = cpu_seconds() - cpu0, backing_cpu_seconds() - backing0
        load_cpu = sum(cpu_seconds_of(w.pid) for w in workers) - load0
        busy, steal, total = (b - a for a, b in zip(machine0, machine_ticks(), strict=True))
        each = [round((server.cpu_seconds() - e) / seconds, 3) for server, e in zip(servers, each0, strict=True)]
        results = expect(out, "acks", len(workers), seconds + 600)
        peak["running"] = False
        for process in workers:
            process.join(timeout=60)
    finally:
        for server in servers:
            server.stop()
        probed = {}  # BENCH_PROBE=1: the first server's collections and event-loop lag in the answering window
        if servers and servers[0].probe_path and "answer_at" in locals():
            probed = probe_summary(str(servers[0].probe_path), answer_at, answer_at + seconds)
        for service in reversed(backing):
            service.stop()
        if os.environ.get("BENCH_KEEP"):  # the servers' logs, for a run that failed
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    acks = [v for r in results for v in r["acks"]]
    shown = [v for r in results for v in r["shown"]]
    holding = {t: at for r in results for t, at in r["holding"].items()}
    errors = [e for r in results for e in r["errors"]]
    storm = all_holding(start_at, holding, candidates)
    storm_end = start_at + storm if storm is not None else float("nan")
    storm_cpu = cpu_between([(t, c) for t, c, _ in storm_samples], start_at, storm_end)
    storm_load_cpu = cpu_between([(t, c) for t, _, c in storm_samples], start_at, storm_end)
    return {
        "setup": "bare" if bare else setup,
        "candidates": candidates,
        "rooms": len(sizes),
        "connect_p50_s": percentile([v for r in results for v in r["connect_s"]], 0.5),
        "connect_p99_s": percentile([v for r in results for v in r["connect_s"]], 0.99),
        "storm_s": storm if storm is not None else float("nan"),
        "not_holding": candidates - len(holding),
        "storm_cpu_s": storm_cpu,  # the server's CPU seconds from the start signal until all hold the paper
        "storm_load_cpu_s": storm_load_cpu,  # the load processes' in the same time
        "answers": len(acks),
        "ack_p50_ms": percentile(acks, 0.5) * 1000,
        "ack_p95_ms": percentile(acks, 0.95) * 1000,
        "ack_p99_ms": percentile(acks, 0.99) * 1000,
        "shown_p99_ms": percentile(shown, 0.99) * 1000,
        "unshown": sum(r["unshown"] for r in results),
        "submit_p99_ms": percentile([v for r in results for v in r["submits"]], 0.99) * 1000,
        "errors": len(errors),
        "error_samples": errors[:3],
        "cpu_ms_per_answer": cpu / max(1, len(acks)) * 1000,
        "cpu_share": cpu / seconds,
        "backing_cpu_share": backing_cpu / seconds,  # PostgreSQL, Redis and nginx
        "load_cpu_share": load_cpu / seconds,  # the load processes together, in cores
        "load_lag_p99_ms": percentile([v for r in results for v in r["lags"]], 0.99) * 1000,
        "machine_busy": busy / max(1, total),  # of all the host's cores, everything on it counted
        "machine_steal": steal / max(1, total),
        "cpu_share_each": each,  # of every server process: how nginx spread the computers
        "rss_connected_mib": connected_rss,
        "rss_peak_mib": peak["rss"],
        **probed,
    }


# ---- the ladder ---------------------------------------------------------------------------------------------------


def chart(rows: dict[int, dict], bare_rows: dict[int, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = sorted(rows)
    figure, (latency, cpu, storm) = plt.subplots(1, 3, figsize=(14, 4.2))
    latency.plot(ns, [rows[n]["ack_p99_ms"] for n in ns], "o-", label="answer ack p99")
    latency.plot(ns, [rows[n]["shown_p99_ms"] for n in ns], "s-", label="proctor event p99")
    latency.plot(ns, [rows[n]["ack_p50_ms"] for n in ns], "o--", label="answer ack p50")
    latency.plot(ns, [bare_rows[n]["ack_p99_ms"] for n in ns], "x:", label="bare framework: ack p99")
    latency.axhline(50, color="grey", linewidth=0.8, linestyle="--", label="target: p99 ≤ 50 ms")
    latency.set(yscale="log", ylabel="ms", title="Answer acknowledgement")
    cpu.plot(ns, [rows[n]["cpu_share"] * 100 for n in ns], "o-", label="Jikao")
    cpu.plot(ns, [bare_rows[n]["cpu_share"] * 100 for n in ns], "x:", label="bare framework")
    cpu.set(ylabel="% of one core", title="Server CPU while answering")
    storm.plot(ns, [rows[n]["storm_s"] for n in ns], "s-", label="last candidate holds the paper")
    storm.plot([2000, 5000], [10, 15], "v", color="grey", label="targets: 10 s (2,000), 15 s (5,000)")
    storm.set(ylabel="s after the start signal", title="Start storm")
    for axis in (latency, cpu, storm):
        axis.set_xscale("log")
        axis.minorticks_off()
        axis.set_xticks(ns, [f"{n:,}" for n in ns])
        axis.set_xlabel("candidates")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ladder", default="250,500,1000,2000,5000", help="candidate counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the answering window")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds from the start signal to answering")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--chart", type=Path, help="write the chart (PNG) here")
    parser.add_argument(
        "--pin", action="store_true", help="run the server on the first core alone and the load on the others"
    )
    parser.add_argument(
        "--setups",
        help=f"instead of the ladder against the bare framework: compare these ({', '.join(SETUPS)}), "
        "alternating within each run",
    )
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    ladder = [int(n) for n in args.ladder.split(",")]
    if args.setups:
        compare(ladder, args.setups.split(","), args)
        return

    results: dict[tuple[int, bool], list[dict]] = {}
    for n_run in range(args.runs):
        for n in ladder:
            for bare in (False, True):
                result = run(n, bare, args.seconds, args.settle, pinned=args.pin)
                results.setdefault((n, bare), []).append(result)
                name = "bare" if bare else "jikao"
                print(f"run {n_run + 1} {name} {n}: " + json.dumps(result, ensure_ascii=False), flush=True)

    def median(n: int, bare: bool) -> dict:
        rows = results[(n, bare)]
        return {k: statistics.median(r[k] for r in rows) for k, v in rows[0].items() if isinstance(v, int | float)}

    rows = {n: median(n, False) for n in ladder}
    bare_rows = {n: median(n, True) for n in ladder}
    print()
    print(
        "| candidates | connect p50 | connect p99 | start storm (all hold the paper) | storm: server CPU | answers "
        "| ack p50 | ack p95 "
        "| ack p99 | proctor event p99 | submit p99 | errors | server CPU | CPU per answer | bare: CPU per answer "
        "| ratio | bare ack p99 | RSS connected | RSS peak |"
    )
    print("| ---: |" + " ---: |" * 18)
    for n in ladder:
        r, b = rows[n], bare_rows[n]
        print(
            f"| {n:,} | {r['connect_p50_s']:.2f} s | {r['connect_p99_s']:.2f} s | {r['storm_s']:.1f} s "
            f"| {r['storm_cpu_s']:.1f} s | {r['answers']:.0f} | {r['ack_p50_ms']:.1f} ms | {r['ack_p95_ms']:.1f} ms "
            f"| {r['ack_p99_ms']:.1f} ms "
            f"| {r['shown_p99_ms']:.0f} ms | {r['submit_p99_ms']:.0f} ms | {r['errors']:.0f} "
            f"| {r['cpu_share']:.0%} | {r['cpu_ms_per_answer']:.2f} ms | {b['cpu_ms_per_answer']:.2f} ms "
            f"| {r['cpu_ms_per_answer'] / b['cpu_ms_per_answer']:.2f}× | {b['ack_p99_ms']:.1f} ms "
            f"| {r['rss_connected_mib']:.0f} MiB | {r['rss_peak_mib']:.0f} MiB |"
        )
    print(f"\nruns per row: {args.runs} (medians); answering window {args.seconds:.0f} s")
    if args.chart:
        chart(rows, bare_rows, args.chart)
        print(f"chart: {args.chart}")


def compare(ladder: list[int], setups: list[str], args) -> None:
    """The same load on each setup, in turns within every run (so that a noisy spell spreads over all)."""
    unknown = set(setups) - set(SETUPS)
    if unknown:
        raise SystemExit(f"unknown setups: {', '.join(sorted(unknown))}; known: {', '.join(SETUPS)}")
    results: dict[tuple[int, str], list[dict]] = {}
    for n_run in range(args.runs):
        for n in ladder:
            for setup in setups:
                try:
                    result = run(n, False, args.seconds, args.settle, setup)
                except Exception as exc:  # reported, and the comparison goes on
                    print(f"run {n_run + 1} {setup} {n} failed: {exc!r}", flush=True)
                    continue
                results.setdefault((n, setup), []).append(result)
                print(f"run {n_run + 1} {setup} {n}: " + json.dumps(result, ensure_ascii=False), flush=True)
    print()
    print(
        "| candidates | setup | connect p99 | start storm | storm: server CPU | answers | ack p50 | ack p99 "
        "| proctor event p99 "
        "| submit p99 | errors | Jikao CPU | PostgreSQL + Redis + nginx CPU | CPU per answer (all) | RSS peak |"
    )
    print("| ---: | --- |" + " ---: |" * 13)
    for n in ladder:
        for setup in setups:
            rows = results.get((n, setup))
            if not rows:
                print(f"| {n:,} | {setup} | failed |" + " |" * 12)
                continue
            r = {k: statistics.median(x[k] for x in rows) for k, v in rows[0].items() if isinstance(v, int | float)}
            per_answer = (r["cpu_share"] + r["backing_cpu_share"]) * args.seconds / max(1, r["answers"]) * 1000
            print(
                f"| {n:,} | {setup} | {r['connect_p99_s']:.2f} s | {r['storm_s']:.1f} s | {r['storm_cpu_s']:.1f} s "
                f"| {r['answers']:.0f} "
                f"| {r['ack_p50_ms']:.1f} ms | {r['ack_p99_ms']:.1f} ms | {r['shown_p99_ms']:.0f} ms "
                f"| {r['submit_p99_ms']:.0f} ms | {r['errors']:.0f} | {r['cpu_share']:.0%} "
                f"| {r['backing_cpu_share']:.0%} | {per_answer:.2f} ms | {r['rss_peak_mib']:.0f} MiB |"
            )
    print(f"\nruns per row: {args.runs} (medians); answering window {args.seconds:.0f} s")


if __name__ == "__main__":
    main()
