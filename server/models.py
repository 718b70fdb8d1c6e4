"""Imports every model, so that the metadata (and Alembic) knows every table."""

from server.audit import AuditEntry
from server.auth.models import Account
from server.bank.models import BankKeyring, Handover, Item, ItemVersion, SiteKey, TrustedSigner
from server.exam.models import (
    Answer,
    AnswerLog,
    Attempt,
    Candidate,
    ClockEvent,
    ExamSession,
    Incident,
    PaperBlueprint,
    PreparedPaper,
    Room,
    RoomEvent,
    RoomProctor,
    Violation,
)
from server.sittings.models import Registrant

__all__ = [
    "Account",
    "Answer",
    "AnswerLog",
    "Attempt",
    "BankKeyring",
    "AuditEntry",
    "Candidate",
    "ClockEvent",
    "ExamSession",
    "PaperBlueprint",
    "PreparedPaper",
    "Registrant",
    "Handover",
    "Incident",
    "Item",
    "ItemVersion",
    "Room",
    "RoomEvent",
    "RoomProctor",
    "SiteKey",
    "TrustedSigner",
    "Violation",
]
