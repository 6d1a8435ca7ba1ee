"""The built-in web chat: the embedded default channel and the service-hall kiosk.

A page at ``/`` where a person chats privately with the bot and posts in group rooms they joined.
Browser ⇄ server over a WebSocket; every message goes through the same dialog engine as every
other channel, and every bot line comes out of the outbox (delivered by ``WebTransport``, which
writes the transcript row in the sender's transaction: the unique ``outbox_id`` makes a second
delivery impossible).

Two modes (``webchat.demo``, ``WEBCHAT_DEMO``):

* **demo** — anyone may pick or create a persona (local trials, ``make run``); picking one logs
  the browser in as it, so even here the WebSocket serves only the session's own persona;
* **login** (production) — no persona list and no creation: a person logs in by phone + SMS code
  or WeChat web authorisation (``bot.login.person``). Nothing of any chat is sent, and no message
  accepted, without a live session.

**Kiosk** (``webchat.kiosk``, the service-hall terminal): the session cookie dies with the
browser, loading the page ends whatever session was there, and after ``kiosk_idle_seconds``
without activity or on 结束 the visitor is logged out and the screen cleared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.login.person import ROLES, PersonLogin, new_persona_id, persona_json
from bot.login.qr import KioskQr, QrApi
from bot.login.sms import SmsSender
from bot.login.wechat_oauth import WeChatWebAuth
from bot.ratelimit import SlidingWindow
from bot.web import texts
from bot.web.doors import CSRF_KEY, Doors, LoginGate, RateLimits, Sessions
from bot.web.jsonbody import BadInput, field_str, json_error, parse_json_object, read_json_object
from dialogs.engine import DialogEngine
from dialogs.events import InboundMessage, clean_inbound_text
from matching.names import impersonation
from storage.db import Database
from storage.models import OutboxRow, WebChatLine, WebPersona, WebSession
from storage.repositories import WebChatRepository

log = logging.getLogger("bot.adapter.webchat")

CHANNEL = "web"
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PERSONA_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
KIOSK_END = frozenset({"结束", "退出", "结束使用", "退出登录"})
PERSON_COOKIE = "lg_sid"
TOO_LONG_MARK = "（消息过长，未保存）"
HOUR = timedelta(hours=1)
SESSION_CHECK_SECONDS = 10.0
"""How often an open socket looks whether its session still lives."""



class WebTransport:
    """Outbox transport of the web chat: delivery is a transcript row in the same transaction."""

    channel = CHANNEL
    transactional = True

    def __init__(self, bot_name: str) -> None:
        self.bot_name = bot_name

    async def deliver(self, row: OutboxRow, session: AsyncSession | None) -> None:
        assert session is not None
        await WebChatRepository(session).add_bot_line_once(
            outbox_id=row.id, chat_id=row.chat_id, bot_name=self.bot_name, text=row.text, now=row.created_at
        )


def line_json(line: WebChatLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "chat": line.chat_id,
        "sender": line.sender_id,
        "name": line.sender_name,
        "bot": line.from_bot,
        "text": line.text,
        "at": line.created_at.isoformat(),
    }


class WebChatHub:
    """Pushes new transcript lines to the sockets watching their chat (tails the table by id,
    so lines written by any process reach the browser)."""

    def __init__(self, db: Database, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._watchers: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._wake = asyncio.Event()
        self._last_id = 0

    def poke(self) -> None:
        self._wake.set()

    def watch(self, ws: web.WebSocketResponse, chats: list[str]) -> None:
        for chat in chats:
            self._watchers[chat].add(ws)

    def unwatch(self, ws: web.WebSocketResponse) -> None:
        for group in self._watchers.values():
            group.discard(ws)

    async def start_position(self) -> None:
        async with self.db.reader() as session:
            self._last_id = (await session.execute(select(func.max(WebChatLine.id)))).scalar() or 0

    async def push_new(self) -> int:
        async with self.db.reader() as session:
            lines = await WebChatRepository(session).lines_since(self._last_id)
        for line in lines:
            self._last_id = max(self._last_id, line.id)
            payload = json.dumps({"type": "line", "line": line_json(line)}, ensure_ascii=False)
            for ws in list(self._watchers.get(line.chat_id, ())):
                if not ws.closed:
                    try:
                        await ws.send_str(payload)
                    except (ConnectionError, RuntimeError):
                        self.unwatch(ws)
        return len(lines)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self.start_position()
        while not stop.is_set():
            try:
                if await self.push_new():
                    continue
            except Exception:
                log.exception("web chat push failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)


class WebChat:
    """The built-in web chat: its page, login doors and WebSocket, wired to the dialog engine."""

    def __init__(
        self,
        cfg: AppConfig,
        db: Database,
        engine: DialogEngine,
        hub: WebChatHub,
        *,
        clock: Callable[[], datetime],
        wake_sender: Callable[[], None],
        doors: Doors,
        sms: SmsSender | None = None,
        wechat: WeChatWebAuth | None = None,
        qr_api: QrApi | None = None,
    ) -> None:
        self.cfg = cfg
        self.db = db
        self.engine = engine
        self.hub = hub
        self.clock = clock
        self.wake_sender = wake_sender
        self.doors = doors
        w = cfg.webchat
        self.demo = w.demo
        self.kiosk = w.kiosk
        self.rooms = {r.id: r.name for r in w.rooms}
        self.sessions = Sessions(db, doors, kind="person", cookie=PERSON_COOKIE, clock=clock)
        self.limits = RateLimits(db, clock)
        self.idle = timedelta(seconds=w.kiosk_idle_seconds) if w.kiosk else timedelta(minutes=w.session_idle_minutes)
        self.lifetime = timedelta(hours=8) if w.kiosk else timedelta(days=w.session_max_days)
        self.per_person = SlidingWindow(w.messages_per_minute, 60.0)
        self.gate = LoginGate(
            db=db,
            doors=doors,
            sessions=self.sessions,
            limits=self.limits,
            clock=clock,
            idle=self.idle,
            lifetime=self.lifetime,
            kiosk=self.kiosk,
            per_ip_per_hour=cfg.sms.per_ip_per_hour,
        )
        self.login = (
            None
            if self.demo
            else PersonLogin(
                self.gate,
                sms=sms,
                wechat=wechat,
                public_url=cfg.market.public_url,
                service=cfg.service.name,
                hotline=cfg.service.hotline,
                code_ttl=timedelta(seconds=cfg.sms.code_ttl_seconds),
                max_attempts=cfg.sms.max_attempts,
                per_phone_per_hour=cfg.sms.per_phone_per_hour,
            )
        )
        # The kiosk's QR login needs the 公众号 (its API draws the code, its callback sees the scan).
        self.qr = (
            KioskQr(self.gate, qr_api, networks=w.kiosk_networks)
            if self.login is not None and self.kiosk and qr_api
            else None
        )
        self.templates = Environment(
            loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=select_autoescape(["html"])
        )

    def routes(self) -> list[web.RouteDef]:
        routes = [
            web.get("/", self.index),
            web.get("/api/me", self.me),
            web.post("/api/logout", self.logout),
            web.get("/ws", self.websocket),
            web.static("/static", WEB_DIR / "static"),
        ]
        if self.demo:
            routes += [
                web.get("/api/personas", self.list_personas),
                web.post("/api/personas", self.create_persona),
                web.post(r"/api/personas/{id:[A-Za-z0-9_-]{1,40}}/enter", self.enter_persona),
            ]
        if self.login is not None:
            routes += self.login.routes()
        if self.qr is not None:
            routes += self.qr.routes()
        return routes

    # -- page and session ----------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        page = self.templates.get_template("chat.html").render(
            service=self.cfg.service.name,
            bot_name=self.cfg.service.bot_name,
            hotline=self.cfg.service.hotline,
            rooms=[{"id": k, "name": v} for k, v in self.rooms.items()],
            csrf=request[CSRF_KEY],
            mode="demo" if self.demo else "login",
            kiosk=self.kiosk,
            kiosk_idle=self.cfg.webchat.kiosk_idle_seconds,
            public_url=self.cfg.public_url,
            sms=self.login is not None and self.login.sms is not None,
            wechat=self.login is not None and self.login.wechat is not None and not self.kiosk,
            qr=self.qr is not None,
        )
        response = web.Response(text=page, content_type="text/html", charset="utf-8")
        response.headers["Cache-Control"] = "no-store"
        if self.kiosk:  # a kiosk never lets the next visitor into the previous one's chat
            await self.sessions.end(request, response)
        return response

    async def _persona(self, request: web.Request) -> tuple[WebSession, WebPersona] | None:
        row = await self.sessions.current(request)
        if row is None:
            return None
        async with self.db.reader() as session:
            persona = await WebChatRepository(session).persona(row.subject)
        return (row, persona) if persona is not None else None

    async def me(self, request: web.Request) -> web.Response:
        found = await self._persona(request)
        return web.json_response(
            {
                "mode": "demo" if self.demo else "login",
                "kiosk": self.kiosk,
                "persona": persona_json(found[1]) if found else None,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def logout(self, request: web.Request) -> web.Response:
        response = web.json_response({"ok": True})
        await self.sessions.end(request, response)
        return response

    async def _log_in(self, request: web.Request, response: web.Response, persona: WebPersona) -> None:
        if self.demo:  # demo personas are in every room
            async with self.db.transaction() as session:
                repo = WebChatRepository(session)
                for room in self.rooms:
                    await repo.join_room(room, persona.id, self.clock())
        await self.gate.log_in(request, response, persona.id)

    # -- demo personas -------------------------------------------------------------------------
    async def list_personas(self, _request: web.Request) -> web.Response:
        async with self.db.reader() as session:
            personas = await WebChatRepository(session).demo_personas()
        return web.json_response([persona_json(p) for p in personas])

    async def create_persona(self, request: web.Request) -> web.Response:
        try:
            body = await read_json_object(request)
            name = field_str(body, "name", max_len=64).strip()
            role = field_str(body, "role", max_len=16)
        except BadInput as exc:
            return json_error(exc)
        if not 1 <= len(name) <= 16:
            return web.json_response({"error": texts.NAME_BAD}, status=400)
        if impersonation(name, self.cfg.service.bot_name) is not None:
            return web.json_response({"error": texts.NAME_IMPERSONATES}, status=400)
        if role not in ROLES:
            return web.json_response({"error": texts.ROLE_BAD}, status=400)
        client = self.doors.client(request)
        if not await self.limits.hit(f"persona:ip:{client}", self.cfg.webchat.personas_per_hour, HOUR):
            return web.json_response({"error": texts.TOO_MANY}, status=429)
        async with self.db.transaction() as session:
            persona = await WebChatRepository(session).add_persona(new_persona_id(), name, role, self.clock())
        response = web.json_response(persona_json(persona))
        await self._log_in(request, response, persona)
        return response

    async def enter_persona(self, request: web.Request) -> web.Response:
        async with self.db.reader() as session:
            found = await WebChatRepository(session).demo_personas(only=request.match_info["id"])
        persona = found[0] if found else None
        if persona is None:
            return web.json_response({"error": texts.NO_SUCH_PERSONA}, status=404)
        response = web.json_response(persona_json(persona))
        await self._log_in(request, response, persona)
        return response

    # -- the chat itself -----------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        self.doors.check_websocket_origin(request)
        found = await self._persona(request)
        if found is None:
            raise web.HTTPUnauthorized(text=texts.LOGIN_NEEDED)
        login, persona = found
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
        await ws.prepare(request)
        watchdog = asyncio.create_task(self._end_with_session(ws, login.id))
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                if not await self.sessions.still_alive(login.id):
                    await ws.send_json({"type": "bye", "text": texts.LOGIN_NEEDED})
                    break
                try:
                    data = parse_json_object(frame.data)
                except BadInput as exc:
                    await ws.send_json({"type": "error", "text": exc.message})
                    continue
                kind = data.get("type")
                if self.per_person.try_acquire(persona.id) > 0:  # any frame counts, not only messages
                    await ws.send_json({"type": "error", "text": texts.SLOW_DOWN})
                    continue
                if kind == "hello":
                    await self._hello(ws, persona)
                elif kind == "join":
                    await self._join(ws, persona, data)
                elif kind == "say" and not await self._say(ws, login, persona, data):
                    break
        finally:
            watchdog.cancel()
            self.hub.unwatch(ws)
        return ws

    async def _end_with_session(self, ws: web.WebSocketResponse, session_id: str) -> None:
        """Close the socket soon after its session ends (logout elsewhere, revoked, idle): lines
        pushed by the hub must not keep reaching a browser that is no longer logged in."""
        while not ws.closed:
            await asyncio.sleep(SESSION_CHECK_SECONDS)
            try:
                alive = await self.sessions.still_alive(session_id, touch=False)
            except Exception:  # the database is briefly away: look again next time
                log.warning("web chat: session check failed", exc_info=True)
                continue
            if not alive:
                self.hub.unwatch(ws)
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_json({"type": "bye", "text": texts.LOGIN_NEEDED})
                await ws.close()
                return

    async def _hello(self, ws: web.WebSocketResponse, persona: WebPersona) -> None:
        async with self.db.reader() as session:
            repo = WebChatRepository(session)
            joined = [r for r in await repo.rooms_of(persona.id) if r in self.rooms]
            chats = [persona.id, *joined]
            history = {chat: [line_json(x) for x in await repo.lines(chat)] for chat in chats}
        self.hub.unwatch(ws)
        self.hub.watch(ws, chats)
        await ws.send_json(
            {
                "type": "history",
                "persona": persona_json(persona),
                "rooms": joined,
                "chats": history,
            }
        )

    async def _join(self, ws: web.WebSocketResponse, persona: WebPersona, data: dict[str, Any]) -> None:
        room = data.get("room")
        if not isinstance(room, str) or room not in self.rooms:
            await ws.send_json({"type": "error", "text": texts.NO_SUCH_ROOM})
            return
        async with self.db.transaction() as session:
            await WebChatRepository(session).join_room(room, persona.id, self.clock())
        await self._hello(ws, persona)

    async def _say(
        self, ws: web.WebSocketResponse, login: WebSession, persona: WebPersona, data: dict[str, Any]
    ) -> bool:
        """Handle one typed message; False when the connection should end (kiosk 结束)."""
        chat = data.get("chat")
        client_id = data.get("id")
        text = data.get("text")
        if not isinstance(chat, str) or not isinstance(client_id, str) or not isinstance(text, str):
            await ws.send_json({"type": "error", "text": texts.BAD_REQUEST})
            return True
        if not _CLIENT_ID.match(client_id):
            await ws.send_json({"type": "error", "text": texts.BAD_REQUEST})
            return True
        is_group = chat in self.rooms
        if chat != persona.id and not (is_group and await self._member(chat, persona.id)):
            await ws.send_json({"type": "error", "text": texts.NO_SUCH_CHAT})
            return True
        if self.kiosk and not is_group and text.strip() in KIOSK_END:
            await self.sessions.end_id(login.id)
            await ws.send_json({"type": "bye", "text": "已退出，谢谢使用"})
            return False
        mention = "@" + self.cfg.service.bot_name
        mentions_bot = not is_group or mention in text
        clean = text.replace(mention, " ").strip() if is_group else text
        now = self.clock()
        msg = InboundMessage(
            channel=CHANNEL,
            chat_id=chat,
            user_id=persona.id,
            is_group=is_group,
            mentions_bot=mentions_bot,
            text=clean,
            message_id=f"{persona.id}:{client_id}",
            received_at=now,
            sender_name=persona.name,
        )
        limit = self.cfg.dialogs.max_text_chars
        shown = clean_inbound_text(text) if len(text) <= limit else TOO_LONG_MARK

        async def keep_transcript(session: AsyncSession) -> None:
            await WebChatRepository(session).add_user_line(
                chat_id=chat, sender_id=persona.id, sender_name=persona.name, text=shown, now=now
            )

        try:
            await self.engine.handle(msg, on_new=keep_transcript)
        except Exception:
            log.exception("web chat message %s failed", msg.message_id)
            await ws.send_json({"type": "error", "text": texts.BUSY})
            return True
        await ws.send_json({"type": "ack", "id": client_id})
        self.hub.poke()
        self.wake_sender()
        return True

    async def _member(self, room: str, persona_id: str) -> bool:
        async with self.db.reader() as session:
            return room in await WebChatRepository(session).rooms_of(persona_id)
