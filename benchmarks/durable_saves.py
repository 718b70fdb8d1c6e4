"""Durable answer saves (issue 6): p99 at most 25 ms at 1,000 saves per second on this machine.

Measures the storage path of an answer as ``jikao serve`` runs it, without the network: a gevent process
(monkey-patched, with the garbage collector tuned, as the server is) whose greenlets call
``server.exam.answers.save``: the checks, the upsert guarded by ``seq``, the answer log, and the
acknowledgement only once the transaction is durably committed (SQLite WAL, ``synchronous=FULL``, fsync on an
OS thread, group commit). Saves are offered at a
fixed rate (open loop: each is due at its own moment, so a slow commit delays the ones behind it and shows in
their latency), from ``--candidates`` confirmed attempts of a started sitting.

Latency is from the moment a save was due to the moment it returned (acknowledged). The baseline, in the same
go, is the same load with one commit per save on the event loop (no group commit), the way a naive server
would do it. Beside the saves' own latency, a probe greenlet that sleeps 5 ms at a time measures how late the
event loop serves it: what every other socket event (a proctor's console, a heartbeat) waits meanwhile. The
median time of one small durable commit on this disk is printed first, since it decides what batching wins.

    .venv/bin/python benchmarks/durable_saves.py --rate 1000 --seconds 10 --runs 5
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402  (after the monkey-patching, as in the server)
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctor_live import percentile  # noqa: E402  (the same percentile as the live benchmark)


def prepare(data_dir: Path, rooms: int, seats: int):
    """A started sitting of ``rooms`` × ``seats`` confirmed candidates; their attempts, devices and answerable items."""
    from proctor_live import seed_site
    from sqlalchemy import select

    from item_bank.paper import paper_item_ids
    from server.app import create_app
    from server.bank.service import load_items
    from server.db import write_transaction
    from server.demo import seed
    from server.exam import service
    from server.exam.models import Candidate, Room
    from server.extensions import db
    from server.timeutil import now

    site = seed_site(data_dir, rooms, seats)
    app = create_app({"DATA_DIR": str(data_dir), "ASYNC_MODE": "gevent"})
    plan = []
    with app.app_context():
        seed.ensure_demo(app)  # opens the bank
        with write_transaction(db.session):
            for room_plan in site["plan"]:
                for ticket in room_plan["tickets"]:
                    candidate = db.session.scalar(select(Candidate).where(Candidate.ticket == ticket))
                    attempt = service.log_in(db.session, candidate, None, now())
                    db.session.flush()
                    service.confirm_identity(db.session, attempt, None, now())
                service.start_room(db.session, db.session.get(Room, room_plan["room_id"]), None, now())
        for room_plan in site["plan"]:
            for ticket in room_plan["tickets"]:
                attempt = db.session.scalar(select(Candidate).where(Candidate.ticket == ticket)).attempt
                items = load_items(db.session, paper_item_ids(attempt.paper))
                choices = [(i, [o.id for o in item.options]) for i, item in items.items() if item.type == "single"]
                plan.append({"attempt_id": attempt.id, "device": attempt.device_token, "choices": choices, "seq": 0})
                # What the screen's fetching the paper does on exam day: the paper is kept opened for answering.
                service.candidate_state(db.session, attempt, now())
    return app, plan


def run(app, plan: list[dict], rate: float, seconds: float, batching: bool) -> dict:
    from server.db import GroupCommit
    from server.exam import answers
    from server.timeutil import now

    with app.app_context():
        from server.extensions import db

        app.extensions[answers.COMMITTER] = committer = GroupCommit(db.engine, app, batching=batching)
    latencies: list[float] = []
    errors: list[str] = []
    rng = random.Random(7)

    def one(due: float, attempt: dict) -> None:
        gevent.sleep(max(0.0, due - time.perf_counter()))
        item_id, options = rng.choice(attempt["choices"])
        attempt["seq"] += 1
        with app.app_context():
            try:
                saved = answers.save(
                    attempt["attempt_id"], attempt["device"], item_id, rng.choice(options), attempt["seq"], now()
                )
            except Exception as exc:  # noqa: BLE001  (counted and shown, never hidden)
                errors.append(repr(exc))
                return
        latencies.append(time.perf_counter() - due)
        if saved is None or not saved.reply["ok"]:
            errors.append(json.dumps(saved.reply if saved else None, ensure_ascii=False))

    lags: list[float] = []  # how late a greenlet that sleeps 5 ms wakes: what every other socket event waits
    done = False

    def probe() -> None:
        while not done:
            asleep = time.perf_counter()
            gevent.sleep(0.005)
            lags.append(time.perf_counter() - asleep - 0.005)

    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    cpu0 = time.process_time()
    greenlets = [gevent.spawn(one, start + n / rate, plan[n % len(plan)]) for n in range(total)]
    prober = gevent.spawn_later(0.5, probe)
    gevent.joinall(greenlets)
    done = True
    prober.join()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    return {
        "group_commit": batching,
        "offered_per_s": rate,
        "saves": len(latencies),
        "achieved_per_s": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "commits": committer.batches,
        "saves_per_commit": committer.items / max(1, committer.batches),
        "cpu_ms_per_save": cpu / max(1, len(latencies)) * 1000,
        "loop_lag_p99_ms": percentile(lags, 0.99) * 1000,
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def fsync_ms(app, commits: int = 200) -> float:
    """The median time of one small durable commit on this machine's disk (what group commit amortises)."""
    from sqlalchemy import text

    from server.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text("CREATE TABLE fsync_probe (n INTEGER)"))
        connection.commit()
        times = []
        for n in range(commits):
            connection.execute(text("INSERT INTO fsync_probe VALUES (:n)"), {"n": n})
            began = time.perf_counter()
            connection.commit()
            times.append(time.perf_counter() - began)
        connection.execute(text("DROP TABLE fsync_probe"))
        connection.commit()
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="saves offered per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--seats", type=int, default=50, help="per room (20 × 50 = 1,000 attempts)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="jikao-saves-"))
    try:
        app, plan = prepare(workdir, args.rooms, args.seats)
        from server.cli import _tune_gc

        _tune_gc()  # the garbage collector as ``jikao serve`` sets it
        print(f"one small durable commit on this disk (median of 200): {fsync_ms(app):.2f} ms", flush=True)
        results: dict[str, list[dict]] = {"group commit": [], "baseline: a commit per save": []}
        for n in range(args.runs):
            for name, batching in (("group commit", True), ("baseline: a commit per save", False)):
                result = run(app, plan, args.rate, args.seconds, batching)
                results[name].append(result)
                print(f"run {n + 1} {name}: " + json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print()
    print(
        "| how | offered/s | achieved/s | p50 | p95 | p99 | max | saves per commit | CPU per save "
        "| event-loop lag p99 | errors |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in results:
        print(
            f"| {name} | {args.rate:.0f} | {median(name, 'achieved_per_s'):.0f} | {median(name, 'p50_ms'):.1f} ms "
            f"| {median(name, 'p95_ms'):.1f} ms | {median(name, 'p99_ms'):.1f} ms | {median(name, 'max_ms'):.1f} ms "
            f"| {median(name, 'saves_per_commit'):.1f} | {median(name, 'cpu_ms_per_save'):.2f} ms "
            f"| {median(name, 'loop_lag_p99_ms'):.1f} ms | {median(name, 'errors'):.0f} |"
        )
    ratio = median("baseline: a commit per save", "p99_ms") / median("group commit", "p99_ms")
    print(f"\np99, baseline / group commit: {ratio:.1f}×  (target: group commit p99 ≤ 25 ms)  runs: {args.runs}")


if __name__ == "__main__":
    main()
