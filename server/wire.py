"""Socket.IO payloads as they go on the wire: JSON in UTF-8, with parts encoded once ahead of time written as
they are.

A candidate's state is nearly all paper (some 15 kB of it), and the paper does not change while the candidate
answers. It is encoded once per process and paper, when the paper is rendered (at the proctor's confirmation),
and kept only as that text; every state sent afterwards encodes the rest and splices the paper in. At the
start signal every screen of the centre gets its state in the same moment. Text is written as UTF-8, not
escaped: a Chinese character takes 3 bytes on the wire instead of 6.

This module is the packets' ``json`` (see ``server.sockets.JsonPacket``), and so the message queue's too.
"""

from __future__ import annotations

import json

from engineio import json as engineio_json

SEPARATORS = (",", ":")


class RawJSON:
    """A value held as its JSON text, encoded once. Written as it is when it is a value of an event's argument
    (a candidate's state); anywhere else in a payload (an acknowledgement, the message queue between server
    processes) it is read back and encoded as the value it is."""

    __slots__ = ("text",)

    def __init__(self, value):
        self.text = encode_value(value)

    def value(self):
        return json.loads(self.text)


def _as_value(value):
    if type(value) is RawJSON:
        return value.value()
    raise TypeError(f"{type(value).__name__} is not JSON")


def encode_value(value) -> str:
    """A value's JSON text as the wire carries it: compact, and in UTF-8 where that can be written."""
    text = json.dumps(value, separators=SEPARATORS, ensure_ascii=False, default=_as_value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (only from JSON that escaped one) cannot be UTF-8: escape it
            text = json.dumps(value, separators=SEPARATORS, default=_as_value)
    return text


def _argument(value) -> str:
    if type(value) is not dict:
        return encode_value(value)
    raw = [key for key, item in value.items() if type(item) is RawJSON]
    if not raw:
        return encode_value(value)
    spliced = ",".join(f"{encode_value(key)}:{value[key].text}" for key in raw)
    rest = encode_value({key: item for key, item in value.items() if type(item) is not RawJSON})
    return "{" + spliced + ("}" if rest == "{}" else "," + rest[1:])


def dumps(data, **_options) -> str:
    """A packet's data: an event's name and arguments (whose ``RawJSON`` values are spliced in), or an
    acknowledgement's values. (The packets ask for compact separators, which this always writes.)"""
    if type(data) is list:
        return "[" + ",".join(map(_argument, data)) + "]"
    return encode_value(data)


# Incoming packets and queue messages are read with Engine.IO's own guard (no integers of over 100 digits).
loads = engineio_json.loads
