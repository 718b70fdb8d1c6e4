"""Sending and receiving banks as signed, encrypted packages, with a handover record at each end. Never commits."""

from __future__ import annotations

import json
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import select

from item_bank import item_to_data
from item_bank.crypto import seal, unseal
from item_bank.imports import JSON_FORMAT, ImportResult, read_json
from item_bank.package import OpenedPackage, PackageError, build, digest_of, fingerprint, open_package
from server import audit
from server.bank.keys import data_key
from server.bank.models import Handover, Item, SiteKey, TrustedSigner
from server.bank.service import open_item
from server.errors import ExamError
from server.timeutil import iso


def site_key(session) -> SiteKey | None:
    return session.scalar(select(SiteKey).limit(1))


def create_site_key(session, name: str, actor: str, now: datetime) -> SiteKey:
    if site_key(session) is not None:
        raise ExamError("site_key_exists", "本机已有签名密钥。")
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    row = SiteKey(
        name=name,
        public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        sealed_private=seal(data_key(), "jikao-site-key", raw),
        created_at=now,
    )
    session.add(row)
    audit.record(session, now, actor, "bank.site_key", name=name, fingerprint=fingerprint(row.public_key))
    return row


def site_signer(session) -> tuple[Ed25519PrivateKey, SiteKey]:
    row = site_key(session)
    if row is None:
        raise ExamError("no_site_key", "本机还没有签名密钥（jikao bank identity --name …）。")
    return Ed25519PrivateKey.from_private_bytes(unseal(data_key(), "jikao-site-key", row.sealed_private)), row


def trust(session, name: str, public_key_b64: str, actor: str, now: datetime) -> str:
    import base64

    try:
        public_key = base64.b64decode(public_key_b64, validate=True)
        if len(public_key) != 32:
            raise ValueError
    except ValueError:
        raise ExamError("bad_public_key", "公钥格式不正确（应为对方 jikao bank identity 显示的 44 个字符）。") from None
    found = fingerprint(public_key)
    if session.get(TrustedSigner, found) is None:
        session.add(TrustedSigner(fingerprint=found, name=name, public_key=public_key, added_at=now, added_by=actor))
        audit.record(session, now, actor, "bank.trust", name=name, fingerprint=found)
    return found


def export_bank(
    session, occupation_code: str, level: int, passphrase: str, file_name: str, actor: str, now: datetime, scrypt_n: int
) -> bytes:
    """Every active, unleaked item of one bank as a package; recorded as sent."""
    rows = list(
        session.scalars(
            select(Item)
            .where(
                Item.occupation_code == occupation_code,
                Item.level == level,
                Item.status == "active",
                Item.leaked.is_(False),
            )
            .order_by(Item.id)
        )
    )
    if not rows:
        raise ExamError("empty_bank", f"没有可导出的试题（职业 {occupation_code}，{level}级）。")
    payload = {
        "format": JSON_FORMAT,
        "occupation": {"code": occupation_code, "name": occupation_code},
        "level": level,
        "items": [item_to_data(open_item(row)) for row in rows],
    }
    signer, key_row = site_signer(session)
    summary = {"kind": "bank", "occupation": occupation_code, "level": level, "items": len(rows)}
    try:
        data = build(
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            summary,
            passphrase,
            signer,
            key_row.name,
            iso(now),
            {"n": scrypt_n, "r": 8, "p": 1},
        )
    except PackageError as exc:
        raise ExamError("package", exc.message) from exc
    _record(
        session, "sent", now, actor, key_row.name, fingerprint(key_row.public_key), digest_of(data), file_name, summary
    )
    return data


def receive(session, data: bytes, passphrase: str, file_name: str) -> tuple[OpenedPackage, ImportResult]:
    trusted = set(session.scalars(select(TrustedSigner.fingerprint)))
    try:
        opened = open_package(data, passphrase, trusted)
    except PackageError as exc:
        raise ExamError("package", f"{file_name}：{exc.message}") from exc
    return opened, read_json(file_name, opened.payload)


def record_received(session, opened: OpenedPackage, file_name: str, actor: str, now: datetime) -> None:
    _record(
        session,
        "received",
        now,
        actor,
        opened.header.get("signer", ""),
        opened.signer_fingerprint,
        opened.digest,
        file_name,
        opened.header.get("summary", {}),
    )


def _record(session, direction, now, actor, counterpart, signer, digest, file_name, summary) -> None:
    session.add(
        Handover(
            direction=direction,
            at=now,
            actor=actor,
            counterpart=counterpart,
            signer_fingerprint=signer,
            digest=digest,
            file_name=file_name,
            summary=summary,
        )
    )
    audit.record(session, now, actor, f"bank.package_{direction}", file=file_name, digest=digest, **summary)


def handovers(session) -> list[Handover]:
    return list(session.scalars(select(Handover).order_by(Handover.at)))
