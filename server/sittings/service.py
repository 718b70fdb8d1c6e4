"""Setting up a sitting from the test centre's own data (issue 8): the sitting (场次) with its timing policy,
and its registration list (报名名单). Rooms, the arrangement, tickets and results build on these.

Every change is one unit of work with its ledger entry; a refused change writes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from server import audit
from server.bank.models import Item
from server.errors import ExamError
from server.exam import blueprints
from server.exam.models import LEVEL_NAMES, ExamSession
from server.exam.service import minutes_text
from server.sittings.models import Registrant
from server.sittings.registrations import RegistrationList, Sitting, already_registered, read_registrations
from server.timeutil import local


@dataclass(frozen=True)
class Rule:
    default: int | bool
    low: int
    high: int
    words: str  # what the admin sees


MINUTE = 60
# The timing policy, with the regulations' defaults (SPEC.md, exam day timeline), each overridable per sitting.
POLICY: dict[str, Rule] = {
    "entry_before_s": Rule(20 * MINUTE, 0, 120 * MINUTE, "开考前可入场登录的时间"),
    "late_entry_s": Rule(30 * MINUTE, 0, 120 * MINUTE, "开考后禁止入场的时间"),
    "submit_after_s": Rule(30 * MINUTE, 0, 240 * MINUTE, "开考后最早可交卷的时间"),
    "warning_s": Rule(15 * MINUTE, 0, 60 * MINUTE, "考试结束前提醒的时间"),
    "make_up_max_s": Rule(30 * MINUTE, 0, 120 * MINUTE, "故障耽误时间在此之内的自动补足"),
    "show_score": Rule(False, 0, 1, "交卷后是否向考生显示成绩"),
}
DURATION_S = (15 * MINUTE, 300 * MINUTE)


def policy_of(exam: ExamSession) -> dict:
    return {name: getattr(exam, name) for name in POLICY}


def checked_policy(given: dict) -> dict:
    """The policy with the defaults filled in; refused, naming the setting, if a value is out of range."""
    unknown = set(given) - set(POLICY)
    if unknown:
        raise ExamError("invalid_policy", f"未知的考试规则设置：{'、'.join(sorted(unknown))}。")
    policy = {}
    for name, rule in POLICY.items():
        value = given.get(name, rule.default)
        if isinstance(rule.default, bool):
            if not isinstance(value, bool):
                raise ExamError("invalid_policy", f"{rule.words}：应为“是”或“否”。")
        elif not isinstance(value, int) or isinstance(value, bool) or not rule.low <= value <= rule.high:
            raise ExamError(
                "invalid_policy", f"{rule.words}：应为 {rule.low // MINUTE} 到 {rule.high // MINUTE} 分钟之间。"
            )
        policy[name] = value
    return policy


def create_sitting(
    session,
    *,
    name: str,
    occupation_code: str,
    occupation_name: str,
    level: int,
    start: datetime,
    duration_s: int,
    policy: dict,
    actor: str,
    now: datetime,
) -> ExamSession:
    name, occupation_code, occupation_name = name.strip(), occupation_code.strip(), occupation_name.strip()
    if not name or len(name) > 128:
        raise ExamError("invalid_sitting", "场次名称不能为空，且不超过 128 个字。")
    if level not in LEVEL_NAMES:
        raise ExamError("invalid_sitting", "等级应为 1 到 5（一级/高级技师 到 五级/初级工）。")
    if not occupation_name:
        raise ExamError("invalid_sitting", "请填写职业（工种）名称。")
    items = session.scalar(
        select(func.count(Item.id)).where(Item.occupation_code == occupation_code, Item.level == level)
    )
    if not items:
        raise ExamError(
            "no_bank", f"题库中没有职业代码 {occupation_code}、{LEVEL_NAMES[level]}的试题，无法为其设立场次。"
        )
    if not DURATION_S[0] <= duration_s <= DURATION_S[1]:
        raise ExamError("invalid_sitting", "考试时长应为 15 到 300 分钟。")
    if start <= now:
        raise ExamError("invalid_sitting", "开考时间应在现在之后。")
    rules = checked_policy(policy)
    if rules["submit_after_s"] >= duration_s:
        raise ExamError("invalid_policy", "最早交卷时间应早于考试结束。")
    exam = ExamSession(
        name=name,
        occupation_code=occupation_code,
        occupation_name=occupation_name,
        level=level,
        scheduled_start=start,
        duration_s=duration_s,
        blueprint=blueprints.latest(session, occupation_code, level),
        seed=secrets.randbits(62),
        **rules,
    )
    session.add(exam)
    session.flush()
    audit.record(session, now, actor, "sitting.create", f"session:{exam.id}", name=name, policy=rules)
    return exam


def _registered(session, exam: ExamSession) -> dict[str, str]:
    """Who is registered for the sitting: ID number -> name."""
    query = select(Registrant.id_number, Registrant.name).where(Registrant.session_id == exam.id)
    return dict(session.execute(query).all())


def check_registrations(session, exam: ExamSession, file_name: str, data: bytes, today, run=None) -> RegistrationList:
    """Read a registration list against the sitting as it is now. Reading a large workbook takes seconds:
    the caller does it before its unit of work (never holding the write lock), and ``run`` (for example
    :func:`server.extensions.run_blocking`) may take it off the event loop."""
    sitting = Sitting(exam.occupation_code, exam.occupation_name, exam.level, _registered(session, exam))
    return (run or (lambda function, *args: function(*args)))(read_registrations, file_name, data, sitting, today)


def import_registrations(session, exam: ExamSession, result: RegistrationList, actor: str, now: datetime) -> bool:
    """Register everyone of a list checked by :func:`check_registrations`, in the caller's unit of work; if it
    had any problem, or someone in it was registered meanwhile (the problem is added), register nobody."""
    registered = _registered(session, exam)
    for person in result.people:
        if person.id_number in registered:
            result.problems.append(already_registered(result.file, person.row, registered[person.id_number]))
    if not result.ok:
        result.people = []
        return False
    for person in result.people:
        session.add(
            Registrant(
                session_id=exam.id,
                name=person.name,
                id_type=person.id_type,
                id_number=person.id_number,
                work_unit=person.work_unit,
                photo=person.photo,
                source=f"{result.file} 第{person.row}行"[:255],
                imported_at=now,
                imported_by=actor,
            )
        )
    audit.record(
        session, now, actor, "registration.import", f"session:{exam.id}", file=result.file, people=len(result.people)
    )
    return True


def parse_local(text: str) -> datetime:
    """A start as the admin writes it, in the site's time zone (``2026-12-05 09:00`` or ``2026-12-05T09:00``),
    as UTC; refused in words if it is not one."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    try:
        naive = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise ExamError("invalid_sitting", f"开考时间“{text}”应写作 年-月-日 时:分，如 2026-12-05 09:00。") from None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    return naive.astimezone(UTC)


def sittings(session) -> list[ExamSession]:
    return list(session.scalars(select(ExamSession).order_by(ExamSession.scheduled_start, ExamSession.id)))


def sitting(session, session_id: int) -> ExamSession:
    exam = session.get(ExamSession, session_id)
    if exam is None:
        raise ExamError("unknown_session", f"没有编号为 {session_id} 的场次。")
    return exam


def registered(session, exam: ExamSession) -> int:
    return session.scalar(select(func.count(Registrant.id)).where(Registrant.session_id == exam.id)) or 0


def describe(exam: ExamSession) -> list[str]:
    """The sitting and its timing policy, a line each, as the admin checks them."""
    start = local(exam.scheduled_start)
    return [
        f"{exam.name}",
        f"职业（工种）：{exam.occupation_name}（{exam.occupation_code}） {exam.level_name}  科目：{exam.subject}",
        f"开考：{start:%Y-%m-%d %H:%M}  时长：{minutes_text(exam.duration_s)}",
        f"开考前 {minutes_text(exam.entry_before_s)}可入场登录；开考 {minutes_text(exam.late_entry_s)}后不得入场",
        f"开考 {minutes_text(exam.submit_after_s)}后可交卷；结束前 {minutes_text(exam.warning_s)}提醒",
        f"故障耽误 {minutes_text(exam.make_up_max_s)}以内自动补足，超过由主考决定",
        "交卷后向考生显示成绩" if exam.show_score else "交卷后不显示成绩（成绩公布前任何人不得查看）",
    ]


def one_line(session, exam: ExamSession) -> str:
    start = local(exam.scheduled_start)
    return f"{exam.id}  {start:%Y-%m-%d %H:%M}  {exam.name}  报名 {registered(session, exam)} 人"
