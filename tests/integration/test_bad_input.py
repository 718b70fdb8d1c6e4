"""Bad input gets a clear error, changes nothing, and never crashes the server."""

import json

import pytest

from server.exam.models import Answer, Attempt
from server.extensions import socketio
from tests.helpers import csrf_token, stored


@pytest.fixture
def answering(candidate, proctor):
    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    proctor.start()
    candidate.received()
    return candidate


def errors(actor):
    return [e["args"][0] for e in actor.received() if e["name"] == "error"]


def test_a_ticket_active_at_another_computer_is_refused(candidate, make_candidate):
    candidate.login()
    other = make_candidate(candidate.ticket)  # another computer: another cookie jar
    for response in (other.lookup(), other.post("/api/candidate/login", {"ticket": candidate.ticket})):
        assert response.status_code == 409
        assert response.get_json()["error"]["message"] == "该准考证号已在其他考试机上登录。请举手示意监考员处理。"


def test_an_answer_for_an_item_not_in_the_paper_is_refused(answering, app):
    paper_ids = {item["id"] for item in answering.paper_items()}
    outside = next(i for i in range(1, 200) if i not in paper_ids)
    reply = answering.answer(outside, "A", seq=1)
    assert reply["error"] == {"code": "not_in_paper", "message": "该题不在您的试卷中。"}
    assert errors(answering)[-1]["code"] == "not_in_paper"
    assert stored(app, Answer) == []


@pytest.mark.parametrize("response", ["Z", ["A", "A"], 3, {"A": True}])
def test_a_response_that_does_not_fit_the_item_is_refused(answering, app, response):
    item = answering.paper_items()[0]
    reply = answering.answer(item["id"], response, seq=1)
    assert reply["ok"] is False
    assert reply["error"]["code"] in ("invalid_response", "invalid_payload")
    assert stored(app, Answer) == []


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "answer",
        [1, 2],
        {"item_id": "1", "response": "A", "seq": 1},
        {"item_id": 1, "response": "A"},
        {"item_id": 1, "response": "A", "seq": 0},
        {"item_id": 1, "response": "A", "seq": 1, "extra": True},
        {"item_id": 1, "response": "A" * 100, "seq": 1},
        {"item_id": 1, "response": ["A"] * 50, "seq": 1},
    ],
)
def test_malformed_answer_payloads_get_an_error_event(answering, app, payload):
    reply = answering.emit("answer", payload)
    assert reply["error"]["code"] == "invalid_payload"
    assert errors(answering) == [{"event": "answer", "code": "invalid_payload", "message": "消息格式不正确。"}]
    assert stored(app, Answer) == []
    assert answering.state()["phase"] == "answering"  # still serving this candidate


def test_an_oversized_payload_is_refused(answering, app):
    big = {"item_id": 1, "response": "A", "seq": 1, "padding": "x" * 200_000}
    reply = answering.emit("answer", big)
    assert reply["error"]["code"] == "invalid_payload"
    assert stored(app, Answer) == []


def test_extra_arguments_are_refused(answering):
    reply = answering.emit("answer", {"item_id": 1, "response": "A", "seq": 1}, "second")
    assert reply["error"]["code"] == "invalid_payload"


def test_a_candidate_socket_cannot_use_proctor_events(answering, app):
    reply = answering.emit("start_room", {"room_id": 1})
    assert reply["error"] == {"code": "unknown_event", "message": "不支持的操作。"}
    reply = answering.emit("confirm_identity", {"candidate_id": 2})
    assert reply["error"]["code"] == "unknown_event"
    assert [a.candidate_id for a in stored(app, Attempt)] == [1]


def test_a_candidate_cannot_connect_to_the_proctor_namespace(answering, app):
    intruder = socketio.test_client(app, namespace="/proctor", flask_test_client=answering.http)
    assert not intruder.is_connected("/proctor")


def test_a_socket_without_login_is_refused(app, client):
    anonymous = socketio.test_client(app, namespace="/candidate", flask_test_client=client)
    assert not anonymous.is_connected("/candidate")


def test_a_wrong_proctor_password_is_refused(client):
    response = client.post(
        "/api/auth/login",
        json={"username": "proctor1", "password": "wrong-password"},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "用户名或密码错误。"


def test_posts_without_the_csrf_token_are_refused(client, app):
    response = client.post("/api/auth/login", json={"username": "proctor1", "password": app.site.logins["proctor1"]})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


@pytest.mark.parametrize("body", [None, {"ticket": ""}, {"ticket": 12}, {"ticket": "1" * 40}, {"nothing": 1}])
def test_malformed_login_requests_get_a_clear_error(candidate, body):
    response = candidate.http.post(
        "/api/candidate/lookup",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(candidate.http)},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "请输入准考证号。"


def test_unknown_pages_and_api_paths_answer_without_a_stack_trace(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["ok"] is False
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_answer_key_never_reaches_the_candidate(answering, proctor, app, clock):
    """Inspect every payload sent to a candidate across a whole sitting: no key, no explanation."""
    from server.bank.models import Item
    from server.bank.service import open_item
    from server.extensions import db

    seen = []
    items = answering.paper_items()
    for seq, item in enumerate(items, start=1):
        option = item["options"][0]["id"] if "options" in item else True
        seen.append(answering.answer(item["id"], option if item["type"] != "multiple" else [option], seq))
    seen.append(answering.state())
    clock.advance(minutes=31)
    seen.append(answering.submit())
    seen.extend(e["args"] for e in answering.received())
    seen.append(answering.lookup().get_json())
    text = json.dumps(seen, ensure_ascii=False)

    with app.app_context():
        explanations = [open_item(row).explanation for row in db.session.query(Item)]
    assert not [e for e in explanations if e and e in text]

    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)
        elif isinstance(node, list):
            for v in node:
                yield from keys(v)

    assert not {"key", "keys", "correct", "explanation", "fixed", "score"} & set(keys(seen))
