"""What candidates and proctors do, as test helpers over Flask's and Flask-SocketIO's test clients.

Each actor has its own cookie jar, like a person at their own computer.
"""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db, socketio


def csrf_token(client) -> str:
    return client.get("/api/auth/session").get_json()["csrf_token"]


class CandidateActions:
    def __init__(self, app, ticket: str):
        self.app = app
        self.ticket = ticket
        self.http = app.test_client()
        self.socket = None

    def post(self, path: str, body: dict):
        return self.http.post(path, json=body, headers={"X-CSRFToken": csrf_token(self.http)})

    def lookup(self, ticket: str | None = None):
        return self.post("/api/candidate/lookup", {"ticket": ticket or self.ticket})

    def login(self, ticket: str | None = None):
        response = self.post("/api/candidate/login", {"ticket": ticket or self.ticket})
        assert response.status_code == 200, response.get_json()
        return self

    def connect(self):
        self.socket = socketio.test_client(self.app, namespace="/candidate", flask_test_client=self.http)
        assert self.socket.is_connected("/candidate")
        return self

    def emit(self, event: str, *args):
        return self.socket.emit(event, *args, namespace="/candidate", callback=True)

    def received(self) -> list[dict]:
        return self.socket.get_received("/candidate")

    def state(self) -> dict:
        reply = self.emit("get_state", {})
        assert reply["ok"], reply
        return reply["state"]

    def answer(self, item_id: int, response, seq: int) -> dict:
        return self.emit("answer", {"item_id": item_id, "response": response, "seq": seq})

    def submit(self) -> dict:
        return self.emit("submit", {"confirm": True})

    def paper_items(self) -> list[dict]:
        return [item for section in self.state()["paper"]["sections"] for item in section["items"]]


class ProctorActions:
    def __init__(self, app, username: str, password: str):
        self.app = app
        self.http = app.test_client()
        response = self.http.post(
            "/api/auth/login",
            json={"username": username, "password": password},
            headers={"X-CSRFToken": csrf_token(self.http)},
        )
        assert response.status_code == 200, response.get_json()
        self.socket = socketio.test_client(self.app, namespace="/proctor", flask_test_client=self.http)
        assert self.socket.is_connected("/proctor")

    def emit(self, event: str, *args):
        return self.socket.emit(event, *args, namespace="/proctor", callback=True)

    def received(self) -> list[dict]:
        return self.socket.get_received("/proctor")

    def room_id(self) -> int:
        reply = self.emit("list_rooms", {})
        return reply["rooms"][0]["id"]

    def watch(self) -> dict:
        reply = self.emit("watch_room", {"room_id": self.room_id()})
        assert reply["ok"], reply
        return reply["room"]

    def seat(self, ticket: str) -> dict:
        return next(s for s in self.watch()["seats"] if s["ticket"] == ticket)

    def confirm(self, ticket: str) -> dict:
        return self.emit("confirm_identity", {"candidate_id": self.seat(ticket)["candidate_id"]})

    def confirm_by_seat(self, ticket: str) -> dict:
        """Confirm without watching first (the candidate's id looked up directly)."""
        from server.exam.models import Candidate

        [candidate] = stored(self.app, Candidate, ticket=ticket)
        return self.emit("confirm_identity", {"candidate_id": candidate.id})

    def start(self) -> dict:
        return self.emit("start_room", {"room_id": self.room_id()})


class Staff:
    """A staff member at a desk screen (HTTP only)."""

    def __init__(self, app, username: str):
        self.app = app
        self.http = app.test_client()
        response = self.post("/api/auth/login", {"username": username, "password": app.site.logins[username]})
        assert response.status_code == 200, response.get_json()

    def post(self, path: str, body: dict):
        return self.http.post(path, json=body, headers={"X-CSRFToken": csrf_token(self.http)})

    def get(self, path: str):
        return self.http.get(path)

    def upload(self, path: str, name: str, data: bytes, **form):
        """A file sent from a screen's file picker, with the form's other fields."""
        import io

        fields = {"file": (io.BytesIO(data), name), **form}
        return self.http.post(path, data=fields, headers={"X-CSRFToken": csrf_token(self.http)})


def xlsx(rows: list[list]) -> bytes:
    """An Excel file (.xlsx) of ``rows``, as someone saves it."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def stored(app, model, **filters):
    """Read rows as the server stored them (a fresh session, not the one a handler used)."""
    from sqlalchemy import select

    with app.app_context():
        rows = db.session.scalars(select(model).filter_by(**filters)).all()
        db.session.expunge_all()
        return rows


def correct_response(app, item_id: int):
    """The answer key of an item, in the form a candidate sends (for tests that answer correctly)."""
    from server.bank.models import Item
    from server.bank.service import open_item

    with app.app_context():
        item = open_item(db.session.get(Item, item_id))
    if item.type == "true_false":
        return item.key
    if item.type == "single":
        return item.key[0]
    return list(item.key)


def wrong_response(app, item_id: int):
    from server.bank.models import Item
    from server.bank.service import open_item

    with app.app_context():
        item = open_item(db.session.get(Item, item_id))
    if item.type == "true_false":
        return not item.key
    wrong = [o.id for o in item.options if o.id not in item.key]
    return wrong[0] if item.type == "single" else wrong[:1] + list(item.key)[:1]


def make_room(app, name: str, proctor: str, password: str, tickets: list[str]):
    """A second room in the demo sitting, with its own proctor and candidates."""
    from server.auth.service import create_account
    from server.db import write_transaction
    from server.exam.models import Candidate, ExamSession, Room

    with app.app_context(), write_transaction(db.session):
        exam = db.session.scalars(select(ExamSession)).first()
        room = Room(session=exam, name=name, rows=1, cols=len(tickets))
        db.session.add(room)
        for seat, ticket in enumerate(tickets, start=1):
            db.session.add(
                Candidate(
                    session=exam,
                    room=room,
                    ticket=ticket,
                    name=f"考生{seat}",
                    id_number="110105194912310021",
                    seat_no=seat,
                    seat_row=1,
                    seat_col=seat,
                )
            )
        db.session.flush()
        create_account(db.session, proctor, "赵监考", "proctor", password, [room.id])
        return room.id


def make_account(app, username: str, role: str, password: str):
    from server.auth.service import create_account
    from server.db import write_transaction

    with app.app_context(), write_transaction(db.session):
        create_account(db.session, username, username, role, password)


def make_sitting(app, blueprint: dict, ticket: str, proctor: str, password: str):
    """A sitting of another bank with the given blueprint, one seat, one proctor."""
    from server.auth.service import create_account
    from server.db import write_transaction
    from server.exam.models import Candidate, ExamSession, PaperBlueprint, Room
    from server.timeutil import now

    with app.app_context(), write_transaction(db.session):
        stored = PaperBlueprint(
            occupation_code=blueprint["occupation_code"],
            level=blueprint["level"],
            version=1,
            data=blueprint,
            created_at=now(),
            created_by="test",
        )
        exam = ExamSession(
            name="标记试题专场",
            occupation_code=blueprint["occupation_code"],
            occupation_name="测试工",
            level=blueprint["level"],
            scheduled_start=now(),
            duration_s=3600,
            submit_after_s=0,
            blueprint=stored,
            seed=12345,
        )
        room = Room(session=exam, name="第09考场", rows=1, cols=1)
        db.session.add_all([stored, exam, room])
        db.session.add(
            Candidate(
                session=exam,
                room=room,
                ticket=ticket,
                name="标记考生",
                id_number="11010519491231002X",
                seat_no=1,
                seat_row=1,
                seat_col=1,
            )
        )
        db.session.flush()
        create_account(db.session, proctor, "标记监考", "proctor", password, [room.id])


def tiny_png(width: int = 2, height: int = 2, comment: str = "") -> bytes:
    """A valid PNG made here (black pixels, an optional text comment), for tests of pictures in items."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    text = chunk(b"tEXt", b"Comment\x00" + comment.encode()) if comment else b""
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )


def stored_papers(app) -> list[dict]:
    """Every attempt's paper as the server stores it, opened with the sitting's key (papers are sealed)."""
    from server.exam.models import Attempt

    with app.app_context():
        return [attempt.paper for attempt in db.session.scalars(select(Attempt).order_by(Attempt.id))]


def prepared(app, kind: str | None = None) -> list[tuple]:
    """Every prepared paper of the demo sitting (seat, backup, replaced), opened: (row, paper) pairs."""
    from server.exam import assembly
    from server.exam.models import ExamSession, PreparedPaper

    with app.app_context():
        exam = db.session.scalar(select(ExamSession))
        query = select(PreparedPaper).order_by(PreparedPaper.id)
        if kind:
            query = query.where(PreparedPaper.kind == kind)
        rows = db.session.scalars(query).all()
        opened = [(row, assembly.open_prepared(exam, row)) for row in rows]
        db.session.expunge_all()
        return opened


def replaceable_item(app, paper: dict) -> int:
    """The first item of ``paper`` that some prepared paper lacks. The demo bank fills a few blueprint cells
    exactly, so their items are on every paper and leaking one leaves no paper to replace it with; which items
    those are on a candidate's paper depends on the sitting's random seed, so a test must not pick blindly."""
    from item_bank.blueprint import item_ids

    everywhere = set.intersection(*(item_ids(opened) for _, opened in prepared(app)))
    ids = [entry.get("item_id", entry.get("id")) for section in paper["sections"] for entry in section["items"]]
    return next(item_id for item_id in ids if item_id not in everywhere)


def started(candidate: CandidateActions, proctor: ProctorActions) -> None:
    """The candidate logs in and connects, the proctor confirms them and starts the room."""
    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    proctor.start()


def remaining_s(app, clock) -> float:
    """The (only) attempt's remaining time by the server's clock."""
    from server.exam import service
    from server.exam.models import Attempt

    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        return service.attempt_clock(db.session, attempt, clock()).remaining.total_seconds()


def resident_id(first17: str) -> str:
    """A resident ID number (GB 11643) with its right check character."""
    from server.sittings.ids import check_character

    return first17 + check_character(first17)
