"""Staff login with a password; the session cookie carries only the account id."""

from __future__ import annotations

import functools
import secrets

from flask import Blueprint, jsonify, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from server import audit
from server.auth.models import Account
from server.db import write_transaction
from server.errors import ExamError
from server.extensions import db
from server.timeutil import now

bp = Blueprint("auth_api", __name__, url_prefix="/api/auth")


STAFF_KEYS = ("account_id", "account_nonce")


def current_account() -> Account | None:
    """The staff member of this browser session, unless they have logged out since (anywhere)."""
    account_id = session.get("account_id")
    account = db.session.get(Account, account_id) if account_id else None
    if account is None or not account.active or account.session_nonce != session.get("account_nonce"):
        return None
    return account


def role_required(role: str, refusal: str):
    """Only a logged-in account of that role reaches the view (as its first argument); everyone else is
    refused by the server with ``refusal``, whatever their page shows."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            account = current_account()
            if account is None or account.role != role:
                raise ExamError("forbidden", refusal)
            return view(account, *args, **kwargs)

        return wrapper

    return decorate


def account_view(account: Account) -> dict:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "role_label": account.role_label,
    }


@bp.get("/session")
def whoami():
    """The CSRF token for this browser's forms, and who is logged in (if anyone)."""
    account = current_account()
    return jsonify(csrf_token=generate_csrf(), account=account_view(account) if account else None)


@bp.post("/login")
def login():
    """Log a staff member in with username and password."""
    data = request.get_json(silent=True) or {}
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        return jsonify(ok=False, error={"code": "invalid", "message": "请输入用户名和密码。"}), 400
    account = db.session.scalar(select(Account).where(Account.username == username.strip()))
    if account is None or not account.active or not account.check_password(password):
        with write_transaction(db.session):
            audit.record(db.session, now(), "anonymous", "auth.login_failed", username=username[:64])
        return jsonify(ok=False, error={"code": "bad_credentials", "message": "用户名或密码错误。"}), 401
    with write_transaction(db.session):
        account = db.session.get(Account, account.id)
        if not account.session_nonce:
            account.session_nonce = secrets.token_hex(16)
        audit.record(db.session, now(), f"account:{account.id}", "auth.login")
    # The cookie is signed by the server, so it cannot be planted; a new CSRF token all the same.
    # A candidate's binding to this computer, if any, is kept: a proctor helping at a seat must not
    # lock the candidate out.
    session.pop("csrf_token", None)
    session.permanent = True
    session.update(account_id=account.id, account_nonce=account.session_nonce)
    return jsonify(ok=True, account=account_view(account), csrf_token=generate_csrf())


@bp.post("/logout")
def logout():
    """End the staff member's sessions, including consoles still connected with the old cookie."""
    account = current_account()
    if account is not None:
        with write_transaction(db.session):
            account = db.session.get(Account, account.id)
            account.session_nonce = secrets.token_hex(16)
            audit.record(db.session, now(), f"account:{account.id}", "auth.logout")
    for key in STAFF_KEYS:
        session.pop(key, None)
    return jsonify(ok=True)
