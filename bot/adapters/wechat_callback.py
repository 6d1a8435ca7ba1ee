"""What the 公众号 and 企业微信 callbacks share: hostile-input handling, dedupe, the dialog engine,
and the passive reply inside WeChat's 5-second window.

One POST, in order (reference reliability §1.2 and §7.1):

1. body capped (``max_body_bytes``, 413) before anything else is done with it; its Content-Type
   is not looked at (WeChat promises none; the signature is the check);
2. signature checked on the raw request (constant-time compare, timestamp freshness, 403) —
   done by the channel class, which also decrypts (wechatpy's AES) in safe mode; a verified
   request's signature is then *spent*: its ``replay_key`` goes into ``callback_nonces`` (shared
   by every process) inside the message's own transaction, and the same key again within the
   freshness window is a replay (403), whatever the body. WeChat signs each try of a message
   afresh, so its retries are not replays: they are deduplicated by ``MsgId`` (step 4);
3. XML parsed with defusedxml, DTDs and entities refused (400) — outer envelope and inner message;
4. the message becomes one ``InboundMessage`` for the dialog engine, whose single transaction
   records the message id (``MsgId``; events: ``FromUserName + CreateTime + Event + EventKey``)
   under a unique key, runs the dialog and writes every reply to the outbox — so WeChat's 3
   tries within 5 s have one effect, even when they overlap;
5. the passive reply is claimed *inside that same transaction*, just before it commits: the
   person's queued outbox rows (this message's replies and notifications, plus anything still
   waiting for them, e.g. a push that missed the 客服 window) are marked sent with one
   conditional ``UPDATE … WHERE status='queued' RETURNING`` and become the XML answer — a row is
   either in this HTTP answer or with the outbox sender, never both. If the dialog is still
   running when ``passive_reply_seconds`` is up, the answer is ``success`` at once, nothing is
   claimed, and the outbox sender delivers through 客服消息 / the app API. The sender leaves this
   channel's fresh rows alone for ``passive_reply_seconds + 1`` s (its ``hold_seconds``) so the
   free, instant passive reply normally wins.

A repeated delivery answers with the same passive reply again — WeChat only retries when it did
not get the first answer. The claim marks every row it takes with the message's key
(the row's ``passive_for``), so a retry finds exactly
what the first answer held: its replies, the notifications the dialog wrote (the 接单
confirmation) and older rows that rode along. If the first answer was ``success`` and the rows
went out by 客服消息 (claimed by the sender, or already sent), the retry answers ``success`` and
nothing is sent again; rows still queued for the person are claimed for the retry's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import defusedxml
import defusedxml.ElementTree as SafeET
from aiohttp import web
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters import wechat_texts
from bot.config import _CallbackConfig
from bot.login.qr import approve_scan, ticket_of_scene
from dialogs.engine import DialogEngine, HandleResult
from dialogs.events import InboundMessage, reply_key
from storage.db import BEFORE_COMMIT, Database, before_commit
from storage.models import OutboxRow
from storage.repositories import CallbackNonceRepository, InboundRepository, OutboxRepository

log = logging.getLogger("bot.wechat_callback")

PASSIVE_MAX_BYTES = 2000
"""WeChat drops passive text replies of about 2,048 bytes and more (reference §1.3, [S30])."""
_SAFE_ID = re.compile(r"^[A-Za-z0-9_@.\-]{1,64}$")
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_FIELD = 16 * 1024
NONCE_KEEP_SECONDS = 24 * 3600
"""How long a spent signature is kept when the freshness check is off (``max_clock_skew_seconds``
0): replays are then refused for a day only."""


class Reject(Exception):
    """Refuse the request with an HTTP status and a short plain-text reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.reason)


# --------------------------------------------------------------------------- primitives
async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes without reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise Reject(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise Reject(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


def check_fresh(timestamp: str, max_skew: int) -> None:
    """Refuse a signed request whose timestamp is far from now (replay of an old capture)."""
    try:
        ts = int(timestamp)
    except ValueError:
        raise Reject(403, "bad timestamp") from None
    if max_skew and abs(time.time() - ts) > max_skew:
        raise Reject(403, "stale timestamp")


def replay_key(timestamp: str, nonce: str, *signatures: str) -> str:
    """The ``callback_nonces`` key of a verified request: SHA-256 (hex) of its timestamp, nonce
    and signature(s) (``signature``, and ``msg_signature`` in safe mode — except under the
    公众号's 兼容模式 — or 企业微信's ``msg_signature``)."""
    return hashlib.sha256("".join((timestamp, nonce, *signatures)).encode("utf-8")).hexdigest()


def parse_xml(body: bytes | str) -> dict[str, str]:
    """Flat ``{tag: text}`` of ``<xml>``'s children; DTDs, entities and bad XML refused (400)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if _DTD.search(raw[:4096]) or b"<!ENTITY" in raw or b"<!DOCTYPE" in raw:
        raise Reject(400, "DTD not allowed")
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (defusedxml.DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise Reject(400, f"bad xml: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise Reject(400, "bad xml: root is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):  # WeChat's messages are flat; nested ones are not for us
            continue
        value = _CONTROL.sub("", child.text or "")
        if len(value) > _MAX_FIELD:
            raise Reject(400, f"field {child.tag} too long")
        fields[str(child.tag)[:64]] = value
    return fields


def cdata(value: str) -> str:
    """CDATA that cannot be broken out of (wechatpy 1.8 does not split ``]]>``)."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(*, to_user: str, from_user: str, content: str) -> str:
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def safe_id(value: str, what: str) -> str:
    if not _SAFE_ID.match(value or ""):
        raise Reject(400, f"bad {what}")
    return value


def _short(key: str) -> str:
    """Fit a dedupe key into the 128-character column (hash the tail when longer)."""
    if len(key) <= 120:
        return key
    return key[:80] + "#" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:32]


# --------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class Action:
    """What one callback means for us."""

    kind: str  # "engine" | "reply" | "kiosk_login" | "unsubscribe" | "ignore"
    text: str = ""
    welcome: bool = False


@dataclass(frozen=True)
class Incoming:
    """A verified, parsed callback message."""

    account: str  # ToUserName: our 公众号 (gh_…) or corp id
    user: str  # FromUserName: openid / WeCom userid
    dedupe_key: str
    action: Action


class CallbackCore:
    """Runs one parsed callback message through dedupe, the engine and the passive reply."""

    def __init__(
        self,
        *,
        channel: str,
        cfg: _CallbackConfig,
        db: Database,
        engine: DialogEngine,
        clock: Callable[[], datetime],
        service_name: str,
        hotline: str,
        scenes: dict[str, str] | None = None,
        wake_sender: Callable[[], None] | None = None,
    ) -> None:
        self.channel = channel
        self.cfg = cfg
        self.db = db
        self.engine = engine
        self.clock = clock
        self.service_name = service_name
        self.hotline = hotline
        self.scenes = dict(scenes or {})
        self.menu = dict(cfg.menu)
        self.wake_sender = wake_sender
        self._late: set[asyncio.Task[object]] = set()

    # -- classification ------------------------------------------------------------------------
    def incoming(self, f: dict[str, str]) -> Incoming:
        """Turn the flat XML fields into an ``Incoming`` (400 when essentials are missing)."""
        account = safe_id(f.get("ToUserName", ""), "ToUserName")
        user = safe_id(f.get("FromUserName", ""), "FromUserName")
        mtype = f.get("MsgType", "").strip().lower()
        if not mtype:
            raise Reject(400, "no MsgType")
        if mtype == "event":
            event = f.get("Event", "").strip()
            key = f.get("EventKey", "").strip()
            created = f.get("CreateTime", "").strip()
            if not created.isdigit():
                raise Reject(400, "bad CreateTime")
            dedupe = _short(f"{account}:{user}:{created}:{event}:{key}")
            return Incoming(account, user, dedupe, self._event_action(event.lower(), key, f))
        msg_id = (f.get("MsgId") or f.get("MsgID") or "").strip()
        if not msg_id.isdigit():
            raise Reject(400, "bad MsgId")
        dedupe = _short(f"{account}:{msg_id}")
        if mtype == "text":
            return Incoming(account, user, dedupe, Action("engine", f.get("Content", "")))
        if mtype == "voice":
            said = f.get("Recognition", "").strip().rstrip("。.！!")
            if said:
                return Incoming(account, user, dedupe, Action("engine", said))
            return Incoming(
                account,
                user,
                dedupe,
                Action("reply", wechat_texts.VOICE_NOT_RECOGNISED.format(hotline=self.hotline)),
            )
        return Incoming(
            account,
            user,
            dedupe,
            Action("reply", wechat_texts.UNSUPPORTED.format(hotline=self.hotline)),
        )

    def _event_action(self, event: str, key: str, f: dict[str, str]) -> Action:
        if event in ("subscribe", "scan") and self.channel == "wechat_oa":
            ticket = ticket_of_scene(key)  # the QR code on a service-hall kiosk's screen
            if ticket is not None:
                return Action("kiosk_login", ticket, welcome=event == "subscribe")
        if event == "subscribe":
            scene = key.removeprefix("qrscene_") if key.startswith("qrscene_") else ""
            return Action(
                "engine", self.scenes.get(scene, self.menu.get("MENU", "菜单")), welcome=True
            )
        if event == "scan":
            command = self.scenes.get(key)
            return Action("engine", command) if command else Action("ignore")
        if event == "unsubscribe":
            return Action("unsubscribe")
        if event == "click":
            return Action("engine", self.menu.get(key, self.menu.get("MENU", "菜单")))
        if event == "templatesendjobfinish":
            status = f.get("Status", "")
            if status != "success":
                log.warning(
                    "template message to %s finished with %s", f.get("FromUserName"), status
                )
        return Action("ignore")  # view, location, enter_agent, templatesendjobfinish, …

    # -- processing ----------------------------------------------------------------------------
    async def process(self, inc: Incoming, *, signed: str) -> list[str] | None:
        """Handle one message; the texts for a passive reply, or None for ``success``.
        ``signed`` is the request's ``replay_key``: a replay raises ``Reject(403)``."""
        if inc.action.kind == "ignore":
            if not await self.spend(signed):
                raise Reject(403, "replayed request")
            return None
        passive = _Passive()
        work = asyncio.ensure_future(self._effect(inc, passive, signed))
        try:
            done, _ = await asyncio.wait({work}, timeout=self.cfg.passive_reply_seconds)
        except asyncio.CancelledError:  # the HTTP request went away: the sender delivers
            if passive.state == "waiting":
                passive.state = "gave_up"
            self._late.add(work)
            work.add_done_callback(self._late_done)
            raise
        if not done:
            if passive.state == "waiting":
                # Too slow for the 5-second window: answer now; the rows stay with the sender.
                passive.state = "gave_up"
                self._late.add(work)
                work.add_done_callback(self._late_done)
                log.info(
                    "%s %s: slower than %.1fs, replying by API",
                    self.channel,
                    inc.dedupe_key,
                    self.cfg.passive_reply_seconds,
                )
                return None
            await asyncio.wait({work})  # rows are being claimed for this answer: finish it
        duplicate = work.result()  # raises: the caller answers 500 and WeChat tries again
        if not duplicate:
            return passive.texts or None
        if inc.action.kind == "unsubscribe":
            return None
        return await self.claim_passive(inc.user, inc.dedupe_key)

    def _late_done(self, task: asyncio.Task[object]) -> None:
        self._late.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, Reject):
            log.warning("%s: refused after answering: %s", self.channel, exc.reason)
        elif exc is not None:
            log.error("%s: late message handling failed: %r", self.channel, exc)
        elif self.wake_sender is not None:
            self.wake_sender()

    async def drain(self) -> None:
        """Wait for messages still running past their window (shutdown, tests)."""
        while self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)

    def _claim_at_commit(self, session: AsyncSession, inc: Incoming, passive: _Passive) -> None:
        """Claim the passive reply inside the message's own transaction, just before it commits
        (after the dialog's replies and notifications are queued) — unless the HTTP answer has
        already gone out as ``success``."""

        deferred = [0]

        async def claim(s: AsyncSession) -> None:
            if s.info.get(BEFORE_COMMIT) and deferred[0] < 3:  # other hooks (notifications) first
                deferred[0] += 1
                before_commit(s, claim)
                return
            if passive.state != "waiting" or inc.action.kind == "unsubscribe":
                return
            passive.state = "claiming"
            passive.texts = await self._claim(s, inc.user, inc.dedupe_key)

        before_commit(session, claim)

    # -- spent signatures ----------------------------------------------------------------------
    def _nonce_expiry(self) -> datetime:
        # A timestamp is accepted up to ``skew`` either side of now: its key must outlive that.
        skew = self.cfg.max_clock_skew_seconds
        return self.clock() + timedelta(seconds=2 * skew if skew else NONCE_KEEP_SECONDS)

    async def _first_use(self, session: AsyncSession, signed: str) -> bool:
        return await CallbackNonceRepository(session).first_use(
            channel=self.channel, key=signed, expires_at=self._nonce_expiry()
        )

    async def _spend_or_refuse(self, session: AsyncSession, signed: str) -> None:
        """Spend the signature inside the message's transaction; a replay refuses (403) and
        rolls back whatever the transaction was about to do."""
        if not await self._first_use(session, signed):
            log.warning("%s: replayed signature refused", self.channel)
            raise Reject(403, "replayed request")

    async def spend(self, signed: str) -> bool:
        """Spend a verified request's signature in a short transaction of its own (URL
        verification, ignored events, requests refused after their signature verified); False
        when it had been spent before (a replay)."""
        async with self.db.transaction() as session:
            return await self._first_use(session, signed)

    async def spend_quietly(self, signed: str) -> None:
        """``spend`` for a request that is refused or failed anyway: its signature cannot be used
        again with another body. Errors are only logged (the request's answer stands)."""
        try:
            await self.spend(signed)
        except Exception:
            log.exception("%s: could not record a refused request's signature", self.channel)

    # -- effect --------------------------------------------------------------------------------
    async def _effect(self, inc: Incoming, passive: _Passive, signed: str) -> bool:
        """Record and handle the message once; True when it was a repeated delivery."""
        action = inc.action
        if action.kind == "engine":
            msg = InboundMessage(
                channel=self.channel,
                chat_id=inc.user,
                user_id=inc.user,
                is_group=False,
                mentions_bot=True,
                text=action.text,
                message_id=inc.dedupe_key,
                received_at=self.clock(),
            )

            async def on_new(session: AsyncSession) -> None:
                if action.welcome:
                    await OutboxRepository(session).enqueue(
                        channel=self.channel,
                        chat_id=inc.user,
                        text=wechat_texts.WELCOME.format(service=self.service_name),
                        idempotency_key=reply_key(self.channel, inc.dedupe_key, "welcome"),
                        now=self.clock(),
                    )
                self._claim_at_commit(session, inc, passive)

            async def guard(session: AsyncSession) -> None:
                await self._spend_or_refuse(session, signed)

            result: HandleResult = await self.engine.handle(msg, on_new=on_new, guard=guard)
            return result.duplicate
        async with self.db.transaction() as session:
            await self._spend_or_refuse(session, signed)
            now = self.clock()
            first = await InboundRepository(session).record_once(
                channel=self.channel,
                message_id=inc.dedupe_key,
                chat_id=inc.user,
                user_id=inc.user,
                received_at=now,
            )
            if first is None:
                return True
            if action.kind == "reply":
                await OutboxRepository(session).enqueue(
                    channel=self.channel,
                    chat_id=inc.user,
                    text=action.text,
                    idempotency_key=reply_key(self.channel, inc.dedupe_key, 0),
                    now=now,
                )
            elif action.kind == "kiosk_login":
                approved = await approve_scan(session, action.text, inc.user, now)
                lines = [wechat_texts.WELCOME.format(service=self.service_name)] if action.welcome else []
                lines.append(wechat_texts.KIOSK_LOGIN_OK if approved else wechat_texts.KIOSK_LOGIN_EXPIRED)
                for i, line in enumerate(lines):
                    await OutboxRepository(session).enqueue(
                        channel=self.channel,
                        chat_id=inc.user,
                        text=line,
                        idempotency_key=reply_key(self.channel, inc.dedupe_key, i),
                        now=now,
                    )
            elif action.kind == "unsubscribe":
                await self._drop_pending(session, inc.user)
            self._claim_at_commit(session, inc, passive)
        if self.wake_sender is not None:
            self.wake_sender()
        return False

    async def _drop_pending(self, session: AsyncSession, user: str) -> None:
        """The person unfollowed: nothing queued for them can be delivered any more."""
        result = await session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.channel == self.channel,
                OutboxRow.chat_id == user,
                OutboxRow.status == "queued",
            )
            .values(status="dead", last_error="unsubscribed: the person unfollowed the account")
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            log.info(
                "%s: %s unfollowed; %s queued message(s) dropped",
                self.channel,
                user,
                result.rowcount,
            )

    async def _claim(self, session: AsyncSession, user: str, dedupe_key: str) -> list[str]:
        """Mark the person's deliverable queued rows sent (they go in this HTTP answer to the
        message ``dedupe_key``, noted on each row); their texts in order. One conditional
        ``UPDATE … WHERE status='queued' RETURNING``: a row the sender has claimed meanwhile is
        left to the sender."""
        outbox = OutboxRepository(session)
        got = await outbox.claim_passive(channel=self.channel, chat_id=user, passive_for=dedupe_key, now=self.clock())
        if not got:
            return []
        got.sort()
        texts: list[str] = []
        size = 0
        overflow: list[int] = []
        for row_id, text in got:
            need = len(text.encode("utf-8")) + (2 if texts else 0)
            if overflow or size + need > PASSIVE_MAX_BYTES:
                overflow.append(row_id)  # too long for one passive answer: back to the sender
                continue
            texts.append(text)
            size += need
        for row_id in overflow:
            await outbox.unclaim_passive(row_id)
        return texts

    async def claim_passive(self, user: str, dedupe_key: str) -> list[str] | None:
        """A repeated delivery, in a transaction of its own: what the first answer held, or else
        (it was ``success``) rows still waiting for the person, claimed now."""
        async with self.db.transaction() as session:
            texts = await self._answered(session, user, dedupe_key)
            if not texts:
                texts = await self._claim(session, user, dedupe_key)
        return texts or None

    async def _answered(self, session: AsyncSession, user: str, dedupe_key: str) -> list[str]:
        """The texts of the rows a passive answer to this message delivered, in order."""
        outbox = OutboxRepository(session)
        return await outbox.passive_answer(channel=self.channel, chat_id=user, passive_for=dedupe_key)


@dataclass
class _Passive:
    """Who gets the rows of one message: this HTTP answer, or (after the budget) the sender."""

    state: str = "waiting"  # "waiting" → "claiming" (rows in this answer) | "gave_up" (sender)
    texts: list[str] | None = None


def join_replies(texts: list[str]) -> str:
    return "\n\n".join(texts)
