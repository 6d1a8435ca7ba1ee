"""What every web request passes through: security headers, origin and CSRF checks, server-side
sessions and shared rate limits. The web chat uses it for people; the console for staff.

* **Headers** on every response: a Content-Security-Policy with no inline script, framing
  refused, ``nosniff``, no referrer (contract links carry a secret token).
* **Origin**: a WebSocket upgrade, and any state-changing request that names an ``Origin``,
  must come from the page's own origin, ``market.public_url``'s, or a configured one.
* **CSRF** (double submit): every page load sets a random ``lg_csrf`` cookie (SameSite=Strict) and
  puts the same value in the page; a POST must send it back in ``X-CSRF-Token`` (JSON) or the
  ``csrf_token`` form field. A page on another site can neither read the cookie nor set the header.
  Signed server-to-server callbacks (WeChat) are exempt by path.
* **Sessions**: a random token in an HttpOnly, SameSite=Lax cookie (Secure behind HTTPS); the
  database keeps only its SHA-256, the idle and absolute end, and ``revoked_at``. Logout and
  revocation take effect in every process at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from aiohttp import web

from bot.web import texts
from storage.db import Database
from storage.models import WebSession
from storage.repositories.doors import RateCounterRepository, WebSessionRepository

CSRF_COOKIE = "lg_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_KEY = web.RequestKey("csrf", str)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOUCH_EVERY = timedelta(seconds=30)
"""A session's ``last_seen_at`` is written at most this often (not on every request)."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def plain_token(value: str, max_len: int = 128) -> str:
    """A cookie or header value as a token: printable ASCII and not too long, else "" (bytes
    that are not UTF-8 arrive as lone surrogates and must not reach ``encode``)."""
    if not value or len(value) > max_len or not value.isascii() or not value.isprintable():
        return ""
    return value


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


class Doors:
    """Per-application settings of the checks above."""

    def __init__(
        self,
        *,
        public_url: str,
        allowed_origins: Iterable[str] = (),
        trust_proxy: bool = False,
        exempt_prefixes: Iterable[str] = (),
    ) -> None:
        self.trust_proxy = trust_proxy
        self.extra_origins = {origin_of(public_url), *(o.lower().rstrip("/") for o in allowed_origins)}
        self.extra_origins.discard("")
        self.exempt_prefixes = tuple(exempt_prefixes)

    # -- where the request comes from ----------------------------------------------------------
    def is_https(self, request: web.Request) -> bool:
        if self.trust_proxy:
            proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
            if proto:
                return proto == "https"
        return request.secure

    def client(self, request: web.Request) -> str:
        """The client's address. Behind a trusted proxy: the last X-Forwarded-For entry, the one
        the proxy itself appended (anything before it is whatever the client chose to send)."""
        if self.trust_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
            if forwarded:
                return forwarded[:64]
        return (request.remote or "")[:64]

    def own_origin(self, request: web.Request) -> str:
        return f"{'https' if self.is_https(request) else 'http'}://{request.host}".lower()

    def origin_allowed(self, request: web.Request, origin: str) -> bool:
        origin = origin.lower().rstrip("/")
        return origin == self.own_origin(request) or origin in self.extra_origins

    def check_websocket_origin(self, request: web.Request) -> None:
        """A browser always names the page's origin on a WebSocket upgrade: it must be ours."""
        origin = request.headers.get("Origin", "")
        if not origin or not self.origin_allowed(request, origin):
            raise web.HTTPForbidden(text="origin not allowed")

    # -- cookies --------------------------------------------------------------------------------
    def set_cookie(
        self,
        response: web.StreamResponse,
        request: web.Request,
        name: str,
        value: str,
        *,
        max_age: int | None,
        httponly: bool = True,
        samesite: str = "Lax",
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=httponly,
            samesite=samesite,
            secure=self.is_https(request),
        )

    def clear_cookie(self, response: web.StreamResponse, name: str) -> None:
        response.del_cookie(name, path="/")

    # -- middleware -----------------------------------------------------------------------------
    @web.middleware
    async def middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        exempt = request.path.startswith(self.exempt_prefixes) if self.exempt_prefixes else False
        csrf = plain_token(request.cookies.get(CSRF_COOKIE, ""), 64)
        fresh = len(csrf) < 16
        if fresh:
            csrf = secrets.token_urlsafe(24)
        request[CSRF_KEY] = csrf
        if request.method in UNSAFE and not exempt:
            origin = request.headers.get("Origin")
            if origin is not None and not self.origin_allowed(request, origin):
                raise web.HTTPForbidden(text="origin not allowed")
            await self._check_csrf(request, "" if fresh else csrf)
        response = await handler(request)
        if fresh and not exempt and not response.prepared:
            self.set_cookie(response, request, CSRF_COOKIE, csrf, max_age=None, samesite="Strict")
        return response

    async def _check_csrf(self, request: web.Request, expected: str) -> None:
        given = plain_token(request.headers.get(CSRF_HEADER, ""), 64)
        if not given and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            field = form.get(CSRF_FIELD, "")
            given = plain_token(field, 64) if isinstance(field, str) else ""
        if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise web.HTTPForbidden(
                text=json.dumps({"error": texts.PAGE_EXPIRED}, ensure_ascii=False),
                content_type="application/json",
            )


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


class Sessions:
    """Server-side sessions of one kind (``person`` or ``staff``), each with its own cookie."""

    def __init__(
        self,
        db: Database,
        doors: Doors,
        *,
        kind: str,
        cookie: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.doors = doors
        self.kind = kind
        self.cookie = cookie
        self.clock = clock

    async def start(
        self,
        request: web.Request,
        response: web.StreamResponse,
        subject: str,
        *,
        idle: timedelta,
        lifetime: timedelta,
        kiosk: bool = False,
    ) -> WebSession:
        """Log ``subject`` in: a new session (any earlier one of this browser is ended first)."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        async with self.db.transaction() as session:
            repo = WebSessionRepository(session)
            old = plain_token(request.cookies.get(self.cookie, ""))
            if old:
                await repo.revoke(token_hash(old), now)
            row = await repo.add(
                WebSession(
                    id=token_hash(token),
                    kind=self.kind,
                    subject=subject,
                    csrf=secrets.token_urlsafe(24),
                    kiosk=kiosk,
                    idle_seconds=int(idle.total_seconds()),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                    client=self.doors.client(request),
                )
            )
        # A kiosk's cookie dies with the browser session; a phone's lasts the session's lifetime.
        max_age = None if kiosk else int(lifetime.total_seconds())
        self.doors.set_cookie(response, request, self.cookie, token, max_age=max_age)
        return row

    async def current(self, request: web.Request) -> WebSession | None:
        """The live session this request carries, or None (no cookie, unknown, revoked, idle
        too long or past its end). Activity moves the idle clock."""
        token = plain_token(request.cookies.get(self.cookie, ""))
        if not token:
            return None
        sid = token_hash(token)
        now = self.clock()
        async with self.db.reader() as session:
            row = await WebSessionRepository(session).get(sid)
        if row is None or row.kind != self.kind or not self.alive(row, now):
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            async with self.db.transaction() as session:
                await WebSessionRepository(session).touch(sid, now)
        return row

    def alive(self, row: WebSession, now: datetime) -> bool:
        return (
            row.revoked_at is None
            and row.expires_at > now
            and now - row.last_seen_at < timedelta(seconds=row.idle_seconds)
        )

    async def still_alive(self, session_id: str, *, touch: bool = True) -> bool:
        """Re-checked on every message of an open WebSocket, and every few seconds while it is
        open (logout elsewhere ends it); ``touch``: this is activity, moving the idle clock."""
        now = self.clock()
        async with self.db.reader() as session:
            row = await WebSessionRepository(session).get(session_id)
        if row is None or not self.alive(row, now):
            return False
        if touch and now - row.last_seen_at >= TOUCH_EVERY:
            async with self.db.transaction() as session:
                await WebSessionRepository(session).touch(session_id, now)
        return True

    async def end(self, request: web.Request, response: web.StreamResponse) -> None:
        token = plain_token(request.cookies.get(self.cookie, ""))
        if token:
            async with self.db.transaction() as session:
                await WebSessionRepository(session).revoke(token_hash(token), self.clock())
        self.doors.clear_cookie(response, self.cookie)

    async def end_id(self, session_id: str) -> None:
        async with self.db.transaction() as session:
            await WebSessionRepository(session).revoke(session_id, self.clock())


class RateLimits:
    """Fixed-window limits shared by every process (a row per key and window)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def hit(self, key: str, limit: int, window: timedelta) -> bool:
        """Count one attempt; False when it is over ``limit`` in the current window."""
        async with self.db.transaction() as session:
            count = await RateCounterRepository(session).hit(key, window, self.clock())
        return count <= limit


@dataclass(frozen=True)
class LoginGate:
    """What every way of logging a person in shares: where sessions go, how long they last, and
    the per-address limit on attempts."""

    db: Database
    doors: Doors
    sessions: Sessions
    limits: RateLimits
    clock: Callable[[], datetime]
    idle: timedelta
    lifetime: timedelta
    kiosk: bool
    per_ip_per_hour: int

    async def client_allowed(self, request: web.Request, what: str, times: int = 1) -> bool:
        """Count one attempt of ``what`` from this client address (``times`` × the limit)."""
        key = f"{what}:ip:{self.doors.client(request)}"
        return await self.limits.hit(key, self.per_ip_per_hour * times, timedelta(hours=1))

    async def log_in(self, request: web.Request, response: web.StreamResponse, persona_id: str) -> None:
        await self.sessions.start(
            request, response, persona_id, idle=self.idle, lifetime=self.lifetime, kiosk=self.kiosk
        )
