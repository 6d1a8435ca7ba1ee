"""The WeChat channels a deployment has switched on, built from ``AppConfig`` in two steps:

1. ``Channels.from_config`` — the outbox transports (needed before the sender exists);
2. ``attach`` — the callbacks and the Wechaty bridge (they need the dialog engine).

``routes()`` are added to the aiohttp app; ``start()`` runs at start-up (the Wechaty login check:
a failure stops ``linggong serve`` with a clear message); ``background(stop)`` are long-running
tasks; ``aclose()`` waits for late callback work and closes every HTTP session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.adapters.wechat_callback import CallbackCore
from bot.adapters.wechat_oa import OfficialAccountCallback, OfficialAccountTransport
from bot.adapters.wechaty_bridge import WechatyBridge, WechatyTransport
from bot.adapters.wecom import WeComCallback, WeComRobotTransport, WeComTransport
from bot.config import AppConfig
from dialogs.engine import DialogEngine
from storage.db import Database


@dataclass
class Channels:
    """The WeChat channels switched on: their outbox transports, callbacks and the Wechaty bridge."""

    cfg: AppConfig
    transports: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Any] = field(default_factory=list)
    cores: list[CallbackCore] = field(default_factory=list)
    bridge: WechatyBridge | None = None

    @classmethod
    def from_config(cls, cfg: AppConfig) -> Channels:
        ch = cls(cfg)
        if cfg.wechat_oa.enabled:
            ch.transports["wechat_oa"] = OfficialAccountTransport(
                cfg.wechat_oa, service_name=cfg.service.name
            )
        if cfg.wecom.enabled:
            ch.transports["wecom"] = WeComTransport(cfg.wecom)
        if cfg.wecom_robot.enabled:
            ch.transports["wecom_robot"] = WeComRobotTransport(cfg.wecom_robot)
        if cfg.wechaty.enabled:
            ch.transports["wechaty"] = WechatyTransport(cfg.wechaty, bridge=None)
        return ch

    @property
    def enabled(self) -> list[str]:
        return sorted(self.transports)

    def attach(
        self,
        db: Database,
        engine: DialogEngine,
        *,
        clock: Callable[[], datetime],
        wake_sender: Callable[[], None] | None = None,
    ) -> None:
        cfg = self.cfg

        def core(channel: str, section: Any, scenes: dict[str, str] | None) -> CallbackCore:
            c = CallbackCore(
                channel=channel,
                cfg=section,
                db=db,
                engine=engine,
                clock=clock,
                service_name=cfg.service.name,
                hotline=cfg.service.hotline,
                scenes=scenes,
                wake_sender=wake_sender,
            )
            self.cores.append(c)
            return c

        if cfg.wechat_oa.enabled:
            self.callbacks.append(
                OfficialAccountCallback(
                    cfg.wechat_oa, core("wechat_oa", cfg.wechat_oa, cfg.wechat_oa.scenes)
                )
            )
        if cfg.wecom.enabled:
            self.callbacks.append(WeComCallback(cfg.wecom, core("wecom", cfg.wecom, None)))
        if cfg.wechaty.enabled:
            self.bridge = WechatyBridge(cfg.wechaty, engine, clock=clock)
            self.transports["wechaty"].bridge = self.bridge

    def routes(self) -> list[web.RouteDef]:
        return [r for cb in self.callbacks for r in cb.routes()]

    async def start(self) -> None:
        if self.bridge is not None:
            await self.bridge.start()

    def background(self, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
        return [self.bridge.run(stop)] if self.bridge is not None else []

    def health(self) -> dict[str, object]:
        out: dict[str, object] = {name: True for name in self.enabled}
        if self.bridge is not None:
            out["wechaty"] = self.bridge.health()
        return out

    async def aclose(self) -> None:
        for c in self.cores:
            await c.drain()
        if self.bridge is not None:
            await self.bridge.close()
        for t in self.transports.values():
            close = getattr(t, "close", None)
            if close is not None:
                await close()
