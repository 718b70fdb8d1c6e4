"""The README's first command: `jikao demo` prints how to get in, serves, stops cleanly, and keeps or
resets its data as asked."""

import re
import signal
import subprocess
import sys
import time

import requests

from tests.conftest import free_port


def run_demo(data_dir, *flags):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "demo", "--port", str(port), "--data", str(data_dir), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "数据目录 data:" in line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/proctor/" in output, output
        assert healthy(f"http://127.0.0.1:{port}/healthz", deadline=time.monotonic() + 30)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        rest, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, rest
    assert "已停止" in rest
    return output


def healthy(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return True
        except requests.ConnectionError:
            time.sleep(0.05)  # polling interval while the port is being bound
    return False


def password_of(output: str) -> str:
    return re.search(r"proctor1\s+密码 (\S+)", output).group(1)


def test_demo_prints_its_urls_logins_and_tickets_and_stops_on_ctrl_c(tmp_path):
    output = run_demo(tmp_path / "demo")
    assert "考生端 candidate:" in output
    assert re.search(r"准考证号 tickets to try: 202611010101, 202611010102", output)
    assert len(password_of(output)) >= 12


def test_running_the_demo_again_reuses_or_resets_as_asked(tmp_path):
    first = password_of(run_demo(tmp_path / "demo"))
    assert password_of(run_demo(tmp_path / "demo", "--reuse")) == first
    assert password_of(run_demo(tmp_path / "demo")) == first  # no terminal to ask: keep the data
    assert password_of(run_demo(tmp_path / "demo", "--reset")) != first
