"""Simulated WeChat servers: they build the requests Tencent would send to our
callback URLs and check the replies the way Tencent would.

Nothing here imports wechatpy; see ``crypto.py``.

    oa = OfficialAccountSim(token="tok", appid="wx...", encoding_aes_key=KEY, safe_mode=True)
    req = oa.text("openid_worker_1", "接 A1B2")
    resp = await deliver(session, base_url + "/wx/mp", req)
    reply = oa.read_reply(resp.body)          # dict of the (decrypted) reply XML, or None

    wc = WeComSim(token="tok", corp_id="ww...", encoding_aes_key=KEY, agent_id=1000002)
    req, expected = wc.verification()          # GET with an encrypted echostr
"""

from __future__ import annotations

import dataclasses
import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from . import crypto, xmlmsg


class SimReplyError(AssertionError):
    """The callback's reply would be rejected by WeChat (bad signature, bad XML, ...)."""


@dataclass(frozen=True)
class SimRequest:
    """One HTTP request from the simulated WeChat server to the callback URL."""

    method: str
    params: dict[str, str]
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    inner_xml: str | None = None  # the plaintext message (before encryption), if any
    resign: Callable[[], SimRequest] | None = field(default=None, compare=False, repr=False)
    """The same message signed afresh (new timestamp, nonce and signatures), as WeChat sends a
    retry; tampering applied with ``with_params`` / ``with_body`` is not carried over."""

    def url(self, base_url: str) -> str:
        sep = "&" if "?" in base_url else "?"
        return base_url + sep + urlencode(self.params)

    def with_params(self, **changes: str) -> SimRequest:
        return dataclasses.replace(self, params={**self.params, **changes})

    def with_body(self, body: bytes) -> SimRequest:
        return dataclasses.replace(self, body=body)

    def with_headers(self, headers: dict[str, str]) -> SimRequest:
        return dataclasses.replace(self, headers=dict(headers))

    def retry(self) -> SimRequest:
        """WeChat's next try of this message: same XML, fresh timestamp/nonce/signature."""
        if self.resign is None:
            raise ValueError("this request cannot be signed again")
        return self.resign()


def _nonce() -> str:
    return str(random.randint(10**8, 10**10))


def _ts(timestamp: int | None) -> str:
    return str(int(time.time()) if timestamp is None else int(timestamp))


def _flip_hex(sig: str) -> str:
    """Same length, different signature."""
    last = sig[-1]
    return sig[:-1] + ("0" if last != "0" else "1")


XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


class OfficialAccountSim:
    """公众号 server: plaintext mode or 安全模式 (AES)."""

    def __init__(
        self,
        *,
        token: str,
        appid: str,
        encoding_aes_key: str | None = None,
        safe_mode: bool = False,
        account_id: str = "gh_shaxian0001",
    ) -> None:
        if safe_mode and not encoding_aes_key:
            raise ValueError("safe mode needs an EncodingAESKey")
        self.token = token
        self.appid = appid
        self.encoding_aes_key = encoding_aes_key
        self.safe_mode = safe_mode
        self.account_id = account_id

    # -- URL verification (GET) ------------------------------------------------

    def verification(
        self, echostr: str | None = None, *, timestamp: int | None = None, nonce: str | None = None
    ) -> tuple[SimRequest, str]:
        """GET ?signature&timestamp&nonce&echostr; a correct server echoes echostr verbatim."""
        echo = echostr if echostr is not None else str(random.randint(10**17, 10**19))
        ts, nn = _ts(timestamp), nonce or _nonce()
        params = {
            "signature": crypto.plain_signature(self.token, ts, nn),
            "timestamp": ts,
            "nonce": nn,
            "echostr": echo,
        }
        return SimRequest("GET", params), echo

    # -- messages (POST) -------------------------------------------------------

    def message(
        self,
        inner_xml: str,
        openid: str,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        random16: bytes | None = None,
    ) -> SimRequest:
        ts, nn = _ts(timestamp), nonce or _nonce()
        params = {
            "signature": crypto.plain_signature(self.token, ts, nn),
            "timestamp": ts,
            "nonce": nn,
            "openid": openid,
        }

        def resign() -> SimRequest:
            return self.message(inner_xml, openid)

        if not self.safe_mode:
            return SimRequest(
                "POST", params, inner_xml.encode(), dict(XML_HEADERS), inner_xml, resign
            )
        assert self.encoding_aes_key
        enc = crypto.encrypt(self.encoding_aes_key, self.appid, inner_xml, random16=random16)
        params["encrypt_type"] = "aes"
        params["msg_signature"] = crypto.msg_signature(self.token, ts, nn, enc)
        body = xmlmsg.oa_encrypted_envelope(self.account_id, enc).encode()
        return SimRequest("POST", params, body, dict(XML_HEADERS), inner_xml, resign)

    def text(self, openid: str, content: str, **kw) -> SimRequest:
        msg_kw = {k: kw.pop(k) for k in ("msg_id", "create_time") if k in kw}
        xml = xmlmsg.text_message(self.account_id, openid, content, **msg_kw)
        return self.message(xml, openid, **kw)

    def voice(self, openid: str, recognition: str | None, **kw) -> SimRequest:
        msg_kw = {k: kw.pop(k) for k in ("msg_id", "create_time", "media_id") if k in kw}
        xml = xmlmsg.voice_message(self.account_id, openid, recognition=recognition, **msg_kw)
        return self.message(xml, openid, **kw)

    def event(self, openid: str, event: str, event_key: str | None = None, **kw) -> SimRequest:
        msg_kw = {k: kw.pop(k) for k in ("create_time",) if k in kw}
        xml = xmlmsg.event_message(self.account_id, openid, event, event_key=event_key, **msg_kw)
        return self.message(xml, openid, **kw)

    # -- tampering -------------------------------------------------------------

    def with_bad_signature(self, req: SimRequest) -> SimRequest:
        """Same request, signature that does not verify (msg_signature in safe mode)."""
        key = "msg_signature" if "msg_signature" in req.params else "signature"
        return req.with_params(**{key: _flip_hex(req.params[key])})

    # -- replies ---------------------------------------------------------------

    def read_reply(self, body: bytes | str) -> dict[str, str] | None:
        """Check a passive reply like WeChat does; None for ""/"success" (no reply)."""
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        if text.strip() in ("", "success"):
            return None
        outer = _parse(text)
        if not self.safe_mode:
            return outer
        assert self.encoding_aes_key
        inner = _open_envelope(outer, self.token, self.encoding_aes_key, self.appid)
        return _parse(inner)


class WeComSim:
    """企业微信 self-built-app callback server (always encrypted)."""

    def __init__(
        self, *, token: str, corp_id: str, encoding_aes_key: str, agent_id: int | None = 1000002
    ) -> None:
        self.token = token
        self.corp_id = corp_id
        self.encoding_aes_key = encoding_aes_key
        self.agent_id = agent_id

    def verification(
        self,
        echo_plain: str | None = None,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        random16: bytes | None = None,
    ) -> tuple[SimRequest, str]:
        """GET ?msg_signature&timestamp&nonce&echostr (echostr encrypted); echo the plaintext."""
        plain = echo_plain if echo_plain is not None else str(random.randint(10**17, 10**19))
        ts, nn = _ts(timestamp), nonce or _nonce()
        enc = crypto.encrypt(self.encoding_aes_key, self.corp_id, plain, random16=random16)
        params = {
            "msg_signature": crypto.msg_signature(self.token, ts, nn, enc),
            "timestamp": ts,
            "nonce": nn,
            "echostr": enc,
        }
        return SimRequest("GET", params), plain

    def message(
        self,
        inner_xml: str,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        random16: bytes | None = None,
    ) -> SimRequest:
        ts, nn = _ts(timestamp), nonce or _nonce()
        enc = crypto.encrypt(self.encoding_aes_key, self.corp_id, inner_xml, random16=random16)
        params = {
            "msg_signature": crypto.msg_signature(self.token, ts, nn, enc),
            "timestamp": ts,
            "nonce": nn,
        }
        body = xmlmsg.wecom_encrypted_envelope(self.corp_id, enc, self.agent_id).encode()
        return SimRequest(
            "POST", params, body, dict(XML_HEADERS), inner_xml, lambda: self.message(inner_xml)
        )

    def text(self, user_id: str, content: str, **kw) -> SimRequest:
        msg_kw = {k: kw.pop(k) for k in ("msg_id", "create_time") if k in kw}
        xml = xmlmsg.text_message(self.corp_id, user_id, content, agent_id=self.agent_id, **msg_kw)
        return self.message(xml, **kw)

    def voice(self, user_id: str, recognition: str | None = None, **kw) -> SimRequest:
        msg_kw = {k: kw.pop(k) for k in ("msg_id", "create_time", "media_id") if k in kw}
        xml = xmlmsg.voice_message(
            self.corp_id, user_id, recognition=recognition, agent_id=self.agent_id, **msg_kw
        )
        return self.message(xml, **kw)

    def event(self, user_id: str, event: str, event_key: str | None = None, **kw) -> SimRequest:
        msg_kw = {k: kw.pop(k) for k in ("create_time",) if k in kw}
        xml = xmlmsg.event_message(
            self.corp_id, user_id, event, event_key=event_key, agent_id=self.agent_id, **msg_kw
        )
        return self.message(xml, **kw)

    def with_bad_signature(self, req: SimRequest) -> SimRequest:
        return req.with_params(msg_signature=_flip_hex(req.params["msg_signature"]))

    def read_reply(self, body: bytes | str) -> dict[str, str] | None:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        if text.strip() in ("", "success"):
            return None
        inner = _open_envelope(_parse(text), self.token, self.encoding_aes_key, self.corp_id)
        return _parse(inner)


def _parse(text: str) -> dict[str, str]:
    try:
        return xmlmsg.parse_xml(text)
    except Exception as e:
        raise SimReplyError(f"reply is not acceptable XML: {e}; body={text[:200]!r}") from e


def _open_envelope(outer: dict[str, str], token: str, key: str, receive_id: str) -> str:
    missing = {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"} - outer.keys()
    if missing:
        raise SimReplyError(f"encrypted reply lacks {sorted(missing)}")
    expected = crypto.msg_signature(token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    if not crypto.signatures_equal(expected, outer["MsgSignature"]):
        raise SimReplyError("reply MsgSignature does not verify")
    try:
        return crypto.decrypt(key, outer["Encrypt"], receive_id)
    except crypto.SimCryptoError as e:
        raise SimReplyError(f"reply does not decrypt: {e}") from e


# ----------------------------------------------------------------------------- HTTP driving


@dataclass(frozen=True)
class SimResponse:
    status: int
    body: bytes
    headers: dict[str, str]
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def deliver(session, base_url: str, req: SimRequest, *, timeout: float = 5.0) -> SimResponse:
    """Send ``req`` with an ``aiohttp.ClientSession``; WeChat waits at most 5 s."""
    import aiohttp

    body = req.body
    data = io.BytesIO(body) if body is not None and len(body) > 512 * 1024 else body
    t0 = time.monotonic()
    async with session.request(
        req.method,
        req.url(base_url),
        data=data,
        headers=req.headers,
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as r:
        body = await r.read()
        return SimResponse(r.status, body, dict(r.headers), time.monotonic() - t0)


async def deliver_with_retries(
    session,
    base_url: str,
    req: SimRequest,
    *,
    attempts: int = 3,
    timeout: float = 5.0,
    lost_answers: int = 0,
) -> list[SimResponse | None]:
    """WeChat's retry rule: no answer within ``timeout`` -> drop and resend, ``attempts`` in total.
    Every retry is signed afresh (new timestamp, nonce and signature; same XML, same MsgId), as
    WeChat does. ``lost_answers``: the answers to the first tries are lost on the way back (the
    callback did answer; WeChat never got it), so WeChat tries again.

    Returns one entry per attempt made (None = timed out or lost); stops at the first answer.
    """
    out: list[SimResponse | None] = []
    for i in range(attempts):
        if i:
            req = req.retry()
        try:
            resp = await deliver(session, base_url, req, timeout=timeout)
        except TimeoutError:
            out.append(None)
            continue
        if i < lost_answers:
            out.append(None)
            continue
        out.append(resp)
        break
    return out
