"""Seeding the demo site: one occupation's bank, one sitting with its papers assembled, one room of 30, two
proctors, a chief examiner, a bank admin and an exam admin."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from item_bank.blueprint import suggest
from item_bank.crypto import HOLDERS
from item_bank.imports import read_json
from server import audit
from server.auth.models import Account
from server.auth.service import create_account
from server.bank import keys
from server.bank.service import import_checked
from server.db import write_transaction
from server.demo.people import candidates
from server.exam import assembly, blueprints
from server.exam.models import Candidate, ExamSession, Room
from server.extensions import db
from server.timeutil import now

ITEMS_FILE = Path(__file__).with_name("data") / "items.json"
PAPER_SECTIONS = [
    {"type": "single", "count": 30, "points": 2},
    {"type": "multiple", "count": 10, "points": 2},
    {"type": "true_false", "count": 20, "points": 1},
]
ROWS, COLS = 5, 6
LOGINS_FILE = "demo-logins.json"


def ticket_for(seat: int) -> str:
    # year 2026, site 11, sitting 01, room 01, seat two digits
    return f"20261101{1:02d}{seat:02d}"


def sample_tickets(count: int) -> list[str]:
    return [ticket_for(seat) for seat in range(1, count + 1)]


@dataclass
class DemoSite:
    logins: list[dict]  # staff: role, username, password
    custodians: dict[str, str]  # key holder -> passphrase (kept on disk for the demo only)


def ensure_demo(
    app: Flask,
    duration_s: int = 90 * 60,
    submit_after_s: int = 30 * 60,
    show_score: bool = False,
    start: datetime | None = None,
) -> DemoSite:
    """Seed the demo site once; on later runs keep it. Either way the bank is left open. The sitting starts at
    ``start`` (default: in 20 minutes, so candidates may log in at once)."""
    logins_path = Path(app.config["DATA_DIR"]) / LOGINS_FILE
    if db.session.scalar(select(Account).limit(1)) is not None and logins_path.exists():
        saved = json.loads(logins_path.read_text(encoding="utf-8"))
        site = DemoSite(saved["logins"], saved["custodians"])
        keys.unlock(db.session, {h: site.custodians[h] for h in ("custodian_a", "custodian_b")})
        return site
    custodians = {holder: secrets.token_urlsafe(12) for holder in HOLDERS}
    bank = read_json(ITEMS_FILE.name, ITEMS_FILE.read_bytes())
    if not bank.ok:  # the shipped bank is checked by the tests; this would be a packaging fault
        raise RuntimeError("; ".join(str(p) for p in bank.problems))
    start = start or now().replace(second=0, microsecond=0) + timedelta(minutes=20)
    with write_transaction(db.session):
        keys.initialise(db.session, custodians, now())
        audit.record(db.session, now(), "demo", "bank.init")
        import_checked(db.session, bank, status="active")  # the demo bank counts as reviewed
        db.session.flush()
        plan = suggest(
            blueprints.pool_metadata(db.session, bank.occupation_code, bank.level),
            PAPER_SECTIONS,
            bank.occupation_code,
            bank.level,
        )
        blueprint = blueprints.add_version(db.session, plan, "demo", now())
        audit.record(db.session, now(), "demo", "bank.import", file=ITEMS_FILE.name, items=len(bank.items))
        exam = ExamSession(
            name=f"{start:%Y年%m月} 污水处理工（四级/中级工）理论知识考试 第1场",
            occupation_code=bank.occupation_code,
            occupation_name=bank.occupation_name,
            level=bank.level,
            scheduled_start=start,
            duration_s=duration_s,
            submit_after_s=submit_after_s,
            show_score=show_score,
            blueprint=blueprint,
            seed=secrets.randbits(62),
        )
        room = Room(session=exam, name="第01考场", number=1, rows=ROWS, cols=COLS)
        db.session.add_all([exam, room])
        for seat, (name, id_number) in enumerate(candidates(ROWS * COLS), start=1):
            db.session.add(
                Candidate(
                    session=exam,
                    room=room,
                    ticket=ticket_for(seat),
                    name=name,
                    id_number=id_number,
                    seat_no=seat,
                    seat_row=(seat - 1) // COLS + 1,
                    seat_col=(seat - 1) % COLS + 1,
                )
            )
        db.session.flush()
        logins = []
        for username, display, role, position in [
            ("proctor1", "王建国", "proctor", "主监考"),
            ("proctor2", "李秀兰", "proctor", "副监考"),
            ("chief", "陈志明", "chief", "主考"),
            ("tiku", "周海涛", "bank_admin", "题库管理员"),
            ("kaowu", "刘芳", "exam_admin", "考务管理员"),
        ]:
            password = secrets.token_urlsafe(9)
            rooms = [room.id] if role == "proctor" else []
            create_account(db.session, username, display, role, password, rooms, position=position)
            logins.append({"role": position, "username": username, "password": password})
        # Papers assembled ahead of the start, as on exam day: neighbours' papers kept apart, backups ready.
        assembly.prepare(db.session, exam, "demo", now())
    fd = os.open(logins_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"logins": logins, "custodians": custodians}, fh, ensure_ascii=False)
    return DemoSite(logins, custodians)
