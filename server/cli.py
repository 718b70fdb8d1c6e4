"""The ``jikao`` command line."""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
from contextlib import contextmanager
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
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Server processes, on consecutive ports from --port, behind nginx (PostgreSQL and Redis; docs/deployment.md).",
)
def serve(host: str, port: int, data: str, workers: int) -> None:
    """Run the exam server."""
    if workers > 1:
        _serve_workers(host, port, data, workers)
        return
    worker = os.environ.get("JIKAO_WORKER") or f"{socket.gethostname()}:{port}"
    app = _app(data, ASYNC_MODE="gevent", WORKER=worker)
    _open_bank(app)
    click.echo(f"Jikao 正在运行: http://{host}:{port}/  (数据目录 {app.config['DATA_DIR']}; Ctrl-C 停止)")
    _run(app, host, port)


# A worker that exits by itself is started again after this long (a crash loop stays visible, not hot).
RESTART_AFTER_S = 1.0


def _serve_workers(host: str, port: int, data: str, workers: int) -> None:
    """Several server processes over one PostgreSQL database, sharing their sockets' events through the message
    queue (Redis), each on its own port (``port`` … ``port + workers - 1``) behind nginx with sticky sessions
    (docs/deployment.md). This process only supervises: it upgrades the schema once, asks the custodians'
    passphrases once for all, starts the workers, starts again one that exits, and stops them all on
    SIGTERM or Ctrl-C."""
    import subprocess
    import time

    if not os.environ.get("JIKAO_DATABASE_URL", "").startswith("postgresql"):
        raise click.ClickException(
            "多个服务进程需要共用 PostgreSQL 数据库：请设置 JIKAO_DATABASE_URL=postgresql://… (docs/deployment.md)"
        )
    if not os.environ.get("JIKAO_MESSAGE_QUEUE"):
        raise click.ClickException(
            "多个服务进程需要消息队列：请设置 JIKAO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0 (docs/deployment.md)"
        )
    app = _app(data)  # the schema upgraded here, once, before any worker starts
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with app.app_context():
        from server.bank import keys
        from server.extensions import db as database

        if keys.stored_keyring(database.session) is not None:
            for holder, passphrase in _passphrases(("custodian_a", "custodian_b")).items():
                env[ENV_OF[holder]] = passphrase  # each worker opens the bank with them
    ports = [port + i for i in range(workers)]

    def start(worker_port: int) -> subprocess.Popen:
        command = [sys.executable, "-m", "server", "serve", "--host", host, "--port", str(worker_port), "--data", data]
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)

    running = {worker_port: start(worker_port) for worker_port in ports}
    stopping = []

    def stop(*_):
        stopping.append(True)
        for process in running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"Jikao: {workers} 个服务进程，端口 {ports[0]}–{ports[-1]} (Ctrl-C 停止)")
    while True:
        for worker_port, process in list(running.items()):
            code = process.poll()
            if code is not None and not stopping:
                logging.getLogger("jikao.workers").warning(
                    "worker on port %s exited (%s); starting it again", worker_port, code
                )
                time.sleep(RESTART_AFTER_S)
                if not stopping:  # told to stop meanwhile: it stays stopped
                    running[worker_port] = start(worker_port)
        if stopping and all(process.poll() is not None for process in running.values()):
            break
        time.sleep(0.2)  # the supervisor's look at its workers
    click.echo("Jikao 已停止 (stopped)")


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
    from item_bank.crypto import HOLDERS
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
        site = seed.ensure_demo(app, duration_s=duration * 60, submit_after_s=submit_after * 60, show_score=show_score)
        tickets = seed.sample_tickets(4)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo("Jikao 演示考点已就绪 (demo site ready)")
    click.echo(f"  考生端 candidate:  {base}/")
    click.echo(f"  监考端 proctor:    {base}/proctor/")
    click.echo(f"  题库管理 bank:     {base}/bank/   (用户名 tiku)")
    click.echo(f"  考务管理 admin:    {base}/admin/  (用户名 kaowu)")
    for login in site.logins:
        click.echo(f"    {login['role']}: 用户名 {login['username']}  密码 {login['password']}")
    click.echo("  题库已由两位保密员口令打开 (bank opened); demo passphrases, kept in demo-logins.json:")
    click.echo("    " + "  ".join(f"{HOLDERS[h]} {p}" for h, p in site.custodians.items()))
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


ENV_OF = {"custodian_a": "JIKAO_CUSTODIAN_A", "custodian_b": "JIKAO_CUSTODIAN_B", "bank_admin": "JIKAO_BANK_ADMIN"}


def _passphrases(holders, confirm: bool = False, label: str = "口令") -> dict[str, str]:
    """Each holder's passphrase from the environment (scripts) or typed without echo (people)."""
    from item_bank.crypto import HOLDERS

    names = " / ".join(ENV_OF[h] for h in holders)
    return {holder: _secret(ENV_OF[holder], f"{HOLDERS[holder]}{label}", confirm, names) for holder in holders}


def _secret(env: str, label: str, confirm: bool = False, names: str | None = None) -> str:
    """A secret from the environment (scripts) or typed without echo (people); never from a file."""
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise click.ClickException(f"需要{label}：请在终端输入，或设置环境变量 {names or env}。")
    return click.prompt(label, hide_input=True, confirmation_prompt=confirm)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _open_bank(app) -> None:
    """Open the bank for a serving process with both custodians' passphrases (if a bank exists)."""
    from server import audit
    from server.bank import keys
    from server.db import write_transaction
    from server.errors import ExamError
    from server.extensions import db as database
    from server.timeutil import now

    with app.app_context():
        if keys.stored_keyring(database.session) is None:
            return
        try:
            keys.unlock(database.session, _passphrases(("custodian_a", "custodian_b")))
        except ExamError as exc:
            raise click.ClickException(exc.message) from exc
        with write_transaction(database.session):
            audit.record(database.session, now(), _actor(), "bank.unlock")
    click.echo("题库已打开 (bank opened by both custodians)")


@main.group()
def bank() -> None:
    """The encrypted item bank: keys held by two custodians and the bank admin, imports, checks."""


@bank.command("init")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_init(data: str) -> None:
    """Create the bank's key; custodian A, custodian B and the bank admin each set a passphrase."""
    from item_bank.crypto import HOLDERS

    with _bank_work(data, open_with=None) as (session, keys_module, now):
        keys_module.initialise(session, _passphrases(HOLDERS, confirm=True), now)
        _record(session, now, "bank.init")
    click.echo("题库密钥已建立。打开题库需要保密员A和保密员B两人的口令。")


@bank.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file; import nothing.")
@click.option("--activate", is_flag=True, help="The items were reviewed (审定) at the bank centre: import them active.")
@click.option("--occupation", help="QTI only: occupation code, e.g. 6-28-01-14")
@click.option("--occupation-name", help="QTI only: occupation name, e.g. 污水处理工")
@click.option("--level", type=click.IntRange(1, 5), help="QTI only: level 1-5")
@click.option("--knowledge-point", help="QTI only: knowledge-point code for every item, e.g. A-03-002")
@click.option("--difficulty", type=click.IntRange(1, 5), default=3, show_default=True, help="QTI only")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_import(
    file: Path, dry_run: bool, activate: bool, occupation, occupation_name, level, knowledge_point, difficulty, data
):
    """Check items completely (.xlsx, .csv, .json, or QTI: .xml, a folder, a .zip); import all or none."""
    from item_bank.imports import read_file
    from item_bank.qti import QtiDefaults, read_qti
    from server.bank.service import import_checked

    if file.suffix.lower() == ".jkp":
        return _receive_package(file, dry_run, activate, data)
    if file.is_dir() or file.suffix.lower() in (".xml", ".zip"):
        if not (occupation and occupation_name and level and knowledge_point):
            raise click.ClickException(
                "QTI 文件不含职业、等级和鉴定点："
                "请用 --occupation、--occupation-name、--level、--knowledge-point 指定。"
            )
        base = file if file.is_dir() else file.parent
        paths = sorted(p for p in file.rglob("*") if p.suffix.lower() == ".xml") if file.is_dir() else [file]
        files = {p.relative_to(base).as_posix(): p.read_bytes() for p in paths}

        def resource(path: str) -> bytes | None:
            target = (base / path).resolve()
            inside = target.is_relative_to(base.resolve())
            return target.read_bytes() if inside and target.is_file() else None

        defaults = QtiDefaults(occupation, occupation_name, level, knowledge_point, difficulty)
        result = read_qti(files, defaults, resource)
    else:
        with _progress(file.name) as progress:
            result = read_file(file.name, file.read_bytes(), progress)
    if result.problems:  # a file that cannot be read needs no passphrase to be refused
        _refuse(result)
    with _bank_work(data) as (session, _, now), _progress(file.name) as progress:
        rows = import_checked(session, result, progress, status="active" if activate else "draft")
        if result.problems:
            _refuse(result)
        if dry_run:
            session.rollback()
            click.echo(f"检查通过：{len(result.items)} 道试题可以导入（--dry-run，未导入）。")
            return
        _record(session, now, "bank.import", file=file.name, items=len(rows), activated=activate)
    state = "已入库，可用于组卷" if activate else "待审，审定并入库后才能用于组卷"
    click.echo(f"已导入 {len(rows)} 道试题（{result.occupation_name} {result.level}级），{state}。")


def _refuse(result, what: str = "试题") -> None:
    """Every problem of an import on its own line, then the refusal (the unit of work rolls back)."""
    for problem in result.problems:
        click.echo(str(problem), err=True)
    raise click.ClickException(f"发现 {len(result.problems)} 个问题，未导入任何{what}。")


def _receive_package(file: Path, dry_run: bool, activate: bool, data: str) -> None:
    """A package from the bank centre: signature, signer and passphrase checked, then imported like a file."""
    from server.bank import transfer
    from server.bank.service import import_checked

    passphrase = _secret("JIKAO_TRANSFER_PASSPHRASE", "传输口令")
    with _bank_work(data) as (session, _, now):
        opened, result = transfer.receive(session, file.read_bytes(), passphrase, file.name)
        rows = import_checked(session, result, status="active" if activate else "draft")
        if result.problems:
            _refuse(result)
        if dry_run:
            session.rollback()
            click.echo(f"数据包校验通过（签名者 {opened.header['signer']}）：{len(result.items)} 道试题可以导入。")
            return
        transfer.record_received(session, opened, file.name, _actor(), now)
    click.echo(
        f"已接收 {opened.header['signer']} 的数据包并导入 {len(rows)} 道试题；交接记录摘要 {opened.digest[:16]}…"
    )


@bank.command("identity")
@click.option("--name", help="This installation's name, e.g. 省职业技能鉴定题库中心 (the first time only).")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_identity(name: str | None, data: str) -> None:
    """Show (or create, with --name) this site's signing key for transfer packages."""
    import base64

    from item_bank.package import fingerprint
    from server.bank import transfer

    with _bank_work(data, open_with=("custodian_a", "custodian_b") if name else None) as (session, _, now):
        row = transfer.site_key(session)
        if row is None:
            if not name:
                raise click.ClickException("本机还没有签名密钥：用 --name 指定本机名称以建立。")
            row = transfer.create_site_key(session, name, _actor(), now)
        shown = row.name, fingerprint(row.public_key), base64.b64encode(row.public_key).decode()
    click.echo(f"名称：{shown[0]}\n指纹：{shown[1]}\n公钥：{shown[2]}")
    click.echo("请通过电话或书面方式向接收方核对指纹；接收方用 jikao bank trust 加入信任。")


@bank.command("trust")
@click.argument("name")
@click.argument("public_key")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_trust(name: str, public_key: str, data: str) -> None:
    """Accept packages signed by NAME's key (check its fingerprint with the sender out of band)."""
    from server.bank import transfer

    with _bank_work(data, open_with=None) as (session, _, now):
        found = transfer.trust(session, name, public_key, _actor(), now)
    click.echo(f"已信任 {name}，指纹 {found}。")


@bank.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--occupation", required=True, help="Occupation code of the bank to send.")
@click.option("--level", required=True, type=click.IntRange(1, 5))
@click.option(
    "--plain", is_flag=True, help="Write the items in clear (.json, .xlsx, .csv, or .zip of QTI): test banks only."
)
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_export(out: Path, occupation: str, level: int, plain: bool, data: str) -> None:
    """Write a signed, encrypted package (.jkp) of a bank's active items for an exam site."""
    from server.bank import transfer

    if out.exists():
        raise click.ClickException(f"{out} 已存在，未覆盖。")
    if plain:
        return _export_plain(out, occupation, level, data)
    if out.suffix.lower() != ".jkp":
        raise click.ClickException("数据包文件名应以 .jkp 结尾（明文导出请加 --plain）。")
    with _bank_work(data) as (session, _, now):
        passphrase = _secret("JIKAO_TRANSFER_PASSPHRASE", "传输口令（交给接收方，另行传递）", confirm=True)
        from flask import current_app

        package = transfer.export_bank(
            session, occupation, level, passphrase, out.name, _actor(), now, current_app.config["BANK_SCRYPT_N"]
        )
        out.write_bytes(package)
        count = json.loads(package)["header"]["summary"]["items"]
    click.echo(f"已写出数据包 {out}（{count} 道试题），交接记录已保存。传输口令请另行交给接收方。")


def _export_plain(out: Path, occupation: str, level: int, data: str) -> None:
    """A test bank in clear: opened by both custodians, recorded, and said to be in clear."""
    import io
    import zipfile

    from sqlalchemy import select

    from item_bank import ItemError
    from item_bank.imports import item_rows, write_csv, write_json, write_xlsx
    from item_bank.qti import write_qti
    from server.bank.models import Item
    from server.bank.service import open_item

    suffix = out.suffix.lower()
    if suffix not in (".json", ".xlsx", ".csv", ".zip"):
        raise click.ClickException("明文导出的文件名应以 .json、.xlsx、.csv 或 .zip（QTI）结尾。")
    with _bank_work(data) as (session, _, now):
        rows = session.scalars(
            select(Item)
            .where(
                Item.occupation_code == occupation, Item.level == level, Item.status == "active", Item.leaked.is_(False)
            )
            .order_by(Item.id)
        )
        items = [open_item(row) for row in rows]
        if not items:
            raise click.ClickException(f"没有可导出的试题（职业 {occupation}，{level}级）。")
        skipped = []
        try:
            if suffix == ".json":
                content = write_json(items, occupation, occupation, level)
            elif suffix == ".zip":
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
                    for item in items:
                        if item.type == "true_false" or item.images:
                            skipped.append(item.code)
                            continue
                        package.writestr(f"items/{item.code}.xml", write_qti(item))
                content = buffer.getvalue()
            else:
                table = item_rows(items, occupation, occupation, level)
                content = write_xlsx(table) if suffix == ".xlsx" else write_csv(table)
        except ItemError as exc:
            raise click.ClickException(exc.message) from exc
        _record(session, now, "bank.export_plain", file=out.name, items=len(items) - len(skipped))
        out.write_bytes(content)
    click.echo(f"已以明文写出 {len(items) - len(skipped)} 道试题到 {out}。明文文件只用于测试题库，不得用于正式题库。")
    if skipped:
        click.echo(f"QTI 不导出判断题和含图片的试题，未导出：{'、'.join(skipped)}")


@bank.command("handovers")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_handovers(data: str) -> None:
    """List every package sent and received (交接记录)."""
    from server.bank import transfer
    from server.timeutil import local

    with _bank_work(data, open_with=None) as (session, _, now):
        lines = [
            f"{local(h.at):%Y-%m-%d %H:%M}  {'发出' if h.direction == 'sent' else '接收'}  {h.file_name}  "
            f"{h.summary.get('items', '?')} 道  {h.counterpart}  经办 {h.actor}  SHA-256 {h.digest}"
            for h in transfer.handovers(session)
        ]
    click.echo("\n".join(lines) if lines else "没有交接记录。")


@bank.command("item")
@click.argument("code")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_item(code: str, data: str) -> None:
    """Show an item as it stands: status, version and content (opened with both custodians)."""
    from server.bank import lifecycle
    from server.bank.service import open_item

    with _bank_work(data) as (session, _, now):
        row = lifecycle.find(session, code)
        item = open_item(row)
        version, status, leaked = row.version, lifecycle.STATUS_LABELS[row.status], "，已标记泄密" if row.leaked else ""
        _record(session, now, "item.view", code=code)
    click.echo(f"{code}  {item.kind.label}题  第{version}版  {status}{leaked}")
    for line in lifecycle.describe(item):
        click.echo(f"  {line}")


def _transition_command(action: str, help_text: str):
    @bank.command(action, help=help_text)
    @click.argument("codes", nargs=-1, required=True)
    @click.option("--reason", default="", help="Why (recorded in the ledger).")
    @click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
    def command(codes, reason, data):
        from server.bank import lifecycle

        with _bank_work(data, open_with=None) as (session, _, now):
            for code in codes:
                lifecycle.transition(session, lifecycle.find(session, code), action, _actor(), now, reason)
        click.echo(f"已{lifecycle.ACTION_LABELS[action]} {len(codes)} 道试题：{'、'.join(codes)}")

    return command


_transition_command("review", "Mark draft items as reviewed (审定).")
_transition_command("activate", "Put reviewed items into the bank for papers (入库).")
_transition_command("retire", "Stop using items (停用); they stay in the bank's history.")


@bank.command("leak")
@click.argument("code")
@click.option("--reason", required=True, help="What is known of the leak (recorded).")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_leak(code: str, reason: str, data: str) -> None:
    """Mark an item as leaked (泄密): it leaves every future paper at once."""
    from server.bank import lifecycle

    with _bank_work(data, open_with=None) as (session, _, now):
        lifecycle.mark_leaked(session, lifecycle.find(session, code), _actor(), now, reason)
    click.echo(f"试题 {code} 已标记泄密，今后的试卷都不会再使用它。")


@bank.command("edit")
@click.argument("code")
@click.option("--stem", help="New stem (题干).")
@click.option("--option", "options", multiple=True, metavar="A=TEXT", help="Change one option's text (repeatable).")
@click.option("--answer", help="New answer: B, ACD, or 对/错.")
@click.option("--explanation", help="New explanation (解析).")
@click.option("--difficulty", type=click.IntRange(1, 5))
@click.option("--knowledge-point")
@click.option("--reason", required=True, help="Why the item changes (recorded with the old version).")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_edit(code, stem, options, answer, explanation, difficulty, knowledge_point, reason, data) -> None:
    """Make a new version of an item; it goes back to draft for review. The old version is kept."""
    from item_bank import ItemError, item_to_data, parse_item
    from server.bank import lifecycle
    from server.bank.service import open_item

    with _bank_work(data) as (session, _, now):
        row = lifecycle.find(session, code)
        current = open_item(row)
        changed = item_to_data(current)
        for field, value in (
            ("stem", stem),
            ("explanation", explanation),
            ("difficulty", difficulty),
            ("knowledge_point", knowledge_point),
        ):
            if value is not None:
                changed[field] = value
        for assignment in options:
            option_id, _, text = assignment.partition("=")
            match = [o for o in changed.get("options", []) if o["id"] == option_id.strip().upper()]
            if not match:
                raise click.ClickException(f"试题 {code} 没有选项 {option_id}。")
            match[0]["text"] = text
        if answer is not None:
            changed["key"] = answer in ("对", "正确", "√") if row.type == "true_false" else list(answer.upper())
        try:
            new = parse_item(changed)
        except ItemError as exc:
            raise click.ClickException(f"{code} {exc.message}") from exc
        version = lifecycle.edit(session, row, new, _actor(), now, reason)
    click.echo(f"试题 {code} 已生成第{version}版，状态为“待审”：审定并入库后才会用于组卷。")


@bank.command("history")
@click.argument("code")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_history(code: str, data: str) -> None:
    """Show every version of an item, each against the one before (old − / new +)."""
    from server.bank import lifecycle
    from server.timeutil import local

    with _bank_work(data) as (session, _, now):
        versions = lifecycle.history(session, lifecycle.find(session, code))
        when = {v.version: f"{local(v.replaced_at):%Y-%m-%d %H:%M}" for v in versions if v.replaced_at}
        _record(session, now, "item.history", code=code)
    click.echo(f"{code}：共 {len(versions)} 个版本")
    for before, after in zip(versions, versions[1:], strict=False):
        click.echo(
            f"\n第{before.version}版 → 第{after.version}版  {when[before.version]} {before.replaced_by}"
            f"  原因：{before.reason}"
        )
        for line in lifecycle.compare(before.item, after.item, f"第{before.version}版", f"第{after.version}版")[2:]:
            click.echo(f"  {line}")


@bank.command("template")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="题库导入模板.xlsx")
def bank_template(path: Path) -> None:
    """Write the Excel template for item imports (headers, examples, instructions)."""
    from item_bank.imports import write_template

    if path.exists():
        raise click.ClickException(f"{path} 已存在，未覆盖。")
    path.write_bytes(write_template())
    click.echo(f"已写出导入模板：{path}")


@bank.command("passwd")
@click.argument("holder", type=click.Choice(["custodian_a", "custodian_b", "bank_admin"]))
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_passwd(holder: str, data: str) -> None:
    """A key holder changes their own passphrase (no one else is needed; no item is re-encrypted)."""
    from item_bank.crypto import HOLDERS, change_passphrase

    old = click.prompt(f"{HOLDERS[holder]}现在的口令", hide_input=True)
    new = click.prompt(f"{HOLDERS[holder]}新的口令", hide_input=True, confirmation_prompt=True)
    _rewrap(data, lambda keyring: change_passphrase(keyring, holder, old, new), "bank.passphrase_change", holder)
    click.echo(f"{HOLDERS[holder]}的口令已更改。")


@bank.command("replace")
@click.argument("holder", type=click.Choice(["custodian_a", "custodian_b"]))
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_replace(holder: str, data: str) -> None:
    """Replace a lost custodian: the other custodian and the bank admin give the successor new pieces."""
    from item_bank.crypto import HOLDERS, replace_holder

    other = "custodian_b" if holder == "custodian_a" else "custodian_a"
    present = {h: click.prompt(f"{HOLDERS[h]}口令", hide_input=True) for h in (other, "bank_admin")}
    new = click.prompt(f"接任的{HOLDERS[holder]}新口令", hide_input=True, confirmation_prompt=True)
    _rewrap(data, lambda keyring: replace_holder(keyring, holder, present, new), "bank.holder_replaced", holder)
    click.echo(f"已由{HOLDERS[other]}和题库管理员为接任的{HOLDERS[holder]}设置口令；原口令已作废。")


@bank.command("verify")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def bank_verify(data: str) -> None:
    """Authenticate every item's ciphertext; name each one that was changed."""
    from server.bank.service import verify_all

    with _bank_work(data) as (session, _, now):
        bad = verify_all(session)
        _record(session, now, "bank.verify", tampered=bad)
    if bad:
        raise click.ClickException(f"{len(bad)} 道试题密文校验失败，已停止使用：{'、'.join(bad)}")
    click.echo("全部试题密文校验通过。")


PROGRESS_FROM = 200  # items: smaller imports finish before a bar would be read


@contextmanager
def _progress(file_name: str):
    """A progress bar on the terminal for large imports; nothing when output is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(done: int, total: int, phase: str) -> None:
            if total < PROGRESS_FROM:
                return
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"{phase} {file_name}", total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


@contextmanager
def _bank_work(data: str, open_with=("custodian_a", "custodian_b")):
    """An app context and one unit of work for a bank command, the bank opened first if asked."""
    from server.bank import keys as keys_module
    from server.db import write_transaction
    from server.errors import ExamError
    from server.extensions import db as database
    from server.timeutil import now

    app = _app(data)
    with app.app_context():
        try:
            if open_with:
                keys_module.unlock(database.session, _passphrases(open_with))
            with write_transaction(database.session):
                yield database.session, keys_module, now()
        except ExamError as exc:
            raise click.ClickException(exc.message) from exc


def _rewrap(data: str, change, action: str, holder: str) -> None:
    """Store a keyring changed by ``change`` (a passphrase change or a replacement) and record it."""
    from item_bank.crypto import BankKeyError

    with _bank_work(data, open_with=None) as (session, keys_module, now):
        try:
            keyring = change(_keyring(session, keys_module))
        except BankKeyError as exc:
            raise click.ClickException(exc.message) from exc
        keys_module.save_keyring(session, keyring, now)
        _record(session, now, action, holder=holder)


def _keyring(session, keys_module):
    keyring = keys_module.stored_keyring(session)
    if keyring is None:
        raise click.ClickException("尚未建立题库密钥（jikao bank init）。")
    return keyring


def _record(session, now, action: str, target: str = "", **detail) -> None:
    from server import audit

    audit.record(session, now, _actor(), action, target, **detail)


@main.group()
def blueprint() -> None:
    """Blueprints for paper assembly (组卷蓝图, from the 认定要素细目表): versioned, checked against the bank."""


@blueprint.command("suggest")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--occupation", required=True)
@click.option("--level", required=True, type=click.IntRange(1, 5))
@click.option(
    "--section",
    "sections",
    multiple=True,
    required=True,
    metavar="TYPE:COUNT:POINTS",
    help="e.g. single:60:1 (repeat for multiple, true_false)",
)
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def blueprint_suggest(out: Path, occupation: str, level: int, sections, data: str) -> None:
    """Write a draft blueprint spread over the bank's knowledge points and difficulties, to edit and add."""
    from item_bank.blueprint import BlueprintError, suggest
    from server.exam import blueprints

    parsed = []
    for text in sections:
        try:
            kind, count, points = text.split(":")
            parsed.append({"type": kind, "count": int(count), "points": float(points)})
        except ValueError:
            raise click.ClickException(f"--section {text}：格式应为 题型:题数:每题分值，如 single:60:1") from None
    with _bank_work(data, open_with=None) as (session, _, now):
        try:
            plan = suggest(blueprints.pool_metadata(session, occupation, level), parsed, occupation, level)
        except BlueprintError as exc:
            raise click.ClickException("；".join(exc.problems)) from exc
    if out.exists():
        raise click.ClickException(f"{out} 已存在，未覆盖。")
    out.write_text(json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8")
    click.echo(f"已写出蓝图草稿 {out}（{len(plan['cells'])} 个细目）。请按细目表调整后用 jikao blueprint add 保存。")


@blueprint.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def blueprint_add(file: Path, data: str) -> None:
    """Keep a blueprint as the next version, if it is valid and the bank can fill it now."""
    from item_bank.blueprint import parse_blueprint
    from server.exam import blueprints

    try:
        content = json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{file.name}：不是有效的 JSON（{exc}）") from exc
    with _bank_work(data, open_with=None) as (session, _, now):
        row = blueprints.add_version(session, content, _actor(), now)
        lines = blueprints.describe(parse_blueprint(row.data))
    click.echo("已保存蓝图：\n" + "\n".join(lines))


@blueprint.command("show")
@click.option("--occupation", required=True)
@click.option("--level", required=True, type=click.IntRange(1, 5))
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def blueprint_show(occupation: str, level: int, data: str) -> None:
    """Show the newest blueprint of an occupation and level."""
    from item_bank.blueprint import parse_blueprint
    from server.exam import blueprints

    with _bank_work(data, open_with=None) as (session, _, now):
        row = blueprints.latest(session, occupation, level)
        if row is None:
            raise click.ClickException(f"职业 {occupation} {level}级 还没有蓝图。")
        lines = blueprints.describe(parse_blueprint(row.data))
    click.echo("\n".join(lines))


# ---- sittings (考务): the sitting and its registration list ------------------------------------------------------


@main.group()
def sitting() -> None:
    """Sittings (场次) and their registration lists (报名名单)."""


def _minutes(value: int | None) -> int | None:
    return None if value is None else value * 60


@sitting.command("create")
@click.option("--name", required=True, help="The sitting's name, e.g. 2026年12月 污水处理工（四级）理论知识 第1场.")
@click.option("--occupation", required=True, help="The occupation code, as in the bank (e.g. 6-28-01-14).")
@click.option("--occupation-name", required=True, help="The occupation's name (e.g. 污水处理工).")
@click.option("--level", required=True, type=click.IntRange(1, 5))
@click.option("--start", required=True, help="Start, in the site's local time: YYYY-MM-DD HH:MM.")
@click.option("--duration", required=True, type=int, help="Minutes.")
@click.option("--entry-before", type=int, help="Minutes before the start candidates may log in [20].")
@click.option("--late-entry", type=int, help="Minutes after the start no candidate may log in [30].")
@click.option("--submit-after", type=int, help="Minutes after the start a candidate may submit [30].")
@click.option("--warning", type=int, help="Minutes before the end candidates are warned [15].")
@click.option("--make-up-max", type=int, help="Outages up to this many minutes are made up at once [30].")
@click.option("--show-score/--no-show-score", default=None, help="Show the score on submission [no].")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_create(
    name,
    occupation,
    occupation_name,
    level,
    start,
    duration,
    entry_before,
    late_entry,
    submit_after,
    warning,
    make_up_max,
    show_score,
    data,
) -> None:
    """Set up a sitting with its timing policy (the regulations' defaults unless given)."""
    from server.sittings import service

    given = {
        "entry_before_s": _minutes(entry_before),
        "late_entry_s": _minutes(late_entry),
        "submit_after_s": _minutes(submit_after),
        "warning_s": _minutes(warning),
        "make_up_max_s": _minutes(make_up_max),
        "show_score": show_score,
    }
    with _bank_work(data, open_with=None) as (session, _, now):
        exam = service.create_sitting(
            session,
            name=name,
            occupation_code=occupation,
            occupation_name=occupation_name,
            level=level,
            start=service.parse_local(start),
            duration_s=duration * 60,
            policy={k: v for k, v in given.items() if v is not None},
            actor=_actor(),
            now=now,
        )
        lines, number = service.describe(exam), exam.id
    click.echo(f"已设立场次 {number}：\n" + "\n".join(lines))


@sitting.command("list")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_list(data: str) -> None:
    """Every sitting, with its start and how many are registered."""
    from server.sittings import service

    with _bank_work(data, open_with=None) as (session, _, now):
        lines = [service.one_line(session, exam) for exam in service.sittings(session)]
    click.echo("\n".join(lines) if lines else "还没有场次。")


@sitting.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--session", "session_id", required=True, type=int, help="The sitting.")
@click.option("--dry-run", is_flag=True, help="Check the file only; register nobody.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_import(file: Path, session_id: int, dry_run: bool, data: str) -> None:
    """Register the candidates of an Excel or CSV list (UTF-8 or GBK); a file with any problem registers nobody."""
    from server.errors import ExamError
    from server.extensions import db as database
    from server.sittings import service
    from server.timeutil import now

    with _app(data).app_context():  # read before the unit of work: never holding the write lock meanwhile
        try:
            exam = service.sitting(database.session, session_id)
        except ExamError as exc:
            raise click.ClickException(exc.message) from exc
        result = service.check_registrations(database.session, exam, file.name, file.read_bytes(), now().date())
        database.session.rollback()
    if result.ok and not dry_run:
        with _bank_work(data, open_with=None) as (session, _, at):
            service.import_registrations(session, service.sitting(session, session_id), result, _actor(), at)
    if not result.ok:
        _refuse(result, "考生")
    done = "检查通过，未导入（--dry-run）" if dry_run else "已导入"
    click.echo(f"{file.name}：{done} {len(result.people)} 名考生。")


def _account_id(session, username: str | None, role: str) -> int | None:
    from sqlalchemy import select

    from server.auth.models import ROLES, Account

    if username is None:
        return None
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None or account.role != role:
        raise click.ClickException(f"没有用户名为 {username} 的{ROLES[role]}账号。")
    return account.id


@sitting.command("site")
@click.argument("session_id", type=int)
@click.option("--site", required=True, help="The site (考点) printed on tickets and door lists.")
@click.option("--chief", help="The chief examiner's (主考) username.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_site(session_id: int, site: str, chief: str | None, data: str) -> None:
    """Name the sitting's site and its chief examiner."""
    from server.sittings import rooms, service

    with _bank_work(data, open_with=None) as (session, _, now):
        exam = service.sitting(session, session_id)
        rooms.set_site(session, exam, site, _account_id(session, chief, "chief"), _actor(), now)
    click.echo(f"场次 {session_id}：考点 {site}" + (f"，主考 {chief}" if chief else ""))


@sitting.command("room")
@click.argument("session_id", type=int)
@click.option("--name", required=True, help="e.g. 第01考场")
@click.option("--rows", required=True, type=click.IntRange(1, 20))
@click.option("--cols", required=True, type=click.IntRange(1, 20))
@click.option("--location", default="", help="Where it is, e.g. 实训楼三层 301.")
@click.option("--proctor", "proctors", multiple=True, help="A proctor's username: 主监考 first, then 副监考.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_room(session_id: int, name, rows, cols, location, proctors, data) -> None:
    """Add a room (a grid of computers) to the sitting, with its two proctors."""
    from server.sittings import rooms, service

    with _bank_work(data, open_with=None) as (session, _, now):
        exam = service.sitting(session, session_id)
        ids = tuple(_account_id(session, p, "proctor") for p in proctors)
        room = rooms.add_room(session, exam, rooms.RoomPlan(name, rows, cols, location, ids), _actor(), now)
        number, warnings = room.number, rooms.warnings(session, exam)
    click.echo(f"已添加考场 {number}：{name}，{rows} 排 × {cols} 列")
    for line in warnings:
        click.echo(f"注意：{line}")


@sitting.command("arrange")
@click.argument("session_id", type=int)
@click.option("--fill", default=30, show_default=True, type=click.IntRange(1, 400), help="At most this many a room.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_arrange(session_id: int, fill: int, data: str) -> None:
    """Seat everyone registered and not yet seated, spreading colleagues of one work unit apart."""
    from server.sittings import arrangement, rooms, service

    with _bank_work(data, open_with=None) as (session, _, now):
        exam = service.sitting(session, session_id)
        result = arrangement.arrange(session, exam, _actor(), now, fill=fill)
        warnings = rooms.warnings(session, exam)
    click.echo(f"已编排 {result.seated} 名考生，用了 {result.rooms} 个考场；同单位相邻 {result.neighbours} 对。")
    for line in warnings:
        click.echo(f"注意：{line}")


PRINTOUTS = {"tickets": "准考证", "door-lists": "门贴", "seat-labels": "桌贴"}


@sitting.command("print")
@click.argument("session_id", type=int)
@click.argument("what", type=click.Choice(list(PRINTOUTS)))
@click.option("--room", "room_id", type=int, help="Only this room.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_print(session_id: int, what: str, room_id: int | None, out: Path, data: str) -> None:
    """Write the admission tickets, door lists or seat labels as a PDF."""
    from server.errors import ExamError
    from server.exam.models import Room
    from server.extensions import db as database
    from server.sittings import printouts, service

    with _app(data).app_context():
        try:
            exam = service.sitting(database.session, session_id)
            room = database.session.get(Room, room_id) if room_id is not None else None
            if room_id is not None and (room is None or room.session_id != exam.id):
                raise ExamError("unknown_room", f"场次 {session_id} 没有编号为 {room_id} 的考场。")
            facts = printouts.sitting(exam)
            if what == "door-lists":
                body = printouts.door_lists_pdf(facts, printouts.door_lists(exam, [room] if room else list(exam.rooms)))
            else:
                draw = printouts.tickets_pdf if what == "tickets" else printouts.seat_labels_pdf
                body = draw(facts, printouts.seated(exam, room))
        except ExamError as exc:
            raise click.ClickException(exc.message) from exc
    out.write_bytes(body)
    click.echo(f"已生成{PRINTOUTS[what]}：{out}")


@sitting.command("close")
@click.argument("session_id", type=int)
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_close(session_id: int, data: str) -> None:
    """Close every room whose time is over: attempts ended (and scored: the bank is opened with both custodians'
    passphrases), absentees recorded, the room record kept."""
    from server.sittings import closing, service

    with _bank_work(data) as (session, _, now):
        done = closing.close_sitting(session, service.sitting(session, session_id), _actor(), None, now)
    for room in done:
        click.echo(f"{room.room}：{room.why}")
    if not all(room.closed for room in done):
        raise SystemExit(1)


@sitting.command("results")
@click.argument("session_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="A .xlsx or .csv file.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_results(session_id: int, out: Path, data: str) -> None:
    """Write the 成绩汇总表 (ticket, name, ID, score, pass/fail, status) as Excel or CSV."""
    from server.sittings import closing, service

    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise click.ClickException("成绩汇总表请保存为 .xlsx 或 .csv 文件。")
    with _bank_work(data, open_with=None) as (session, _, now):
        exam = service.sitting(session, session_id)
        rows = closing.results(session, exam)
        csv = out.suffix.lower() == ".csv"
        body = closing.results_csv(exam, rows) if csv else closing.results_xlsx(exam, rows, now)
        line = closing.publication_line(exam)
    out.write_bytes(body)
    click.echo(f"已导出成绩汇总表 {out}（{len(rows)} 人）；{line}")


@sitting.command("publish")
@click.argument("session_id", type=int)
@click.option("--by", "who", required=True, help="Who publishes, as it is to be recorded (e.g. 刘芳).")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def sitting_publish(session_id: int, who: str, data: str) -> None:
    """成绩公布: allowed once every room is closed; who and when are recorded."""
    from server.sittings import closing, service

    with _bank_work(data, open_with=None) as (session, _, now):
        exam = service.sitting(session, session_id)
        closing.publish(session, exam, _actor(), who, now)
        line = closing.publication_line(exam)
    click.echo(line)


@main.group("archive")
def archive_group() -> None:
    """Signed archives of closed sittings (kept five years)."""


@archive_group.command("create")
@click.argument("session_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .zip to write.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def archive_create(session_id: int, out: Path, data: str) -> None:
    """Write the sitting's signed archive (the bank is opened with both custodians' passphrases)."""
    from item_bank.package import fingerprint
    from server.bank import keys, transfer
    from server.db import write_transaction
    from server.errors import ExamError
    from server.extensions import db as database
    from server.sittings import archive, service
    from server.timeutil import now

    with _app(data).app_context():
        session = database.session
        try:
            keys.unlock(session, _passphrases(("custodian_a", "custodian_b")))
            at = now()
            with write_transaction(session):
                archive.signing_key(session, service.sitting(session, session_id), _actor(), at)
            # Reading and drawing hold no lock: answers of sittings still running are never kept waiting.
            files = archive.gather(session, service.sitting(session, session_id), _actor(), at)
            sign, shown = archive.signer(session), fingerprint(transfer.site_key(session).public_key)
            session.rollback()
            body = archive.pack(files, sign)
            with write_transaction(session):
                archive.record_made(session, service.sitting(session, session_id), body, _actor(), at)
        except ExamError as exc:
            raise click.ClickException(exc.message) from exc
    out.write_bytes(body)
    click.echo(f"已生成归档 {out}；签名密钥指纹 {shown}（请记录在移交单上）")


@archive_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", help="The signer's public key (Base64, as `jikao bank identity` shows it) to insist on.")
def archive_verify(file: Path, key: str | None) -> None:
    """Check an archive: signature, every file unchanged, none missing or added (needs no server)."""
    from server.sittings import archive

    try:
        found = archive.verify(file.read_bytes(), key)
    except archive.ArchiveError as exc:
        raise click.ClickException(f"{file.name}：校验未通过。{exc.message}") from exc
    click.echo(
        f"{file.name}：校验通过。{found.sitting}，{found.files} 个文件，生成于 {found.created_at}；"
        f"签名者 {found.signer}，密钥指纹 {found.fingerprint}"
        + ("（与指定公钥一致）" if key else "（请与移交单上记录的指纹核对）")
    )


@main.command()
@click.option("--simulate", "papers", type=click.IntRange(1, 100_000), help="Simulate: how many papers to draw.")
@click.option("--occupation", help="Simulate: the occupation code.")
@click.option("--level", type=click.IntRange(1, 5), help="Simulate: the level.")
@click.option("--rows", default=5, show_default=True, type=click.IntRange(1, 20))
@click.option("--cols", default=6, show_default=True, type=click.IntRange(1, 20))
@click.option("--tolerance", default=0.1, show_default=True, type=float, help="Allowed spread of mean difficulty.")
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--session", "session_id", type=int, help="Assemble this sitting's papers ahead of the start.")
@click.option("--backups", type=click.IntRange(0, 500), help="Backup papers (default: one per ten seats, at least 3).")
@click.option("--verify", is_flag=True, help="With --session: draw the papers again and compare them bit for bit.")
@click.option("--data", default="jikao-data", show_default=True, help=DATA_HELP)
def assemble(papers, occupation, level, rows, cols, tolerance, seed, session_id, backups, verify, data) -> None:
    """Assemble papers (组卷).

    \b
    jikao assemble --session 1 [--backups 5]   every seat's paper and the backup papers, ahead of the start
    jikao assemble --session 1 --verify        an audit: draw them again from the recorded seed and compare
    jikao assemble --simulate 5000 --occupation 6-28-01-14 --level 4
                                               模拟组卷测试结果分析 with the newest blueprint"""
    if session_id is not None and papers is None:
        return _assemble_sitting(session_id, backups, verify, data)
    if papers is None or session_id is not None or not occupation or not level:
        raise click.UsageError(
            "用法：--session 场次号（提前组卷或 --verify 核对），或 --simulate 份数 --occupation --level（模拟）。"
        )
    _simulate(papers, occupation, level, rows, cols, tolerance, seed, data)


def _assemble_sitting(session_id: int, backups: int | None, verify: bool, data: str) -> None:
    from server.exam import assembly
    from server.exam.models import ExamSession

    with _bank_work(data) as (session, _, now):
        exam = session.get(ExamSession, session_id)
        if exam is None:
            raise click.ClickException(f"没有编号为 {session_id} 的考试场次。")
        if verify:  # the audit is recorded whatever it finds
            differing = assembly.verify(session, exam)
            _record(session, now, "papers.verify", f"session:{session_id}", differing=differing)
        else:
            assembly.prepare(session, exam, _actor(), now, backups)
        name, report = exam.name, exam.assembly_report
    if verify and differing:
        raise click.ClickException(f"以下座位的试卷与按记录的种子重新生成的不一致：{'、'.join(differing)}")
    if verify:
        click.echo(f"核对通过：{report['papers']} 份座位试卷与按记录的种子重新生成的完全一致。")
        return
    click.echo(f"{name}：已组卷 {report['papers']} 份座位试卷和 {report['backups']} 份备用卷（已加密保存）。")
    for room in report["rooms"]:
        click.echo(
            f"  {room['name']}：{room['seats']} 个座位，相邻座位重题率 平均 {room['overlap_mean']:.1%}，"
            f"最高 {room['overlap_worst']:.1%}"
        )


def _simulate(papers, occupation, level, rows, cols, tolerance, seed, data) -> None:
    from item_bank.blueprint import BlueprintError, parse_blueprint, simulate
    from server.exam import blueprints

    with _bank_work(data, open_with=None) as (session, _, now):
        row = blueprints.latest(session, occupation, level)
        if row is None:
            raise click.ClickException(f"职业 {occupation} {level}级 还没有蓝图。")
        blueprint = parse_blueprint(row.data)
        pool = blueprints.pool_metadata(session, occupation, level)
        try:
            report = simulate(blueprint, pool, papers, seed, rows, cols, tolerance)
        except BlueprintError as exc:
            raise click.ClickException("；".join(exc.problems)) from exc
        _record(session, now, "assemble.simulate", occupation=occupation, level=level, papers=papers)
    exposed = "、".join(f"#{item_id} {share:.0%}" for item_id, share in report.most_exposed)
    verdict = "是" if report.parallel else "否"
    click.echo(
        "\n".join(
            [
                f"模拟组卷：蓝图第{blueprint.version}版，{papers} 份试卷（按 {rows}×{cols} 考场编排），"
                f"题库可用 {report.pool_size} 题",
                f"  题库覆盖率：{report.coverage:.1%}（至少被抽中一次的试题）",
                f"  试题曝光率：平均 {report.exposure_mean:.1%}，最高 {report.exposure_max:.1%}（{exposed}）",
                f"  试卷平均难度：{report.difficulty_mean:.2f}，各卷间标准差 {report.difficulty_spread:.3f}",
                f"  相邻座位重题率：平均 {report.overlap_mean:.1%}，最高 {report.overlap_worst:.1%}",
                f"  各卷是否平行（难度标准差 ≤ {report.tolerance}）：{verdict}",
            ]
        )
    )


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
    from server.errors import ExamError
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


# Connections the kernel may hold for the server before it accepts them. After a restart every exam client
# of the centre reconnects within a few seconds; gevent's default (128) drops the rest of such a storm, and
# each dropped browser waits out TCP's back-off (1, 3, 7, 15 … s) before trying again. The kernel caps it at
# net.core.somaxconn (4096 on current Debian).
LISTEN_BACKLOG = 4096

# Collections of the youngest generation are rarer (every 50,000 allocations instead of 700), so the objects
# of an event in flight are seldom promoted and full collections seldom triggered. Measured with 2,000
# candidates (docs/performance.md): full collections stopped the event loop for 270-400 ms every few
# seconds, the whole of the consoles' p99.
GC_THRESHOLDS = (50_000, 20, 100)


def _tune_gc() -> None:
    """Everything loaded at start stays for the life of the process: out of the collector's sight."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _others_serving(app, worker: str) -> bool:
    """Is another worker of this database serving (a scale-out, docs/deployment.md)? One that beat in the last
    seconds may also have just died with this one: wait (up to ``outage.ALIVE_WITHIN_S``) for a beat of it."""
    import time

    from server.exam import outage
    from server.extensions import db as database
    from server.timeutil import now

    with app.app_context():
        before = outage.recent_beats(database.session, worker, now())
        deadline = time.monotonic() + outage.ALIVE_WITHIN_S
        while before and time.monotonic() < deadline:
            database.session.rollback()
            time.sleep(0.25)  # the workers beat every second
            after = outage.recent_beats(database.session, worker, now())
            if any(after.get(other, beat) > beat for other, beat in before.items()):
                return True
        database.session.rollback()
    return False


def _run(app, host: str, port: int) -> None:
    import gevent

    from server.exam import outage
    from server.exam.sweeper import run_forever
    from server.extensions import socketio

    def stop(*_):
        outage.server_stopping()
        server = getattr(socketio, "wsgi_server", None)
        if server is not None:
            server.stop(timeout=2)

    from server.db import write_transaction
    from server.exam.service import reset_presence
    from server.extensions import db as database
    from server.timeutil import now

    starting_at = app.config["CLOCK"]()
    worker = app.config["WORKER"]
    alone = not _others_serving(app, worker)
    with app.app_context(), write_transaction(database.session):
        reset_presence(database.session, now(), worker, alone)
        recoveries = outage.recover(database.session, now(), worker, alone, starting_at)
        for recovery in recoveries:  # before any clock is swept or any client served
            click.echo(
                f"考场 {recovery.room_id}: 服务器中断 {recovery.lost_s} 秒，"
                + ("已自动补时" if recovery.made_up else "超过补时上限，已暂停计时，等待主考决定")
            )
    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    _tune_gc()
    socketio.start_background_task(run_forever, app, app.config["SWEEP_INTERVAL"])
    try:
        socketio.run(app, host=host, port=port, log_output=False, error_log=_http_error_log(), backlog=LISTEN_BACKLOG)
    except OSError as exc:
        raise click.ClickException(f"无法在 {host}:{port} 上启动服务: {exc.strerror}") from exc
    click.echo("Jikao 已停止 (stopped)")
