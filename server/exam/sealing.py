"""Sealed papers (启封 electronically): each sitting has its own key, kept only wrapped by the bank key,
and every seat's paper (which items, in which order) is stored sealed with it.

Item content reaches a candidate only once their room has started (see ``service.candidate_state``); the
papers' composition is protected at rest by this key as well. The unwrapped session key lives only in the
serving process's memory.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from flask import current_app

from item_bank.crypto import seal, unseal
from server.bank.keys import data_key
from server.wire import RawJSON

CACHE = "jikao.session_keys"
OPENED = "_jikao_opened_paper"  # (the sealed bytes, the paper) kept on a loaded attempt


def session_key(exam) -> bytes:
    if exam.sealed_key is None:
        exam.sealed_key = seal(data_key(), f"jikao-session-key:{exam.id}", secrets.token_bytes(32))
    return unwrapped_key(exam.id, exam.sealed_key)


def unwrapped_key(session_id: int, sealed_key: bytes) -> bytes:
    # Cached by the wrapped key itself, not by the sitting: a key whose unit of work rolled back is
    # never found again, so no paper can be sealed with a key the database does not hold.
    cache = current_app.extensions.setdefault(CACHE, {})
    if sealed_key not in cache:
        cache[sealed_key] = unseal(data_key(), f"jikao-session-key:{session_id}", sealed_key)
    return cache[sealed_key]


def _associated(attempt) -> str:
    return f"jikao-paper:{attempt.id}:{attempt.candidate_id}"


def open_sealed(session_id: int, sealed_key: bytes, attempt_id: int, candidate_id: int, sealed: bytes) -> dict:
    """A sealed paper opened from the plain columns (the answer path reads rows, not objects)."""
    key = unwrapped_key(session_id, sealed_key)
    return json.loads(unseal(key, f"jikao-paper:{attempt_id}:{candidate_id}", sealed))


def seal_paper(attempt, paper: dict) -> None:
    """Store the seat's paper sealed with its sitting's key (the caller's unit of work commits it)."""
    key = session_key(attempt.candidate.session)
    attempt.paper_sealed = seal(key, _associated(attempt), json.dumps(paper).encode("utf-8"))
    attempt.legacy_paper = None


def paper_of(attempt) -> dict | None:
    """The seat's paper, opened; papers stored in clear by earlier versions are read as they are."""
    if attempt.paper_sealed is None:
        return attempt.legacy_paper
    # Opened once per loaded attempt: an answer's unit of work asks for the paper several times.
    opened = attempt.__dict__.get(OPENED)
    if opened is None or opened[0] is not attempt.paper_sealed:
        key = session_key(attempt.candidate.session)
        opened = (attempt.paper_sealed, json.loads(unseal(key, _associated(attempt), attempt.paper_sealed)))
        attempt.__dict__[OPENED] = opened
    return opened[1]


SHEETS = "jikao.sheets"
SHEETS_MAX = 20_000


@dataclass(frozen=True)
class Sheet:
    """One attempt's paper as the answer path needs it: its items by id, opened. Kept per process and
    keyed by the sealed paper itself, so a replaced paper is never mistaken for the old one."""

    sealed: bytes
    items: dict
    total: int
    view: RawJSON | None = None  # the paper as the candidate's screen shows it (no keys), once rendered


def kept_sheet(attempt_id: int, sealed: bytes | None) -> Sheet | None:
    sheet = current_app.extensions.get(SHEETS, {}).get(attempt_id)
    return sheet if sheet is not None and sealed is not None and sheet.sealed == sealed else None


def keep_sheet(
    attempt_id: int, sealed: bytes | None, item_ids: list[int], items: dict, view: dict | None = None
) -> Sheet | None:
    """Remember an attempt's opened paper (when its screen gets the paper, or at its first answer), and the
    screen's rendering of it if given. Shared and never to be changed by whoever reads it."""
    if sealed is None or any(i not in items for i in item_ids):
        return None
    sheets = current_app.extensions.setdefault(SHEETS, {})
    if len(sheets) >= SHEETS_MAX:
        sheets.clear()
    kept = None if view is None else RawJSON(view)  # kept as the text the screens are sent, encoded once
    sheet = sheets[attempt_id] = Sheet(sealed, {i: items[i] for i in item_ids}, len(item_ids), kept)
    return sheet
