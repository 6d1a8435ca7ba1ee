"""企业微信: the self-built-app callback (same crypto family as the 公众号's safe mode, always
encrypted, receive id = corpid; a verified request's signature is spent once, so a replay — URL
verification included — is refused, 403), the app-message transport, and the group-robot
webhook transport that posts digests into 客户群 at no more than 20 messages a minute per robot.

Channels: ``wecom`` (chat id = the member's userid) and ``wecom_robot`` (chat id = the robot's name
from ``wecom_robot.robots``; the webhook key never enters the database).
"""

from __future__ import annotations

import logging
import time

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from bot.adapters.wechat_api import (
    ApiUnavailable,
    HttpJson,
    RobotWebhook,
    WeChatApiError,
    WeComApi,
    split_utf8,
)
from bot.adapters.wechat_callback import (
    CallbackCore,
    Reject,
    check_fresh,
    join_replies,
    parse_xml,
    read_body,
    replay_key,
    sha1_signature,
    signature_ok,
    text_reply_xml,
)
from bot.config import WecomConfig, WecomRobotConfig
from bot.outbox import DeliveryDeferred, DeliveryError
from bot.ratelimit import Admission, AdmittedTransport, Limits, Pause, SlidingWindow, one_key, per_key
from storage.models import OutboxRow

log = logging.getLogger("bot.adapter.wecom")

CHANNEL = "wecom"
ROBOT_CHANNEL = "wecom_robot"
THROTTLE = frozenset({45009, 45011, 45033, 130101})
PERMANENT = frozenset({40003, 40013, 40056, 41004, 48002, 60011, 60020, 60111, 81013, 93000})
TEXT_MAX_BYTES = 2000  # app text ≤ 2048 bytes; robot text ≤ 2048 bytes


class WeComCallback:
    """The 企业微信 app callback: URL verification and encrypted messages."""

    def __init__(self, cfg: WecomConfig, core: CallbackCore) -> None:
        self.cfg = cfg
        self.core = core
        self.crypto = WeChatCrypto(cfg.token, cfg.aes_key, cfg.corp_id)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.cfg.path, self.verify_url), web.post(self.cfg.path, self.receive)]

    def _verify(self, q, encrypted: str) -> str:  # type: ignore[no-untyped-def]
        """Check ``msg_signature`` and freshness; the request's replay key."""
        ts, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if not encrypted:
            raise Reject(400, "no Encrypt")
        expected = sha1_signature(self.cfg.token, ts, nonce, encrypted)
        if not signature_ok(expected, q.get("msg_signature", "")):
            raise Reject(403, "bad msg_signature")
        check_fresh(ts, self.cfg.max_clock_skew_seconds)
        return replay_key(ts, nonce, q.get("msg_signature", ""))

    def _decrypt(self, encrypted: str) -> str:
        try:
            return PrpCrypto(self.crypto.key).decrypt(encrypted, self.cfg.corp_id)
        except Exception:  # bad base64/padding/layout or another corp id
            raise Reject(400, "cannot decrypt") from None

    async def verify_url(self, request: web.Request) -> web.Response:
        echostr = request.query.get("echostr", "")
        try:
            signed = self._verify(request.query, echostr)
            echo = self._decrypt(echostr)
        except Reject as exc:
            return exc.response()
        if not await self.core.spend(signed):
            log.warning("企业微信 URL verification refused (403): replayed request")
            return Reject(403, "replayed request").response()
        return web.Response(text=echo)

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        signed: str | None = None  # the replay key, once msg_signature verified
        try:
            body = await read_body(request, self.cfg.max_body_bytes)
            outer = parse_xml(body)
            encrypted = outer.get("Encrypt", "")
            signed = self._verify(q, encrypted)
            fields = parse_xml(self._decrypt(encrypted))
            incoming = self.core.incoming(fields)
        except Reject as exc:
            return await self._refused(exc, signed)
        assert signed is not None  # every signature verified
        try:
            texts = await self.core.process(incoming, signed=signed)
        except Reject as exc:  # a replay: nothing happened
            return await self._refused(exc, None)
        except Exception:
            log.exception("企业微信 message %s could not be handled", incoming.dedupe_key)
            await self.core.spend_quietly(signed)
            return web.Response(status=500, text="try again")
        if not texts:
            return web.Response(text="")  # WeCom: HTTP 200 with an empty body means "received"
        xml = text_reply_xml(
            to_user=incoming.user, from_user=incoming.account, content=join_replies(texts)
        )
        enc = self.crypto.encrypt_message(xml, q.get("nonce", ""), str(int(time.time())))
        return web.Response(text=enc, content_type="application/xml", charset="utf-8")

    async def _refused(self, exc: Reject, signed: str | None) -> web.Response:
        """Answer a refusal; a request whose signature verified has spent it all the same."""
        if exc.status >= 403:
            log.warning("企业微信 callback refused (%s): %s", exc.status, exc.reason)
        if signed is not None:
            await self.core.spend_quietly(signed)
        return exc.response()


def _classify(exc: WeChatApiError, pause: Pause, pause_seconds: float, what: str) -> DeliveryError:
    if exc.errcode in THROTTLE:
        pause.pause(pause_seconds)
        log.warning("%s throttled (%s): paused %.0fs", what, exc.errcode, pause_seconds)
        return DeliveryError(str(exc), retry_after=pause_seconds)
    if exc.errcode in PERMANENT:
        return DeliveryError(str(exc), retry=False)
    return DeliveryError(str(exc))


class WeComTransport(AdmittedTransport):
    """App messages to members: ≤ 30/min and ≤ 1000/h per member (WeCom drops the excess)."""

    channel = CHANNEL
    transactional = False

    def __init__(self, cfg: WecomConfig, api: WeComApi | None = None) -> None:
        self.cfg = cfg
        self.api = api or WeComApi(
            HttpJson(cfg.api_base, timeout=cfg.request_timeout_seconds),
            cfg.corp_id,
            cfg.secret,
            cfg.agent_id,
        )
        self.hold_seconds = cfg.passive_reply_seconds + 1.0
        self.limits = Limits(
            [
                (SlidingWindow(cfg.per_user_per_minute, 60.0), per_key),
                (SlidingWindow(cfg.per_user_per_hour, 3600.0), per_key),
                (SlidingWindow(cfg.send_per_minute, 60.0), one_key),
            ]
        )
        self.pause = Pause()
        self._progress: dict[int, int] = {}

    async def _deliver(self, row: OutboxRow) -> None:
        paused = self.pause.remaining()
        if paused > 0:
            raise DeliveryDeferred(
                "企业微信 API paused after a throttle error", retry_after=paused
            )

        async def again() -> None:
            self._slot(row)

        pieces = split_utf8(row.text, TEXT_MAX_BYTES)
        for i in range(self._progress.get(row.id, 0), len(pieces)):
            self._slot(row)
            try:
                await self.api.send_text(row.chat_id, pieces[i], before_retry=again)
            except WeChatApiError as exc:
                raise _classify(
                    exc, self.pause, self.cfg.pause_on_throttle_seconds, "企业微信 app"
                ) from None
            except ApiUnavailable as exc:
                raise DeliveryError(str(exc)) from None
            self._progress[row.id] = i + 1
        self._progress.pop(row.id, None)

    async def close(self) -> None:
        await self.api.close()


class WeComRobotTransport:
    """Group robots: ≤ ``per_minute`` (max 20) messages in any ``window_seconds`` per robot; a
    robot WeCom throttles (45009 / 130101) is paused on its own, the others carry on."""

    channel = ROBOT_CHANNEL
    transactional = False

    def __init__(self, cfg: WecomRobotConfig, webhook: RobotWebhook | None = None) -> None:
        self.cfg = cfg
        self.webhook = webhook or RobotWebhook(
            HttpJson(cfg.api_base, timeout=cfg.request_timeout_seconds)
        )
        self.window = SlidingWindow(cfg.per_minute, cfg.window_seconds)
        self._admission = Admission(self.window)
        self.pauses: dict[str, Pause] = {}
        self._progress: dict[int, int] = {}

    def _pause(self, robot: str) -> Pause:
        return self.pauses.setdefault(robot, Pause())

    def admit(self, row: OutboxRow) -> float:
        return self._pause(row.chat_id).remaining() or self._admission.reserve(row.id, row.chat_id)

    async def deliver(self, row: OutboxRow, session: AsyncSession | None) -> None:
        try:
            await self._deliver(row)
        finally:
            self._admission.release(row.id)

    async def _deliver(self, row: OutboxRow) -> None:
        key = self.cfg.robots.get(row.chat_id)
        if not key:
            raise DeliveryError(
                f"no webhook key for robot {row.chat_id!r} (WECOM_ROBOT_KEYS)", retry=False
            )
        pause = self._pause(row.chat_id)
        if pause.remaining() > 0:
            raise DeliveryDeferred(f"robot {row.chat_id} paused", retry_after=pause.remaining())
        pieces = split_utf8(row.text, TEXT_MAX_BYTES)
        for i in range(self._progress.get(row.id, 0), len(pieces)):
            if (wait := self._admission.take(row.id, row.chat_id)) > 0:
                raise DeliveryError("robot rate limit reached, retrying later", retry_after=wait)
            try:
                await self.webhook.send_text(key, pieces[i])
            except WeChatApiError as exc:
                raise _classify(
                    exc, pause, self.cfg.pause_on_throttle_seconds, f"robot {row.chat_id}"
                ) from None
            except ApiUnavailable as exc:
                raise DeliveryError(str(exc).replace(key, "***")) from None
            self._progress[row.id] = i + 1
        self._progress.pop(row.id, None)

    async def close(self) -> None:
        await self.webhook.close()
