"""The scale-out of docs/deployment.md, for real: two ``jikao serve`` processes over one PostgreSQL database,
with Redis as their message queue, behind nginx with the shipped example configuration (all from Debian's
packages, started privately on loopback for these tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text

from server.app import create_app
from server.demo import seed
from server.extensions import db
from tests.conftest import FAST_SCRYPT_N, LiveServer, confirm_and_start
from tests.services import Nginx, PostgreSQL, Redis, free_port


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # polling interval, bounded by the deadline
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def backing():
    """PostgreSQL and Redis, for the module's tests."""
    postgresql, redis = PostgreSQL(), Redis()
    yield postgresql, redis
    redis.stop()
    postgresql.stop()


@pytest.fixture
def shared_site(tmp_path, backing):
    """The demo sitting seeded into a fresh PostgreSQL database; what every worker needs in its environment."""
    postgresql, redis = backing
    engine = create_engine(postgresql.url)
    with engine.begin() as connection:  # a clean database for each test
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    data_dir = tmp_path / "site"  # the workers share it: the secret key that signs every login cookie
    seeding = create_app(
        {"DATA_DIR": str(data_dir), "SQLALCHEMY_DATABASE_URI": postgresql.url, "BANK_SCRYPT_N": FAST_SCRYPT_N}
    )
    with seeding.app_context():
        demo = seed.ensure_demo(seeding)
        db.engine.dispose()
    env = {"JIKAO_DATABASE_URL": postgresql.url, "JIKAO_MESSAGE_QUEUE": redis.url}
    return data_dir, demo, env, postgresql


def answer(candidate, item: dict, option: int, seq: int) -> None:
    """Choose the item's option, and check the server acknowledged it stored."""
    body = {"item_id": item["id"], "response": item["options"][option]["id"], "seq": seq}
    ack = candidate.call("answer", body, namespace="/candidate", timeout=10)
    assert ack["ok"] and ack["applied"], ack


def stored_answers(url: str) -> dict[int, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT item_id, response FROM answer")).all()
    engine.dispose()
    return dict(rows)


def test_two_workers_behind_nginx_share_a_sitting_and_survive_one_dying(shared_site, live_clients):
    data_dir, demo, env, postgresql = shared_site
    workers = [LiveServer(data_dir, demo.custodians, env=env) for _ in range(2)]
    for worker in workers:
        worker.logins = {entry["username"]: entry["password"] for entry in demo.logins}
    nginx = Nginx([worker.port for worker in workers])
    try:
        ticket = seed.sample_tickets(1)[0]
        # The candidate's computer goes through nginx, which sticks it to one worker ...
        http = requests.Session()
        served_by = http.get(nginx.url + "/healthz", timeout=5).json()["worker"]
        first = next(w for w in workers if served_by.endswith(f":{w.port}"))
        other = next(w for w in workers if w is not first)
        token = http.get(nginx.url + "/api/auth/session", timeout=5).json()["csrf_token"]
        login = http.post(nginx.url + "/api/candidate/login", json={"ticket": ticket}, headers={"X-CSRFToken": token})
        assert login.status_code == 200, login.text
        states: list[dict] = []
        candidate = socketio.Client(http_session=http, reconnection=True, reconnection_delay=0.2)
        candidate.on("state", states.append, namespace="/candidate")
        candidate.connect(nginx.url, namespaces=["/candidate"], transports=["websocket"], wait_timeout=10)
        live_clients.opened.append(candidate)
        # ... and the proctor's console is on the other worker.
        progress: list[dict] = []
        proctor = live_clients.proctor(other)
        proctor.on("seat_progress", progress.append, namespace="/proctor")
        confirm_and_start(proctor, ticket)
        room = proctor.call("list_rooms", {}, namespace="/proctor", timeout=10)["rooms"][0]
        watched = proctor.call("watch_room", {"room_id": room["id"]}, namespace="/proctor", timeout=10)
        candidate_id = next(s for s in watched["room"]["seats"] if s["ticket"] == ticket)["candidate_id"]

        def answered(count: int) -> bool:
            return any(p["candidate_id"] == candidate_id and p["answered"] == count for p in progress)

        # The start signal, given on the other worker, reaches the candidate's screen through Redis.
        state = wait_for(lambda: next((s for s in reversed(states) if s.get("paper")), None), 15, "the paper")
        items = [item for section in state["paper"]["sections"] for item in section["items"]]
        first_item, second_item = items[0], items[1]
        answer(candidate, first_item, 0, seq=1)
        wait_for(lambda: answered(1), 10, "the console to show 1 answered")

        # The candidate's worker dies without a goodbye: nginx sends the computer to the other one.
        first.crash()
        states.clear()
        back = wait_for(lambda: next((s for s in states if s.get("paper")), None), 30, "the state after reconnecting")
        assert back["answers"][str(first_item["id"])] == first_item["options"][0]["id"]
        assert requests.get(nginx.url + "/healthz", timeout=5).json()["worker"].endswith(f":{other.port}")
        answer(candidate, second_item, 1, seq=2)
        wait_for(lambda: answered(2), 10, "the console to show 2 answered")
        assert stored_answers(postgresql.url) == {
            first_item["id"]: first_item["options"][0]["id"],
            second_item["id"]: second_item["options"][1]["id"],
        }
        watched = proctor.call("watch_room", {"room_id": room["id"]}, namespace="/proctor", timeout=10)
        seat = next(s for s in watched["room"]["seats"] if s["ticket"] == ticket)
        assert seat["disconnected_at"] is None, "the candidate shows as connected, on the worker left"
    finally:
        live_clients.close()
        nginx.stop()
        for worker in workers:
            if worker.process.poll() is None:
                assert worker.stop() == 0
            else:
                worker.log.close()


def children_of(pid: int) -> list[int]:
    listed = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True).stdout
    return [int(line) for line in listed.split()]


def healthy_worker(port: int) -> str | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["worker"]
    except requests.RequestException:
        return None


def test_serve_workers_starts_them_starts_a_dead_one_again_and_stops_them_all(shared_site, tmp_path):
    data_dir, demo, env, _ = shared_site
    port = free_port()
    while any(healthy_worker(p) for p in (port, port + 1)):  # the next port must be free too
        port = free_port()
    custodians = {
        "JIKAO_CUSTODIAN_A": demo.custodians["custodian_a"],
        "JIKAO_CUSTODIAN_B": demo.custodians["custodian_b"],
    }
    with open(tmp_path / "workers.log", "wb") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
            + ["--data", str(data_dir)],
            env={**os.environ, **env, **custodians},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            names = wait_for(
                lambda: names if all(names := [healthy_worker(port), healthy_worker(port + 1)]) else None,
                60,
                "both workers",
            )
            assert names[0] != names[1], "each worker has a name of its own"
            [first, second] = children_of(supervisor.pid)
            os.kill(first, signal.SIGKILL)
            wait_for(lambda: len(set(children_of(supervisor.pid)) - {second}) == 1, 30, "a worker started again")
            wait_for(lambda: healthy_worker(port) and healthy_worker(port + 1), 60, "both workers again")
            supervisor.send_signal(signal.SIGTERM)
            assert supervisor.wait(timeout=30) == 0
            assert children_of(supervisor.pid) == []
            assert not healthy_worker(port) and not healthy_worker(port + 1)
        finally:
            if supervisor.poll() is None:
                for child in children_of(supervisor.pid):
                    os.kill(child, signal.SIGKILL)
                supervisor.kill()
                supervisor.wait()
    output = (tmp_path / "workers.log").read_text()
    assert "exited" in output and "starting it again" in output


def test_serve_workers_refuses_sqlite_and_a_missing_message_queue(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from server.cli import main

    monkeypatch.delenv("JIKAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("JIKAO_MESSAGE_QUEUE", raising=False)
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "PostgreSQL" in result.output and "JIKAO_DATABASE_URL" in result.output
    monkeypatch.setenv("JIKAO_DATABASE_URL", "postgresql://jikao@127.0.0.1:1/jikao")
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "JIKAO_MESSAGE_QUEUE" in result.output
    assert not (tmp_path / "jikao.db").exists(), "nothing was started"
