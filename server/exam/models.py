"""Sittings, rooms, candidates, attempts, answers and clock events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime

LEVEL_NAMES = {5: "五级/初级工", 4: "四级/中级工", 3: "三级/高级工", 2: "二级/技师", 1: "一级/高级技师"}


class ExamSession(Base):
    """One sitting (场次) of one subject for one occupation and level, with its timing policy."""

    __tablename__ = "exam_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    occupation_code: Mapped[str] = mapped_column(String(32))
    occupation_name: Mapped[str] = mapped_column(String(64))
    level: Mapped[int]
    subject: Mapped[str] = mapped_column(String(32), default="理论知识")
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[int]
    submit_after_s: Mapped[int] = mapped_column(default=30 * 60)  # earliest "结束考试"
    warning_s: Mapped[int] = mapped_column(default=15 * 60)  # the end-15-minutes notice
    entry_before_s: Mapped[int] = mapped_column(default=20 * 60, server_default="1200")  # login from start - this
    make_up_max_s: Mapped[int] = mapped_column(default=30 * 60, server_default="1800")  # outages made up at once
    late_entry_s: Mapped[int] = mapped_column(default=30 * 60, server_default="1800")  # no login after start + this
    show_score: Mapped[bool] = mapped_column(default=False)  # scores are normally published later
    # After 换机, make up the time the failed computer cost at once (else the proctor is offered it).
    auto_make_up: Mapped[bool] = mapped_column(default=False, server_default="0")
    blueprint_id: Mapped[int | None] = mapped_column(ForeignKey("blueprint.id"))
    site: Mapped[str] = mapped_column(String(128), default="", server_default="")  # 考点, on tickets and lists
    chief_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))  # the sitting's chief examiner (主考)
    # Results published (成绩公布): before it no candidate or proctor sees a score (SPEC.md "Scores").
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger, default=0)  # every paper's seed derives from it and the seat
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary)  # the sitting's paper key, wrapped by the bank key
    # The last assembly ahead of the start (see server.exam.assembly): overlap achieved per room, backups.
    # Deferred: every state and seat view loads its sitting (joined), and this report (a line per room) was
    # decoded from JSON once per row, a tenth of the server's time in a start storm of 5,000.
    assembly_report: Mapped[dict | None] = mapped_column(JSON, deferred=True)

    rooms: Mapped[list[Room]] = relationship(back_populates="session", order_by="Room.id")
    blueprint: Mapped[PaperBlueprint | None] = relationship()

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, str(self.level))

    @property
    def scores_public(self) -> bool:
        """Whether candidates may see their scores: published (成绩公布), or shown at submission by the
        sitting's policy (each score published as it is made)."""
        return self.published_at is not None or self.show_score


class PaperBlueprint(Base):
    """One version of a blueprint (认定要素细目表 for 组卷); a change is a new version, old ones stay."""

    __tablename__ = "blueprint"
    __table_args__ = (UniqueConstraint("occupation_code", "level", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occupation_code: Mapped[str] = mapped_column(String(32))
    level: Mapped[int]
    version: Mapped[int]
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class Room(Base):
    """A test room: a grid of seats, its proctors, and the moment it was started (统一开考)."""

    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    name: Mapped[str] = mapped_column(String(64))
    number: Mapped[int | None]  # 考场号 within the sitting, in the ticket numbers (rooms before issue 8: none)
    location: Mapped[str] = mapped_column(String(128), default="", server_default="")  # e.g. 实训楼三层 301
    rows: Mapped[int]
    cols: Mapped[int]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[ExamSession] = relationship(back_populates="rooms")
    candidates: Mapped[list[Candidate]] = relationship(back_populates="room", order_by="Candidate.seat_no")


class RoomClosing(Base):
    """A room closed after its sitting (封场): attempts ended, absentees recorded, the room record kept as it
    was at closing (the proctors sign that one)."""

    __tablename__ = "room_closing"

    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict] = mapped_column(JSON)  # as server.proctor.record.build made it; its PDF is drawn from it


class RoomProctor(Base):
    __tablename__ = "room_proctor"

    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    position: Mapped[str] = mapped_column(String(16), default="监考")  # 主监考 / 副监考


class Candidate(Base):
    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(32))
    seat_no: Mapped[int]
    seat_row: Mapped[int]
    seat_col: Mapped[int]
    registrant_id: Mapped[int | None] = mapped_column(ForeignKey("registrant.id"), unique=True)  # who was seated
    absent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # recorded 缺考 after the late-entry cutoff
    absent_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))

    room: Mapped[Room] = relationship(back_populates="candidates")
    session: Mapped[ExamSession] = relationship()
    attempt: Mapped[Attempt | None] = relationship(back_populates="candidate", uselist=False)


class Attempt(Base):
    """A candidate's exam at a computer: login, identity confirmation, paper, answers, submission."""

    __tablename__ = "attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), unique=True)
    status: Mapped[str] = mapped_column(String(24))  # awaiting_confirmation | confirmed | submitted
    device_token: Mapped[str] = mapped_column(String(64))  # the computer (browser) holding the attempt
    logged_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # The seat's paper, sealed with the sitting's key (see server.exam.sealing); read it as ``paper``.
    paper_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    legacy_paper: Mapped[dict | None] = mapped_column("paper", JSON)  # papers stored in clear before sealing
    flags: Mapped[list] = mapped_column(JSON, default=list)
    paper_no: Mapped[int] = mapped_column(default=1, server_default="1")  # 2 and up: replaced by a backup paper
    paper_replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Presence: open exam-client sockets, and since when none is open (None while connected).
    move_allowed: Mapped[bool] = mapped_column(default=False, server_default="0")  # 换机: next login binds anew
    connections: Mapped[int] = mapped_column(default=0, server_default="0")
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    focus_lost: Mapped[int] = mapped_column(default=0, server_default="0")  # times the exam window was left
    # Exam time a failed computer cost (from its last sign of life to the login on another), offered to the
    # proctor to make up with one action; 0 when nothing is offered.
    make_up_s: Mapped[int] = mapped_column(default=0, server_default="0")
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submit_reason: Mapped[str | None] = mapped_column(String(16))  # candidate time_up proctor removed ended rescheduled
    score: Mapped[float | None]
    score_void: Mapped[bool] = mapped_column(default=False, server_default="0")  # 成绩无效 (discipline)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidate: Mapped[Candidate] = relationship(back_populates="attempt")
    answers: Mapped[list[Answer]] = relationship(back_populates="attempt", order_by="Answer.item_id")

    @property
    def paper(self) -> dict | None:
        """The paper, opened with the sitting's key (needs the bank open in this process)."""
        from server.exam.sealing import paper_of

        return paper_of(self)


class PreparedPaper(Base):
    """A paper assembled ahead of the start, sealed with the sitting's key: one per seat, the backup papers
    (备用卷), and every paper a replacement took away from a candidate (kept for the audit)."""

    __tablename__ = "prepared_paper"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # seat | backup | replaced
    label: Mapped[str] = mapped_column(String(32))  # the seat ("r1s07"), the backup ("B03") or the attempt's paper
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    seat_no: Mapped[int | None]
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"))  # who holds (or held) it
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(256))  # why it may no longer be handed out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Answer(Base):
    """The current answer to one item; ``seq`` is the client's change counter, so a replayed or
    reordered message can never undo a newer answer."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    response: Mapped[object | None] = mapped_column(JSON)
    seq: Mapped[int]
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")


class AnswerLog(Base):
    """Every accepted change of an answer, in order: the trail for audits and collusion checks."""

    __tablename__ = "answer_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    response: Mapped[object | None] = mapped_column(JSON)
    seq: Mapped[int]
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoomEvent(Base):
    """One line of a room's live event feed (logins, confirmations, disconnects, time changes, …), kept."""

    __tablename__ = "room_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(String(512))


class Violation(Base):
    """A line of the violation register (违纪违规考生登记表): what a candidate did and what was decided."""

    __tablename__ = "violation"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))  # warning | removal | void_score
    what: Mapped[str] = mapped_column(String(500))  # what happened
    decision: Mapped[str] = mapped_column(String(200))  # what was decided
    actor_id: Mapped[int] = mapped_column(ForeignKey("account.id"))


class Incident(Base):
    """A line of the room record (考场情况记录表): an event in the room and what was decided."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    what: Mapped[str] = mapped_column(String(500))
    decision: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))  # None: recorded by the system


class ClockEvent(Base):
    """A recorded event of a room's or an attempt's clock; remaining time is derived from these."""

    __tablename__ = "clock_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"))  # None: the whole room
    kind: Mapped[str] = mapped_column(String(16))  # start | pause | resume | extend | end
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[int] = mapped_column(default=0)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    reason: Mapped[str] = mapped_column(String(256), default="")


class ServerHeartbeat(Base):
    """One row per serving process (a worker, named by ``WORKER``): when it last showed it was alive (every
    second), and since when it has been serving. At a start with no other worker alive, the time since the
    last beat of any is the outage to make up (see ``server.exam.outage``)."""

    __tablename__ = "server_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(100), unique=True, default="", server_default="")
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SocketPresence(Base):
    """How many exam-client sockets of an attempt a worker holds. ``Attempt.connections`` is their sum; these
    rows say which worker's they are, so that a worker that died (or restarts) takes back its own alone."""

    __tablename__ = "socket_presence"

    worker: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), primary_key=True)
    sockets: Mapped[int] = mapped_column(default=0)
