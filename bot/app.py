"""Wiring: config → database → dialog engine → outbox sender → web chat → aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from bot.adapters.channels import Channels
from bot.adapters.documents import Documents
from bot.adapters.webchat import WebChat, WebChatHub, WebTransport
from bot.config import AppConfig
from bot.login.sms import sms_sender
from bot.login.wechat_oauth import WeChatWebAuth
from bot.outbox import OutboxSender, Transport
from bot.web.doors import Doors, add_security_headers
from dialogs.engine import DialogEngine, Settings
from dialogs.registry import ENTRY, FLOWS
from market.settings import InsuranceOption, MarketSettings
from storage.db import Database

if TYPE_CHECKING:
    from bot.jobs import DrainingScheduler

log = logging.getLogger("bot.app")


def utc_now() -> datetime:
    return datetime.now(UTC)


def dialog_settings(cfg: AppConfig) -> Settings:
    return Settings(
        service_name=cfg.service.name,
        bot_name=cfg.service.bot_name,
        hotline=cfg.service.hotline,
        tz=cfg.service.tz,
        expire_after=timedelta(minutes=cfg.dialogs.expire_after_minutes),
        max_text_chars=cfg.dialogs.max_text_chars,
        market=market_settings(cfg),
    )


def market_settings(cfg: AppConfig) -> MarketSettings:
    m = cfg.market
    return MarketSettings(
        tz=cfg.service.tz,
        hotline=cfg.service.hotline,
        service_name=cfg.service.name,
        public_url=cfg.public_url,
        operator_name=m.operator_name,
        insurance_options=tuple(
            InsuranceOption(o.id, o.insurer, o.product, o.premium_fen, o.coverage, o.payer) for o in m.insurance
        ),
        payment_due_hours=m.payment_due_hours,
        arrears_escalate_hours=m.arrears_escalate_hours,
        dispute_respond_hours=m.dispute_respond_hours,
        **m.pushes.model_dump(),
    )


@dataclass
class Services:
    """Everything a running deployment is made of (tests build it too)."""

    cfg: AppConfig
    db: Database
    engine: DialogEngine
    sender: OutboxSender
    hub: WebChatHub
    webchat: WebChat
    clock: Callable[[], datetime]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    channels: Channels | None = None
    """The WeChat channels switched on in the configuration (bot.adapters.channels)."""


SERVICES = web.AppKey("services", Services)


def web_auth(cfg: AppConfig) -> WeChatWebAuth | None:
    """WeChat web authorisation for the web chat, when the 公众号's AppID and secret are set."""
    w = cfg.wechat_web_auth
    if not w.enabled:
        return None
    return WeChatWebAuth(w.appid, w.secret, api_base=w.api_base, open_base=w.open_base)


def build_services(
    cfg: AppConfig,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] = utc_now,
    extra_transports: dict[str, Transport] | None = None,
) -> Services:
    db = db or Database(cfg.database.url, sqlite_inline=cfg.database.sqlite_inline)
    hub = WebChatHub(db)
    transports: dict[str, Transport] = {"web": WebTransport(cfg.service.bot_name)}
    channels = Channels.from_config(cfg)
    transports.update(channels.transports)
    transports.update(extra_transports or {})
    sender = OutboxSender(db, transports, cfg.outbox, clock=clock, on_delivered=hub.poke)
    engine = DialogEngine(db, FLOWS, dialog_settings(cfg), entry=ENTRY, clock=clock, on_commit=sender.wake)
    doors = Doors(
        public_url=cfg.public_url,
        allowed_origins=cfg.webchat.allowed_origins,
        trust_proxy=cfg.webchat.trust_proxy,
        # Signed server-to-server callbacks carry no browser cookies: their signature is the check.
        exempt_prefixes=(cfg.wechat_oa.path, cfg.wecom.path),
    )
    webchat = WebChat(
        cfg,
        db,
        engine,
        hub,
        clock=clock,
        wake_sender=sender.wake,
        doors=doors,
        sms=sms_sender(cfg.sms),
        wechat=web_auth(cfg),
        # The kiosk's QR login needs the 公众号: its API makes the code, its callback sees the scan.
        qr_api=getattr(channels.transports.get("wechat_oa"), "api", None),
    )
    channels.attach(db, engine, clock=clock, wake_sender=sender.wake)
    return Services(cfg, db, engine, sender, hub, webchat, clock, channels=channels)


async def register_web_rooms(services: Services) -> None:
    """The web chat's group rooms receive the daily group digest like any other group."""
    from market.digests import remember_group

    async with services.db.transaction() as session:
        for room in services.cfg.webchat.rooms:
            await remember_group(session, "web", room.id, room.name, services.clock())


def build_scheduler(services: Services) -> DrainingScheduler:
    """One scheduler with named jobs (ids are stable; later issues add theirs here)."""
    from bot.jobs import DrainingScheduler, register_jobs

    scheduler = DrainingScheduler(timezone=services.cfg.service.tz)
    register_jobs(scheduler, services, time_scale=services.cfg.scheduler.time_scale)
    return scheduler


def build_app(
    services: Services, *, with_background: bool = True, freeze_heap: bool = False
) -> web.Application:
    """The aiohttp application. ``freeze_heap`` (``linggong serve``): after start-up, see
    ``_freeze_heap``."""
    app = web.Application(
        client_max_size=1024 * 1024, middlewares=[services.webchat.doors.middleware]
    )
    app.on_response_prepare.append(add_security_headers)
    app[SERVICES] = services
    app.add_routes(services.webchat.routes())
    app.add_routes(Documents(services.db, services.engine.settings.market).routes())
    if services.channels is not None:
        app.add_routes(services.channels.routes())
    app.router.add_get("/healthz", _healthz)

    if with_background:
        app.cleanup_ctx.append(_background)
    if freeze_heap:
        app.on_startup.append(_freeze_heap)
    return app


async def _freeze_heap(_app: web.Application) -> None:
    """What start-up loaded (gazetteer, trade vocabulary, pinyin tables, code objects — some
    300,000 objects) lives as long as the process, yet every full garbage collection walked it
    all: 0.1–0.2 s with the event loop, and every chat, stopped. Collected once and frozen
    (``gc.freeze``), later collections only see what the running service creates."""
    gc.collect()
    gc.freeze()


async def _healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    async with services.db.reader() as session:
        from storage.repositories import OutboxRepository

        counts = await OutboxRepository(session).counts()
    channels = services.channels.health() if services.channels is not None else {}
    return web.json_response({"ok": True, "outbox": counts, "channels": channels})


async def _background(app: web.Application):  # type: ignore[no-untyped-def]
    services = app[SERVICES]
    services.stop.clear()
    if services.channels is not None:
        await services.channels.start()  # e.g. the Wechaty login: no login → start-up fails
    tasks = [
        asyncio.create_task(services.sender.run_forever(services.stop), name="outbox"),
        asyncio.create_task(services.hub.run_forever(services.stop), name="webchat-hub"),
    ]
    if services.channels is not None:
        for job in services.channels.background(services.stop):
            tasks.append(asyncio.create_task(job, name="channel"))
    scheduler = build_scheduler(services) if services.cfg.scheduler.enabled else None
    if scheduler is not None:
        await register_web_rooms(services)
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            await scheduler.drain()  # a running job finishes before the database closes
        services.stop.set()
        services.sender.wake()
        services.hub.poke()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(t, timeout=5)
        if services.channels is not None:
            await services.channels.aclose()
        await services.db.dispose()
