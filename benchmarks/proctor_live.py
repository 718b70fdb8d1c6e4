"""Live proctor consoles under load (issue 5): 50 consoles watching 2,000 candidates who each cause an event
every 5 seconds; the time from a candidate's event to the seat update on the room's console, p99 at most 1 s.

A real ``jikao serve`` process (gevent, SQLite with full sync) on loopback, seeded with the demo sitting plus
``--rooms`` rooms of ``--seats`` candidates, each room with its own proctor. Load processes drive real
Socket.IO clients (python-socketio's asyncio client): every candidate logs in over HTTP and connects; every
console logs in, watches its room, confirms each candidate's identity and starts the room. Then, for
``--seconds``, each candidate answers one more item every ``--interval`` seconds (phases spread at random),
and the console of the room times each answer from the candidate's emit to the ``seat_progress`` that shows it
(both ends in the same process, on one monotonic clock). Also reported: the answer's acknowledgement time,
events lost (never shown), and the server's CPU per event.

The baseline, run in the same go, is the same sitting at a tenth of the load (5 consoles, 200 candidates):
what one event costs when the server is nearly idle. Medians over ``--runs`` runs, and the ratio.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/proctor_live.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "bench-proctor-password"


# ---- the site ----------------------------------------------------------------------------------------------


def seed_site(
    data_dir: Path, rooms: int, seats: int, sizes: list[int] | None = None, database_url: str | None = None, **demo
) -> dict:
    """The demo site plus ``rooms`` rooms of ``seats`` candidates (or rooms of the given ``sizes``) with a
    proctor each; papers assembled ahead. ``demo``: the demo sitting's settings (e.g. ``submit_after_s``)."""
    from sqlalchemy import select

    from server.app import create_app
    from server.auth.service import create_account
    from server.db import write_transaction
    from server.demo import seed
    from server.exam import assembly
    from server.exam.models import Candidate, ExamSession, Room
    from server.extensions import db
    from server.timeutil import now

    config = {"DATA_DIR": str(data_dir), "BANK_SCRYPT_N": 2**14}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    app = create_app(config)
    with app.app_context():
        site = seed.ensure_demo(app, **demo)
        plan = []
        with write_transaction(db.session):
            exam = db.session.scalars(select(ExamSession)).first()
            cols = 8
            for r, size in enumerate(sizes or [seats] * rooms, start=1):
                room = Room(session=exam, name=f"压测{r:03d}", rows=-(-size // cols), cols=cols)
                db.session.add(room)
                tickets = []
                for s in range(1, size + 1):
                    ticket = f"9{r:04d}{s:03d}"
                    tickets.append(ticket)
                    db.session.add(
                        Candidate(
                            session=exam,
                            room=room,
                            ticket=ticket,
                            name=f"考生{r}-{s}",
                            id_number="110105194912310021",
                            seat_no=s,
                            seat_row=(s - 1) // cols + 1,
                            seat_col=(s - 1) % cols + 1,
                        )
                    )
                db.session.flush()
                create_account(db.session, f"bench{r:03d}", f"监考{r:03d}", "proctor", PASSWORD, [room.id])
                plan.append({"username": f"bench{r:03d}", "room_id": room.id, "tickets": tickets})
        with write_transaction(db.session):
            assembly.prepare(db.session, db.session.get(ExamSession, exam.id), "bench", now())
        db.engine.dispose()
    return {"plan": plan, "custodians": site.custodians}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds_of(pid: int) -> float:
    """CPU (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, data_dir: Path, custodians: dict, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.custodians = custodians
        self.env = env or {}  # e.g. a scale-out's database and message queue
        self.log = open(data_dir / f"server-{self.port}.log", "ab")  # noqa: SIM115
        # BENCH_PROBE=1: the server's garbage collections and event-loop lag are recorded here (probe.py)
        self.probe_path = data_dir / f"probe-{self.port}.json" if os.environ.get("BENCH_PROBE") else None
        self.restart()
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def restart(self) -> None:
        """Start the server process (again, after a kill: same port, same data); returns without waiting."""
        env = {
            **os.environ,
            "JIKAO_CUSTODIAN_A": self.custodians["custodian_a"],
            "JIKAO_CUSTODIAN_B": self.custodians["custodian_b"],
            **self.env,
        }
        program = ["-m", "server"]  # ``python -m server``: what the ``jikao`` command runs
        if self.probe_path:  # the same, with garbage collections and event-loop lag recorded (probe.py)
            program = [str(Path(__file__).with_name("probe.py"))]
            env["BENCH_PROBE_OUT"] = str(self.probe_path)
        if os.environ.get("BENCH_PROFILE"):  # a cProfile of the server, for finding where its time goes
            program = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"], *program]
        command = [sys.executable, *program, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--data", str(self.data_dir)], stdout=self.log, stderr=subprocess.STDOUT, env=env
        )

    def cpu_seconds(self) -> float:
        return cpu_seconds_of(self.process.pid)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# ---- the load: one process drives some rooms -----------------------------------------------------------------


async def http_login(url: str, path: str, body: dict):
    """Log in over HTTP; returns the session cookie header for the socket."""
    import aiohttp
    from yarl import URL

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # an IP address
        async with http.get(url + "/api/auth/session") as response:
            token = (await response.json())["csrf_token"]
        async with http.post(url + path, json=body, headers={"X-CSRFToken": token}) as response:
            if response.status != 200:
                raise RuntimeError(f"login {body} refused: {await response.text()}")
        cookie = http.cookie_jar.filter_cookies(URL(url))
        return "; ".join(f"{k}={v.value}" for k, v in cookie.items())


async def connect(url: str, namespace: str, cookie: str, handlers: dict, source: str | None = None):
    """A Socket.IO client; ``source``: the loopback address it connects from (127.0.0.0/8 is all this host's),
    so that nginx in front of several workers sees one address per exam computer, as in a test centre."""
    import socketio

    http = None
    if source is not None:
        import aiohttp

        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))
    client = socketio.AsyncClient(reconnection=False, http_session=http)
    client.jikao_http = http  # closed by ``disconnect``
    for event, handler in handlers.items():
        client.on(event, handler, namespace=namespace)
    await client.connect(
        url, namespaces=[namespace], transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=60
    )
    return client


async def drive(url: str, rooms: list[dict], start_at: float, seconds: float, interval: float, out) -> None:
    sent: dict[tuple[int, int], float] = {}  # (candidate id, answered count) -> emit time
    shown: list[float] = []
    shown_at: list[float] = []  # when each shown event was sent, in seconds into the window
    acks: list[float] = []
    errors: list[str] = []
    limit = asyncio.Semaphore(50)  # logins at once per process

    async def with_limit(coro):
        async with limit:
            return await coro

    consoles, candidates = [], []
    for room in rooms:

        def on_seat(seat, _room=room):
            at = sent.pop((seat["candidate_id"], seat.get("answered", -1)), None)
            if at is not None:
                shown.append(time.monotonic() - at)
                shown_at.append(at - window_start)

        cookie = await http_login(url, "/api/auth/login", {"username": room["username"], "password": PASSWORD})
        console = await connect(url, "/proctor", cookie, {"seat_update": on_seat, "seat_progress": on_seat})
        consoles.append(console)
        room["console"] = console

    async def candidate(ticket: str):
        cookie = await http_login(url, "/api/candidate/login", {"ticket": ticket})
        return ticket, await connect(url, "/candidate", cookie, {})

    for room in rooms:
        room["clients"] = dict(await asyncio.gather(*(with_limit(candidate(t)) for t in room["tickets"])))
        candidates.extend(room["clients"].values())
    for room in rooms:
        console = room["console"]
        reply = await console.call("watch_room", {"room_id": room["room_id"]}, namespace="/proctor", timeout=60)
        seats = {s["ticket"]: s["candidate_id"] for s in reply["room"]["seats"]}
        room["ids"] = seats
        for ticket in room["tickets"]:
            confirmed = await console.call(
                "confirm_identity", {"candidate_id": seats[ticket]}, namespace="/proctor", timeout=60
            )
            if not confirmed.get("ok"):
                raise RuntimeError(f"confirm {ticket}: {confirmed}")
        started = await console.call("start_room", {"room_id": room["room_id"]}, namespace="/proctor", timeout=60)
        if not started.get("ok"):
            raise RuntimeError(f"start {room['room_id']}: {started}")

    async def answering(room: dict, ticket: str, client) -> None:
        state = (await client.call("get_state", {}, namespace="/candidate", timeout=60))["state"]
        items = [i for s in state["paper"]["sections"] for i in s["items"] if i["type"] == "single"]
        candidate_id = room["ids"][ticket]
        await asyncio.sleep(max(0.0, start_at - time.time()) + random.uniform(0, interval))
        end = time.monotonic() + seconds
        count, seq = 0, 0
        while time.monotonic() < end and count < len(items):
            tick = time.monotonic()
            item = items[count]
            count += 1
            seq += 1
            sent[(candidate_id, count)] = tick
            reply = await client.call(
                "answer",
                {"item_id": item["id"], "response": item["options"][0]["id"], "seq": seq},
                namespace="/candidate",
                timeout=30,
            )
            acks.append(time.monotonic() - tick)
            if not reply.get("ok"):
                errors.append(json.dumps(reply, ensure_ascii=False))
            await asyncio.sleep(max(0.0, tick + interval - time.monotonic()))

    window_start = time.monotonic() + max(0.0, start_at - time.time())

    async def window_cpu() -> float:  # this load process's own CPU during the measured window
        await asyncio.sleep(max(0.0, start_at - time.time()))
        begin = time.process_time()
        await asyncio.sleep(seconds)
        return time.process_time() - begin

    *_, load_cpu = await asyncio.gather(
        *(answering(room, ticket, client) for room in rooms for ticket, client in room["clients"].items()),
        window_cpu(),
    )
    grace = time.monotonic() + 5  # the last updates still on their way
    while sent and time.monotonic() < grace:
        await asyncio.sleep(0.05)
    out.put(
        {
            "shown": shown,
            "shown_at": shown_at,
            "acks": acks,
            "lost": len(sent),
            "errors": errors[:5],
            "error_count": len(errors),
            "load_cpu_share": load_cpu / seconds,
        }
    )
    for client in candidates + consoles:
        await client.disconnect()


async def disconnect(client) -> None:
    try:
        await client.disconnect()
    finally:
        if getattr(client, "jikao_http", None) is not None:
            await client.jikao_http.close()


def run_load(coroutine, out) -> None:
    """The body of a load process: room for thousands of sockets, no log line per socket a server closes, and
    a failure reported to the parent (which prints it) rather than lost with the process."""
    import logging

    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    try:
        asyncio.run(coroutine)
    except Exception as exc:
        out.put({"failed": repr(exc)})


def worker(url: str, rooms: list[dict], start_at: float, seconds: float, interval: float, out) -> None:
    run_load(drive(url, rooms, start_at, seconds, interval, out), out)


# ---- one run ---------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(rooms: int, seats: int, seconds: float, interval: float, processes: int, setup_s: float) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="jikao-bench-"))
    try:
        site = seed_site(workdir, rooms, seats)
        server = Server(workdir, site["custodians"])
        try:
            out = multiprocessing.Queue()
            start_at = time.time() + setup_s  # every process's candidates begin answering then
            shares = [site["plan"][i::processes] for i in range(processes)]
            workers = [
                multiprocessing.Process(target=worker, args=(server.url, share, start_at, seconds, interval, out))
                for share in shares
                if share
            ]
            for w in workers:
                w.start()
            while time.time() < start_at:
                time.sleep(0.2)
            cpu0, wall0 = server.cpu_seconds(), time.monotonic()
            results = [out.get(timeout=setup_s + seconds + 300) for _ in workers]
            cpu, wall = server.cpu_seconds() - cpu0, time.monotonic() - wall0
            rss = server.rss_mib()
            for w in workers:
                w.join(timeout=60)
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = [r["failed"] for r in results if "failed" in r]
    if failed:
        raise RuntimeError(f"load process failed: {failed}")
    shown = [v for r in results for v in r["shown"]]
    by_slice: dict[int, list[float]] = {}  # p99 per 5 s of the window: a warm-up or a stall shows here
    for r in results:
        for at, value in zip(r["shown_at"], r["shown"], strict=True):
            by_slice.setdefault(int(at // 5) * 5, []).append(value)
    acks = [v for r in results for v in r["acks"]]
    events = len(acks)
    return {
        "candidates": rooms * seats,
        "consoles": rooms,
        "events": events,
        "events_per_s": events / seconds,
        "shown_p50_ms": percentile(shown, 0.50) * 1000,
        "shown_p99_ms": percentile(shown, 0.99) * 1000,
        "shown_max_ms": max(shown) * 1000 if shown else float("nan"),
        "ack_p50_ms": percentile(acks, 0.50) * 1000,
        "ack_p99_ms": percentile(acks, 0.99) * 1000,
        "lost": sum(r["lost"] for r in results),
        "errors": sum(r["error_count"] for r in results),
        "error_samples": [e for r in results for e in r["errors"]][:5],
        "server_cpu_ms_per_event": cpu / max(1, events) * 1000,
        "server_cpu_share": cpu / wall,
        "server_rss_mib": rss,
        "shown_p99_ms_by_5s": {k: round(percentile(v, 0.99) * 1000) for k, v in sorted(by_slice.items())},
        "load_cpu_share": [round(r["load_cpu_share"], 2) for r in results],  # each load process, of one core
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=50, help="consoles, one per room")
    parser.add_argument("--seats", type=int, default=40, help="candidates per room (50 × 40 = 2,000)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a candidate's events")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the measured window")
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--setup", type=float, default=120.0, help="seconds allowed for logins and confirmations")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-rooms", type=int, default=5)
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))

    configs = {"baseline": args.baseline_rooms, "full": args.rooms}
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for n in range(args.runs):
        for name, rooms in configs.items():
            result = run(rooms, args.seats, args.seconds, args.interval, args.processes, args.setup)
            runs[name].append(result)
            print(f"run {n + 1} {name}: " + json.dumps(result, ensure_ascii=False), flush=True)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    print()
    print(
        "| load | candidates | consoles | events/s | shown p50 | shown p99 | shown max | ack p99 | lost | errors "
        "| server CPU per event | server CPU share | RSS |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in configs:
        print(
            f"| {name} | {runs[name][0]['candidates']} | {runs[name][0]['consoles']} "
            f"| {median(name, 'events_per_s'):.0f} | {median(name, 'shown_p50_ms'):.0f} ms "
            f"| {median(name, 'shown_p99_ms'):.0f} ms | {median(name, 'shown_max_ms'):.0f} ms "
            f"| {median(name, 'ack_p99_ms'):.0f} ms | {median(name, 'lost'):.0f} | {median(name, 'errors'):.0f} "
            f"| {median(name, 'server_cpu_ms_per_event'):.2f} ms | {median(name, 'server_cpu_share'):.0%} "
            f"| {median(name, 'server_rss_mib'):.0f} MiB |"
        )
    ratio = median("full", "shown_p99_ms") / median("baseline", "shown_p99_ms")
    print(f"\nshown p99, full / baseline: {ratio:.1f}×  (target: full p99 ≤ 1000 ms)  runs: {args.runs}")


if __name__ == "__main__":
    main()
