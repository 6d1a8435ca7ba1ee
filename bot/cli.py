"""``linggong`` — the command line: serve, db upgrade, demo load, outbox send, parse."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot import cli_ops
from bot.config import AppConfig, ConfigError, load_config


def _default_config() -> str | None:
    path = os.environ.get("LINGGONG_CONFIG")
    if path:
        return path
    return "config.yaml" if Path("config.yaml").exists() else None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="linggong", description="沙县区零工市场 bot")
    p.add_argument("--config", default=None, help="config.yaml path (default: $LINGGONG_CONFIG or ./config.yaml)")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service (web chat, channels, outbox, scheduler)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)

    db = sub.add_parser("db", help="database")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")

    demo = sub.add_parser("demo", help="demo data")
    demosub = demo.add_subparsers(dest="demo_command", required=True)
    demosub.add_parser("load", help="load demo workers, employers and personas")

    outbox = sub.add_parser("outbox", help="outbox")
    outsub = outbox.add_subparsers(dest="outbox_command", required=True)
    send = outsub.add_parser("send", help="deliver queued messages (normally done by serve)")
    send.add_argument("--until-idle", action="store_true", help="stop when nothing is due")

    wechaty = sub.add_parser("wechaty", help="Wechaty gateway (personal-account groups; off)")
    wsub = wechaty.add_subparsers(dest="wechaty_command", required=True)
    check = wsub.add_parser(
        "check",
        help="connect and wait for the login: exit 0, or 2 no login, 3 bad token, 4 unreachable",
    )
    check.add_argument(
        "--login-timeout", type=float, default=None,
        help="seconds (default: wechaty.login_timeout_seconds)",
    )

    sub.add_parser("parse", help="parse JSON lines of posts from stdin (see matching.cli)", add_help=False)
    cli_ops.add_commands(sub)
    return p


def _load(args: argparse.Namespace) -> AppConfig:
    return load_config(args.config or _default_config())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `parse` owns its own arguments (matching.cli); pass them through untouched.
    if "parse" in argv:
        i = argv.index("parse")
        if all(a.startswith("--config") or a.startswith("-") for a in argv[:i]):
            from matching.cli import run_parse

            return run_parse(argv[i + 1 :], sys.stdin, sys.stdout)
    args = build_parser().parse_args(argv)
    try:
        cfg = _load(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2

    from bot.logs import setup_logging

    setup_logging()
    if args.command == "db":
        from storage.migrate import upgrade

        upgrade(cfg.database.url, args.revision)
        print(f"database upgraded to {args.revision}: {cfg.database.url}")
        return 0
    if args.command == "demo":
        return asyncio.run(_demo(cfg))
    if args.command == "outbox":
        return asyncio.run(_outbox(cfg, args.until_idle))
    if args.command == "serve":
        return _serve(cfg, args.host, args.port)
    if args.command in cli_ops.COMMANDS:
        return cli_ops.run(cfg, args)
    if args.command == "wechaty":
        return _wechaty_check(cfg, args.login_timeout)
    return 2


def _wechaty_exit(exc: BaseException) -> int:
    from bot.adapters import wechaty_grpc as w

    for kind, code in (
        (w.WechatyLoginTimeout, w.EXIT_LOGIN_TIMEOUT),
        (w.WechatyAuthError, w.EXIT_AUTH),
        (w.WechatyConnectionError, w.EXIT_CONNECTION),
    ):
        if isinstance(exc, kind):
            return code
    return w.EXIT_OTHER


def _wechaty_check(cfg: AppConfig, login_timeout: float | None) -> int:
    """Health check of the Wechaty gateway named in the configuration / environment."""
    import json

    from bot.adapters.wechaty_grpc import WechatyError, check_login

    w = cfg.wechaty
    if not (w.endpoint and w.token):
        print(
            "Wechaty 网关未配置：请设置 WECHATY_PUPPET_SERVICE_ENDPOINT 和 "
            "WECHATY_PUPPET_SERVICE_TOKEN。\n"
            "No Wechaty gateway configured: set WECHATY_PUPPET_SERVICE_ENDPOINT and "
            "WECHATY_PUPPET_SERVICE_TOKEN.",
            file=sys.stderr,
        )
        return 5
    try:
        self_id = asyncio.run(
            check_login(
                w.endpoint,
                w.token,
                connect_timeout=w.connect_timeout_seconds,
                login_timeout=login_timeout or w.login_timeout_seconds,
            )
        )
    except WechatyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _wechaty_exit(exc)
    print(json.dumps({"ok": True, "self_id": self_id}, ensure_ascii=False))
    return 0


async def _demo(cfg: AppConfig) -> int:
    from bot.app import utc_now
    from bot.demo import load_demo
    from storage.db import Database

    db = Database(cfg.database.url)
    try:
        added = await load_demo(db, utc_now(), cfg.service.tz)
    finally:
        await db.dispose()
    print(f"demo data loaded ({added} new personas)")
    return 0


async def _outbox(cfg: AppConfig, until_idle: bool) -> int:
    from bot.app import build_services

    services = build_services(cfg)
    try:
        if until_idle:
            sent = await services.sender.run_until_idle()
            print(f"sent {sent}")
        else:
            await services.sender.run_forever(services.stop)
    finally:
        if services.channels is not None:
            await services.channels.aclose()
        await services.db.dispose()
    return 0


def _schema_refusal(url: str) -> str | None:
    """Why the database at ``url`` cannot be served (one line), or None when its schema is current."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from bot import cli_texts

    # Importing alembic logs its plugin set-up at INFO: not for an operator's one-line answer.
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)
    try:
        from storage.migrate import schema_status

        status = schema_status(url)
    except (SQLAlchemyError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc
        error = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return cli_texts.DB_UNREACHABLE.format(error=error)
    finally:
        alembic_log.setLevel(level)
    return {
        "current": None,
        "missing": cli_texts.SCHEMA_MISSING,
        "behind": cli_texts.SCHEMA_BEHIND,
        "unknown": cli_texts.SCHEMA_UNKNOWN,
    }[status]


def _serve(cfg: AppConfig, host: str | None, port: int | None) -> int:
    refusal = _schema_refusal(cfg.database.url)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2

    from aiohttp import web

    from bot.app import build_app, build_services

    from bot.adapters.wechaty_grpc import WechatyError

    host = host or cfg.service.host
    port = port or cfg.service.port
    # Links in chat (contract PDFs) point at the address actually served unless configured.
    cfg = cfg.model_copy(update={"service": cfg.service.model_copy(update={"host": host, "port": port})})

    async def make() -> web.Application:
        return build_app(build_services(cfg), freeze_heap=True)

    print(f"{cfg.service.name} 已启动: http://{host}:{port}/", flush=True)
    try:
        web.run_app(make(), host=host, port=port, print=None)
    except WechatyError as exc:  # the Wechaty channel is on but its gateway is not usable
        print(
            f"Wechaty 通道无法启动，服务已停止：{exc}\nThe Wechaty channel could not start: {exc}",
            file=sys.stderr,
        )
        return _wechaty_exit(exc)
    return 0
