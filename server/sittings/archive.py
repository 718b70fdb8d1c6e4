"""The archive of a sitting for the five-year retention rule (001 第三十条): one ZIP file in open formats
(JSON and PDF) holding the papers as delivered, every answer with its time, the clock events, the room
records, the results and the ledger entries of the sitting, with a manifest of every file's SHA-256 signed
with this installation's Ed25519 key. Any later change to any file, or to the manifest, is detected by
:func:`verify` (``jikao archive verify``), which needs nothing but the file (and, to pin the signer, the
public key or its fingerprint as recorded on paper).

The archive holds the items of the papers in clear, as delivered (with their keys, so a score can be
checked again in five years): keep it as confidentially as the bank itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from item_bank.package import fingerprint
from server import audit
from server.audit import AuditEntry
from server.auth.models import Account
from server.bank import transfer
from server.bank.service import load_items
from server.errors import ExamError
from server.exam import assembly
from server.exam.models import AnswerLog, ClockEvent, ExamSession, PreparedPaper, Room
from server.exam.service import candidate_paper
from server.sittings import closing, printouts, rooms
from server.sittings.models import Registrant
from server.timeutil import iso

FORMAT = "jikao-archive/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
README = """机考系统 场次归档（{name}）

本归档按《职业技能等级认定》电子档案保存规定（至少 5 年）生成，全部为开放格式：
  sitting.json   场次、考场、监考员、考生名单
  papers.json    每名考生实际收到的试卷（含试题原文与答案，注意保密）
  answers.json   每名考生每一次作答及其时间、最终答案、交卷与成绩
  clock.json     各考场及考生的计时事件（开考、暂停、延时、结束）
  rooms/         各考场封场时的考场情况记录表（JSON 与 PDF）
  results.json   成绩汇总表（PDF 版为 results.pdf）
  ledger.json    与本场次有关的全部工作台帐记录
manifest.json 列出以上每个文件的 SHA-256，manifest.sig 是考点签名密钥（Ed25519）对 manifest.json 的签名。
校验：jikao archive verify 本文件 [--key 公钥]。任何文件被改动、增加或删除，校验都会指出。
"""


class ArchiveError(ExamError):
    def __init__(self, message: str):
        super().__init__("bad_archive", message)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def _key(value):
    return list(value) if isinstance(value, tuple) else value


def signing_key(session, exam: ExamSession, actor: str, now: datetime) -> None:
    """Make this installation's signing key the first time an archive is signed (``jikao bank identity`` makes
    one too); it is sealed with the bank key, so the bank must be open."""
    if transfer.site_key(session) is None:
        transfer.create_site_key(session, exam.site or "本考点", actor, now)


def _who(session, account_id: int | None) -> str | None:
    if account_id is None:
        return None
    account = session.get(Account, account_id)
    return f"{account.display_name}（{account.username}）" if account else str(account_id)


def gather(session, exam: ExamSession, actor: str, now: datetime) -> dict[str, object]:
    """Everything the archive holds, by file name: JSON-ready values, and the room records and results to
    draw as PDFs (:func:`pack` draws and signs them, off the database). Refused while a room is open."""
    if not exam.rooms:
        raise ExamError("no_rooms", "本场次没有考场，没有可归档的考试。")
    open_rooms = [room.name for room in exam.rooms if closing.closing_of(session, room) is None]
    if open_rooms:
        raise ExamError("rooms_open", f"尚有考场未封场（{'、'.join(open_rooms)}），不能归档。")
    candidates = closing.seated(session, exam)
    registrants = {r.id: r for r in session.scalars(select(Registrant).where(Registrant.session_id == exam.id))}
    attempts = [c.attempt for c in candidates if c.attempt is not None]
    ticket_of = {a.id: a.candidate.ticket for a in attempts}
    files: dict[str, object] = {}
    files["sitting.json"] = {
        "format": FORMAT,
        "id": exam.id,
        "name": exam.name,
        "occupation_code": exam.occupation_code,
        "occupation_name": exam.occupation_name,
        "level": exam.level_name,
        "subject": exam.subject,
        "scheduled_start": iso(exam.scheduled_start),
        "duration_s": exam.duration_s,
        "policy": {
            name: getattr(exam, name)
            for name in ("entry_before_s", "late_entry_s", "submit_after_s", "warning_s", "make_up_max_s", "show_score")
        },  # fmt: skip
        "site": exam.site,
        "chief": _who(session, exam.chief_id),
        "published_at": iso(exam.published_at),
        "published_by": exam.published_by,
        "rooms": [
            {
                "number": room.number,
                "name": room.name,
                "location": room.location,
                "grid": [room.rows, room.cols],
                "started_at": iso(room.started_at),
                "closed_at": iso(closing.closing_of(session, room).closed_at),
                "closed_by": closing.closing_of(session, room).closed_by,
                "proctors": [
                    {"position": position, "name": a.display_name, "username": a.username}
                    for position, a in rooms.room_proctors(session, room)
                ],
            }
            for room in exam.rooms
        ],
        "candidates": [
            {
                "ticket": c.ticket,
                "name": c.name,
                "id_type": registrants[c.registrant_id].id_type if c.registrant_id in registrants else "居民身份证",
                "id_number": c.id_number,
                "work_unit": registrants[c.registrant_id].work_unit if c.registrant_id in registrants else "",
                "room": c.room.name,
                "seat_no": c.seat_no,
                "absent_at": iso(c.absent_at),
            }
            for c in candidates
        ],
    }
    papers, item_ids = [], set()
    for attempt in attempts:
        if attempt.paper_sealed is None and attempt.legacy_paper is None:
            continue  # logged in, never confirmed: no paper was delivered
        earlier = [
            assembly.open_prepared(exam, row)
            for row in session.scalars(
                select(PreparedPaper)
                .where(PreparedPaper.attempt_id == attempt.id, PreparedPaper.kind == assembly.REPLACED)
                .order_by(PreparedPaper.id)
            )
        ]
        current = attempt.paper
        for paper in [current, *earlier]:
            item_ids.update(e["item_id"] for section in paper["sections"] for e in section["items"])
        papers.append(
            {"ticket": ticket_of[attempt.id], "paper_no": attempt.paper_no, "paper": current, "replaced": earlier}
        )
    items = load_items(session, item_ids)
    for entry in papers:
        entry["as_shown"] = candidate_paper(entry["paper"], items)
    files["papers.json"] = {
        "papers": papers,
        "items": {
            str(i): {
                "code": item.code,
                "type": item.type,
                "stem": item.stem,
                "key": _key(item.key),
                "options": [{"id": o.id, "text": o.text} for o in item.options],
            }  # fmt: skip
            for i, item in sorted(items.items())
        },
    }
    logs: dict[int, list] = {}
    if attempts:
        for row in session.scalars(select(AnswerLog).where(AnswerLog.attempt_id.in_(ticket_of)).order_by(AnswerLog.id)):
            logs.setdefault(row.attempt_id, []).append(
                {"item_id": row.item_id, "response": row.response, "seq": row.seq, "saved_at": iso(row.saved_at)}
            )
    files["answers.json"] = [
        {
            "ticket": ticket_of[a.id],
            "status": a.status,
            "logged_in_at": iso(a.logged_in_at),
            "confirmed_at": iso(a.confirmed_at),
            "confirmed_by": _who(session, a.confirmed_by),
            "submitted_at": iso(a.submitted_at),
            "submit_reason": a.submit_reason,
            "score": a.score,
            "score_void": a.score_void,
            "flags": a.flags,
            "final": {str(ans.item_id): ans.response for ans in a.answers},
            "log": logs.get(a.id, []),
        }
        for a in attempts
    ]
    room_ids = [room.id for room in exam.rooms]
    files["clock.json"] = [
        {
            "room": session.get(Room, e.room_id).name,
            "ticket": ticket_of.get(e.attempt_id),
            "kind": e.kind,
            "at": iso(e.at),
            "seconds": e.seconds,
            "by": _who(session, e.actor_id),
            "reason": e.reason,
        }
        for e in session.scalars(select(ClockEvent).where(ClockEvent.room_id.in_(room_ids)).order_by(ClockEvent.id))
    ]
    for room in exam.rooms:
        kept = closing.closing_of(session, room).record
        label = f"{room.number:02d}" if room.number is not None else f"r{room.id}"  # rooms before numbers: by id
        files[f"rooms/{label}-record.json"] = kept
        files[f"rooms/{label}-record.pdf"] = ("room_record", kept)
    rows = closing.results(session, exam)
    files["results.json"] = {"publication": closing.publication_line(exam), "results": closing.as_json(rows)}
    files["results.pdf"] = ("results", (printouts.sitting(exam), rows, closing.publication_line(exam)))
    targets = [f"session:{exam.id}", *(f"room:{i}" for i in room_ids), *(f"attempt:{i}" for i in ticket_of)]
    targets += [f"candidate:{c.id}" for c in candidates] + [f"attempt:{c.ticket}" for c in candidates]
    ledger = []
    for start in range(0, len(targets), 500):
        ledger += session.scalars(select(AuditEntry).where(AuditEntry.target.in_(targets[start : start + 500])))
    actors = [f"candidate:{c.id}" for c in candidates]
    if actors:
        ledger += session.scalars(select(AuditEntry).where(AuditEntry.actor.in_(actors)))
    unique = {e.id: e for e in ledger}
    files["ledger.json"] = [
        {"at": iso(e.at), "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail}
        for _, e in sorted(unique.items())
    ]
    files["README.txt"] = README.format(name=exam.name)
    files["_meta"] = {"sitting": {"id": exam.id, "name": exam.name}, "created_at": iso(now), "created_by": actor}
    return files


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey


def signer(session) -> Signer:
    private, row = transfer.site_signer(session)
    return Signer(row.name, private)


def pack(files: dict[str, object], sign: Signer, fonts: tuple[str, ...] | None = None) -> bytes:
    """The archive as ZIP bytes: the PDFs drawn, the manifest written and signed. Needs no database."""
    from server.proctor import record

    meta = files.pop("_meta")
    body: dict[str, bytes] = {}
    for name, value in files.items():
        if isinstance(value, tuple) and value[0] == "room_record":
            body[name] = record.pdf(value[1], fonts)
        elif isinstance(value, tuple) and value[0] == "results":
            body[name] = printouts.results_pdf(*value[1], fonts=fonts)
        elif isinstance(value, str):
            body[name] = value.encode("utf-8")
        else:
            body[name] = _json(value)
    public = sign.private.public_key().public_bytes_raw()
    manifest = _json(
        {
            "format": FORMAT,
            **meta,
            "signer": {
                "name": sign.name,
                "public_key": base64.b64encode(public).decode(),
                "fingerprint": fingerprint(public),
            },  # fmt: skip
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(body.items())},
        }
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest)
        archive.writestr(SIGNATURE, base64.b64encode(sign.private.sign(manifest)).decode() + "\n")
        for name, data in sorted(body.items()):
            archive.writestr(name, data)
    return out.getvalue()


def record_made(session, exam: ExamSession, data: bytes, actor: str, now: datetime) -> None:
    audit.record(
        session, now, actor, "archive.create", f"session:{exam.id}", sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )  # fmt: skip


@dataclass(frozen=True)
class Verified:
    sitting: str
    created_at: str
    signer: str
    fingerprint: str
    public_key: str
    files: int


def _public_key(given: str) -> bytes:
    try:
        raw = base64.b64decode(given.strip(), validate=True)
        if len(raw) == 32:
            return raw
    except ValueError:
        pass
    raise ArchiveError("指定的公钥格式不正确（应为 44 个字符的 Base64，如 jikao bank identity 所示）。")


def _manifest_problem(manifest) -> bool:
    """Whether the manifest is not what :func:`pack` writes (after its signature was found sound, this means a
    signer other than Jikao made it)."""
    try:
        files = manifest["files"]
        return not (
            isinstance(manifest["sitting"]["name"], str)
            and isinstance(manifest["created_at"], str)
            and isinstance(manifest["signer"]["name"], str)
            and isinstance(files, dict)
            and all(isinstance(name, str) and isinstance(digest, str) for name, digest in files.items())
        )
    except (KeyError, TypeError):
        return True


def _safe_name(name: str) -> bool:
    """A member name a ZIP tool extracts inside its folder: relative, no ``..``, no backslashes."""
    return bool(name) and not name.startswith("/") and "\\" not in name and ".." not in name.split("/")


def verify(data: bytes, expected_key: str | None = None) -> Verified:
    """Check an archive: the manifest's signature, then every file against the manifest, no file missing,
    added or given twice; and, if given, that the signer is the expected key. Refused, in words, at the first
    problem."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        manifest_bytes = archive.read(MANIFEST)
        signature = base64.b64decode(archive.read(SIGNATURE).strip(), validate=True)
        manifest = json.loads(manifest_bytes)
        public = base64.b64decode(manifest["signer"]["public_key"], validate=True)
    except (zipfile.BadZipFile, zlib.error, KeyError, ValueError, TypeError, EOFError):
        raise ArchiveError("这不是完整的机考场次归档文件（缺少签名清单或格式不对）。") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ArchiveError(f"归档格式 {found} 不是本系统能校验的格式（{FORMAT}）。")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, manifest_bytes)
    except (InvalidSignature, ValueError):
        raise ArchiveError("签名无效：签名清单（manifest.json）在签名后被改动过。") from None
    if expected_key is not None and public != _public_key(expected_key):
        raise ArchiveError(
            f"签名者不是指定的密钥：归档由指纹 {fingerprint(public)} 的密钥签名，与指定的 "
            f"{fingerprint(_public_key(expected_key))} 不同。"
        )
    if _manifest_problem(manifest):
        raise ArchiveError("签名清单的内容不是本系统生成的格式。")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ArchiveError(f"文件 {'、'.join(twice)} 在归档中出现了不止一次：归档在签名后被改动过。")
    unsafe = sorted(name for name in names if not _safe_name(name))
    if unsafe:
        raise ArchiveError(f"归档中有不安全的文件名 {'、'.join(unsafe)}：归档在签名后被改动过。")
    listed = manifest["files"]
    for name, digest in sorted(listed.items()):
        if name not in names:
            raise ArchiveError(f"文件 {name} 缺失：归档在签名后被改动过。")
        try:
            body = archive.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise ArchiveError(f"文件 {name} 已损坏或被改动：归档在签名后被改动过。") from None
        if hashlib.sha256(body).hexdigest() != digest:
            raise ArchiveError(f"文件 {name} 与签名时不一致：归档在签名后被改动过。")
    extra = sorted(set(names) - set(listed) - {MANIFEST, SIGNATURE})
    if extra:
        raise ArchiveError(f"多出未签名的文件 {'、'.join(extra)}：归档在签名后被改动过。")
    return Verified(
        manifest["sitting"]["name"],
        manifest["created_at"],
        manifest["signer"]["name"],
        fingerprint(public),
        manifest["signer"]["public_key"],
        len(listed),
    )
