"""Opening the bank: the data key lives only in this process's memory, put there by two key holders."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from item_bank.crypto import BankKeyError, Keyring, create_keyring
from server.bank.models import BankKeyring
from server.errors import ExamError

KEY = "jikao.bank_key"


def stored_keyring(session) -> Keyring | None:
    row = session.scalar(select(BankKeyring).limit(1))
    return Keyring(row.data) if row else None


def save_keyring(session, keyring: Keyring, now: datetime) -> None:
    row = session.scalar(select(BankKeyring).limit(1))
    if row is None:
        session.add(BankKeyring(data=keyring.data, updated_at=now))
    else:
        row.data = keyring.data
        row.updated_at = now


def initialise(session, passphrases: dict[str, str], now: datetime) -> bytes:
    """Create the bank's data key and keyring (once per installation); leaves the bank open."""
    if stored_keyring(session) is not None:
        raise ExamError("bank_exists", "题库密钥已经建立，不能重复建立。")
    params = {"n": current_app.config["BANK_SCRYPT_N"], "r": 8, "p": 1}
    try:
        key, keyring = create_keyring(passphrases, params)
    except BankKeyError as exc:
        raise ExamError("bank_key", exc.message) from exc
    save_keyring(session, keyring, now)
    current_app.extensions[KEY] = key
    return key


def unlock(session, passphrases: dict[str, str]) -> None:
    """Open the bank for this process with two holders' passphrases."""
    keyring = stored_keyring(session)
    if keyring is None:
        raise ExamError("no_bank", "尚未建立题库密钥（jikao bank init）。")
    try:
        current_app.extensions[KEY] = keyring.open(passphrases)
    except BankKeyError as exc:
        raise ExamError("bank_key", exc.message) from exc


def is_open() -> bool:
    return KEY in current_app.extensions


def data_key() -> bytes:
    key = current_app.extensions.get(KEY)
    if key is None:
        raise ExamError("bank_locked", "题库未打开：需要两位保密员输入口令后才能使用试题。")
    return key


def stem_digest(stem: str) -> str:
    """A keyed digest of the stem, the same for stems that differ only in spacing or width."""
    normal = "".join(unicodedata.normalize("NFKC", stem).split())
    return hmac.new(data_key(), normal.encode("utf-8"), hashlib.sha256).hexdigest()
