"""The real server process with real Socket.IO clients over websocket on loopback."""

import json
import sqlite3
import threading
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


def test_after_a_power_cut_every_screen_of_the_room_comes_back_at_once_to_its_own_exam(live_site, live_clients):
    server = live_site
    tickets = server.tickets[:12]
    states: dict[str, dict] = {}
    screens = {}
    for ticket in tickets:
        screens[ticket] = live_clients.candidate(
            server, ticket, state=lambda state, ticket=ticket: states.__setitem__(ticket, state)
        )
    proctor = live_clients.proctor(server)
    room = proctor.call("list_rooms", {}, namespace="/proctor", timeout=10)["rooms"][0]
    seats = proctor.call("watch_room", {"room_id": room["id"]}, namespace="/proctor", timeout=10)["room"]["seats"]
    for seat in seats:
        if seat["ticket"] in tickets:
            assert proctor.call("confirm_identity", {"candidate_id": seat["candidate_id"]}, namespace="/proctor")["ok"]
    assert proctor.call("start_room", {"room_id": room["id"]}, namespace="/proctor")["ok"]
    chosen = {}  # each candidate answers a different question
    for n, (ticket, screen) in enumerate(screens.items()):
        paper = screen.call("get_state", {}, namespace="/candidate", timeout=10)["state"]["paper"]
        item = paper["sections"][0]["items"][n]
        chosen[ticket] = (str(item["id"]), item["options"][n % 4]["id"])
        ack = screen.call("answer", {"item_id": item["id"], "response": chosen[ticket][1], "seq": 1}, "/candidate")
        assert ack["ok"] and ack["applied"]

    server.crash()
    server.start()
    states.clear()
    # Every screen reconnects in the same moment, as a room's browsers do when the server is back.
    reconnecting = [
        threading.Thread(
            target=screen.connect,
            args=(server.url,),
            kwargs={"namespaces": ["/candidate"], "transports": ["websocket"], "wait_timeout": 20},
        )
        for screen in screens.values()
    ]
    for thread in reconnecting:
        thread.start()
    for thread in reconnecting:
        thread.join(timeout=30)
    for screen in screens.values():
        live_clients.opened.append(screen.eio.ws)
    deadline = time.monotonic() + 20
    while len(states) < len(tickets) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the pushed states, bounded by the deadline
    assert sorted(states) == sorted(tickets), "every screen gets its state back without logging in again"
    for ticket, state in states.items():
        assert state["candidate"]["ticket"] == ticket  # its own exam, not a neighbour's
        assert state["phase"] == "answering"
        item_id, choice = chosen[ticket]
        assert state["answers"] == {item_id: choice}

    console = live_clients.proctor(server)
    seats = console.call("watch_room", {"room_id": room["id"]}, namespace="/proctor", timeout=10)["room"]["seats"]
    back = {seat["ticket"]: seat for seat in seats if seat["ticket"] in tickets}
    assert {seat["state"] for seat in back.values()} == {"answering"}, "the console shows every screen present"
    assert all(seat["answered"] == 1 for seat in back.values())


def test_marks_and_answers_sent_together_are_all_stored(live_site, live_clients):
    """A candidate clicking fast: answers and marks for review sent without waiting for each other share the
    server's group commits; every one is acknowledged and every one is on disk, no mark lost to another."""
    server = live_site
    ticket = server.tickets[5]
    candidate = live_clients.candidate(server, ticket)
    confirm_and_start(live_clients.proctor(server), ticket)
    state = candidate.call("get_state", {}, namespace="/candidate", timeout=10)["state"]
    items = [i for s in state["paper"]["sections"] for i in s["items"] if i["type"] == "single"][:12]
    acks: list[dict] = []
    for seq, item in enumerate(items, start=1):
        answer = {"item_id": item["id"], "response": item["options"][0]["id"], "seq": seq}
        candidate.emit("answer", answer, namespace="/candidate", callback=acks.append)
        candidate.emit("flag", {"item_id": item["id"], "flagged": True}, namespace="/candidate", callback=acks.append)
    deadline = time.monotonic() + 20
    while len(acks) < 2 * len(items) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(acks) == 2 * len(items) and all(ack["ok"] for ack in acks), acks
    with sqlite3.connect(server.data_dir / "jikao.db") as db:
        answered = db.execute("SELECT count(*) FROM answer WHERE seq > 0").fetchone()[0]
        [(flags,)] = db.execute("SELECT flags FROM attempt WHERE flags != '[]'").fetchall()
    assert answered == len(items)
    assert json.loads(flags) == sorted(item["id"] for item in items)
