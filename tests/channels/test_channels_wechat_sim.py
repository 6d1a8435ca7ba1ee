"""The independent WeChat-server simulator (tests/wechat_sim) against
Tencent's published vectors and against wechatpy (a second, independent
implementation), plus the hostile-XML payload builders."""

from __future__ import annotations

import base64
import time

import defusedxml
import defusedxml.ElementTree as SafeET
import pytest
import wechatpy
import wechatpy.enterprise
from wechatpy.crypto import WeChatCrypto as WxMpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WxWorkCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature as wx_check_signature

from tests.wechat_sim import (
    OfficialAccountSim,
    SimCryptoError,
    SimReplyError,
    WeComSim,
    crypto,
    payloads,
    vectors,
    xmlmsg,
)

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 chars, like a real EncodingAESKey
APPID = "wx1234567890abcdef"
CORP = "ww0123456789abcdef"
TOKEN = "shaxianToken2026"


# --------------------------------------------------------------------- Tencent's vectors


def test_tencent_sample_url_verification_decrypts():
    v = vectors.TENCENT_VERIFY
    sig = crypto.msg_signature(vectors.TENCENT_TOKEN, v["timestamp"], v["nonce"], v["echostr"])
    assert sig == v["msg_signature"]
    echo = crypto.decrypt(vectors.TENCENT_ENCODING_AES_KEY, v["echostr"], vectors.TENCENT_CORP_ID)
    assert echo == vectors.TENCENT_VERIFY_ECHO == "1616140317555161061"
    # nonce + 1 -> the signature no longer matches (a server must answer 403)
    bad = crypto.msg_signature(
        vectors.TENCENT_TOKEN, v["timestamp"], str(int(v["nonce"]) + 1), v["echostr"]
    )
    assert not crypto.signatures_equal(bad, v["msg_signature"])


def test_tencent_sample_post_decrypts():
    p = vectors.TENCENT_POST_PARAMS
    outer = xmlmsg.parse_xml(vectors.TENCENT_POST_BODY)
    assert outer["Encrypt"] == vectors.TENCENT_POST_ENCRYPT
    sig = crypto.msg_signature(vectors.TENCENT_TOKEN, p["timestamp"], p["nonce"], outer["Encrypt"])
    assert sig == p["msg_signature"]
    inner = crypto.decrypt(
        vectors.TENCENT_ENCODING_AES_KEY, outer["Encrypt"], vectors.TENCENT_CORP_ID
    )
    assert inner == vectors.TENCENT_POST_PLAINTEXT
    fields = xmlmsg.parse_xml(inner)
    assert fields["Content"] == "hello"
    assert fields["FromUserName"] == "mycreate"
    assert fields["MsgId"] == "4561255354251345929"
    with pytest.raises(SimCryptoError, match="receive-id"):
        crypto.decrypt(vectors.TENCENT_ENCODING_AES_KEY, outer["Encrypt"], "wx0000000000000000")


def test_tencent_sample_agrees_with_wechatpy():
    """The same vector through wechatpy: both implementations accept it."""
    wx = WxWorkCrypto(
        vectors.TENCENT_TOKEN, vectors.TENCENT_ENCODING_AES_KEY, vectors.TENCENT_CORP_ID
    )
    v = vectors.TENCENT_VERIFY
    echo = wx.check_signature(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"])
    assert echo == vectors.TENCENT_VERIFY_ECHO
    p = vectors.TENCENT_POST_PARAMS
    plain = wx.decrypt_message(
        vectors.TENCENT_POST_BODY, p["msg_signature"], p["timestamp"], p["nonce"]
    )
    assert plain == vectors.TENCENT_POST_PLAINTEXT


# --------------------------------------------------------------------- wechatpy's vectors


def test_wechatpy_deterministic_encrypt_vector_reproduced():
    enc = crypto.encrypt(
        vectors.WECHATPY_ENCODING_AES_KEY,
        vectors.WECHATPY_CORP_ID,
        vectors.WECHATPY_ENCRYPT_PLAINTEXT,
        random16=vectors.WECHATPY_ENCRYPT_RANDOM16,
    )
    assert enc == vectors.WECHATPY_ENCRYPT_EXPECTED
    sig = crypto.msg_signature(
        vectors.WECHATPY_TOKEN,
        vectors.WECHATPY_ENCRYPT_TIMESTAMP,
        vectors.WECHATPY_ENCRYPT_NONCE,
        enc,
    )
    assert sig == vectors.WECHATPY_ENCRYPT_EXPECTED_SIGNATURE


def test_wechatpy_decrypt_and_verify_vectors():
    p = vectors.WECHATPY_DECRYPT_PARAMS
    enc = vectors.WECHATPY_DECRYPT_ENCRYPT
    assert (
        crypto.msg_signature(vectors.WECHATPY_TOKEN, p["timestamp"], p["nonce"], enc)
        == (p["msg_signature"])
    )
    fields = xmlmsg.parse_xml(
        crypto.decrypt(vectors.WECHATPY_ENCODING_AES_KEY, enc, vectors.WECHATPY_CORP_ID)
    )
    assert fields["Content"] == "test"
    assert fields["FromUserName"] == "messense"
    v = vectors.WECHATPY_VERIFY
    assert (
        crypto.msg_signature(vectors.WECHATPY_TOKEN, v["timestamp"], v["nonce"], v["echostr"])
        == (v["msg_signature"])
    )
    crypto.decrypt(vectors.WECHATPY_ENCODING_AES_KEY, v["echostr"], vectors.WECHATPY_CORP_ID)


# --------------------------------------------------------------------- primitives


def test_pkcs7_block_32_edges():
    for n in range(70):
        data = b"x" * n
        padded = crypto.pkcs7_pad(data)
        assert len(padded) % 32 == 0
        assert 1 <= len(padded) - n <= 32  # aligned input gets a full extra block
        assert crypto.pkcs7_unpad(padded) == data
    with pytest.raises(SimCryptoError):
        crypto.pkcs7_unpad(b"y" * 31 + b"\x00")
    with pytest.raises(SimCryptoError):
        crypto.pkcs7_unpad(b"y" * 31 + b"\x21")  # 33 > block
    with pytest.raises(SimCryptoError):
        crypto.pkcs7_unpad(b"y" * 30 + b"\x01\x02")  # inconsistent bytes


def test_plaintext_layout_and_tamper_detection():
    enc = crypto.encrypt(KEY, APPID, "沙县小吃招工", random16=b"R" * 16)
    raw = base64.b64decode(enc)
    assert len(raw) % 32 == 0
    msg, rid = crypto.decrypt_raw(KEY, enc)
    assert msg.decode() == "沙县小吃招工"
    assert rid == APPID.encode()
    # flipping a bit in the last block breaks padding or the layout -> rejected
    broken = bytearray(raw)
    broken[-1] ^= 0x01
    with pytest.raises(SimCryptoError):
        crypto.decrypt(KEY, base64.b64encode(bytes(broken)).decode(), APPID)
    with pytest.raises(SimCryptoError):
        crypto.aes_key("short")


def test_plain_signature_matches_wechatpy():
    oa = OfficialAccountSim(token=TOKEN, appid=APPID)
    req, echo = oa.verification()
    p = req.params
    wx_check_signature(TOKEN, p["signature"], p["timestamp"], p["nonce"])  # raises if wrong
    bad = oa.with_bad_signature(req).params
    with pytest.raises(InvalidSignatureException):
        wx_check_signature(TOKEN, bad["signature"], bad["timestamp"], bad["nonce"])
    assert p["echostr"] == echo


# --------------------------------------------------------------------- cross-implementation


MESSAGES = [
    "",
    "a",
    "x" * 15,
    "x" * 16,
    "x" * 31,
    "x" * 32,
    "x" * 33,
    "招工：沙县夏茂镇明天采茶5人，日结150元，电话13812345678",
    ']]> <tricky> & "quotes" \'',
    "长" * 700,
]


@pytest.mark.parametrize("content", MESSAGES)
def test_oa_safe_mode_simulator_to_wechatpy(content):
    oa = OfficialAccountSim(token=TOKEN, appid=APPID, encoding_aes_key=KEY, safe_mode=True)
    req = oa.text("o_worker_1", content)
    wx = WxMpCrypto(TOKEN, KEY, APPID)
    p = req.params
    plain = wx.decrypt_message(req.body, p["msg_signature"], p["timestamp"], p["nonce"])
    msg = wechatpy.parse_message(plain)
    assert msg.type == "text"
    assert (msg.content or "") == content  # wechatpy/xmltodict turn empty CDATA into None
    assert msg.source == "o_worker_1"
    assert plain == req.inner_xml
    with pytest.raises(InvalidSignatureException):
        bad = oa.with_bad_signature(req).params
        wx.decrypt_message(req.body, bad["msg_signature"], p["timestamp"], p["nonce"])


REPLYABLE = [m for m in MESSAGES if m and "]]>" not in m]


@pytest.mark.parametrize("content", REPLYABLE)
def test_wechatpy_reply_to_simulator(content):
    """wechatpy encrypts a passive reply; the simulator verifies and decrypts it."""
    oa = OfficialAccountSim(token=TOKEN, appid=APPID, encoding_aes_key=KEY, safe_mode=True)
    incoming = wechatpy.parse_message(xmlmsg.text_message("gh_x", "o_worker_1", "hi"))
    reply = wechatpy.create_reply(content, incoming).render()
    body = WxMpCrypto(TOKEN, KEY, APPID).encrypt_message(reply, "12345", str(int(time.time())))
    got = oa.read_reply(body)
    assert got is not None
    assert got["Content"] == content
    assert got["ToUserName"] == "o_worker_1"
    assert got["FromUserName"] == "gh_x"


def test_wechatpy_reply_does_not_escape_cdata_terminator():
    """Pitfall: wechatpy 1.8.18 puts text into CDATA verbatim, so a reply containing "]]>"
    is malformed XML that WeChat would reject; the adapter must sanitise reply text."""
    oa = OfficialAccountSim(token=TOKEN, appid=APPID)
    incoming = wechatpy.parse_message(xmlmsg.text_message("gh_x", "o_worker_1", "hi"))
    bad = wechatpy.create_reply("a]]>b", incoming).render()
    with pytest.raises(SimReplyError, match="not acceptable XML"):
        oa.read_reply(bad)
    ok = wechatpy.create_reply("a]]]]><![CDATA[>b", incoming).render()
    assert oa.read_reply(ok)["Content"] == "a]]>b"


def test_wecom_simulator_and_wechatpy_both_ways():
    wc = WeComSim(token=TOKEN, corp_id=CORP, encoding_aes_key=KEY, agent_id=1000002)
    wx = WxWorkCrypto(TOKEN, KEY, CORP)
    # GET verification: echostr is encrypted; wechatpy decrypts what the simulator made
    req, expected = wc.verification()
    p = req.params
    assert wx.check_signature(p["msg_signature"], p["timestamp"], p["nonce"], p["echostr"]) == (
        expected
    )
    bad = wc.with_bad_signature(req).params
    with pytest.raises(InvalidSignatureException):
        wx.check_signature(bad["msg_signature"], p["timestamp"], p["nonce"], p["echostr"])
    # POST: simulator -> wechatpy
    req = wc.text("zhangsan", "接 7K3Q")
    p = req.params
    plain = wx.decrypt_message(req.body, p["msg_signature"], p["timestamp"], p["nonce"])
    msg = wechatpy.enterprise.parse_message(plain)
    assert (msg.type, msg.content, msg.source, int(msg.agent)) == (
        "text",
        "接 7K3Q",
        "zhangsan",
        1000002,
    )
    # reply: wechatpy -> simulator (MsgSignature verified, corpid checked)
    reply = wechatpy.enterprise.create_reply("已接单", msg).render()
    got = wc.read_reply(wx.encrypt_message(reply, "777", "1700000000"))
    assert got is not None
    assert got["Content"] == "已接单"
    # encrypted with a different corp id -> the simulator refuses it like WeChat would
    other = WxWorkCrypto(TOKEN, KEY, "ww_other_corp").encrypt_message(reply, "1", "1700000000")
    with pytest.raises(SimReplyError, match="decrypt"):
        wc.read_reply(other)
    assert wc.read_reply("success") is None
    assert wc.read_reply(b"") is None


# --------------------------------------------------------------------- XML builders


def test_xml_builders_parse_with_wechatpy():
    voice = xmlmsg.voice_message("gh_x", "o_1", recognition="明天要两个小工")
    m = wechatpy.parse_message(voice)
    assert m.type == "voice"
    assert m.recognition == "明天要两个小工"
    sub = wechatpy.parse_message(xmlmsg.event_message("gh_x", "o_1", "subscribe"))
    assert (sub.type, sub.event) == ("event", "subscribe")
    click = wechatpy.parse_message(
        xmlmsg.event_message("gh_x", "o_1", "CLICK", event_key="MY_JOBS")
    )
    assert (click.event, click.key) == ("click", "MY_JOBS")
    wc_event = wechatpy.enterprise.parse_message(
        xmlmsg.event_message(CORP, "zhangsan", "enter_agent", agent_id=1000002)
    )
    assert wc_event.event == "enter_agent"
    text = xmlmsg.text_message("gh_x", "o_1", "a]]>b<c>&d", msg_id=42, create_time=1700000000)
    parsed = xmlmsg.parse_xml(text)
    assert parsed["Content"] == "a]]>b<c>&d"
    assert (parsed["MsgId"], parsed["CreateTime"]) == ("42", "1700000000")
    assert xmlmsg.new_msg_id() != xmlmsg.new_msg_id()


def test_simulated_requests_are_well_formed():
    oa = OfficialAccountSim(token=TOKEN, appid=APPID, encoding_aes_key=KEY, safe_mode=True)
    req = oa.voice("o_2", "我要找搬运的活", timestamp=1700000000, nonce="99")
    assert req.method == "POST"
    assert req.params["encrypt_type"] == "aes"
    assert req.params["openid"] == "o_2"
    assert "timestamp=1700000000" in req.url("http://127.0.0.1:1/wx/mp")
    outer = xmlmsg.parse_xml(req.body)
    assert set(outer) == {"ToUserName", "Encrypt"}
    inner = xmlmsg.parse_xml(crypto.decrypt(KEY, outer["Encrypt"], APPID))
    assert inner["Recognition"] == "我要找搬运的活"
    plain_oa = OfficialAccountSim(token=TOKEN, appid=APPID)
    r2 = plain_oa.event("o_3", "subscribe")
    assert "msg_signature" not in r2.params
    assert xmlmsg.parse_xml(r2.body)["Event"] == "subscribe"



@pytest.mark.parametrize("kind", ["plaintext", "aes", "wecom"])
def test_a_retry_is_the_same_message_signed_afresh(kind):
    """WeChat's retry of a message carries the same XML (same MsgId) under a new timestamp, nonce
    and signature — so a server refusing replayed signatures still sees, and dedupes, retries."""
    if kind == "wecom":
        sim = WeComSim(token=TOKEN, corp_id=CORP, encoding_aes_key=KEY)
        req = sim.text("zhangsan", "帮助", msg_id=42, timestamp=1700000000)
        sig = "msg_signature"
    else:
        sim = OfficialAccountSim(
            token=TOKEN, appid=APPID, encoding_aes_key=KEY, safe_mode=kind == "aes"
        )
        req = sim.text("o_1", "帮助", msg_id=42, timestamp=1700000000)
        sig = "msg_signature" if kind == "aes" else "signature"
    again = req.retry()
    assert again.inner_xml == req.inner_xml and "<MsgId>42</MsgId>" in (again.inner_xml or "")
    assert again.params["timestamp"] != req.params["timestamp"]
    assert again.params["nonce"] != req.params["nonce"]
    assert again.params[sig] != req.params[sig]
    assert again.retry().params[sig] not in (req.params[sig], again.params[sig])
    p = again.params
    if kind == "plaintext":
        assert p["signature"] == crypto.plain_signature(TOKEN, p["timestamp"], p["nonce"])
    else:
        enc = xmlmsg.parse_xml(again.body)["Encrypt"]
        assert p["msg_signature"] == crypto.msg_signature(TOKEN, p["timestamp"], p["nonce"], enc)
        receive_id = CORP if kind == "wecom" else APPID
        assert crypto.decrypt(KEY, enc, receive_id) == req.inner_xml

# --------------------------------------------------------------------- hostile XML


@pytest.mark.parametrize("name", sorted(payloads.ALL_ENTITY_ATTACKS))
def test_hostile_xml_rejected_quickly_by_defusedxml(name):
    body = payloads.ALL_ENTITY_ATTACKS[name]()
    assert len(body) < 64 * 1024
    t0 = time.perf_counter()
    with pytest.raises(defusedxml.DefusedXmlException):
        SafeET.fromstring(body, forbid_dtd=True)
    assert time.perf_counter() - t0 < 0.5


def test_hostile_xml_inside_a_validly_signed_envelope():
    """Encryption does not launder a bomb: the signature verifies, the inner XML is refused."""
    wc = WeComSim(token=TOKEN, corp_id=CORP, encoding_aes_key=KEY)
    req = wc.message(payloads.billion_laughs().decode())
    outer = xmlmsg.parse_xml(req.body)
    p = req.params
    assert crypto.signatures_equal(
        crypto.msg_signature(TOKEN, p["timestamp"], p["nonce"], outer["Encrypt"]),
        p["msg_signature"],
    )
    inner = crypto.decrypt(KEY, outer["Encrypt"], CORP)
    with pytest.raises(defusedxml.DefusedXmlException):
        SafeET.fromstring(inner, forbid_dtd=True)
    with pytest.raises(SimReplyError):
        wc.read_reply(payloads.xxe_file())


def test_other_hostile_shapes():
    assert len(payloads.oversized_text()) == 2 * 1024 * 1024
    assert payloads.deep_nesting(10) == b"<xml>" + b"<a>" * 10 + b"</a>" * 10 + b"</xml>"
