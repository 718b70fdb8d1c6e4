"""Transfer packages between the bank centre and an exam site: encrypted, signed, checked on arrival.

A package is one JSON document: a header (what it holds, who signed it, how its key is derived), the
payload sealed with AES-256-GCM under a key derived with scrypt from a transfer passphrase (handed over
separately, like the key to a sealed envelope), and an Ed25519 signature over the header and the
ciphertext. The receiver checks the signature, accepts only signers it trusts by fingerprint, and needs
the passphrase to read anything. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from item_bank.crypto import SCRYPT_DEFAULT, seal, unseal

PACKAGE_FORMAT = "jikao-package/1"
MIN_TRANSFER_PASSPHRASE = 12


class PackageError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OpenedPackage:
    header: dict
    payload: bytes
    digest: str  # SHA-256 of the whole package file, as recorded at both ends of the handover
    signer_fingerprint: str


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public_key: bytes) -> str:
    """A short, readable fingerprint to compare by telephone or on paper: 8 groups of 4 hex digits."""
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(passphrase: str, salt: bytes, params: dict) -> bytes:
    return Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"]).derive(passphrase.encode())


def _signed_part(header: dict, sealed: bytes) -> bytes:
    return json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n" + sealed


def build(
    payload: bytes,
    summary: dict,
    passphrase: str,
    signer: Ed25519PrivateKey,
    signer_name: str,
    created_at: str,
    params: dict | None = None,
) -> bytes:
    if len(passphrase) < MIN_TRANSFER_PASSPHRASE:
        raise PackageError(f"传输口令至少需要 {MIN_TRANSFER_PASSPHRASE} 个字符。")
    params = params or SCRYPT_DEFAULT
    salt = os.urandom(16)
    sealed = seal(_key(passphrase, salt, params), PACKAGE_FORMAT, payload)
    header = {
        "format": PACKAGE_FORMAT,
        "created_at": created_at,
        "signer": signer_name,
        "public_key": base64.b64encode(public_bytes(signer.public_key())).decode(),
        "scrypt": params,
        "salt": base64.b64encode(salt).decode(),
        "summary": summary,
    }
    signature = signer.sign(_signed_part(header, sealed))
    document = {
        "header": header,
        "sealed": base64.b64encode(sealed).decode(),
        "signature": base64.b64encode(signature).decode(),
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def open_package(data: bytes, passphrase: str, trusted: set[str]) -> OpenedPackage:
    """Check the signature, the signer and the passphrase; each failure says which."""
    try:
        document = json.loads(data.decode("utf-8"))
        header = document["header"]
        sealed = base64.b64decode(document["sealed"])
        signature = base64.b64decode(document["signature"])
        public_key = base64.b64decode(header["public_key"])
        if header.get("format") != PACKAGE_FORMAT:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise PackageError("不是 Jikao 数据包，或文件已损坏。") from None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _signed_part(header, sealed))
    except (InvalidSignature, ValueError):
        raise PackageError("数据包签名校验失败：文件在传送中被改动或已损坏，不能导入。") from None
    signer = fingerprint(public_key)
    if signer not in trusted:
        raise PackageError(f"签名者“{header.get('signer')}”（指纹 {signer}）不在本机信任的发送方中，不能导入。")
    try:
        payload = unseal(_key(passphrase, base64.b64decode(header["salt"]), header["scrypt"]), PACKAGE_FORMAT, sealed)
    except InvalidTag:
        raise PackageError("传输口令不正确，数据包未打开。") from None
    return OpenedPackage(header, payload, digest_of(data), signer)
