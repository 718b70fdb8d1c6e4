"""Creating staff accounts. Never commits."""

from __future__ import annotations

from sqlalchemy import select

from server.auth.models import ROLES, Account
from server.errors import ExamError
from server.exam.models import Room, RoomProctor

MIN_PASSWORD = 8


def create_account(session, username, display_name, role, password, room_ids=(), position="监考") -> Account:
    if role not in ROLES:
        raise ExamError("invalid_role", f"未知角色：{role}")
    if len(password) < MIN_PASSWORD:
        raise ExamError("weak_password", f"密码至少需要 {MIN_PASSWORD} 位。")
    if session.scalar(select(Account).where(Account.username == username)) is not None:
        raise ExamError("duplicate", f"用户名 {username} 已存在。")
    account = Account(username=username, display_name=display_name, role=role)
    account.set_password(password)
    session.add(account)
    session.flush()
    for room_id in room_ids:
        if session.get(Room, room_id) is None:
            raise ExamError("unknown_room", f"考场 {room_id} 不存在。")
        session.add(RoomProctor(room_id=room_id, account_id=account.id, position=position))
    return account
