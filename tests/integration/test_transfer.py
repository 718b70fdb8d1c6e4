"""A bank travels from the bank centre to an exam site as a signed, encrypted package, with handover records."""

import base64
import json
import re

import pytest
from click.testing import CliRunner

from server.cli import main

TRANSFER = "二〇二六年十一月第一批传输口令"
SITE = {
    "JIKAO_CUSTODIAN_A": "考点保密员甲口令-01",
    "JIKAO_CUSTODIAN_B": "考点保密员乙口令-02",
    "JIKAO_BANK_ADMIN": "考点题库管理员口令-03",
    "JIKAO_BANK_SCRYPT_N": "1024",
}


def run(data_dir, *args, env):
    return CliRunner().invoke(main, [*args, "--data", str(data_dir)], env=env)


@pytest.fixture
def centre(app):
    c = app.site.custodians
    env = {
        "JIKAO_CUSTODIAN_A": c["custodian_a"],
        "JIKAO_CUSTODIAN_B": c["custodian_b"],
        "JIKAO_TRANSFER_PASSPHRASE": TRANSFER,
    }
    shown = run(app.config["DATA_DIR"], "bank", "identity", "--name", "省题库中心", env=env)
    assert shown.exit_code == 0, shown.output
    public_key = re.search(r"公钥：(\S+)", shown.output).group(1)
    return app.config["DATA_DIR"], env, public_key


@pytest.fixture
def site(tmp_path, centre):
    site_dir = tmp_path / "site"
    assert run(site_dir, "bank", "init", env=SITE).exit_code == 0
    assert run(site_dir, "bank", "trust", "省题库中心", centre[2], env=SITE).exit_code == 0
    return site_dir


@pytest.fixture
def package(tmp_path, centre):
    path = tmp_path / "污水处理工四级.jkp"
    result = run(centre[0], "bank", "export", str(path), "--occupation", "6-28-01-14", "--level", "4", env=centre[1])
    assert result.exit_code == 0, result.output
    return path


def test_a_bank_travels_encrypted_and_signed_and_both_ends_record_the_handover(centre, site, package):
    assert "职业道德".encode() not in package.read_bytes()  # the content travels encrypted
    received = run(
        site, "bank", "import", str(package), "--activate", env={**SITE, "JIKAO_TRANSFER_PASSPHRASE": TRANSFER}
    )
    assert received.exit_code == 0, received.output
    assert "已接收 省题库中心 的数据包并导入 130 道试题" in received.output
    sent_log = run(centre[0], "bank", "handovers", env=centre[1]).output
    received_log = run(site, "bank", "handovers", env=SITE).output
    digest = re.search(r"SHA-256 (\w+)", sent_log).group(1)
    assert "发出" in sent_log and "接收" in received_log
    assert f"SHA-256 {digest}" in received_log  # the same package at both ends
    assert run(site, "bank", "verify", env=SITE).exit_code == 0


def test_a_wrong_transfer_passphrase_imports_nothing(site, package):
    result = run(site, "bank", "import", str(package), env={**SITE, "JIKAO_TRANSFER_PASSPHRASE": "不对的传输口令-0000"})
    assert result.exit_code == 1
    assert "传输口令不正确，数据包未打开。" in result.output
    assert "没有交接记录" in run(site, "bank", "handovers", env=SITE).output


def test_a_package_changed_in_transit_is_refused(site, package):
    document = json.loads(package.read_bytes())
    sealed = bytearray(base64.b64decode(document["sealed"]))
    sealed[100] ^= 0x01
    document["sealed"] = base64.b64encode(bytes(sealed)).decode()
    package.write_text(json.dumps(document), encoding="utf-8")
    result = run(site, "bank", "import", str(package), env={**SITE, "JIKAO_TRANSFER_PASSPHRASE": TRANSFER})
    assert result.exit_code == 1
    assert "数据包签名校验失败" in result.output


def test_a_package_from_an_untrusted_sender_is_refused(tmp_path, centre, package):
    stranger_site = tmp_path / "other-site"
    assert run(stranger_site, "bank", "init", env=SITE).exit_code == 0
    result = run(stranger_site, "bank", "import", str(package), env={**SITE, "JIKAO_TRANSFER_PASSPHRASE": TRANSFER})
    assert result.exit_code == 1
    assert "签名者“省题库中心”" in result.output and "不在本机信任的发送方中" in result.output


def test_a_malformed_public_key_is_refused(site):
    result = run(site, "bank", "trust", "某中心", "not-a-key", env=SITE)
    assert result.exit_code == 1 and "公钥格式不正确" in result.output
