"""A candidate's sitting through the real app, with the server's clock moved by the test."""

from server.audit import AuditEntry
from server.exam.models import Answer, AnswerLog, Attempt
from tests.helpers import correct_response, stored, wrong_response


def start_exam(candidate, proctor):
    candidate.login().connect()
    assert proctor.confirm(candidate.ticket)["ok"]
    assert proctor.start()["ok"]
    return candidate


def test_ticket_lookup_shows_who_holds_it(candidate):
    response = candidate.lookup()
    assert response.status_code == 200
    profile = response.get_json()["candidate"]
    assert profile["name"] == "张建华"
    assert profile["occupation"] == "污水处理工"
    assert profile["level"] == "四级/中级工"
    assert (profile["room"], profile["seat"]) == ("第01考场", 1)
    assert "*" in profile["id_number_masked"]  # the full ID number is not shown at the door


def test_unknown_ticket_gets_a_clear_message(candidate):
    response = candidate.lookup("000000000000")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "未找到该准考证号，请核对后重新输入。"


def test_the_phases_from_login_to_submission(candidate, proctor, clock):
    candidate.login().connect()
    first = candidate.received()[0]
    assert first["name"] == "state"
    assert first["args"][0]["phase"] == "awaiting_confirmation"
    assert "paper" not in first["args"][0]

    assert proctor.confirm(candidate.ticket)["ok"]
    waiting = candidate.received()[-1]["args"][0]
    assert waiting["phase"] == "waiting_start"
    assert "paper" not in waiting  # no item content before the start signal

    assert proctor.start()["ok"]
    answering = candidate.received()[-1]["args"][0]
    assert answering["phase"] == "answering"
    assert answering["clock"]["remaining_ms"] == 90 * 60 * 1000
    sections = answering["paper"]["sections"]
    assert [(s["type"], len(s["items"])) for s in sections] == [("single", 30), ("multiple", 10), ("true_false", 20)]

    clock.advance(minutes=31)
    assert candidate.submit()["ok"]
    assert candidate.state()["phase"] == "submitted"


def test_an_answer_is_acknowledged_only_once_stored(candidate, proctor, app):
    start_exam(candidate, proctor)
    item = candidate.paper_items()[0]
    ack = candidate.answer(item["id"], item["options"][1]["id"], seq=1)
    assert ack == {"ok": True, "item_id": item["id"], "seq": 1, "applied": True, "answered": 1, "total": 60}
    [row] = stored(app, Answer, item_id=item["id"])
    assert (row.response, row.seq) == (item["options"][1]["id"], 1)


def test_a_replayed_or_older_change_never_undoes_a_newer_one(candidate, proctor, app):
    start_exam(candidate, proctor)
    item = candidate.paper_items()[0]
    a, b = item["options"][0]["id"], item["options"][1]["id"]
    assert candidate.answer(item["id"], a, seq=1)["applied"]
    assert candidate.answer(item["id"], b, seq=2)["applied"]
    late = candidate.answer(item["id"], a, seq=1)  # the first message, arriving again
    assert late["ok"] and not late["applied"] and late["seq"] == 2
    [row] = stored(app, Answer, item_id=item["id"])
    assert row.response == b
    assert [log.seq for log in stored(app, AnswerLog, item_id=item["id"])] == [1, 2]


def test_a_cleared_answer_no_longer_counts_as_answered(candidate, proctor, app):
    start_exam(candidate, proctor)
    first, second = candidate.paper_items()[:2]
    assert candidate.answer(first["id"], first["options"][0]["id"], seq=1)["answered"] == 1
    assert candidate.answer(second["id"], second["options"][0]["id"], seq=2)["answered"] == 2
    cleared = candidate.answer(first["id"], None, seq=3)
    assert (cleared["applied"], cleared["answered"], cleared["total"]) == (True, 1, 60)
    [row] = stored(app, Answer, item_id=first["id"])
    assert (row.response, row.seq) == (None, 3)
    assert proctor.seat(candidate.ticket)["answered"] == 1  # the console counts it the same way


def test_stored_score_matches_the_answers_given(candidate, proctor, app, clock):
    start_exam(candidate, proctor)
    sections = candidate.state()["paper"]["sections"]
    expected, seq = 0.0, 0
    for section in sections:
        for n, item in enumerate(section["items"]):
            seq += 1
            if n % 3 == 2:
                continue  # left unanswered
            right = n % 3 == 0
            response = correct_response(app, item["id"]) if right else wrong_response(app, item["id"])
            assert candidate.answer(item["id"], response, seq)["ok"]
            expected += section["points"] if right else 0
    clock.advance(minutes=45)
    assert candidate.submit()["ok"]
    [attempt] = stored(app, Attempt)
    assert attempt.score == expected
    assert attempt.submit_reason == "candidate"


def test_the_score_stays_hidden_unless_the_session_shows_it(candidate, proctor, clock):
    start_exam(candidate, proctor)
    clock.advance(minutes=40)
    state = candidate.submit()["state"]
    assert "score" not in state
    assert (state["answered"], state["total"]) == (0, 60)


def test_submitting_before_the_earliest_time_is_refused(candidate, proctor, clock):
    start_exam(candidate, proctor)
    clock.advance(minutes=29)
    reply = candidate.submit()
    assert reply["error"] == {"code": "too_early", "message": "开考 30 分钟后才可以交卷。"}
    assert candidate.state()["phase"] == "answering"


def test_after_submitting_the_candidate_cannot_re_enter(candidate, proctor, clock, make_candidate):
    start_exam(candidate, proctor)
    clock.advance(minutes=31)
    candidate.submit()
    again = candidate.lookup()
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "该考生已交卷，不能再次进入考试。"
    elsewhere = make_candidate(candidate.ticket).lookup()
    assert elsewhere.status_code == 409


def test_answers_before_the_start_are_refused(candidate, proctor, app):
    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    reply = candidate.answer(1, "A", seq=1)
    assert reply["error"]["code"] == "not_started"
    assert stored(app, Answer) == []


def test_at_time_up_the_attempt_is_submitted_and_answers_refused(candidate, proctor, app, clock):
    from server.exam.sweeper import sweep

    start_exam(candidate, proctor)
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], correct_response(app, item["id"]), seq=1)["ok"]
    clock.advance(minutes=90)
    with app.app_context():
        sweep(clock())
    pushed = [e["args"][0] for e in candidate.received() if e["name"] == "state"][-1]
    assert pushed["phase"] == "submitted" and pushed["submit_reason"] == "time_up"
    late = candidate.answer(item["id"], wrong_response(app, item["id"]), seq=2)
    assert late["error"] == {"code": "time_up", "message": "考试时间已到，不能再作答。"}
    [attempt] = stored(app, Attempt)
    assert attempt.score == 2.0  # the one answer made in time counts


def test_time_up_is_enforced_even_before_the_sweeper_runs(candidate, proctor, app, clock):
    start_exam(candidate, proctor)
    item = candidate.paper_items()[0]
    clock.advance(minutes=90, seconds=1)
    assert candidate.answer(item["id"], correct_response(app, item["id"]), seq=1)["error"]["code"] == "time_up"
    [attempt] = stored(app, Attempt)
    assert (attempt.status, attempt.submit_reason) == ("submitted", "time_up")
    assert stored(app, Answer) == []


def test_the_fifteen_minute_notice_is_sent_once(candidate, proctor, app, clock):
    from server.exam.sweeper import sweep

    start_exam(candidate, proctor)
    candidate.received()
    clock.advance(minutes=74)
    with app.app_context():
        sweep(clock())
    assert [e for e in candidate.received() if e["name"] == "notice"] == []
    clock.advance(minutes=1)
    with app.app_context():
        sweep(clock())
        sweep(clock())
    notices = [e["args"][0] for e in candidate.received() if e["name"] == "notice"]
    assert len(notices) == 1
    assert notices[0]["kind"] == "time_warning"
    assert notices[0]["clock"]["remaining_ms"] == 15 * 60 * 1000


def test_a_reloaded_page_gets_the_same_paper_answers_and_time(candidate, proctor, app, clock):
    start_exam(candidate, proctor)
    before = candidate.state()
    item = candidate.paper_items()[3]
    candidate.answer(item["id"], correct_response(app, item["id"]), seq=1)
    candidate.emit("flag", {"item_id": item["id"], "flagged": True})
    clock.advance(minutes=10)
    candidate.socket.disconnect("/candidate")
    candidate.connect()  # the same browser (cookie) connects again
    after = candidate.received()[0]["args"][0]
    assert after["paper"] == before["paper"]
    assert after["answers"] == {str(item["id"]): correct_response(app, item["id"])}
    assert after["flags"] == [item["id"]]
    assert after["last_seq"] == 1
    assert after["clock"]["remaining_ms"] == 80 * 60 * 1000


def test_marks_for_review_are_stored_and_refused_when_the_exam_does_not_run(candidate, proctor, app, clock):
    start_exam(candidate, proctor)
    first, second = (item["id"] for item in candidate.paper_items()[2:4])
    assert candidate.emit("flag", {"item_id": second, "flagged": True}) == {"ok": True, "flags": [second]}
    both = sorted([first, second])  # in the order of the item ids
    assert candidate.emit("flag", {"item_id": first, "flagged": True}) == {"ok": True, "flags": both}
    assert candidate.emit("flag", {"item_id": first, "flagged": True})["flags"] == both  # once only
    assert candidate.emit("flag", {"item_id": second, "flagged": False}) == {"ok": True, "flags": [first]}
    assert stored(app, Attempt)[0].flags == [first]
    assert candidate.emit("flag", {"item_id": 999999, "flagged": True})["error"]["code"] == "not_in_paper"
    assert proctor.emit("pause_room", {"room_id": proctor.room_id(), "reason": "停电"})["ok"]
    assert candidate.emit("flag", {"item_id": second, "flagged": True})["error"]["code"] == "paused"
    assert proctor.emit("resume_room", {"room_id": proctor.room_id(), "reason": "恢复供电"})["ok"]
    clock.advance(minutes=91)
    assert candidate.emit("flag", {"item_id": second, "flagged": True})["error"]["code"] == "time_up"
    assert stored(app, Attempt)[0].flags == [first]
    assert stored(app, Attempt)[0].status == "submitted"


def test_every_step_is_in_the_ledger(candidate, proctor, app, clock):
    start_exam(candidate, proctor)
    clock.advance(minutes=31)
    candidate.submit()
    actions = [e.action for e in stored(app, AuditEntry)]
    for action in ["candidate.login", "identity.confirm", "room.start", "attempt.submit"]:
        assert action in actions
