"""The built-in web chat: the embedded default channel and the service-hall kiosk.

A page at ``/`` where a person picks or creates a persona (worker or employer), chats privately
with the bot, and posts in simulated group rooms. Browser ⇄ server over a WebSocket; every message
goes through the same dialog engine as every other channel, and every bot line comes out of the
outbox (delivered by ``WebTransport``, which writes the transcript row in the sender's
transaction: the unique ``outbox_id`` makes a second delivery impossible).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from dialogs.engine import DialogEngine
from dialogs.events import InboundMessage
from storage.db import Database
from storage.models import OutboxRow, WebChatLine
from storage.repositories import WebChatRepository

log = logging.getLogger("bot.adapter.webchat")

CHANNEL = "web"
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ROLES = {"worker": "找活", "employer": "招人"}
TOO_LONG_MARK = "（消息过长，未保存）"


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
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass


class WebChat:
    def __init__(
        self,
        cfg: AppConfig,
        db: Database,
        engine: DialogEngine,
        hub: WebChatHub,
        *,
        clock: Callable[[], datetime],
        wake_sender: Callable[[], None],
    ) -> None:
        self.cfg = cfg
        self.db = db
        self.engine = engine
        self.hub = hub
        self.clock = clock
        self.wake_sender = wake_sender
        self.rooms = {r.id: r.name for r in cfg.webchat.rooms}
        self.templates = Environment(
            loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=select_autoescape(["html"])
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.index),
            web.get("/api/personas", self.list_personas),
            web.post("/api/personas", self.create_persona),
            web.get("/ws", self.websocket),
            web.static("/static", WEB_DIR / "static"),
        ]

    async def index(self, _request: web.Request) -> web.Response:
        page = self.templates.get_template("chat.html").render(
            service=self.cfg.service.name,
            bot_name=self.cfg.service.bot_name,
            hotline=self.cfg.service.hotline,
            rooms=[{"id": k, "name": v} for k, v in self.rooms.items()],
        )
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def list_personas(self, _request: web.Request) -> web.Response:
        async with self.db.reader() as session:
            personas = await WebChatRepository(session).personas()
        return web.json_response(
            [{"id": p.id, "name": p.name, "role": p.role, "role_label": ROLES.get(p.role, "")} for p in personas]
        )

    async def create_persona(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "请求格式不对"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "请求格式不对"}, status=400)
        name = str(body.get("name", "")).strip()
        role = str(body.get("role", ""))
        if not 1 <= len(name) <= 16:
            return web.json_response({"error": "名字请用 1 到 16 个字"}, status=400)
        if role not in ROLES:
            return web.json_response({"error": "请选择找活或招人"}, status=400)
        persona_id = "p-" + secrets.token_hex(6)
        async with self.db.transaction() as session:
            await WebChatRepository(session).add_persona(persona_id, name, role, self.clock())
        return web.json_response({"id": persona_id, "name": name, "role": role, "role_label": ROLES[role]})

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=256 * 1024)
        await ws.prepare(request)
        persona = None
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(frame.data)
                except json.JSONDecodeError:
                    await ws.send_json({"type": "error", "text": "消息格式不对"})
                    continue
                if not isinstance(data, dict):
                    continue
                if data.get("type") == "hello":
                    persona = await self._hello(ws, str(data.get("persona", "")))
                elif data.get("type") == "say":
                    if persona is None:
                        await ws.send_json({"type": "error", "text": "请先选择身份"})
                        continue
                    await self._say(ws, persona, data)
        finally:
            self.hub.unwatch(ws)
        return ws

    async def _hello(self, ws: web.WebSocketResponse, persona_id: str) -> Any:
        async with self.db.reader() as session:
            repo = WebChatRepository(session)
            persona = await repo.persona(persona_id)
            if persona is None:
                await ws.send_json({"type": "error", "text": "找不到这个身份，请重新选择"})
                return None
            chats = [persona.id, *self.rooms]
            history = {chat: [line_json(x) for x in await repo.lines(chat)] for chat in chats}
        self.hub.watch(ws, chats)
        await ws.send_json(
            {
                "type": "history",
                "persona": {"id": persona.id, "name": persona.name, "role": persona.role},
                "chats": history,
            }
        )
        return persona

    async def _say(self, ws: web.WebSocketResponse, persona: Any, data: dict[str, Any]) -> None:
        chat = str(data.get("chat", ""))
        client_id = str(data.get("id", ""))
        text = data.get("text")
        if chat != persona.id and chat not in self.rooms:
            await ws.send_json({"type": "error", "text": "没有这个聊天"})
            return
        if not _CLIENT_ID.match(client_id) or not isinstance(text, str):
            await ws.send_json({"type": "error", "text": "消息格式不对"})
            return
        is_group = chat in self.rooms
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
        shown = text if len(text) <= limit else TOO_LONG_MARK

        async def keep_transcript(session: AsyncSession) -> None:
            await WebChatRepository(session).add_user_line(
                chat_id=chat, sender_id=persona.id, sender_name=persona.name, text=shown, now=now
            )

        try:
            await self.engine.handle(msg, on_new=keep_transcript)
        except Exception:
            log.exception("web chat message %s failed", msg.message_id)
            await ws.send_json({"type": "error", "text": "系统忙，请稍后再发一次。"})
            return
        await ws.send_json({"type": "ack", "id": client_id})
        self.hub.poke()
        self.wake_sender()
