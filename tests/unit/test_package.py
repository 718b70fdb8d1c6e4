import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from item_bank.package import PackageError, build, fingerprint, open_package, public_bytes

FAST = {"n": 2**10, "r": 8, "p": 1}
PASSPHRASE = "二〇二六年十一月传输口令"


@pytest.fixture(scope="module")
def centre():
    return Ed25519PrivateKey.generate()


def package(centre, payload=b'{"items": []}'):
    return build(
        payload, {"kind": "bank", "items": 0}, PASSPHRASE, centre, "省题库中心", "2026-11-21T08:00:00+08:00", FAST
    )


def trusted(key) -> set[str]:
    return {fingerprint(public_bytes(key.public_key()))}


def test_a_package_opens_with_the_passphrase_from_a_trusted_signer(centre):
    data = package(centre, "题干内容".encode())
    opened = open_package(data, PASSPHRASE, trusted(centre))
    assert opened.payload == "题干内容".encode()
    assert opened.header["signer"] == "省题库中心"
    assert "题干内容".encode() not in data  # the content travels encrypted


def test_a_wrong_passphrase_is_refused(centre):
    with pytest.raises(PackageError, match="传输口令不正确"):
        open_package(package(centre), "不是这个口令-0000", trusted(centre))


def test_an_untrusted_signer_is_refused_naming_the_fingerprint(centre):
    stranger = Ed25519PrivateKey.generate()
    data = build(b"{}", {}, PASSPHRASE, stranger, "冒名中心", "t", FAST)
    with pytest.raises(PackageError) as refused:
        open_package(data, PASSPHRASE, trusted(centre))
    assert "冒名中心" in refused.value.message
    assert fingerprint(public_bytes(stranger.public_key())) in refused.value.message


@pytest.mark.parametrize("part", ["sealed", "header"])
def test_any_change_in_transit_breaks_the_signature(centre, part):
    document = json.loads(package(centre))
    if part == "sealed":
        raw = bytearray(base64.b64decode(document["sealed"]))
        raw[5] ^= 1
        document["sealed"] = base64.b64encode(bytes(raw)).decode()
    else:
        document["header"]["summary"]["items"] = 999
    with pytest.raises(PackageError, match="签名校验失败"):
        open_package(json.dumps(document).encode(), PASSPHRASE, trusted(centre))


def test_a_truncated_file_is_refused(centre):
    with pytest.raises(PackageError, match="不是 Jikao 数据包"):
        open_package(package(centre)[:100], PASSPHRASE, trusted(centre))


def test_a_short_transfer_passphrase_is_refused(centre):
    with pytest.raises(PackageError, match="至少需要 12 个字符"):
        build(b"{}", {}, "short", centre, "x", "t", FAST)
