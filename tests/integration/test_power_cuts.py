"""Fault injection: a real ``jikao serve`` killed with SIGKILL again and again while 60 candidates answer.

Each simulated candidate is a real Socket.IO client that behaves like the exam client: every change of an
answer goes into its journal with the next sequence number and leaves it only when the server acknowledges
it; after any reconnect the journal is sent again, oldest first. The server is killed at random moments (after
a random number of acknowledgements, seeded and printed) at least 20 times and restarted on the same port.
At the end, once every journal is empty:

- every change a candidate made last is what is stored, and every acknowledged change is in the answer log;
- no change is stored twice;
- every clock is what the sitting's start and the recorded outages give, within 2 seconds, and each recorded
  outage covers the time the server was really down (and at most a heartbeat and a rounding second more).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from datetime import datetime

import pytest
import requests
import socketio
from sqlalchemy import select

from server.app import create_app
from server.demo import seed
from server.exam.models import Answer, AnswerLog, Attempt, Candidate, ClockEvent, Room
from server.extensions import db
from tests.conftest import LiveServer
from tests.helpers import make_room

pytestmark = pytest.mark.slow

KILLS = 20
ANSWER = (Answer.attempt_id, Answer.item_id, Answer.response, Answer.seq)
SECOND_ROOM = [f"2026110102{n:02d}" for n in range(1, 31)]


class SimulatedCandidate(threading.Thread):
    """An exam client: journal, acknowledgements, replay after every reconnect."""

    def __init__(self, url: str, ticket: str, rng: random.Random):
        super().__init__(daemon=True)
        self.url, self.ticket, self.rng = url, ticket, rng
        self.http = requests.Session()
        token = self.http.get(url + "/api/auth/session", timeout=10).json()["csrf_token"]
        reply = self.http.post(
            url + "/api/candidate/login", json={"ticket": ticket}, headers={"X-CSRFToken": token}, timeout=10
        )
        assert reply.status_code == 200, reply.text
        self.items: list[dict] = []
        self.seq = 0
        self.journal: dict[int, tuple[object, int]] = {}  # item -> (response, seq) not yet acknowledged
        self.last: dict[int, tuple[object, int]] = {}  # item -> the candidate's latest change
        self.acked: list[tuple[int, object, int]] = []  # (item, response, seq) the server said it stored
        self.answering = threading.Event()
        self.answering.set()
        self.stopped = threading.Event()
        self.failures: list[str] = []
        self.client: socketio.Client | None = None
        self.lock = threading.Lock()

    # -- the connection ------------------------------------------------------------------------------------

    def connect(self) -> bool:
        client = socketio.Client(http_session=self.http, reconnection=False)
        try:
            client.connect(self.url, namespaces=["/candidate"], transports=["websocket"], wait_timeout=5)
            state = client.call("get_state", {}, namespace="/candidate", timeout=10)["state"]
        except (socketio.exceptions.SocketIOError, OSError, KeyError):
            self._close(client)
            return False
        if state["phase"] != "answering":
            self.failures.append(f"{self.ticket} found the exam {state['phase']} after a restart")
            self._close(client)
            return False
        if not self.items:
            self.items = [i for s in state["paper"]["sections"] for i in s["items"]]
            self.seq = state["last_seq"]
        self.client = client
        return self.replay()

    def drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            self._close(client)

    @staticmethod
    def _close(client) -> None:
        try:
            client.disconnect()
        except Exception:  # noqa: BLE001  (a socket the killed server left half open)
            pass
        ws = getattr(client.eio, "ws", None)
        if ws is not None:
            try:
                ws.shutdown()
            except Exception:  # noqa: BLE001
                pass

    # -- answering -----------------------------------------------------------------------------------------

    def change(self) -> None:
        item = self.rng.choice(self.items)
        if item["type"] == "multiple":
            response = sorted(self.rng.sample([o["id"] for o in item["options"]], 2))
        elif item["type"] == "true_false":
            response = self.rng.choice([True, False])
        else:
            response = self.rng.choice(item["options"])["id"]
        with self.lock:
            self.seq += 1
            self.journal[item["id"]] = (response, self.seq)
            self.last[item["id"]] = (response, self.seq)

    def send(self, item_id: int, response, seq: int) -> bool:
        try:
            reply = self.client.call(
                "answer", {"item_id": item_id, "response": response, "seq": seq}, namespace="/candidate", timeout=5
            )
        except (socketio.exceptions.SocketIOError, OSError):
            return False
        if not reply.get("ok"):
            self.failures.append(f"{self.ticket}: answer refused {reply}")
            return False
        with self.lock:
            if reply["applied"] and reply["seq"] == seq:
                self.acked.append((item_id, response, seq))
            pending = self.journal.get(item_id)
            if pending is not None and pending[1] <= reply["seq"]:
                del self.journal[item_id]
        return True

    def replay(self) -> bool:
        with self.lock:
            pending = sorted(((seq, item, response) for item, (response, seq) in self.journal.items()))
        return all(self.send(item, response, seq) for seq, item, response in pending)

    def run(self) -> None:
        while not self.stopped.is_set():
            if self.client is None and not self.connect():
                self.drop()
                self.stopped.wait(0.1)  # retry interval while the server is down
                continue
            if self.answering.is_set():
                self.change()
            if not self.replay():
                self.drop()
                continue
            self.stopped.wait(self.rng.uniform(0.2, 0.6))  # the candidate's pace
        self.drop()

    def acknowledgements(self) -> int:
        with self.lock:
            return len(self.acked)

    def settled(self) -> bool:
        with self.lock:
            return not self.journal


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigkill_twenty_times_loses_no_acknowledged_answer_and_no_minute(tmp_path, seeded, live_clients):
    seed_value = int(os.environ.get("JIKAO_FAULT_SEED", random.randrange(2**32)))
    print(f"fault schedule seed: {seed_value} (rerun with JIKAO_FAULT_SEED={seed_value})")
    rng = random.Random(seed_value)
    data_dir = seeded({}, tmp_path / "site")
    seeding = create_app({"DATA_DIR": str(data_dir)})
    with seeding.app_context():
        demo = seed.ensure_demo(seeding)
        db.engine.dispose()
    make_room(seeding, "第02考场", "proctor9", "second-room-password", SECOND_ROOM)
    with seeding.app_context():
        db.engine.dispose()
    logins = {e["username"]: e["password"] for e in demo.logins}
    tickets = seed.sample_tickets(30) + SECOND_ROOM

    server = LiveServer(data_dir, demo.custodians)
    chief = live_clients.login(server, "/api/auth/login", {"username": "chief", "password": logins["chief"]})
    candidates = [SimulatedCandidate(server.url, ticket, random.Random(rng.random())) for ticket in tickets]
    console = live_clients.socket(server, chief, "/proctor")
    for room in console.call("list_rooms", {}, namespace="/proctor", timeout=10)["rooms"]:
        seats = console.call("watch_room", {"room_id": room["id"]}, namespace="/proctor", timeout=10)["room"]["seats"]
        for seat in seats:
            reply = console.call("confirm_identity", {"candidate_id": seat["candidate_id"]}, namespace="/proctor")
            assert reply["ok"], reply
        assert console.call("start_room", {"room_id": room["id"]}, namespace="/proctor")["ok"]
    console.disconnect()
    for candidate in candidates:
        candidate.start()

    downtimes = []
    try:
        for _ in range(KILLS):
            acked = sum(c.acknowledgements() for c in candidates)
            target = acked + rng.randint(20, 150)  # a random moment: after this many more acknowledgements
            wait_for(lambda t=target: sum(c.acknowledgements() for c in candidates) >= t, 60, "answers to flow")
            killed_at = time.monotonic()
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=10)
            server.log.close()
            server = LiveServer(data_dir, demo.custodians, port=server.port)
            downtimes.append(time.monotonic() - killed_at)
        for candidate in candidates:
            candidate.answering.clear()
        wait_for(lambda: all(c.settled() for c in candidates), 60, "every journal to be acknowledged")
        clocks = {}  # one candidate of each room asks for their clock again, as a screen does now and then
        for candidate in (candidates[0], candidates[-1]):
            probe = live_clients.socket(server, candidate.http, "/candidate")
            state = probe.call("get_state", {}, namespace="/candidate", timeout=10)["state"]
            clocks[candidate.ticket] = state["clock"]
    finally:
        for candidate in candidates:
            candidate.stopped.set()
        for candidate in candidates:
            candidate.join(timeout=15)

    acknowledged = sum(len(c.acked) for c in candidates)
    print(
        f"{len(downtimes)} kills, down {min(downtimes):.1f}-{max(downtimes):.1f} s; {acknowledged} changes acknowledged"
    )
    assert [f for c in candidates for f in c.failures] == []
    live_clients.close()
    assert server.stop() == 0

    with seeding.app_context():
        session = db.session
        attempt_of = dict(session.execute(select(Candidate.ticket, Attempt.id).join(Attempt)).all())
        room_of = dict(session.execute(select(Candidate.ticket, Candidate.room_id)).all())
        log = session.execute(select(AnswerLog.attempt_id, AnswerLog.item_id, AnswerLog.seq)).all()
        stored = {(a, i): (r, s) for a, i, r, s in session.execute(select(*ANSWER))}
        outages = session.execute(
            select(ClockEvent.room_id, ClockEvent.seconds)
            .where(ClockEvent.kind == "extend", ClockEvent.reason.like("服务器中断%"))
            .order_by(ClockEvent.at, ClockEvent.id)
        ).all()
        started = {room.id: room.started_at for room in session.scalars(select(Room))}
        duration_s = session.scalars(select(Room)).first().session.duration_s
        db.engine.dispose()

    # Nothing lost: each candidate's last change is what is stored; every acknowledged change is logged.
    logged = Counter(log)
    for candidate in candidates:
        attempt = attempt_of[candidate.ticket]
        for item, last in candidate.last.items():
            assert stored[(attempt, item)] == last, (candidate.ticket, item)
        for item, _response, seq in candidate.acked:
            assert logged[(attempt, item, seq)] == 1, (candidate.ticket, item, seq)
    # Nothing twice.
    assert max(logged.values()) == 1
    assert acknowledged > KILLS * 20

    # No minute lost: each room has one recorded outage per kill, covering the time the server was down
    # (and at most a heartbeat, a rounding second and a late sweep more).
    for room_id in started:
        recorded = [seconds for room, seconds in outages if room == room_id]
        assert len(recorded) == KILLS
        for real, written in zip(downtimes, recorded, strict=True):
            assert real - 1 <= written <= real + 3, (downtimes, recorded)
        print(f"room {room_id}: outages recorded {recorded} s")
    # And each clock is what the start and the recorded outages give, within 2 seconds.
    for ticket, clock in clocks.items():
        room_id = room_of[ticket]
        made_up = sum(seconds for room, seconds in outages if room == room_id)
        elapsed = (datetime.fromisoformat(clock["server_now"]) - started[room_id]).total_seconds()
        assert abs(clock["remaining_ms"] / 1000 - (duration_s + made_up - elapsed)) <= 2, (ticket, clock)
