"""The real server process with real Socket.IO clients over websocket on loopback."""

import sqlite3

import requests
import socketio


def http_login(server, path: str, body: dict) -> requests.Session:
    http = requests.Session()
    token = http.get(server.url + "/api/auth/session", timeout=5).json()["csrf_token"]
    response = http.post(server.url + path, json=body, headers={"X-CSRFToken": token}, timeout=5)
    assert response.status_code == 200, response.text
    return http


def connect(server, http: requests.Session, namespace: str) -> socketio.Client:
    client = socketio.Client(http_session=http, reconnection=False)
    client.connect(server.url, namespaces=[namespace], transports=["websocket"], wait_timeout=10)
    return client


def test_an_acknowledged_answer_is_already_on_disk(live_site):
    server = live_site
    ticket = server.tickets[4]
    candidate = connect(server, http_login(server, "/api/candidate/login", {"ticket": ticket}), "/candidate")
    proctor_http = http_login(
        server, "/api/auth/login", {"username": "proctor1", "password": server.logins["proctor1"]}
    )
    proctor = connect(server, proctor_http, "/proctor")
    try:
        room = proctor.call("list_rooms", {}, namespace="/proctor", timeout=10)["rooms"][0]
        seats = proctor.call("watch_room", {"room_id": room["id"]}, namespace="/proctor", timeout=10)["room"]["seats"]
        seat = next(s for s in seats if s["ticket"] == ticket)
        assert proctor.call("confirm_identity", {"candidate_id": seat["candidate_id"]}, namespace="/proctor")["ok"]
        assert proctor.call("start_room", {"room_id": room["id"]}, namespace="/proctor")["ok"]

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
    finally:
        candidate.disconnect()
        proctor.disconnect()


def test_bad_messages_over_a_real_socket_get_error_events(live_site):
    server = live_site
    errors = []
    http = http_login(server, "/api/candidate/login", {"ticket": server.tickets[5]})
    candidate = socketio.Client(http_session=http, reconnection=False)
    candidate.on("error", lambda data: errors.append(data), namespace="/candidate")
    candidate.connect(server.url, namespaces=["/candidate"], transports=["websocket"], wait_timeout=10)
    try:
        reply = candidate.call("answer", {"item_id": "x"}, namespace="/candidate", timeout=10)
        assert reply["error"]["code"] == "invalid_payload"
        reply = candidate.call("start_room", {"room_id": 1}, namespace="/candidate", timeout=10)
        assert reply["error"]["code"] == "unknown_event"
        assert [e["code"] for e in errors] == ["invalid_payload", "unknown_event"]
        assert candidate.call("sync_clock", {}, namespace="/candidate", timeout=10)["ok"]  # still served
    finally:
        candidate.disconnect()


def test_long_polling_is_not_offered(live_site):
    response = requests.get(live_site.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert response.status_code == 400
