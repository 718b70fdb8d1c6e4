"""PostgreSQL, Redis and nginx from Debian's packages, each started as a private process on loopback for one
test (or one benchmark run) and stopped after it: the scale-out of docs/deployment.md, for real.

``scripts/test.sh`` installs the packages when they are missing. Started as root, PostgreSQL runs as the
``postgres`` user its package created (it refuses to run as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DEPLOYMENT = Path(__file__).resolve().parent.parent / "docs" / "deployment"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # polling interval while waiting for the port, not a wait for an outcome
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


class Service:
    """A server process in a private directory; :meth:`stop` ends it and removes the directory."""

    def __init__(self, name: str):
        # Not under pytest's tmp_path: that is private to root, and PostgreSQL runs as another user.
        self.dir = Path(tempfile.mkdtemp(prefix=f"jikao-{name}-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.log_path = self.dir / f"{name}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115  (closed in stop)
        self.process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgreSQL(Service):
    """A new cluster (``initdb``) with a database ``jikao``, trusted on loopback."""

    def __init__(self):
        super().__init__("postgresql")
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
        if not versions:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (scripts/test.sh does)")
        bin_dir = versions[-1].parent
        data = self.dir / "data"
        data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
            shutil.chown(self.log_path, "postgres", "postgres")
        subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "jikao", "-E", "UTF8"]),
            check=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.process = subprocess.Popen(
            _as_postgres(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={data}",
                    "-c",
                    "max_connections=200",
                ]
            ),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process, "PostgreSQL", self.log_path)
        deadline = time.monotonic() + 30
        while True:  # the port opens a moment before connections are accepted
            created = subprocess.run(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "jikao", "jikao"],
                capture_output=True,
                text=True,
            )
            if created.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"createdb failed: {created.stderr}")
            time.sleep(0.1)  # polling interval while PostgreSQL finishes starting
        self.url = f"postgresql://jikao@127.0.0.1:{self.port}/jikao"


class Redis(Service):
    """An in-memory Redis (no snapshots): the Socket.IO message queue."""

    def __init__(self):
        super().__init__("redis")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
        )
        wait_for_port(self.port, self.process, "Redis", self.log_path)
        self.url = f"redis://127.0.0.1:{self.port}/0"


class Nginx(Service):
    """nginx with the shipped example (docs/deployment/nginx.conf) in front of the given worker ports."""

    def __init__(self, upstream_ports: list[int]):
        super().__init__("nginx")
        example = (DEPLOYMENT / "nginx.conf").read_text()
        self.site = jikao_site(example, upstream_ports, self.port)
        (self.dir / "nginx.conf").write_text(
            "pid nginx.pid;\n"
            "error_log nginx-error.log notice;\n"
            "worker_rlimit_nofile 65536;\n"
            "events { worker_connections 16384; }\n"  # two a websocket: the computer's and the upstream's
            "http {\n"
            "  access_log off;\n"
            "  client_body_temp_path tmp-body; proxy_temp_path tmp-proxy;\n"
            "  fastcgi_temp_path tmp-fastcgi; uwsgi_temp_path tmp-uwsgi; scgi_temp_path tmp-scgi;\n"
            f"{self.site}\n"
            "}\n"
        )
        self.process = subprocess.Popen(
            ["nginx", "-p", str(self.dir), "-c", "nginx.conf", "-e", "nginx-error.log", "-g", "daemon off;"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process, "nginx", self.dir / "nginx-error.log")
        self.url = f"http://127.0.0.1:{self.port}"


def jikao_site(example: str, upstream_ports: list[int], listen_port: int) -> str:
    """The example's upstream servers and listening port replaced by these; everything else as shipped."""
    lines, servers_done = [], False
    for line in example.splitlines():
        stripped = line.strip()
        if stripped.startswith("server 127.0.0.1:"):
            if not servers_done:
                indent = line[: len(line) - len(line.lstrip())]
                rest = stripped.split(" ", 2)[2] if stripped.count(" ") >= 2 else ";"
                lines += [f"{indent}server 127.0.0.1:{port} {rest}" for port in upstream_ports]
                servers_done = True
            continue
        if stripped.startswith("listen "):
            line = line.replace(stripped, f"listen 127.0.0.1:{listen_port};")
        lines.append(line)
    if not servers_done:
        raise ValueError("the nginx example has no 'server 127.0.0.1:…' upstream lines")
    return "\n".join(lines)
