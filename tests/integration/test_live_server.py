"""The real server process with real Socket.IO clients over websocket on loopback."""

import sqlite3
import time

import requests

from tests.conftest import confirm_and_start


def test_an_acknowledged_answer_is_already_on_disk(live_site, live_clients):
    server = live_site
    ticket = server.tickets[4]
    candidate = live_clients.candidate(server, ticket)
    confirm_and_start(live_clients.proctor(server), ticket)

    state = candidate.call("get_state", {}, namespace="/candidate", timeout=10)["state"]
    item = state["paper"]["sections"][0]["items"][0]
    choice = item["options"][2]["id"]
    ack = candidate.call(
        "answer", {"item_id": item["id"], "response": choice, "seq": 1}, namespace="/candidate", timeout=10
    )
    assert ack["ok"] and ack["applied"]

    # Read the database file itself, as a restarted server would.
    with sqlite3.connect(server.data_dir / "jikao.db") as db:
        rows = db.execute("SELECT item_id, response, seq FROM answer").fetchall()
    assert rows == [(item["id"], f'"{choice}"', 1)]


def test_bad_messages_over_a_real_socket_get_error_events(live_site, live_clients):
    errors = []
    candidate = live_clients.candidate(live_site, live_site.tickets[5], error=errors.append)
    reply = candidate.call("answer", {"item_id": "x"}, namespace="/candidate", timeout=10)
    assert reply["error"]["code"] == "invalid_payload"
    reply = candidate.call("start_room", {"room_id": 1}, namespace="/candidate", timeout=10)
    assert reply["error"]["code"] == "unknown_event"
    assert [e["code"] for e in errors] == ["invalid_payload", "unknown_event"]
    assert candidate.call("sync_clock", {}, namespace="/candidate", timeout=10)["ok"]  # still served


def test_long_polling_is_not_offered(live_site):
    response = requests.get(live_site.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert response.status_code == 400


def test_an_oversized_message_closes_only_that_connection(live_site, live_clients):
    disconnected = []
    flooder = live_clients.candidate(live_site, live_site.tickets[6], disconnect=lambda *a: disconnected.append(1))
    flooder.emit("answer", {"item_id": 1, "response": "A", "seq": 1, "padding": "x" * 100_000}, namespace="/candidate")
    deadline = time.monotonic() + 10
    while not disconnected and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the disconnect, bounded by the deadline
    assert disconnected, "a message over the 64 KiB limit must close the connection"
    assert requests.get(live_site.url + "/healthz", timeout=5).status_code == 200
    other = live_clients.candidate(live_site, live_site.tickets[7])
    assert other.call("sync_clock", {}, namespace="/candidate", timeout=10)["ok"]
