"""Restart after a crash (issue 6): with 2,000 running attempts, the server accepts reconnections within 5 s.

A real ``jikao serve`` process (gevent, SQLite with full sync) on loopback, seeded with ``--rooms`` rooms of
``--seats`` candidates (2,000 by default) whose rooms have started. Load processes drive real Socket.IO clients
(python-socketio's asyncio client) that reconnect by themselves the way the exam client's socket.io-client does
(retries 0.5-1.5 s apart at first, at most 3 s, each allowed 20 s): every candidate logs in, is confirmed,
answers once. Then the server is killed with SIGKILL, as a power cut would, and started again at once on the
same port.

Reported, from the moment the new process is started:
- **listening**: the first answer of ``/healthz`` (the outage has been worked out and made up by then);
- **accepted**: a client's reconnection acknowledged (its Socket.IO connect answered); the first, p50, the last;
- **served**: the state the server pushes on every connection received, with the running exam (its paper,
  its answer, its clock); p50, p99 and the last;
- **the server's part**: for each client, from its first reconnection attempt after the server listened to
  its state arriving (before that attempt a browser is in its own back-off); p50 and p99;
- the new process's CPU time (its start and every reconnection), candidates never served within 2 minutes,
  and errors.
Two baselines, in the same go:
- **the framework's ceiling**: ``bare_server.py``, a Flask-SocketIO server on gevent that only pushes a state of
  the same size, restarted and reconnected to by the same 2,000 clients: what the framework itself costs;
- **no candidates**: Jikao's restart with no candidates at all, the process start itself.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/restart.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctor_live import PASSWORD, Server, http_login, percentile, run_load, seed_site  # noqa: E402


async def candidates_of(url: str, rooms: list[dict], go, out, bare: bool) -> None:
    """Log in, get confirmed and answer once; then wait for the kill and time the way back."""
    import socketio

    limit = asyncio.Semaphore(50)
    served: dict[str, float] = {}
    reconnected: dict[str, float] = {}
    tries: dict[str, list[float]] = {}  # when each reconnection attempt began
    errors: list[str] = []
    restarted = asyncio.Event()
    tasks: list[asyncio.Task] = []

    async def one(ticket: str):
        if bare:  # the bare server checks no login
            cookie = ""
        else:
            async with limit:
                cookie = await http_login(url, "/api/candidate/login", {"ticket": ticket})
        # Reconnection as the exam client's socket.io-client does it: retries 0.5-1.5 s apart at first, at most
        # 3 s (``reconnectionDelayMax``), each allowed 20 s to be accepted. python-socketio's own reconnection
        # gives an attempt 1 s, which turns a busy server's queue into a storm of retries, so it is done here.
        client = socketio.AsyncClient(reconnection=False)

        async def open_socket(wait: float) -> None:
            # Headers given as a function: python-engineio moves a Cookie header out of a dict it was given.
            await client.connect(
                url,
                namespaces=["/candidate"],
                transports=["websocket"],
                headers=lambda: {"Cookie": cookie},
                wait_timeout=wait,
            )

        async def reconnect() -> None:
            for attempt in range(1000):
                await asyncio.sleep(min(1.0 * 2**attempt, 3.0) * random.uniform(0.5, 1.5))
                tries.setdefault(ticket, []).append(time.time())
                try:
                    await open_socket(20)
                except socketio.exceptions.ConnectionError:
                    continue
                reconnected[ticket] = time.time()
                return

        def on_disconnect(*_):
            if restarted.is_set():
                tasks.append(asyncio.get_running_loop().create_task(reconnect()))

        def on_state(state):  # pushed by the server on every connection, as the exam client receives it
            if restarted.is_set() and ticket not in served:
                if state.get("phase") == "answering" and state.get("answers"):
                    served[ticket] = time.time()
                else:
                    errors.append(f"{ticket}: {json.dumps(state, ensure_ascii=False)[:200]}")

        client.on("disconnect", on_disconnect, namespace="/candidate")
        client.on("state", on_state, namespace="/candidate")
        await open_socket(60)
        return ticket, client

    clients = {}
    for room in rooms:
        clients.update(dict(await asyncio.gather(*(one(t) for t in room["tickets"]))))
    out.put({"logged_in": len(clients)})
    while not go.is_set():  # the parent's proctors confirm and start the rooms
        await asyncio.sleep(0.1)

    async def answer(ticket: str, client) -> None:
        state = (await client.call("get_state", {}, namespace="/candidate", timeout=60))["state"]
        item = next(i for s in state["paper"]["sections"] for i in s["items"] if i["type"] == "single")
        reply = await client.call(
            "answer", {"item_id": item["id"], "response": item["options"][0]["id"], "seq": 1}, "/candidate", 60
        )
        if not reply.get("ok"):
            errors.append(f"{ticket}: {json.dumps(reply, ensure_ascii=False)[:200]}")

    await asyncio.gather(*(answer(t, c) for t, c in clients.items()))
    restarted.set()  # from now on a connect is a reconnect
    out.put({"answered": len(clients)})
    deadline = time.monotonic() + 120
    while len(served) < len(clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    out.put({"served": served, "reconnected": reconnected, "tries": tries, "errors": errors})
    for task in tasks:  # reconnections still trying (candidates never served): given up
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients.values():
        await client.disconnect()


def worker(url: str, rooms: list[dict], go, out, bare: bool) -> None:
    run_load(candidates_of(url, rooms, go, out, bare), out)


async def confirm_and_start(url: str, rooms: list[dict]) -> None:
    from proctor_live import connect

    for room in rooms:
        cookie = await http_login(url, "/api/auth/login", {"username": room["username"], "password": PASSWORD})
        console = await connect(url, "/proctor", cookie, {})
        reply = await console.call("watch_room", {"room_id": room["room_id"]}, namespace="/proctor", timeout=60)
        for seat in reply["room"]["seats"]:
            confirmed = await console.call(
                "confirm_identity", {"candidate_id": seat["candidate_id"]}, namespace="/proctor", timeout=60
            )
            if not confirmed.get("ok"):
                raise RuntimeError(f"confirm {seat['ticket']}: {confirmed}")
        started = await console.call("start_room", {"room_id": room["room_id"]}, namespace="/proctor", timeout=60)
        if not started.get("ok"):
            raise RuntimeError(f"start {room['room_id']}: {started}")
        await console.disconnect()


def listening(url: str, began: float) -> float:
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return time.time() - began
        except OSError:
            time.sleep(0.02)


def expect(out, key: str, workers: int, timeout: float) -> list[dict]:
    messages = []
    while len(messages) < workers:
        message = out.get(timeout=timeout)
        if "failed" in message:
            raise RuntimeError(message["failed"])
        if key in message:
            messages.append(message)
    return messages


class BareServer(Server):
    """``bare_server.py`` as a process, restarted the same way: the framework's own reconnection cost."""

    def __init__(self, data_dir: Path):
        super().__init__(data_dir, {})

    def restart(self) -> None:
        command = [sys.executable, str(Path(__file__).with_name("bare_server.py")), "--port", str(self.port)]
        env = {**os.environ, "BENCH_PROBE_OUT": str(self.probe_path)} if self.probe_path else None
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env)


def bare_site(rooms: int, seats: int) -> dict:
    return {"plan": [{"tickets": [f"9{r:04d}{s:03d}" for s in range(1, seats + 1)]} for r in range(1, rooms + 1)]}


def run(rooms: int, seats: int, processes: int, bare: bool = False) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="jikao-restart-"))
    try:
        if bare:
            site = bare_site(rooms, seats)
            server = BareServer(workdir)
        else:
            site = seed_site(workdir, rooms, seats)
            server = Server(workdir, site["custodians"])
        context = multiprocessing.get_context("spawn")
        go, out = context.Event(), context.Queue()
        shares = [site["plan"][n::processes] for n in range(processes)] if rooms else []
        workers = [context.Process(target=worker, args=(server.url, share, go, out, bare)) for share in shares if share]
        for process in workers:
            process.start()
        expect(out, "logged_in", len(workers), 300)
        if not bare:
            asyncio.run(confirm_and_start(server.url, site["plan"]))
        go.set()
        expect(out, "answered", len(workers), 300)

        server.process.kill()  # SIGKILL: no goodbye, as a power cut
        server.process.wait()
        began = time.time()
        server.restart()
        ready_s = listening(server.url, began)
        results = expect(out, "served", len(workers), 180)
        cpu_s = server.cpu_seconds()  # the new process's: its start, and every reconnection
        for process in workers:
            process.join(timeout=30)
        server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    served = [at - began for r in results for at in r["served"].values()]
    # What the server adds: from a client's first attempt after the server listened to its state arriving
    # (the time before that attempt is the client's back-off, as a browser's).
    listened = began + ready_s
    waits = [
        r["served"][ticket] - next((t for t in r["tries"][ticket] if t >= listened), r["served"][ticket])
        for r in results
        for ticket in r["served"]
    ]
    back = [at - began for r in results for at in r["reconnected"].values()]
    errors = [e for r in results for e in r["errors"]]
    expected = rooms * seats
    return {
        "candidates": expected,
        "listening_s": ready_s,
        "accepted_first_s": min(back) if back else 0.0,
        "accepted_p50_s": percentile(back, 0.5) if back else 0.0,
        "accepted_all_s": max(back) if back else 0.0,
        "served_p50_s": percentile(served, 0.5) if served else 0.0,
        "served_p99_s": percentile(served, 0.99) if served else 0.0,
        "served_all_s": max(served) if served else 0.0,
        "server_wait_p50_s": percentile(waits, 0.5) if waits else 0.0,
        "server_wait_p99_s": percentile(waits, 0.99) if waits else 0.0,
        "server_cpu_s": cpu_s,
        "attempts_per_client": sum(len(t) for r in results for t in r["tries"].values()) / max(len(served), 1),
        "not_served": expected - len(served),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--seats", type=int, default=40, help="candidates per room (50 × 40 = 2,000)")
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    jikao, bare, empty = "Jikao: 2,000 running attempts", "framework: bare Flask-SocketIO", "Jikao: no candidates"
    results: dict[str, list[dict]] = {jikao: [], bare: [], empty: []}
    for n in range(args.runs):
        for name, rooms, is_bare in ((jikao, args.rooms, False), (bare, args.rooms, True), (empty, 0, False)):
            result = run(rooms, args.seats, args.processes, bare=is_bare)
            results[name].append(result)
            print(f"run {n + 1} {name}: " + json.dumps(result, ensure_ascii=False), flush=True)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print()
    print(
        "| restart | screens | listening | first accepted | accepted p50 | all accepted | served p50 | served p99 "
        "| all served | server's part p50 | server's part p99 | server CPU | tries per screen | not served | errors |"
    )
    print("| --- |" + " ---: |" * 14)
    for name in results:
        cells = [f"{median(name, 'candidates'):.0f}"]
        cells += [
            f"{median(name, key):.2f} s"
            for key in (
                "listening_s",
                "accepted_first_s",
                "accepted_p50_s",
                "accepted_all_s",
                "served_p50_s",
                "served_p99_s",
                "served_all_s",
                "server_wait_p50_s",
                "server_wait_p99_s",
            )
        ]
        cells += [f"{median(name, 'server_cpu_s'):.1f} s", f"{median(name, 'attempts_per_client'):.2f}"]
        cells += [f"{median(name, 'not_served'):.0f}", f"{median(name, 'errors'):.0f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    served = median(jikao, "served_all_s") - median(jikao, "listening_s")
    floor = median(bare, "served_all_s") - median(bare, "listening_s")
    print(
        f"\nfrom listening to the last screen served: Jikao {served:.2f} s, "
        f"bare framework {floor:.2f} s ({served / floor:.2f}×)"
    )
    cpu = (median(jikao, "server_cpu_s") - median(empty, "server_cpu_s")) / median(jikao, "candidates")
    print(
        f"server CPU per screen brought back: Jikao {cpu * 1000:.1f} ms "
        "(its start, measured without candidates, taken off)"
    )
    print(f"listening with 2,000 running attempts: {median(jikao, 'listening_s'):.2f} s (target: within 5 s)")


if __name__ == "__main__":
    main()
