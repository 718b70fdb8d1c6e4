"""The ``jikao`` command line."""

from __future__ import annotations

import logging
import re
import shutil
import signal
import sys
from pathlib import Path

import click

DATA_HELP = "数据目录 (data directory: database, secret key, logs)"


def _app(data: str, **config):
    from server.app import create_app

    return create_app({"DATA_DIR": data, **config})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jikao")
def main() -> None:
    """Jikao (机考): LAN exam server for vocational skill level certification theory exams."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (the exam LAN).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def serve(host: str, port: int, data: str) -> None:
    """Run the exam server."""
    app = _app(data, ASYNC_MODE="gevent")
    click.echo(f"Jikao 正在运行: http://{host}:{port}/  (数据目录 {app.config['DATA_DIR']}; Ctrl-C 停止)")
    _run(app, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Use 0.0.0.0 to let other computers in.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
@click.option("--reset", "mode", flag_value="reset", help="Delete the data directory and seed it anew.")
@click.option("--reuse", "mode", flag_value="reuse", help="Keep the data directory as it is.")
@click.option("--duration", default=90, show_default=True, type=click.IntRange(1, 600), help="Minutes.")
@click.option(
    "--submit-after",
    default=30,
    show_default=True,
    type=click.IntRange(0, 600),
    help="Minutes after the start before candidates may submit.",
)
@click.option("--show-score", is_flag=True, help="Show candidates their score after submitting.")
def demo(host, port, data, mode, duration, submit_after, show_score) -> None:
    """Seed a complete demo site (污水处理工 四级, 30 candidates) and serve it."""
    from server.demo import seed

    data_dir = Path(data)
    if (data_dir / "jikao.db").exists():
        if mode is None:
            if sys.stdin.isatty():
                answer = click.prompt(
                    f"数据目录 {data_dir} 已有数据。继续使用 (reuse) 还是清空重建 (reset)?",
                    type=click.Choice(["reuse", "reset"]),
                    default="reuse",
                )
                mode = answer
            else:
                mode = "reuse"
        if mode == "reset":
            shutil.rmtree(data_dir)
    app = _app(str(data_dir), ASYNC_MODE="gevent")
    with app.app_context():
        logins = seed.ensure_demo(
            app, duration_s=duration * 60, submit_after_s=submit_after * 60, show_score=show_score
        )
        tickets = seed.sample_tickets(4)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo("Jikao 演示考点已就绪 (demo site ready)")
    click.echo(f"  考生端 candidate:  {base}/")
    click.echo(f"  监考端 proctor:    {base}/proctor/")
    for login in logins:
        click.echo(f"    {login['role']}: 用户名 {login['username']}  密码 {login['password']}")
    click.echo("  准考证号 tickets to try: " + ", ".join(tickets))
    click.echo(f"  数据目录 data: {app.config['DATA_DIR']}   (Ctrl-C 停止 / to stop)")
    _run(app, host, port)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def db_upgrade(data: str) -> None:
    """Upgrade the schema to the newest version, keeping all data."""
    _app(data)  # the factory upgrades on start
    click.echo("数据库已是最新版本 (schema up to date)")


@main.group()
def account() -> None:
    """Staff accounts (proctors, chief examiner, supervisor)."""


@account.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name, e.g. 王建国")
@click.option(
    "--role", required=True, type=click.Choice(["proctor", "chief", "supervisor", "exam_admin", "bank_admin"])
)
@click.option("--room", "room_ids", multiple=True, type=int, help="Room id to proctor (repeatable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def account_add(username, display_name, role, room_ids, password, data) -> None:
    """Create a staff account (the password is asked without echo)."""
    from server.auth.service import create_account
    from server.db import write_transaction
    from server.exam.service import ExamError
    from server.extensions import db as database

    app = _app(data)
    with app.app_context():
        try:
            with write_transaction(database.session):
                create_account(database.session, username, display_name, role, password, room_ids)
        except ExamError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"已创建账号 {username} (created)")


class _WebSocketLeftovers(logging.Filter):
    """Drops pywsgi's complaints about the bytes of websocket frames that arrive after the websocket has
    closed (pywsgi parses them as a new HTTP request; see flask-sock issue 104). Such a line quotes the
    bytes, and a frame's first byte is 0x81-0x8A; every other HTTP error is still logged."""

    FRAME_AS_REQUEST = re.compile(r"(method|version|command)[:=] ?'\\x8[0-9a-f]")

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.FRAME_AS_REQUEST.search(record.getMessage())


def _http_error_log() -> logging.Logger:
    logger = logging.getLogger("jikao.http")
    logger.addFilter(_WebSocketLeftovers())
    return logger


def _run(app, host: str, port: int) -> None:
    import gevent

    from server.exam.sweeper import run_forever
    from server.extensions import socketio

    def stop(*_):
        server = getattr(socketio, "wsgi_server", None)
        if server is not None:
            server.stop(timeout=2)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    socketio.start_background_task(run_forever, app, app.config["SWEEP_INTERVAL"])
    try:
        socketio.run(app, host=host, port=port, log_output=False, error_log=_http_error_log())
    except OSError as exc:
        raise click.ClickException(f"无法在 {host}:{port} 上启动服务: {exc.strerror}") from exc
    click.echo("Jikao 已停止 (stopped)")
