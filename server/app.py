"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, jsonify, request
from flask.ctx import RequestContext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server.timeutil import system_now

DEFAULTS = {
    "DATA_DIR": "jikao-data",
    "SQLALCHEMY_DATABASE_URI": None,  # default: SQLite in DATA_DIR
    "SECRET_KEY": None,  # default: a random key kept in DATA_DIR/secret_key
    "SESSION_COOKIE_NAME": "jikao_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # exam LANs usually serve plain HTTP; set true behind TLS
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "WTF_CSRF_TIME_LIMIT": None,  # valid for the session: a sitting lasts hours
    "WTF_CSRF_SSL_STRICT": False,
    "TIMEZONE": "Asia/Shanghai",
    "CLOCK": system_now,
    "ASYNC_MODE": "threading",  # ``jikao serve`` runs gevent
    "SOCKET_MAX_PAYLOAD": 64 * 1024,
    "SWEEP_INTERVAL": 1.0,
    "WORKER": "local",  # this server process's name among several over one database (``jikao serve``: host:port)
    "DB_POOL_SIZE": 10,  # PostgreSQL connections per server process kept open, and more at busy moments:
    "DB_POOL_OVERFLOW": 30,  # PostgreSQL's max_connections must cover every process's sum (docs/deployment.md)
    "MESSAGE_QUEUE": None,  # e.g. redis://127.0.0.1:6379/0: several server processes share their sockets' events
    "AUTO_UPGRADE": True,
    "BANK_SCRYPT_N": 2**15,  # scrypt cost for the key holders' passphrases (tests use less)
    "PDF_FONT": None,  # a TrueType font with Chinese glyphs for printed PDFs (default: see server.pdf)
    "SITE_CODE": "01",  # the test centre's two-digit code in ticket numbers (docs/sittings.md)
}

_namespaces_registered = False


SOCKETIO_PATH = "/socket.io"  # Flask-SocketIO's default path


class JikaoApp(Flask):
    """Flask, but a socket event's request context matches no URL and opens no session cookie.

    Flask-SocketIO runs each socket event in a request context built from the connection's handshake request
    (/socket.io/), and Flask matches its URL against the routes every time: no route matched it, so each event
    raised a NotFound and kept it with its traceback, and werkzeug's matcher leaves a reference cycle of its
    own behind on every match. Those cycles, about 60 objects per event, were what the collector stopped the
    event loop for, 100-150 ms every few seconds with 2,000 candidates (docs/performance.md). No socket
    handler needs the URL (none builds one with ``url_for``), so for this path no URL adapter is made at all.
    """

    def create_url_adapter(self, request):
        if request is not None and request.environ.get("PATH_INFO", "").startswith(SOCKETIO_PATH):
            return None
        return super().create_url_adapter(request)

    def request_context(self, environ: dict) -> RequestContext:
        """A socket event's request context starts with the connection's session as Flask-SocketIO keeps it.
        Flask would otherwise open the session cookie again for every event (check its signature, decode it)
        only for Flask-SocketIO to replace it with its kept copy (about 4 % of the server's CPU with 2,000 candidates
        answering, by py-spy)."""
        kept = environ.get("saved_session")  # Flask-SocketIO's copy, made at the connection's first event
        if kept is not None:
            return RequestContext(self, environ, session=kept)
        return super().request_context(environ)


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then ``JIKAO_*`` environment variables, then the caller's overrides."""
    app = JikaoApp(__name__, static_folder="static", static_url_path="/static")
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("JIKAO")
    if os.environ.get("JIKAO_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["JIKAO_DATABASE_URL"]
    if config:
        app.config.update(config)

    data_dir = Path(app.config["DATA_DIR"]).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = str(data_dir)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{data_dir / 'jikao.db'}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(data_dir)

    _bind_extensions(app)
    _register_errors(app)

    from server.admin.views import bp as admin_bp
    from server.auth.views import bp as auth_bp
    from server.bank.views import bp as bank_bp
    from server.exam.views import bp as candidate_bp
    from server.proctor.views import bp as proctor_bp
    from server.sittings.views import bp as sittings_bp
    from server.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(candidate_bp)
    app.register_blueprint(bank_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(proctor_bp)
    app.register_blueprint(sittings_bp)

    if app.config["AUTO_UPGRADE"]:
        from server.db import upgrade
        from server.extensions import db

        with app.app_context():
            upgrade(db.engine)
    return app


def _bind_extensions(app: Flask) -> None:
    global _namespaces_registered
    import server.models  # noqa: F401  (every table known to the metadata)
    from server.exam.events import CandidateNamespace
    from server.extensions import csrf, db, socketio
    from server.proctor.events import ProctorNamespace
    from server.sockets import JsonPacket

    engine_options = {}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        engine_options["connect_args"] = {"check_same_thread": False}
    else:  # PostgreSQL: a query waits cooperatively, so many greenlets hold a connection at once
        engine_options.update(pool_size=app.config["DB_POOL_SIZE"], max_overflow=app.config["DB_POOL_OVERFLOW"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)
    db.init_app(app)
    csrf.init_app(app)
    if not _namespaces_registered:
        socketio.on_namespace(CandidateNamespace("/candidate"))
        socketio.on_namespace(ProctorNamespace("/proctor"))
        _namespaces_registered = True
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        transports=["websocket"],  # a LAN needs no long-polling fallback
        max_http_buffer_size=app.config["SOCKET_MAX_PAYLOAD"],
        ping_interval=10,
        ping_timeout=10,
        logger=False,
        engineio_logger=False,
        serializer=JsonPacket,
        message_queue=app.config["MESSAGE_QUEUE"],  # several server processes: docs/deployment.md
        channel="jikao",
    )


def _register_errors(app: Flask) -> None:
    """JSON errors for the API, never a stack trace."""

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.path == "/healthz"

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        body = {"ok": False, "error": {"code": "csrf", "message": "页面已过期，请刷新页面后重试。"}}
        return jsonify(body), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not wants_json():
            return exc
        return jsonify(ok=False, error={"code": exc.name.lower().replace(" ", "_"), "message": exc.name}), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        logging.getLogger("server").exception("request failed", exc_info=exc)
        body = {"ok": False, "error": {"code": "internal", "message": "服务器处理出错，请重试或联系管理员。"}}
        return jsonify(body), 500


def _secret_key(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
