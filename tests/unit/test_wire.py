"""What goes on the wire (server/wire.py): a state with its paper encoded once reads exactly as the state itself."""

import json

import pytest
from socketio import packet

from server import wire
from server.sockets import JsonPacket

PAPER = {
    "sections": [
        {
            "type": "single",
            "label": "单项选择题",
            "points": 1.0,
            "items": [{"id": 7, "stem": "安全电压是多少伏？", "options": {"A": "36 伏", "B": "220 伏"}}],
        }
    ]
}


def state(paper=PAPER, **more):
    return {"phase": "answering", "answers": {"7": "A"}, "flags": [7], "paper": paper, **more}


def read(encoded: str):
    """As the exam client reads the packet: the Socket.IO parser's own decoding."""
    return packet.Packet(encoded_packet=encoded).data


def test_a_state_with_its_paper_spliced_in_reads_as_the_whole_state():
    kept = wire.RawJSON(PAPER)
    sent = JsonPacket(packet.EVENT, ["state", state(kept)], namespace="/candidate").encode()
    assert read(sent) == ["state", state()]
    assert sent.startswith("2/candidate,") and kept.text in sent  # the kept text as it is, not encoded again


def test_a_state_that_is_only_its_paper():
    assert json.loads(wire.dumps(["state", {"paper": wire.RawJSON(PAPER)}])) == ["state", {"paper": PAPER}]


def test_chinese_goes_as_utf8_not_escaped():
    text = wire.dumps(["notice", {"text": "考试还剩 15 分钟"}])
    assert "考试还剩" in text and "\\u" not in text
    assert json.loads(text) == ["notice", {"text": "考试还剩 15 分钟"}]


def test_a_lone_surrogate_is_escaped_so_the_frame_stays_valid_utf8():
    for text in (wire.dumps(["notice", {"text": "半个\ud800字"}]), wire.RawJSON({"stem": "半个\ud800字"}).text):
        text.encode("utf-8")  # would raise if the surrogate were written raw
        assert "\\ud800" in text
    with_paper = wire.dumps(["state", state(wire.RawJSON(PAPER), note="半个\ud800字")])  # escaped, paper spliced
    with_paper.encode("utf-8")
    assert json.loads(with_paper) == ["state", state(note="半个\ud800字")]


def test_nested_or_queued_the_kept_paper_is_spliced_in_as_well():
    prepared = state(wire.RawJSON(PAPER))
    # an acknowledgement {ok, state}, or the message queue between server processes
    assert json.loads(wire.dumps([{"ok": True, "state": prepared}])) == [{"ok": True, "state": state()}]
    assert json.loads(wire.dumps({"method": "emit", "data": ["state", prepared]})) == {
        "method": "emit",
        "data": ["state", state()],
    }


def test_many_kept_texts_each_go_to_their_own_place():
    papers = [{"no": n, "stem": f"第{n}题"} for n in range(12)]  # the 1st and the 11th placeholders share a prefix
    assert json.loads(wire.dumps(["states", [{"paper": wire.RawJSON(p)} for p in papers]])) == [
        "states",
        [{"paper": p} for p in papers],
    ]


def test_text_that_looks_like_a_placeholder_is_left_alone():
    lookalike = {"text": "\x00deadbeefdeadbeef:0\x00", "paper": wire.RawJSON(PAPER)}
    assert json.loads(wire.dumps(["notice", lookalike])) == ["notice", {**lookalike, "paper": PAPER}]


def test_anything_else_that_is_not_json_is_still_refused():
    with pytest.raises(TypeError, match="bytes"):
        wire.dumps(["state", {"photo": b"\x89PNG"}])


def test_incoming_integers_longer_than_engineio_allows_are_refused():
    """A client's packet is read with Engine.IO's guard: an integer of thousands of digits costs the server real
    time to parse, and no Jikao message holds one."""
    assert JsonPacket(encoded_packet='2/candidate,["answer",{"seq":' + "9" * 100 + "}]").data[1]["seq"] > 0
    with pytest.raises(ValueError, match="too large"):
        JsonPacket(encoded_packet='2/candidate,["answer",{"seq":' + "9" * 101 + "}]")
