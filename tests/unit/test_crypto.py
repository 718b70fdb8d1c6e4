import base64
import json

import pytest

from item_bank.crypto import (
    BankKeyError,
    Keyring,
    TamperedItem,
    WrongPassphrase,
    change_passphrase,
    create_keyring,
    replace_holder,
    seal_item,
    unseal_item,
)

FAST = {"n": 2**10, "r": 8, "p": 1}  # the real default is slower on purpose
PASS = {"custodian_a": "甲保密员口令-1111", "custodian_b": "乙保密员口令-2222", "bank_admin": "题库管理员口令-3333"}


@pytest.fixture(scope="module")
def bank():
    return create_keyring(PASS, FAST)


def two(*holders, **override):
    return {h: override.get(h, PASS[h]) for h in holders}


def test_any_two_holders_open_the_same_key(bank):
    key, keyring = bank
    assert keyring.open(two("custodian_a", "custodian_b")) == key
    assert keyring.open(two("custodian_a", "bank_admin")) == key
    assert keyring.open(two("custodian_b", "bank_admin")) == key


def test_one_holder_alone_cannot_open_it(bank):
    with pytest.raises(BankKeyError, match="需要两位密钥持有人"):
        bank[1].open({"custodian_a": PASS["custodian_a"]})


def test_a_wrong_passphrase_is_refused_naming_whose(bank):
    with pytest.raises(WrongPassphrase) as refused:
        bank[1].open(two("custodian_a", "custodian_b", custodian_b="猜一猜的口令-0000"))
    assert refused.value.message == "保密员B的口令不正确，题库未打开。"


def test_swapped_passphrases_are_refused_naming_both(bank):
    swapped = {"custodian_a": PASS["custodian_b"], "custodian_b": PASS["custodian_a"]}
    with pytest.raises(WrongPassphrase, match="保密员A、保密员B的口令不正确"):
        bank[1].open(swapped)


def test_the_stored_keyring_holds_no_key(bank):
    key, keyring = bank
    text = json.dumps(keyring.data)
    assert base64.b64encode(key).decode() not in text
    assert key.hex() not in text
    for passphrase in PASS.values():
        assert passphrase not in text


def test_a_custodian_changes_their_passphrase_alone(bank):
    key, keyring = bank
    changed = change_passphrase(keyring, "custodian_a", PASS["custodian_a"], "新的甲口令-9999")
    assert changed.open(two("custodian_a", "custodian_b", custodian_a="新的甲口令-9999")) == key
    with pytest.raises(WrongPassphrase):
        changed.open(two("custodian_a", "custodian_b"))
    assert changed.data["holders"]["custodian_b"] == keyring.data["holders"]["custodian_b"]


def test_changing_needs_the_old_passphrase(bank):
    with pytest.raises(WrongPassphrase):
        change_passphrase(bank[1], "custodian_a", "不是旧口令-0000", "新的甲口令-9999")


def test_a_lost_custodian_is_replaced_by_the_other_and_the_bank_admin(bank):
    key, keyring = bank
    replaced = replace_holder(keyring, "custodian_b", two("custodian_a", "bank_admin"), "接任乙口令-7777")
    assert replaced.open(two("custodian_a", "custodian_b", custodian_b="接任乙口令-7777")) == key
    with pytest.raises(WrongPassphrase):  # the lost custodian's passphrase opens nothing any more
        replaced.open(two("custodian_a", "custodian_b"))
    assert replaced.open(two("custodian_a", "bank_admin")) == key


def test_short_or_equal_passphrases_are_refused():
    with pytest.raises(BankKeyError, match="至少需要 10 个字符"):
        create_keyring({**PASS, "custodian_b": "short"}, FAST)
    with pytest.raises(BankKeyError, match="不能相同"):
        create_keyring({**PASS, "custodian_b": PASS["custodian_a"]}, FAST)


def test_a_tampered_keyring_is_refused(bank):
    data = json.loads(json.dumps(bank[1].data))
    data["check"] = base64.b64encode(b"\0" * 40).decode()
    with pytest.raises(BankKeyError, match="密钥记录已损坏"):
        Keyring(data).open(two("custodian_a", "custodian_b"))


def test_sealed_items_open_only_for_their_own_identity_and_version(bank):
    key = bank[0]
    blob = seal_item(key, "uid-1", 2, "题干".encode())
    assert unseal_item(key, "uid-1", 2, blob, "WS4-001") == "题干".encode()
    assert seal_item(key, "uid-1", 2, "题干".encode()) != blob  # a fresh nonce every time
    for uid, version in [("uid-2", 2), ("uid-1", 1)]:  # moved to another item, rolled back
        with pytest.raises(TamperedItem):
            unseal_item(key, uid, version, blob, "WS4-001")


def test_a_flipped_bit_is_refused_naming_the_item(bank):
    key = bank[0]
    blob = bytearray(seal_item(key, "uid-1", 1, b"content"))
    blob[20] ^= 0x01
    with pytest.raises(TamperedItem) as refused:
        unseal_item(key, "uid-1", 1, bytes(blob), "WS4-017")
    assert refused.value.message == "试题 WS4-017 的密文校验失败（已被篡改或损坏），该题已停止使用。"
