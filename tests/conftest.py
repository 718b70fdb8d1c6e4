"""Fixtures shared by every suite: an app on a temporary SQLite file with a movable clock, test clients,
a seeded exam site, and, for the real-process tests, a live ``jikao serve`` and Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import socketio
import websocket

from server.app import create_app
from server.demo import seed
from server.extensions import db
from tests.helpers import CandidateActions, ProctorActions

FAST_SCRYPT_N = 2**10  # key derivation in tests: the same code, a cheaper cost
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class FakeClock:
    """The server's clock in tests: starts at a fixed instant and moves only when told to."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Site:
    logins: dict  # username -> password
    tickets: list[str]
    custodians: dict  # key holder -> passphrase


TEST_NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
# The seeded sitting's start: entry is open from 20 minutes before it, both on the tests' clock and on the real
# clock of the live servers (never later than now, so the real clock is always past the entry time).
SEEDED_START = min(TEST_NOW + timedelta(minutes=10), datetime.now(UTC).replace(second=0, microsecond=0))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TEST_NOW)


@pytest.fixture
def site_options() -> dict:
    """Override in a test module to seed a sitting with other timings."""
    return {}


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    """Seed each kind of site once (hashing passwords is slow on purpose) and hand out copies."""
    templates: dict[tuple, Path] = {}

    def copy(options: dict, target: Path) -> Path:
        key = tuple(sorted(options.items()))
        if key not in templates:
            template = tmp_path_factory.mktemp("seeded")
            seeding = create_app({"DATA_DIR": str(template), "BANK_SCRYPT_N": FAST_SCRYPT_N})
            with seeding.app_context():
                seed.ensure_demo(seeding, **({"start": SEEDED_START} | options))
                db.engine.dispose()  # checkpoints the WAL into the database file
            templates[key] = template
        shutil.copytree(templates[key], target)
        return target

    return copy


@pytest.fixture
def app(tmp_path, clock, site_options, seeded):
    data_dir = seeded(site_options, tmp_path / "data")
    app = create_app({"DATA_DIR": str(data_dir), "CLOCK": clock, "TESTING": True})
    with app.app_context():
        demo = seed.ensure_demo(app)  # already seeded: opens the bank, returns the saved logins
    app.site = Site({e["username"]: e["password"] for e in demo.logins}, seed.sample_tickets(30), demo.custodians)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def socket_client(app, client):
    """A candidate-namespace Socket.IO test client sharing ``client``'s cookies (not connected yet)."""
    from server.extensions import socketio

    return socketio.test_client(app, namespace="/candidate", flask_test_client=client)


@pytest.fixture
def candidate(app):
    """A candidate at their own computer (own cookie jar), for the first demo ticket."""
    return CandidateActions(app, app.site.tickets[0])


@pytest.fixture
def make_candidate(app):
    return lambda ticket: CandidateActions(app, ticket)


@pytest.fixture
def proctor(app):
    return ProctorActions(app, "proctor1", app.site.logins["proctor1"])


# ---- real processes: a live server and a browser ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``jikao serve`` as a real process on loopback, waited for by polling /healthz."""

    def __init__(self, data_dir: Path, custodians: dict, port: int | None = None, env: dict | None = None):
        self.data_dir = data_dir
        self.env = env or {}  # e.g. the database and message queue of a scale-out
        self.port = port or free_port()  # a restart after a crash comes back on the same port
        self.url = f"http://127.0.0.1:{self.port}"
        self.custodians = custodians
        self.log_path = data_dir / f"server-{self.port}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115  (closed in stop)
        self.start()

    def start(self) -> None:
        """Start the server process (again, after :meth:`crash`: same port, same data) and wait until healthy."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data",
                str(self.data_dir),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "JIKAO_CUSTODIAN_A": self.custodians["custodian_a"],
                "JIKAO_CUSTODIAN_B": self.custodians["custodian_b"],
                **self.env,
            },
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)  # polling interval while waiting for the port, not a wait for an outcome
        raise RuntimeError("server did not become healthy within 30 s")

    def crash(self) -> None:
        """SIGKILL, as a power cut: no goodbye to anyone."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log.close()
        return code


@pytest.fixture
def live_site(tmp_path, site_options, seeded):
    """A seeded data directory served by a real ``jikao serve`` process."""
    data_dir = seeded(site_options, tmp_path / "live")
    seeding = create_app({"DATA_DIR": str(data_dir)})
    with seeding.app_context():
        demo = seed.ensure_demo(seeding)
        db.engine.dispose()
    server = LiveServer(data_dir, demo.custodians)
    server.logins = {entry["username"]: entry["password"] for entry in demo.logins}
    server.tickets = seed.sample_tickets(30)
    server.app = seeding  # to read what the server stored
    yield server
    assert server.stop() == 0, "the server must stop cleanly on SIGTERM"


class LiveClients:
    """Real HTTP sessions and python-socketio clients against a live server; all closed afterwards."""

    def __init__(self):
        self.opened: list = []

    def login(self, server: LiveServer, path: str, body: dict) -> requests.Session:
        http = requests.Session()
        self.opened.append(http)
        token = http.get(server.url + "/api/auth/session", timeout=5).json()["csrf_token"]
        response = http.post(server.url + path, json=body, headers={"X-CSRFToken": token}, timeout=5)
        assert response.status_code == 200, response.text
        return http

    def socket(self, server: LiveServer, http: requests.Session, namespace: str, **handlers):
        client = socketio.Client(http_session=http, reconnection=False)
        self.opened.append(client)
        for event, handler in handlers.items():
            client.on(event, handler, namespace=namespace)
        client.connect(server.url, namespaces=[namespace], transports=["websocket"], wait_timeout=10)
        # python-engineio's client forgets, without closing it, a websocket that the server closed
        self.opened.append(client.eio.ws)
        return client

    def proctor(self, server: LiveServer, username: str = "proctor1"):
        http = self.login(server, "/api/auth/login", {"username": username, "password": server.logins[username]})
        return self.socket(server, http, "/proctor")

    def candidate(self, server: LiveServer, ticket: str, **handlers):
        http = self.login(server, "/api/candidate/login", {"ticket": ticket})
        return self.socket(server, http, "/candidate", **handlers)

    def close(self):
        while self.opened:
            thing = self.opened.pop()
            if isinstance(thing, socketio.Client):
                thing.disconnect()
            elif isinstance(thing, websocket.WebSocket):
                # Wakes the client's reader thread at once (closing alone would leave it in recv), and
                # releases a socket the server already closed (the client's close() does nothing then).
                with contextlib.suppress(OSError, AttributeError):
                    thing.sock.shutdown(socket.SHUT_RDWR)
                thing.shutdown()
            else:
                thing.close()


@pytest.fixture
def live_clients():
    clients = LiveClients()
    yield clients
    clients.close()


def confirm_and_start(proctor, ticket: str) -> None:
    """What the proctor does for one candidate, over a real socket."""
    room = proctor.call("list_rooms", {}, namespace="/proctor", timeout=10)["rooms"][0]
    seats = proctor.call("watch_room", {"room_id": room["id"]}, namespace="/proctor", timeout=10)["room"]["seats"]
    seat = next(s for s in seats if s["ticket"] == ticket)
    assert proctor.call("confirm_identity", {"candidate_id": seat["candidate_id"]}, namespace="/proctor")["ok"]
    assert proctor.call("start_room", {"room_id": room["id"]}, namespace="/proctor")["ok"]


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def candidate_in_browser(browser, server: LiveServer, ticket: str):
    """A candidate's page that has logged in with the ticket and waits for the proctor."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(server.url + "/")
    page.fill("#ticket", ticket)
    page.click("#lookup")
    page.click("#confirm-login")
    expect(page.locator("#screen-awaiting")).to_be_visible()
    return page


def staff_login(page, server: LiveServer, username: str) -> None:
    """Log in on a staff screen (console, bank, admin) already open in ``page``, with the demo password."""
    page.fill("#username", username)
    page.fill("#password", server.logins[username])
    page.click("#login")


def proctor_console(browser, server: LiveServer, username: str = "proctor1"):
    """A proctor console, logged in and showing the room."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(server.url + "/proctor/")
    staff_login(page, server, username)
    expect(page.locator("#count-expected")).to_have_text("30")
    return page
