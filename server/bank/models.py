from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class Item(Base):
    """One item of a bank. Metadata for paper assembly is in clear columns; the content (stem, options,
    key, explanation) exists only sealed with the bank's data key (see ``item_bank.crypto``)."""

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # the identity sealed into the ciphertext
    code: Mapped[str] = mapped_column(String(32), index=True)
    occupation_code: Mapped[str] = mapped_column(String(32))
    level: Mapped[int]
    type: Mapped[str] = mapped_column(String(16))
    knowledge_point: Mapped[str] = mapped_column(String(32))
    difficulty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | reviewed | active | retired
    leaked: Mapped[bool] = mapped_column(default=False)  # 泄密: out of every future paper at once
    version: Mapped[int] = mapped_column(default=1)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC of the normalised stem under the data key: finds duplicates without storing the stem.
    stem_digest: Mapped[str] = mapped_column(String(64), index=True)


class ItemVersion(Base):
    """An earlier version of an item, kept sealed as it was (its version is in its associated data)."""

    __tablename__ = "item_version"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    version: Mapped[int]
    type: Mapped[str] = mapped_column(String(16))
    knowledge_point: Mapped[str] = mapped_column(String(32))
    difficulty: Mapped[int]
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_by: Mapped[str] = mapped_column(String(64))  # who made the next version
    reason: Mapped[str] = mapped_column(String(256), default="")


class SiteKey(Base):
    """This installation's Ed25519 signing key for transfer packages; the private half sealed with the bank key."""

    __tablename__ = "site_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_private: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrustedSigner(Base):
    """A sender whose packages this installation accepts, added by fingerprint checked out of band."""

    __tablename__ = "trusted_signer"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(64))


class Handover(Base):
    """交接记录: every package sent or received, with who, when, what and the package's digest."""

    __tablename__ = "handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # sent | received
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    counterpart: Mapped[str] = mapped_column(String(64))  # the signer (received) or this site (sent)
    signer_fingerprint: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(256))
    summary: Mapped[dict] = mapped_column(JSON)


class BankKeyring(Base):
    """The bank's custody record: salts and wrapped key pieces of its three holders (never the key)."""

    __tablename__ = "bank_keyring"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
