"""公众号 / 服务号: the server callback (aiohttp route, default ``/wechat/oa``) and the outbox
transport that sends 客服消息, falling back to a template message outside the 客服 window.

Callback (reference channels §2.2): ``GET`` echoes ``echostr`` when ``signature`` verifies;
``POST`` carries ``signature/timestamp/nonce`` (+ ``encrypt_type=aes&msg_signature`` in safe mode,
decrypted with wechatpy). With an EncodingAESKey configured only safe-mode messages are taken: a
plaintext one is refused (403) unless ``compat_mode`` (兼容模式) allows it — in plaintext mode the
signature covers only timestamp and nonce, not the body. A verified request's signature is spent
once (``callback_nonces``): the same one again — URL verification included — is a replay (403).
Everything after verification is ``CallbackCore`` (replay check, dedupe, engine, passive reply
within the 5-second window).

Transport (reference reliability §1.3), per error code:

* 40001/40014/42001 — token refreshed, call retried once (``wechat_api``);
* 45009/45011 (api frequency or quota) — the whole channel pauses ``pause_on_throttle_seconds``;
* 45015 (no interaction within 48 h) / 45047 (客服 quota used up) — template message when one is
  configured, otherwise the row waits ``window_closed_retry_seconds`` (and is delivered passively
  at once if the person writes meanwhile);
* 43004/40003/43101/… (unfollowed, bad openid, refused) — dead-letter, operator alert;
* timeouts, 5xx, -1 — back off and retry.

A client-side sliding window (``send_per_minute``) keeps the send rate below the configured
ceiling; the outbox only claims a row after the window admitted it.
"""

from __future__ import annotations

import logging
import time

from aiohttp import web
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from bot.adapters.wechat_api import (
    ApiUnavailable,
    HttpJson,
    OfficialAccountApi,
    WeChatApiError,
    client_msg_id,
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
from bot.config import WechatOAConfig
from bot.outbox import DeliveryDeferred, DeliveryError
from bot.ratelimit import AdmittedTransport, Limits, Pause, SlidingWindow, one_key
from storage.models import OutboxRow

log = logging.getLogger("bot.adapter.wechat_oa")

CHANNEL = "wechat_oa"
THROTTLE = frozenset({45009, 45011})
OUT_OF_WINDOW = frozenset({45015, 45047})
PERMANENT = frozenset(
    {40003, 40013, 40037, 40125, 41002, 43004, 43101, 45002, 47001, 48001, 50001, 50002}
)
TEXT_MAX_BYTES = 2000


class OfficialAccountCallback:
    """The 公众号 callback: URL verification and signed messages and events, plaintext or safe mode."""

    def __init__(self, cfg: WechatOAConfig, core: CallbackCore) -> None:
        self.cfg = cfg
        self.core = core
        self.crypto = WeChatCrypto(cfg.token, cfg.aes_key, cfg.appid) if cfg.aes_key else None
        # With the AES key set, a plaintext message is a downgrade unless 兼容模式 allows it.
        self.plaintext_ok = self.crypto is None or cfg.compat_mode

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.cfg.path, self.verify_url), web.post(self.cfg.path, self.receive)]

    def _check_signature(self, q) -> tuple[str, str]:  # type: ignore[no-untyped-def]
        ts, nonce = q.get("timestamp", ""), q.get("nonce", "")
        expected = sha1_signature(self.cfg.token, ts, nonce)
        if not signature_ok(expected, q.get("signature", "")):
            raise Reject(403, "bad signature")
        check_fresh(ts, self.cfg.max_clock_skew_seconds)
        return ts, nonce

    async def verify_url(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            ts, nonce = self._check_signature(q)
        except Reject as exc:
            return exc.response()
        if not await self.core.spend(replay_key(ts, nonce, q.get("signature", ""))):
            log.warning("公众号 URL verification refused (403): replayed request")
            return Reject(403, "replayed request").response()
        return web.Response(text=q.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        signed: str | None = None  # the replay key, once every signature of the request verified
        try:
            ts, nonce = self._check_signature(q)
            encrypted = q.get("encrypt_type", "raw") == "aes"
            if not self.plaintext_ok and not (encrypted and q.get("msg_signature")):
                raise Reject(403, "plaintext message refused: safe mode is configured")
            if not encrypted:
                signed = replay_key(ts, nonce, q.get("signature", ""))
            body = await read_body(request, self.cfg.max_body_bytes)
            outer = parse_xml(body)
            if encrypted:
                encrypt = self._check_msg_signature(outer.get("Encrypt", ""), q, ts, nonce)
                signed = replay_key(ts, nonce, *self._signatures(q))
                fields = parse_xml(self._decrypt(encrypt))
            else:
                fields = outer
            incoming = self.core.incoming(fields)
        except Reject as exc:
            return await self._refused(exc, signed)
        assert signed is not None  # every signature verified
        try:
            texts = await self.core.process(incoming, signed=signed)
        except Reject as exc:  # a replay: nothing happened
            return await self._refused(exc, None)
        except Exception:
            log.exception("公众号 message %s could not be handled", incoming.dedupe_key)
            await self.core.spend_quietly(signed)
            return web.Response(status=500, text="try again")
        if not texts:
            return web.Response(text="success")
        xml = text_reply_xml(
            to_user=incoming.user, from_user=incoming.account, content=join_replies(texts)
        )
        if encrypted:
            assert self.crypto is not None
            xml = self.crypto.encrypt_message(xml, nonce, str(int(time.time())))
        return web.Response(text=xml, content_type="application/xml", charset="utf-8")

    def _signatures(self, q) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
        """What a safe-mode request's replay key covers: ``signature`` and ``msg_signature`` —
        in 兼容模式 ``signature`` alone, as for a plaintext message, so that the same request
        stripped down to plaintext (another body) is a replay too."""
        if self.cfg.compat_mode:
            return (q.get("signature", ""),)
        return q.get("signature", ""), q.get("msg_signature", "")

    async def _refused(self, exc: Reject, signed: str | None) -> web.Response:
        """Answer a refusal; a request whose signatures verified has spent them all the same."""
        if exc.status >= 403:
            log.warning("公众号 callback refused (%s): %s", exc.status, exc.reason)
        if signed is not None:
            await self.core.spend_quietly(signed)
        return exc.response()

    def _check_msg_signature(self, encrypt: str, q, ts: str, nonce: str) -> str:  # type: ignore[no-untyped-def]
        if self.crypto is None:
            raise Reject(400, "safe mode message but no EncodingAESKey configured")
        if not encrypt:
            raise Reject(400, "no Encrypt")
        expected = sha1_signature(self.cfg.token, ts, nonce, encrypt)
        if not signature_ok(expected, q.get("msg_signature", "")):
            raise Reject(403, "bad msg_signature")
        return encrypt

    def _decrypt(self, encrypt: str) -> str:
        assert self.crypto is not None
        try:
            return PrpCrypto(self.crypto.key).decrypt(encrypt, self.cfg.appid)
        except Exception:  # bad base64/padding/layout or another appid
            raise Reject(400, "cannot decrypt") from None


class OfficialAccountTransport(AdmittedTransport):
    """Outbox transport of the 公众号: 客服消息, template fallback, limits and pauses."""

    channel = CHANNEL
    transactional = False

    def __init__(
        self, cfg: WechatOAConfig, *, service_name: str = "", api: OfficialAccountApi | None = None
    ) -> None:
        self.cfg = cfg
        self.service_name = service_name
        self.api = api or OfficialAccountApi(
            HttpJson(cfg.api_base, timeout=cfg.request_timeout_seconds),
            cfg.appid,
            cfg.secret,
            stable_token=cfg.stable_token,
        )
        self.hold_seconds = cfg.passive_reply_seconds + 1.0
        self.pause = Pause()
        self.limits = Limits([(SlidingWindow(cfg.send_per_minute, 60.0), one_key)])
        self._progress: dict[int, int] = {}  # row id → pieces already sent (long texts)
        self._by_template: set[int] = set()  # rows that met 45015/45047: template from now on

    async def _deliver(self, row: OutboxRow) -> None:
        paused = self.pause.remaining()
        if paused > 0:
            raise DeliveryDeferred("公众号 API paused after a throttle error", retry_after=paused)

        async def again() -> None:
            self._slot(row)

        push_key = row.idempotency_key.removeprefix("notify:")
        if self.cfg.template_id and (
            row.id in self._by_template or push_key.startswith(self.cfg.template_for_keys)
        ):
            await self._send_template(row, again)
            return
        pieces = split_utf8(row.text, TEXT_MAX_BYTES)
        for i in range(self._progress.get(row.id, 0), len(pieces)):
            self._slot(row)
            try:
                await self.api.send_text(row.chat_id, pieces[i], before_retry=again)
            except WeChatApiError as exc:
                if exc.errcode in OUT_OF_WINDOW and self.cfg.template_id:
                    self._by_template.add(row.id)
                    await self._send_template(row, again)
                    return
                raise self._classify(exc) from None
            except ApiUnavailable as exc:
                raise DeliveryError(str(exc)) from None
            self._progress[row.id] = i + 1
        self._progress.pop(row.id, None)

    async def _send_template(self, row: OutboxRow, again) -> None:  # type: ignore[no-untyped-def]
        done = self._progress.get(row.id, 0)  # parts already sent as 客服消息 are not repeated
        text = "\n".join(split_utf8(row.text, TEXT_MAX_BYTES)[done:]) if done else row.text
        title = text.strip().splitlines()[0] if text.strip() else ""
        values = {"text": text, "title": title, "service": self.service_name}
        data = {k: _fill(v, values)[:200] for k, v in self.cfg.template_fields.items()}
        self._slot(row)
        try:
            await self.api.send_template(
                row.chat_id,
                self.cfg.template_id,
                data,
                url=self.cfg.template_url,
                client_msg_id=client_msg_id(row.idempotency_key),
                before_retry=again,
            )
        except WeChatApiError as exc:
            raise self._classify(exc, via="template") from None
        except ApiUnavailable as exc:
            raise DeliveryError(str(exc)) from None
        self._by_template.discard(row.id)
        self._progress.pop(row.id, None)

    def _classify(self, exc: WeChatApiError, via: str = "客服消息") -> DeliveryError:
        code = exc.errcode
        if code in THROTTLE:
            self.pause.pause(self.cfg.pause_on_throttle_seconds)
            log.warning(
                "公众号 %s throttled (%s): channel paused %.0fs",
                via,
                code,
                self.cfg.pause_on_throttle_seconds,
            )
            return DeliveryError(str(exc), retry_after=self.cfg.pause_on_throttle_seconds)
        if code in OUT_OF_WINDOW:
            return DeliveryError(
                f"{exc} (outside the 客服 window: sent when the person writes again)",
                retry_after=self.cfg.window_closed_retry_seconds,
            )
        if code in PERMANENT:
            return DeliveryError(str(exc), retry=False)
        return DeliveryError(str(exc))

    async def close(self) -> None:
        await self.api.close()


def _fill(template: str, values: dict[str, str]) -> str:
    out = template
    for k, v in values.items():
        out = out.replace("{" + k + "}", v)
    return out
