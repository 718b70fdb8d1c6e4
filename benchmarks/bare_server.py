"""The framework's own ceiling: a bare Flask-SocketIO server on gevent that does nothing of Jikao's.

It is served the way ``jikao serve`` serves (gevent, the same listen backlog, the same JSON packets, the same
garbage-collector settings, no URL matching for socket events) and answers the same events the load scripts
send, with no database, no login check and no clock:
- a ``/candidate`` connection is accepted and gets a ``state`` of the size of a real candidate's state
  (``--state-bytes``; a running exam with one answer);
- ``answer``, ``flag``, ``sync_clock``, ``submit`` and ``get_state`` are acknowledged at once;
- ``/healthz`` answers ``ok``.
The benchmarks start it as a process and drive it with the same clients as the real server, so that the
difference between the two is Jikao's own cost.

    .venv/bin/python benchmarks/bare_server.py --port 5099
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def state_of(size: int) -> dict:
    """A state shaped like a candidate's (phase, clock, paper, answers), padded to about ``size`` bytes."""
    item = {
        "id": 0,
        "type": "single",
        "stem": "x" * 120,
        "options": [{"id": f"o{n}", "text": "y" * 40} for n in "ABCD"],
    }
    state = {"phase": "answering", "clock": {"remaining_s": 5400, "running": True}, "answers": {"1": "o1"}}
    items = []
    while len(str(items)) < size:
        items.append({**item, "id": len(items) + 1})
    state["paper"] = {"sections": [{"title": "单项选择题", "items": items}]}
    return state


def create_app(state_bytes: int):
    from flask_socketio import SocketIO, emit

    from server.app import JikaoApp
    from server.sockets import JsonPacket

    app = JikaoApp(__name__)  # Flask, without a URL match (and its garbage) for every socket event
    socketio = SocketIO(app, async_mode="gevent", serializer=JsonPacket, cors_allowed_origins=[])
    state = state_of(state_bytes)

    @app.get("/healthz")
    def healthz():
        return "ok"

    @socketio.on("connect", namespace="/candidate")
    def connect(auth=None):
        emit("state", state)

    @socketio.on("answer", namespace="/candidate")
    def answer(data):
        return {"ok": True}

    @socketio.on("get_state", namespace="/candidate")
    def get_state(data=None):
        return {"ok": True, "state": state}

    @socketio.on("flag", namespace="/candidate")
    def flag(data):
        return {"ok": True, "flags": [data.get("item_id")]}

    @socketio.on("sync_clock", namespace="/candidate")
    def sync_clock(data=None):
        return {"ok": True, "clock": state["clock"]}

    @socketio.on("submit", namespace="/candidate")
    def submit(data):
        return {"ok": True, "state": {"phase": "submitted"}}

    return app, socketio


def main() -> None:
    import gevent

    from server.cli import LISTEN_BACKLOG, _tune_gc

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-bytes", type=int, default=23000, help="as a real candidate's state, 2026-11")
    args = parser.parse_args()
    app, socketio = create_app(args.state_bytes)

    def stop(*_):  # as ``jikao serve``: SIGTERM ends the serving, and the process exits normally
        server = getattr(socketio, "wsgi_server", None)
        if server is not None:
            server.stop(timeout=2)

    gevent.signal_handler(signal.SIGTERM, stop)
    _tune_gc()
    socketio.run(app, host="127.0.0.1", port=args.port, log_output=False, backlog=LISTEN_BACKLOG)


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()
    if os.environ.get("BENCH_PROBE_OUT"):  # load.py with BENCH_PROBE=1
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from probe import install

        install(os.environ["BENCH_PROBE_OUT"])
    main()
