"""How a person logs in to the web chat: phone + SMS code, or WeChat web authorisation (网页授权)
when the page is opened inside WeChat from the 公众号 menu. Both end in the same web persona as
the person already known in chat, and in a server-side session (``bot.web.doors.Sessions``).

SMS codes: 6 digits, valid ``sms.code_ttl_seconds`` (5 min), at most ``sms.max_attempts`` tries,
stored as an HMAC under a per-code salt and compared in constant time; one code per phone per
minute, ``sms.per_phone_per_hour`` per phone and ``sms.per_ip_per_hour`` attempts per client
address (asking and checking both count). The answer never tells whether a phone is registered.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.login.sms import SmsError, SmsSender, mask_phone
from bot.login.wechat_oauth import OAuthError, WeChatWebAuth
from bot.web import texts
from bot.web.doors import LoginGate, plain_token
from bot.web.jsonbody import BadInput, field_str, json_error, read_json_object
from matching.phones import extract_phones, is_mobile
from storage.models import LoginCode, WebPersona
from market import people
from storage.repositories import OutboxRepository, UserRepository, WebChatRepository
from storage.repositories.doors import LoginCodeRepository

log = logging.getLogger("bot.login")

ROLES = {"worker": "找活", "employer": "招人"}
RESEND_AFTER = timedelta(seconds=60)
HOUR = timedelta(hours=1)
OAUTH_STATE_COOKIE = "lg_oauth"
HOLDER_COOKIE = "lg_code"
"""Names the browser that asked for a code: only it may try the code (a stranger who knows the
phone number cannot use up its tries)."""


def normalise_mobile(text: str) -> str | None:
    """11 plain digits of a mainland mobile typed any common way (spaces, dashes, +86)."""
    if not is_mobile(text):
        return None
    found = [p for p in extract_phones(text) if len(p) == 11 and p.isdigit()]
    return found[0] if found else None


def _holder_hash(holder: str) -> str:
    return hashlib.sha256(holder.encode("ascii")).hexdigest()


def _code_hash(salt: str, code: str) -> str:
    return hmac.new(salt.encode("ascii"), code.encode("ascii"), hashlib.sha256).hexdigest()


def new_persona_id() -> str:
    return "p-" + secrets.token_hex(6)


async def persona_for_phone(session: AsyncSession, phone: str, now: datetime) -> WebPersona:
    """The web persona that logged in with this phone before (and everything it registered),
    else a new one.

    A worker's or employer's profile phone is *not* used to link: it is whatever was typed in
    chat, never proven, so anyone could have registered someone else's number to read what that
    person later does on the web. People known in WeChat are linked by their openid instead
    (网页授权 from the 公众号 menu, or scanning the kiosk's QR code)."""
    web_repo = WebChatRepository(session)
    persona = await web_repo.persona_by_phone(phone)
    if persona is not None:
        return persona
    return await web_repo.add_persona(
        new_persona_id(), texts.NEW_PERSON_NAME.format(last4=phone[-4:]), "worker", now, phone=phone
    )


async def persona_for_openid(session: AsyncSession, openid: str, now: datetime) -> WebPersona:
    """The web persona of the person behind a 公众号 openid (网页授权 gives the same openid as
    the account's messages), made and linked when they have none yet."""
    web_repo, users = WebChatRepository(session), UserRepository(session)
    user = await users.get_or_create("wechat_oa", openid, "", now)
    persona = await web_repo.persona_of_user(user.id)
    if persona is not None:
        return persona
    worker, employer = await users.worker(user.id), await users.employer(user.id)
    role = "employer" if employer is not None and worker is None else "worker"
    profile = worker or employer
    name = (profile.name if profile is not None else "") or texts.WECHAT_PERSON_NAME
    persona = await web_repo.add_persona(new_persona_id(), name[:16], role, now)
    await users.link(user.id, "web", persona.id, now)
    return persona


class PersonLogin:
    """The login routes of the web chat (login mode)."""

    def __init__(
        self,
        gate: LoginGate,
        *,
        sms: SmsSender | None,
        wechat: WeChatWebAuth | None,
        public_url: str,
        service: str,
        hotline: str,
        code_ttl: timedelta,
        max_attempts: int,
        per_phone_per_hour: int,
    ) -> None:
        self.gate = gate
        self.db = gate.db
        self.doors = gate.doors
        self.clock = gate.clock
        self.sms = sms
        self.wechat = wechat
        self.public_url = public_url.rstrip("/")
        self.service = service
        self.hotline = hotline
        self.code_ttl = code_ttl
        self.max_attempts = max_attempts
        self.per_phone_per_hour = per_phone_per_hour

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/login/code", self.send_code),
            web.post("/api/login/verify", self.verify),
            web.get("/login/wechat", self.wechat_start),
            web.get("/login/wechat/done", self.wechat_done),
        ]

    def _error(self, status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status)

    # -- phone + SMS code ----------------------------------------------------------------------
    async def send_code(self, request: web.Request) -> web.Response:
        try:
            body = await read_json_object(request)
            phone = normalise_mobile(field_str(body, "phone", max_len=32))
        except BadInput as exc:
            return json_error(exc)
        if phone is None:
            return self._error(400, texts.PHONE_BAD)
        if self.sms is None:
            return self._error(503, texts.SMS_OFF.format(hotline=self.hotline))
        if not await self.gate.client_allowed(request, "login"):
            return self._error(429, texts.TOO_MANY)
        now = self.clock()
        async with self.db.transaction() as session:
            latest = await LoginCodeRepository(session).latest_open(phone, now)
        if latest is not None and now - latest.created_at < RESEND_AFTER:
            wait = int((RESEND_AFTER - (now - latest.created_at)).total_seconds()) + 1
            return self._error(429, texts.CODE_WAIT.format(seconds=wait))
        if not await self.gate.limits.hit(f"login:phone:{phone}", self.per_phone_per_hour, HOUR):
            return self._error(429, texts.TOO_MANY)
        code = f"{secrets.randbelow(1_000_000):06d}"
        salt = secrets.token_hex(16)
        holder = secrets.token_urlsafe(24)
        async with self.db.transaction() as session:
            await LoginCodeRepository(session).add(
                LoginCode(
                    phone=phone,
                    code_hash=_code_hash(salt, code),
                    salt=salt,
                    holder_hash=_holder_hash(holder),
                    attempts=0,
                    created_at=now,
                    expires_at=now + self.code_ttl,
                    client=self.doors.client(request),
                )
            )
        try:
            await self.sms.send_code(phone, code)
        except SmsError as exc:
            log.warning("login code to %s not sent: %s", mask_phone(phone), exc)
            if exc.permanent:
                return self._error(400, texts.SMS_REFUSED.format(hotline=self.hotline))
            return self._error(503, texts.SMS_DOWN.format(hotline=self.hotline))
        response = web.json_response(
            {"ok": True, "text": texts.CODE_SENT.format(masked=mask_phone(phone)), "resend_after": 60}
        )
        ttl = int(self.code_ttl.total_seconds())
        self.doors.set_cookie(response, request, HOLDER_COOKIE, holder, max_age=ttl, samesite="Strict")
        return response

    async def verify(self, request: web.Request) -> web.Response:
        try:
            body = await read_json_object(request)
            phone = normalise_mobile(field_str(body, "phone", max_len=32))
            code = field_str(body, "code", max_len=12).strip()
        except BadInput as exc:
            return json_error(exc)
        if phone is None:
            return self._error(400, texts.PHONE_BAD)
        if not await self.gate.client_allowed(request, "login"):
            return self._error(429, texts.TOO_MANY)
        now = self.clock()
        holder = plain_token(request.cookies.get(HOLDER_COOKIE, ""), 64)
        async with self.db.transaction() as session:
            codes = LoginCodeRepository(session)
            row = await codes.latest_open(phone, now)
            if row is None:
                outcome = "gone"
            elif not holder or not hmac.compare_digest(_holder_hash(holder), row.holder_hash):
                outcome = "bad"  # not the browser that asked: costs the owner no try
            else:
                # One try spent in one conditional UPDATE (parallel guesses cannot share a try).
                tries = await codes.spend_try(row.id, self.max_attempts)
                well_formed = len(code) == 6 and code.isascii() and code.isdigit()
                if tries is None:
                    outcome = "gone"
                elif well_formed and hmac.compare_digest(_code_hash(row.salt, code), row.code_hash):
                    outcome = "ok" if await codes.mark_used(row.id, now) else "gone"
                else:
                    outcome = "bad" if tries < self.max_attempts else "gone"
            persona = await persona_for_phone(session, phone, now) if outcome == "ok" else None
            if persona is not None:
                await self._offer_link(session, persona, phone, now)
        if outcome == "gone":
            return self._error(400, texts.CODE_GONE)
        if outcome == "bad" or persona is None:
            return self._error(400, texts.CODE_BAD)
        response = web.json_response(persona_json(persona))
        self.doors.clear_cookie(response, HOLDER_COOKIE)
        await self.gate.log_in(request, response, persona.id)
        return response

    async def _offer_link(self, session: AsyncSession, persona: WebPersona, phone: str, now: datetime) -> None:
        """Someone registered this phone in the 公众号: tell the web person how to join the two
        (a bot line in their chat: 绑定 CODE, typed in the 公众号 by the registered person)."""
        offer = await people.offer_web_link(
            session, persona.id, phone, now, service=self.service, hotline=self.hotline
        )
        if offer is not None:
            await OutboxRepository(session).enqueue(
                channel="web",
                chat_id=persona.id,
                text=offer,
                idempotency_key=f"web-link:{persona.id}:{now.isoformat()}",
                now=now,
            )

    # -- WeChat web authorisation ----------------------------------------------------------------
    async def wechat_start(self, request: web.Request) -> web.StreamResponse:
        if self.wechat is None:
            raise web.HTTPNotFound(text=texts.WECHAT_OFF)
        state = secrets.token_hex(16)
        # WeChat only redirects to the 网页授权域名: production sets market.public_url to it.
        base = self.public_url or self.doors.own_origin(request)
        url = self.wechat.authorize_url(base + "/login/wechat/done", state)
        response = web.Response(status=302, headers={"Location": url})
        self.doors.set_cookie(response, request, OAUTH_STATE_COOKIE, state, max_age=600)
        return response

    async def wechat_done(self, request: web.Request) -> web.StreamResponse:
        if self.wechat is None:
            raise web.HTTPNotFound(text=texts.WECHAT_OFF)
        state = plain_token(request.query.get("state", ""), 64)
        expected = plain_token(request.cookies.get(OAUTH_STATE_COOKIE, ""), 64)
        code = request.query.get("code", "")
        if not expected or not hmac.compare_digest(state.encode(), expected.encode()) or not code:
            raise web.HTTPBadRequest(text=texts.WECHAT_FAILED)
        if not await self.gate.client_allowed(request, "login"):
            raise web.HTTPTooManyRequests(text=texts.TOO_MANY)
        try:
            openid = await self.wechat.openid_for_code(code)
        except OAuthError as exc:
            log.warning("web authorisation failed: %s", exc)
            raise web.HTTPBadRequest(text=texts.WECHAT_FAILED) from None
        async with self.db.transaction() as session:
            persona = await persona_for_openid(session, openid, self.clock())
        response = web.Response(status=302, headers={"Location": "/"})
        self.doors.clear_cookie(response, OAUTH_STATE_COOKIE)
        await self.gate.log_in(request, response, persona.id)
        return response


def persona_json(p: WebPersona) -> dict[str, str]:
    return {"id": p.id, "name": p.name, "role": p.role, "role_label": ROLES.get(p.role, "")}
