"""Socket.IO payloads as they go on the wire: JSON in UTF-8, with parts encoded once ahead of time written as
they are.

A candidate's state is nearly all paper (some 15 kB of it), and the paper does not change while the candidate
answers. It is encoded once per process and paper, when the paper is rendered (at the proctor's confirmation),
and kept only as that text (``RawJSON``); every payload holding it afterwards (a state pushed, an
acknowledgement, a message to the other server processes) encodes the rest and splices the text in. At the
start signal every screen of the centre gets its state in the same moment. Text is written as UTF-8, not
escaped: a Chinese character takes 3 bytes on the wire instead of 6.

This module is the packets' ``json`` (see ``server.sockets.JsonPacket``), and so the message queue's too.
"""

from __future__ import annotations

import json
import secrets

from engineio import json as engineio_json

SEPARATORS = (",", ":")
# Where a RawJSON goes while the rest is encoded: a string no payload holds (NUL characters and a secret of
# this process), which JSON writes as "\u0000<mark>:<n>\u0000" whether escaping or not.
_MARK = secrets.token_hex(8)


class RawJSON:
    """A value held as its JSON text, encoded once, and written as it is wherever it is in a payload."""

    __slots__ = ("text",)

    def __init__(self, value):
        self.text = dumps(value)


def dumps(value, **_options) -> str:
    """A value's JSON text as the wire carries it: compact, in UTF-8 where that can be written, with the texts of
    its ``RawJSON`` values spliced in. (The packets ask for compact separators, which this always writes.)"""
    raw: list[str] = []

    def placeholder(item) -> str:
        if type(item) is not RawJSON:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
        raw.append(item.text)
        return f"\x00{_MARK}:{len(raw) - 1}\x00"

    text = json.dumps(value, separators=SEPARATORS, ensure_ascii=False, default=placeholder)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (only from JSON that escaped one) cannot be UTF-8: escape it
            raw.clear()
            text = json.dumps(value, separators=SEPARATORS, default=placeholder)
    for n, piece in enumerate(raw):  # (each RawJSON's text was checked when it was made)
        text = text.replace(f'"\\u0000{_MARK}:{n}\\u0000"', piece, 1)
    return text


# Incoming packets and queue messages are read with Engine.IO's own guard (no integers of over 100 digits).
loads = engineio_json.loads
