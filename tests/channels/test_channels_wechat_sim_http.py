"""The simulator driving real HTTP callbacks end to end on loopback.

The callback under test here is a small *reference* aiohttp app built on
wechatpy + defusedxml (a stand-in until the project's own 公众号/企业微信
adapters are wired in; swap ``reference_app`` for the real one).  It shows the
simulator's HTTP side: URL verification, encrypted round trips, 403 on a bad
signature, fast rejection of XML bombs / XXE, and WeChat's 5-second retries.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import defusedxml
import defusedxml.ElementTree as SafeET
import pytest
import wechatpy
import wechatpy.enterprise
from aiohttp import web
from wechatpy.crypto import WeChatCrypto as WxMpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WxWorkCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from tests.wechat_sim import (
    OfficialAccountSim,
    WeComSim,
    deliver,
    deliver_with_retries,
    payloads,
    vectors,
)

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx1234567890abcdef"
CORP = "ww0123456789abcdef"
TOKEN = "shaxianToken2026"
MAX_BODY = 64 * 1024
HANDLED = web.AppKey("handled", list)


def _safe_fields(body: bytes) -> dict[str, str]:
    root = SafeET.fromstring(body, forbid_dtd=True)
    return {c.tag: c.text or "" for c in root}


def reference_app(*, wecom_token=TOKEN, wecom_key=KEY, wecom_corp=CORP) -> web.Application:
    mp_crypto = WxMpCrypto(TOKEN, KEY, APPID)
    wc_crypto = WxWorkCrypto(wecom_token, wecom_key, wecom_corp)
    app = web.Application(client_max_size=MAX_BODY)
    app[HANDLED] = []

    async def handle(text: str) -> str:
        app[HANDLED].append(text)
        if text == "slow":
            await asyncio.sleep(0.5)
        return f"收到：{text}"

    async def mp(request: web.Request) -> web.Response:
        q = request.query
        try:
            check_signature(
                TOKEN, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", "")
            )
        except InvalidSignatureException:
            return web.Response(status=403, text="bad signature")
        if request.method == "GET":
            return web.Response(text=q.get("echostr", ""))
        body = await request.read()
        try:
            if q.get("encrypt_type") == "aes":
                outer = _safe_fields(body)
                plain = mp_crypto.decrypt_message(
                    {"Encrypt": outer.get("Encrypt", "")},
                    q.get("msg_signature", ""),
                    q["timestamp"],
                    q["nonce"],
                )
                body = plain.encode() if isinstance(plain, str) else plain
            fields = _safe_fields(body)
        except InvalidSignatureException:
            return web.Response(status=403, text="bad msg_signature")
        except (defusedxml.DefusedXmlException, SafeET.ParseError):
            return web.Response(status=400, text="bad xml")
        msg = wechatpy.parse_message(body.decode())
        content = fields.get("Content") or fields.get("Recognition") or ""
        reply = wechatpy.create_reply(await handle(content), msg).render()
        if q.get("encrypt_type") == "aes":
            reply = mp_crypto.encrypt_message(reply, q["nonce"], q["timestamp"])
        return web.Response(text=reply, content_type="application/xml")

    async def wecom(request: web.Request) -> web.Response:
        q = request.query
        try:
            if request.method == "GET":
                echo = wc_crypto.check_signature(
                    q.get("msg_signature", ""),
                    q.get("timestamp", ""),
                    q.get("nonce", ""),
                    q.get("echostr", ""),
                )
                return web.Response(text=echo)
            outer = _safe_fields(await request.read())
            plain = wc_crypto.decrypt_message(
                {"Encrypt": outer.get("Encrypt", "")},
                q.get("msg_signature", ""),
                q.get("timestamp", ""),
                q.get("nonce", ""),
            )
            fields = _safe_fields(plain.encode())
        except InvalidSignatureException:
            return web.Response(status=403, text="bad msg_signature")
        except (defusedxml.DefusedXmlException, SafeET.ParseError):
            return web.Response(status=400, text="bad xml")
        msg = wechatpy.enterprise.parse_message(plain)
        reply = wechatpy.enterprise.create_reply(await handle(fields.get("Content", "")), msg)
        return web.Response(
            text=wc_crypto.encrypt_message(reply.render(), q["nonce"], q["timestamp"]),
            content_type="application/xml",
        )

    app.router.add_route("*", "/wx/mp", mp)
    app.router.add_route("*", "/wx/work", wecom)
    return app


async def _serve(app: web.Application):
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.mark.asyncio
async def test_simulator_drives_oa_and_wecom_callbacks():
    app = reference_app()
    runner, base = await _serve(app)
    try:
        async with aiohttp.ClientSession() as s:
            # 公众号 plaintext mode
            oa = OfficialAccountSim(token=TOKEN, appid=APPID)
            req, echo = oa.verification()
            r = await deliver(s, base + "/wx/mp", req)
            assert (r.status, r.text) == (200, echo)
            r = await deliver(s, base + "/wx/mp", oa.with_bad_signature(req))
            assert r.status == 403
            r = await deliver(s, base + "/wx/mp", oa.text("o_worker", "接 A7K3"))
            reply = oa.read_reply(r.body)
            assert reply["Content"] == "收到：接 A7K3"
            assert reply["ToUserName"] == "o_worker"
            r = await deliver(s, base + "/wx/mp", oa.voice("o_worker", "我想找活"))
            assert oa.read_reply(r.body)["Content"] == "收到：我想找活"

            # 公众号 safe mode
            safe = OfficialAccountSim(
                token=TOKEN, appid=APPID, encoding_aes_key=KEY, safe_mode=True
            )
            r = await deliver(s, base + "/wx/mp", safe.text("o_worker", "招工 日结"))
            assert safe.read_reply(r.body)["Content"] == "收到：招工 日结"
            r = await deliver(s, base + "/wx/mp", safe.with_bad_signature(safe.text("o", "x")))
            assert r.status == 403

            # 企业微信
            wc = WeComSim(token=TOKEN, corp_id=CORP, encoding_aes_key=KEY)
            req, echo = wc.verification()
            r = await deliver(s, base + "/wx/work", req)
            assert (r.status, r.text) == (200, echo)
            r = await deliver(s, base + "/wx/work", wc.with_bad_signature(req))
            assert r.status == 403
            r = await deliver(s, base + "/wx/work", wc.text("zhangsan", "接 B2C4"))
            assert wc.read_reply(r.body)["Content"] == "收到：接 B2C4"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_tencent_sample_vector_over_http():
    app = reference_app(
        wecom_token=vectors.TENCENT_TOKEN,
        wecom_key=vectors.TENCENT_ENCODING_AES_KEY,
        wecom_corp=vectors.TENCENT_CORP_ID,
    )
    runner, base = await _serve(app)
    try:
        async with aiohttp.ClientSession() as s:
            url = base + "/wx/work"
            async with s.get(url, params=vectors.TENCENT_VERIFY) as r:
                assert (r.status, await r.text()) == (200, vectors.TENCENT_VERIFY_ECHO)
            bad = dict(vectors.TENCENT_VERIFY, nonce=str(int(vectors.TENCENT_VERIFY["nonce"]) + 1))
            async with s.get(url, params=bad) as r:
                assert r.status == 403
            async with s.post(
                url, params=vectors.TENCENT_POST_PARAMS, data=vectors.TENCENT_POST_BODY
            ) as r:
                assert r.status == 200
            assert app[HANDLED] == ["hello"]
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_hostile_xml_rejected_quickly_over_http():
    app = reference_app()
    runner, base = await _serve(app)
    try:
        async with aiohttp.ClientSession() as s:
            oa = OfficialAccountSim(token=TOKEN, appid=APPID)
            safe = OfficialAccountSim(
                token=TOKEN, appid=APPID, encoding_aes_key=KEY, safe_mode=True
            )
            wc = WeComSim(token=TOKEN, corp_id=CORP, encoding_aes_key=KEY)
            for name, build in sorted(payloads.ALL_ENTITY_ATTACKS.items()):
                body = build()
                for path, req in (
                    ("/wx/mp", oa.message(body.decode(), "attacker")),
                    ("/wx/mp", safe.message(body.decode(), "attacker")),
                    ("/wx/work", wc.message(body.decode())),
                ):
                    t0 = time.perf_counter()
                    r = await deliver(s, base + path, req)
                    assert r.status == 400, (name, path, r.status, r.text)
                    assert time.perf_counter() - t0 < 1.0, name
            r = await deliver(
                s, base + "/wx/mp", oa.text("o", "x").with_body(payloads.oversized_text())
            )
            assert r.status == 413
            assert app[HANDLED] == []
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_wechat_retry_rule_is_simulated():
    app = reference_app()
    runner, base = await _serve(app)
    try:
        async with aiohttp.ClientSession() as s:
            oa = OfficialAccountSim(token=TOKEN, appid=APPID)
            req = oa.text("o_worker", "slow", msg_id=123456789)
            outcomes = await deliver_with_retries(s, base + "/wx/mp", req, timeout=0.1)
            assert outcomes == [None, None, None]  # 3 tries in total, then WeChat gives up
            # same MsgId each time: a correct adapter would run the handler once (dedup)
            await asyncio.sleep(0.6)
            assert app[HANDLED] == ["slow", "slow", "slow"]  # this naive stand-in does not
            ok = await deliver_with_retries(s, base + "/wx/mp", oa.text("o_worker", "快"))
            assert len(ok) == 1 and ok[0] is not None and ok[0].status == 200
    finally:
        await runner.cleanup()
