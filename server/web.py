"""The browser clients as static files (candidate, proctor, bank admin, exam admin), and the health check."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_from_directory
from sqlalchemy import text

import admin_console
import bank_console
import exam_client
import proctor_console
from server.errors import ExamError
from server.extensions import db
from server.timeutil import iso, now

bp = Blueprint("web", __name__)

EXAM_DIR = Path(exam_client.__file__).parent
PROCTOR_DIR = Path(proctor_console.__file__).parent
BANK_DIR = Path(bank_console.__file__).parent
ADMIN_DIR = Path(admin_console.__file__).parent


def _page(directory: Path, name: str):
    response = send_from_directory(directory, name)
    # Exam rooms keep browsers open for hours: always revalidate so an upgrade reaches every seat.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def candidate_page():
    """The exam client: ticket login, waiting screens, the paper."""
    return _page(EXAM_DIR, "index.html")


@bp.get("/results")
def results_page():
    """成绩查询: a candidate's published result, by ticket and ID number."""
    return _page(EXAM_DIR, "results.html")


@bp.get("/exam/<path:name>")
def candidate_asset(name: str):
    """The exam client's modules and styles."""
    return _page(EXAM_DIR, name)


@bp.get("/proctor/")
def proctor_page():
    """The proctor console."""
    return _page(PROCTOR_DIR, "index.html")


@bp.get("/proctor/<path:name>")
def proctor_asset(name: str):
    """The proctor console's modules and styles."""
    return _page(PROCTOR_DIR, name)


@bp.get("/bank/")
def bank_page():
    """The bank admin's screens."""
    return _page(BANK_DIR, "index.html")


@bp.get("/bank/<path:name>")
def bank_asset(name: str):
    """The bank admin screens' modules and styles."""
    return _page(BANK_DIR, name)


@bp.get("/admin/")
def admin_page():
    """The exam admin's screens: blueprints, simulation, the sittings' papers."""
    return _page(ADMIN_DIR, "index.html")


@bp.get("/admin/<path:name>")
def admin_asset(name: str):
    """The exam admin screens' modules and styles."""
    return _page(ADMIN_DIR, name)


@bp.get("/healthz")
def healthz():
    """200 with a small JSON body once the server answers and its database does; names the server process
    (behind nginx, the one this computer is sent to)."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok", time=iso(now()), worker=current_app.config["WORKER"])


def uploaded_file(limit_mib: int, missing: str) -> tuple[str, bytes]:
    """The file a screen's file picker sent (``file``): its name and bytes, read no further than the limit;
    refused with ``missing`` if none was chosen, or if it is larger than ``limit_mib`` MB."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ExamError("no_file", missing)
    data = upload.read(limit_mib * 1024 * 1024 + 1)
    if len(data) > limit_mib * 1024 * 1024:
        raise ExamError("too_large", f"文件超过 {limit_mib} MB。")
    return upload.filename, data


# ---- reading a JSON request's body, refused in words when it is not what the API takes ----
def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ExamError("invalid_payload", "请求内容不是有效的 JSON 对象。")
    return body


def text_of(body: dict, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise ExamError("invalid_payload", f"{name} 应为文字。")
    return value


def int_of(body: dict, name: str, low: int, high: int, default: int | None = None) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ExamError("invalid_payload", f"{name} 应为 {low} 到 {high} 之间的整数。")
    return value
