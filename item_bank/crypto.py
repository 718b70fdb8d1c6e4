"""The bank's keys and sealed items: AES-256-GCM, with the data key held by two people.

Custody ("two people, two keys", 双人双锁): the bank's 256-bit data key is never stored. For every pair of
the three key holders — custodian A, custodian B and the bank admin — it is split into two random
pieces whose XOR is the key, and each holder keeps their piece wrapped (AES-GCM) under a key derived
from their own passphrase with scrypt. So:

- opening the bank takes two holders (on exam business, the two custodians);
- a holder changes their passphrase alone (only their own pieces are re-wrapped, no item is touched);
- a lost custodian is replaced by the other custodian and the bank admin, who together hold a pair.

Items are sealed with the data key, a fresh 96-bit nonce per sealing, and associated data naming the
item and its version, so a ciphertext cannot be moved to another item or rolled back to an old version.
Pure: takes and returns bytes and plain data; no I/O.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

HOLDERS = {"custodian_a": "保密员A", "custodian_b": "保密员B", "bank_admin": "题库管理员"}
PAIRS = (("custodian_a", "custodian_b"), ("custodian_a", "bank_admin"), ("custodian_b", "bank_admin"))
SCRYPT_DEFAULT = {"n": 2**15, "r": 8, "p": 1}  # about 0.1 s and 32 MiB per derivation
NONCE_BYTES = 12
KEY_BYTES = 32
MIN_PASSPHRASE = 10
CHECK = b"jikao item bank"


class BankKeyError(Exception):
    """A refused key operation; ``message`` is Chinese, for the person at the keyboard."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WrongPassphrase(BankKeyError):
    pass


class TamperedItem(BankKeyError):
    def __init__(self, label: str):
        super().__init__(f"试题 {label} 的密文校验失败（已被篡改或损坏），该题已停止使用。")
        self.label = label


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _pair_name(pair: tuple[str, str]) -> str:
    return "+".join(pair)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _derive(passphrase: str, salt: bytes, params: dict) -> bytes:
    return Scrypt(salt=salt, length=KEY_BYTES, n=params["n"], r=params["r"], p=params["p"]).derive(
        passphrase.encode("utf-8")
    )


def seal(key: bytes, associated: str, plaintext: bytes) -> bytes:
    """Encrypt with a fresh nonce; the result is nonce + ciphertext + tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated.encode("utf-8"))


def unseal(key: bytes, associated: str, blob: bytes) -> bytes:
    """Decrypt and authenticate; raises ``InvalidTag`` if anything was changed."""
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated.encode("utf-8"))


def item_associated_data(uid: str, version: int) -> str:
    return f"jikao-item:{uid}:v{version}"


def seal_item(key: bytes, uid: str, version: int, plaintext: bytes) -> bytes:
    return seal(key, item_associated_data(uid, version), plaintext)


def unseal_item(key: bytes, uid: str, version: int, blob: bytes, label: str) -> bytes:
    try:
        return unseal(key, item_associated_data(uid, version), blob)
    except (InvalidTag, ValueError) as exc:
        raise TamperedItem(label) from exc


@dataclass(frozen=True)
class Keyring:
    """The stored form of the bank's custody: salts and wrapped pieces, never the key itself."""

    data: dict

    def _holder(self, holder: str) -> dict:
        return self.data["holders"][holder]

    def _kek(self, holder: str, passphrase: str) -> bytes:
        entry = self._holder(holder)
        return _derive(passphrase, _unb64(entry["salt"]), self.data["scrypt"])

    def _piece(self, holder: str, kek: bytes, pair: tuple[str, str]) -> bytes:
        wrapped = _unb64(self._holder(holder)["pieces"][_pair_name(pair)])
        try:
            return unseal(kek, f"{holder}:{_pair_name(pair)}", wrapped)
        except InvalidTag:
            raise WrongPassphrase(f"{HOLDERS[holder]}的口令不正确。") from None

    def open(self, passphrases: dict[str, str]) -> bytes:
        """The data key, from the passphrases of two holders; each wrong one is named."""
        pair = _pair_of(passphrases)
        wrong, pieces = [], []
        for holder in pair:
            try:
                pieces.append(self._piece(holder, self._kek(holder, passphrases[holder]), pair))
            except WrongPassphrase:
                wrong.append(HOLDERS[holder])
        if wrong:
            raise WrongPassphrase(f"{'、'.join(wrong)}的口令不正确，题库未打开。")
        key = _xor(*pieces)
        try:
            if unseal(key, "check", _unb64(self.data["check"])) != CHECK:
                raise InvalidTag
        except InvalidTag:
            raise BankKeyError("题库密钥记录已损坏或被篡改，无法打开题库。") from None
        return key


def _pair_of(passphrases: dict[str, str]) -> tuple[str, str]:
    holders = tuple(h for h in HOLDERS if h in passphrases)
    if len(holders) != 2 or len(passphrases) != 2:
        raise BankKeyError("打开题库需要两位密钥持有人的口令。")
    return holders  # in HOLDERS order, which is also the order inside PAIRS


def _check_passphrase(holder: str, passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BankKeyError(f"{HOLDERS[holder]}的口令至少需要 {MIN_PASSPHRASE} 个字符。")


def _build(
    key: bytes,
    passphrases: dict[str, str],
    params: dict,
    keep: Keyring | None = None,
    keep_kek: dict[str, bytes] | None = None,
) -> Keyring:
    """Wrap fresh pieces of ``key`` for every pair; holders absent from ``passphrases`` keep theirs."""
    holders: dict[str, dict] = {}
    keks: dict[str, bytes] = dict(keep_kek or {})
    for holder, passphrase in passphrases.items():
        salt = os.urandom(16)
        holders[holder] = {"salt": _b64(salt), "pieces": {}}
        keks[holder] = _derive(passphrase, salt, params)
    for holder, entry in keep.data["holders"].items() if keep else []:
        if holder not in holders:
            holders[holder] = {"salt": entry["salt"], "pieces": {}}
    for pair in PAIRS:
        first = os.urandom(KEY_BYTES)
        for holder, piece in zip(pair, (first, _xor(key, first)), strict=True):
            holders[holder]["pieces"][_pair_name(pair)] = _b64(
                seal(keks[holder], f"{holder}:{_pair_name(pair)}", piece)
            )
    return Keyring({"version": 1, "scrypt": params, "holders": holders, "check": _b64(seal(key, "check", CHECK))})


def create_keyring(passphrases: dict[str, str], params: dict | None = None) -> tuple[bytes, Keyring]:
    """A new data key and its keyring; all three holders set their passphrases."""
    if set(passphrases) != set(HOLDERS):
        raise BankKeyError("建立题库密钥需要保密员A、保密员B和题库管理员三人的口令。")
    for holder, passphrase in passphrases.items():
        _check_passphrase(holder, passphrase)
    if len(set(passphrases.values())) != len(passphrases):
        raise BankKeyError("三位密钥持有人的口令不能相同。")
    key = AESGCM.generate_key(bit_length=256)
    return key, _build(key, passphrases, params or SCRYPT_DEFAULT)


def change_passphrase(keyring: Keyring, holder: str, old: str, new: str) -> Keyring:
    """One holder re-wraps their own pieces under a new passphrase; nobody else is needed."""
    _check_passphrase(holder, new)
    old_kek = keyring._kek(holder, old)
    pieces = {
        name: keyring._piece(holder, old_kek, tuple(name.split("+"))) for name in keyring._holder(holder)["pieces"]
    }
    salt = os.urandom(16)
    new_kek = _derive(new, salt, keyring.data["scrypt"])
    data = {**keyring.data, "holders": dict(keyring.data["holders"])}
    data["holders"][holder] = {
        "salt": _b64(salt),
        "pieces": {name: _b64(seal(new_kek, f"{holder}:{name}", piece)) for name, piece in pieces.items()},
    }
    return Keyring(data)


def replace_holder(keyring: Keyring, lost: str, present: dict[str, str], new_passphrase: str) -> Keyring:
    """The two other holders open the key and give the replacement fresh pieces; old pieces are void."""
    if lost in present:
        raise BankKeyError("被替换的人不能参与自己的替换。")
    _check_passphrase(lost, new_passphrase)
    key = keyring.open(present)
    keks = {holder: keyring._kek(holder, passphrase) for holder, passphrase in present.items()}
    return _build(key, {lost: new_passphrase}, keyring.data["scrypt"], keep=keyring, keep_kek=keks)
