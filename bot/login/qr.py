"""The service-hall kiosk's second way in: scan the 公众号 QR code on the screen with WeChat.

1. The kiosk asks for a ticket (``POST /api/login/qr``): a random public id, and a secret that
   only this browser holds (an HttpOnly cookie; stored hashed). The 公众号 API makes a temporary
   QR code for the scene ``login_<id>``; the page draws it (segno, no third-party image host).
2. The person scans it: the 公众号 callback gets a SCAN (or, for a new follower, subscribe with
   ``qrscene_login_<id>``) event from their openid and approves the ticket for that openid
   (``approve_scan``), answering them in WeChat.
3. The kiosk polls (``GET /api/login/qr/<id>``): the holder of the secret spends the approved
   ticket once and is logged in as the persona of that openid — the same person as in the
   公众号 chat. A photo of the screen is worth nothing: the id alone logs nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Protocol

import segno
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.login.person import persona_for_openid, persona_json
from bot.web import texts
from bot.web.doors import LoginGate
from storage.models import LoginTicket
from storage.repositories.doors import LoginTicketRepository

log = logging.getLogger("bot.login.qr")

SCENE_PREFIX = "login_"
COOKIE = "lg_qr"
TICKET_TTL = timedelta(minutes=5)
_TICKET_ID = re.compile(r"^[A-Za-z0-9]{16,32}$")


class QrApi(Protocol):
    async def create_qr(self, scene: str, *, expire_seconds: int) -> dict[str, object]: ...


def ticket_of_scene(event_key: str) -> str | None:
    """The ticket id in a SCAN / subscribe event key, or None when it is no login code."""
    key = event_key.removeprefix("qrscene_")
    if not key.startswith(SCENE_PREFIX):
        return None
    ticket = key[len(SCENE_PREFIX) :]
    return ticket if _TICKET_ID.match(ticket) else None


async def approve_scan(session: AsyncSession, ticket_id: str, openid: str, now: datetime) -> bool:
    """Called by the 公众号 callback inside the message's transaction."""
    return await LoginTicketRepository(session).approve(ticket_id, openid, now)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


class KioskQr:
    def __init__(self, gate: LoginGate, api: QrApi) -> None:
        self.gate = gate
        self.api = api

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/login/qr", self.create),
            web.get(r"/api/login/qr/{id:[A-Za-z0-9]{16,32}}", self.poll),
        ]

    async def create(self, request: web.Request) -> web.Response:
        if not await self.gate.client_allowed(request, "qr", times=3):
            return web.json_response({"error": texts.TOO_MANY}, status=429)
        now = self.gate.clock()
        ticket_id, secret = secrets.token_hex(12), secrets.token_urlsafe(24)
        try:
            answer = await self.api.create_qr(SCENE_PREFIX + ticket_id, expire_seconds=int(TICKET_TTL.total_seconds()))
        except Exception as exc:  # the WeChat API is down or refuses: phone login still works
            log.warning("kiosk QR code not made: %r", exc)
            return web.json_response({"error": texts.QR_DOWN}, status=503)
        url = answer.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return web.json_response({"error": texts.QR_DOWN}, status=503)
        async with self.gate.db.transaction() as session:
            await LoginTicketRepository(session).add(
                LoginTicket(id=ticket_id, secret_hash=_hash(secret), created_at=now, expires_at=now + TICKET_TTL)
            )
        image = segno.make(url, error="m").svg_data_uri(scale=6, border=2)
        response = web.json_response(
            {"ticket": ticket_id, "image": image, "expires_in": int(TICKET_TTL.total_seconds())}
        )
        self.gate.doors.set_cookie(response, request, COOKIE, secret, max_age=int(TICKET_TTL.total_seconds()))
        return response

    async def poll(self, request: web.Request) -> web.Response:
        ticket_id = request.match_info["id"]
        secret = request.cookies.get(COOKIE, "")
        now = self.gate.clock()
        async with self.gate.db.reader() as session:
            ticket = await LoginTicketRepository(session).get(ticket_id)
        if ticket is None or not secret or not hmac.compare_digest(_hash(secret), ticket.secret_hash):
            return web.json_response({"error": texts.QR_GONE}, status=404)
        if ticket.used_at is not None or ticket.expires_at <= now:
            return web.json_response({"error": texts.QR_GONE, "expired": True}, status=410)
        if ticket.openid is None:
            return web.json_response({"waiting": True}, headers={"Cache-Control": "no-store"})
        async with self.gate.db.transaction() as session:
            openid = await LoginTicketRepository(session).use(ticket_id, now)
            persona = await persona_for_openid(session, openid, now) if openid else None
        if persona is None:
            return web.json_response({"error": texts.QR_GONE, "expired": True}, status=410)
        response = web.json_response(persona_json(persona))
        self.gate.doors.clear_cookie(response, COOKIE)
        await self.gate.log_in(request, response, persona.id)
        return response
