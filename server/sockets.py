"""The Socket.IO boundary shared by every namespace: typed payloads, structured errors, no surprises.

Every client-to-server event is validated against a pydantic schema before a handler sees it. Bad
input, a refused action, an unknown event or an unexpected failure all end the same way: the sender
gets an ``error`` event ``{event, code, message}`` (and, if it asked for an acknowledgement, the ack
``{ok: false, error: {code, message}}``), and no state changes. No stack trace ever reaches a client.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, emit
from pydantic import BaseModel, ConfigDict, ValidationError
from socketio.packet import Packet

from server import wire
from server.errors import ExamError

log = logging.getLogger(__name__)


class JsonPacket(Packet):
    """Socket.IO packets that never carry binary attachments. Every Jikao event is plain JSON; the default
    packet walks each outgoing payload looking for bytes, which for a candidate's state (a whole paper) is
    about 400 values and a few milliseconds. Bytes given by mistake fail loudly in ``json.dumps``. Written by
    ``server.wire``: UTF-8, and a paper encoded once, not with every state."""

    uses_binary_events = False
    json = wire


class Payload(BaseModel):
    """Base of every event schema: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


def refusal(event: str, code: str, message: str) -> dict:
    emit("error", {"event": event, "code": code, "message": message})
    return {"ok": False, "error": {"code": code, "message": message}}


def handles(schema: type[Payload] | None = None):
    """Decorate a namespace method: validate its payload, turn refusals into error events."""

    def decorate(method):
        event = method.__name__.removeprefix("on_")

        @functools.wraps(method)
        def wrapper(self, data: Any = None, *extra: Any):
            if extra:
                return refusal(event, "invalid_payload", "消息格式不正确。")
            payload = None
            if schema is not None:
                try:
                    payload = schema.model_validate({} if data is None else data)
                except ValidationError:
                    return refusal(event, "invalid_payload", "消息格式不正确。")
            try:
                return method(self, payload) if schema is not None else method(self)
            except ExamError as exc:
                return refusal(event, exc.code, exc.message)

        return wrapper

    return decorate


class JikaoNamespace(Namespace):
    """A namespace whose unknown events and unexpected failures get an error event, not silence."""

    def trigger_event(self, event, *args):
        if event not in ("connect", "disconnect") and not hasattr(self, "on_" + (event or "")):
            return self.socketio._handle_event(self._unknown_event, event, self.namespace, *args)
        return super().trigger_event(event, *args)

    def _unknown_event(self, *args):
        return refusal(request.event["message"], "unknown_event", "不支持的操作。")

    def error(self, exc: Exception):
        if isinstance(exc, ConnectionRefusedError):
            raise exc  # a refused connect is an answer, not a failure
        log.exception("socket event failed", exc_info=exc)
        return {"ok": False, "error": {"code": "internal", "message": "服务器处理出错，请重试或联系监考员。"}}
