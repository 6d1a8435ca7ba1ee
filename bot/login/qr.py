"""The service-hall kiosk's second way in: scan the 公众号 QR code on the screen with WeChat.

1. The kiosk asks for a ticket (``POST /api/login/qr``): a random public id, and a secret that
   only this browser holds (an HttpOnly cookie; stored hashed). The 公众号 API makes a temporary
   QR code for the scene ``login_<id>``; the page draws it (segno, no third-party image host).
2. The person scans it: the 公众号 callback gets a SCAN (or, for a new follower, subscribe with
   ``qrscene_login_<id>``) event from their openid and approves the ticket for that openid
   (``approve_scan``), answering them in WeChat.
3. The kiosk polls (``GET /api/login/qr/<id>``) and, once scanned, shows whose WeChat it was
   (刘*福) and asks 是我 / 不是我: a bystander who photographed the screen and scanned first is
   turned away there. 是我 (``…/confirm``) spends the ticket once and logs the holder of the
   secret in as the persona of that openid — the same person as in the 公众号 chat.

Codes are made only for the hall's terminals (``webchat.kiosk_networks``): one made elsewhere
and sent to someone to scan would log its maker in as them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
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
from bot.web.doors import LoginGate, plain_token
from storage.models import LoginTicket
from storage.repositories import UserRepository
from storage.repositories.doors import LoginTicketRepository

log = logging.getLogger("bot.login.qr")

SCENE_PREFIX = "login_"
COOKIE = "lg_qr"
TICKET_TTL = timedelta(minutes=5)
_TICKET_ID = re.compile(r"^[A-Za-z0-9]{16,32}$")


class QrApi(Protocol):
    """What the kiosk needs of the 公众号 API: a temporary QR code for a scene."""

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
    """The kiosk's QR login routes: a ticket, its QR code, polling, 是我 / 不是我."""

    def __init__(self, gate: LoginGate, api: QrApi, *, networks: tuple[str, ...] = ()) -> None:
        self.gate = gate
        self.api = api
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def _from_kiosk(self, request: web.Request) -> bool:
        """QR codes only for the hall's terminals (``webchat.kiosk_networks``; empty = anywhere)."""
        if not self.networks:
            return True
        try:
            address = ipaddress.ip_address(self.gate.doors.client(request))
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def routes(self) -> list[web.RouteDef]:
        ticket = r"/api/login/qr/{id:[A-Za-z0-9]{16,32}}"
        return [
            web.post("/api/login/qr", self.create),
            web.get(ticket, self.poll),
            web.post(ticket + "/confirm", self.confirm),
            web.post(ticket + "/reject", self.reject),
        ]

    async def create(self, request: web.Request) -> web.Response:
        if not self._from_kiosk(request):
            # A code made elsewhere and sent to someone ("扫码领补贴") would log its maker in as them.
            return web.json_response({"error": texts.QR_NOT_HERE}, status=403)
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

    async def _held_ticket(self, request: web.Request) -> LoginTicket | web.Response:
        """The ticket in the URL, if this browser holds its secret and it is still open."""
        secret = plain_token(request.cookies.get(COOKIE, ""), 64)
        async with self.gate.db.reader() as session:
            ticket = await LoginTicketRepository(session).get(request.match_info["id"])
        if ticket is None or not secret or not hmac.compare_digest(_hash(secret), ticket.secret_hash):
            return web.json_response({"error": texts.QR_GONE}, status=404)
        if ticket.used_at is not None or ticket.expires_at <= self.gate.clock():
            return web.json_response({"error": texts.QR_GONE, "expired": True}, status=410)
        return ticket

    async def poll(self, request: web.Request) -> web.Response:
        """Waiting, or scanned: then the screen shows whose WeChat scanned (masked) and asks the
        visitor to confirm — a bystander who scanned first is turned away there."""
        ticket = await self._held_ticket(request)
        if isinstance(ticket, web.Response):
            return ticket
        if ticket.openid is None:
            return web.json_response({"waiting": True}, headers={"Cache-Control": "no-store"})
        async with self.gate.db.reader() as session:
            name = await registered_name(session, ticket.openid)
        shown = mask_name(name) if name else texts.WECHAT_PERSON_NAME
        return web.json_response({"scanned": shown}, headers={"Cache-Control": "no-store"})

    async def confirm(self, request: web.Request) -> web.Response:
        """The visitor confirmed the name on the screen: the ticket is spent and they are in."""
        ticket = await self._held_ticket(request)
        if isinstance(ticket, web.Response):
            return ticket
        now = self.gate.clock()
        async with self.gate.db.transaction() as session:
            openid = await LoginTicketRepository(session).use(ticket.id, now)
            persona = await persona_for_openid(session, openid, now) if openid else None
        if persona is None:
            return web.json_response({"error": texts.QR_GONE, "expired": True}, status=410)
        response = web.json_response(persona_json(persona))
        self.gate.doors.clear_cookie(response, COOKIE)
        await self.gate.log_in(request, response, persona.id)
        return response

    async def reject(self, request: web.Request) -> web.Response:
        """"不是我": the scan was someone else's; the ticket is void and a new code is shown."""
        ticket = await self._held_ticket(request)
        if isinstance(ticket, web.Response):
            return ticket
        async with self.gate.db.transaction() as session:
            await LoginTicketRepository(session).void(ticket.id, self.gate.clock())
        response = web.json_response({"ok": True})
        self.gate.doors.clear_cookie(response, COOKIE)
        return response


async def registered_name(session: AsyncSession, openid: str) -> str:
    """The name the person behind a 公众号 openid registered with, or "" (not registered)."""
    users = UserRepository(session)
    user_id = await users.user_id("wechat_oa", openid)
    if user_id is None:
        return ""
    profile = await users.worker(user_id) or await users.employer(user_id)
    return profile.name if profile is not None else ""


def mask_name(name: str) -> str:
    """刘德福 → 刘*福, 李姐 → 李*: enough for the visitor to know it is them, not for a passer-by."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
