"""AliyunSms over the real wire protocol (dysmsapi SendSms, signature V3 ACS3-HMAC-SHA256) against
a fake that recomputes the signature from what arrived; plus known answers from Aliyun's SDK."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from yarl import URL

from bot.login.sms import AliyunSms, SmsError, acs3_authorization, acs_query
from tests.fakes import unused_url
from tests.fakes.aliyun_sms import AliyunSmsFake, aliyun_sms_fake
from tests.login import sdk_vectors as vec

KEY_ID = "LTAI5tFakeFakeFakeFake12"
KEY_SECRET = "fakeAliyunSecretForTests0123456"
SIGN = "沙县零工"
TEMPLATE = "SMS_465930123"
PHONE = "13812341234"
CODE = "482913"
NO_BODY = ("Content-Type",)  # aiohttp would add an unsigned application/octet-stream


def sender(url: str, **changes: object) -> AliyunSms:
    options: dict[str, object] = {
        "access_key_id": KEY_ID,
        "access_key_secret": KEY_SECRET,
        "sign_name": SIGN,
        "template_code": TEMPLATE,
        "endpoint": url,
        **changes,
    }
    return AliyunSms(**options)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[AliyunSmsFake]:
    async with aliyun_sms_fake(KEY_ID, KEY_SECRET, sign_name=SIGN, template_code=TEMPLATE) as running:
        yield running


async def test_a_code_reaches_the_fake_with_a_valid_signature(fake: AliyunSmsFake) -> None:
    sms = sender(fake.url)
    try:
        await sms.send_code(PHONE, CODE)
        await sms.send_code("+8613900001111", "000123")
    finally:
        await sms.close()
    assert fake.sent == [(PHONE, CODE), ("13900001111", "000123")]
    first = fake.received[0]
    assert first.outcome == "OK" and first.body == b""
    assert first.query == {
        "PhoneNumbers": PHONE,
        "SignName": SIGN,
        "TemplateCode": TEMPLATE,
        "TemplateParam": f'{{"code":"{CODE}"}}',
    }
    signed = first.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert signed == (
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    )
    assert first.headers["x-acs-version"] == "2017-05-25"
    assert len(fake.nonces) == 2  # a fresh nonce each time


async def test_the_template_variable_name_is_configurable() -> None:
    async with aliyun_sms_fake(KEY_ID, KEY_SECRET, template_param="number") as fake:
        sms, plain = sender(fake.url, template_param="number"), sender(fake.url)
        await sms.send_code(PHONE, CODE)
        with pytest.raises(SmsError) as caught:
            await plain.send_code(PHONE, CODE)  # sends {"code": ...}
        await sms.close()
        await plain.close()
    assert fake.sent == [(PHONE, CODE)]
    assert (caught.value.code, caught.value.permanent) == ("isv.TEMPLATE_MISSING_PARAMETERS", True)


async def test_a_wrong_secret_is_a_permanent_signature_mismatch(fake: AliyunSmsFake) -> None:
    sms = sender(fake.url, access_key_secret="not-the-secret")
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    err = caught.value
    assert (err.code, err.permanent, err.reason) == ("SignatureDoesNotMatch", True, "config")
    assert fake.sent == []


async def test_an_unknown_access_key_is_refused(fake: AliyunSmsFake) -> None:
    sms = sender(fake.url, access_key_id="LTAIsomebodyelse")
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.code, caught.value.permanent) == ("InvalidAccessKeyId.NotFound", True)


async def test_a_clock_twenty_minutes_off_is_refused(fake: AliyunSmsFake) -> None:
    sms = sender(fake.url, clock=lambda: fake.clock() + 1200)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.code, caught.value.permanent) == ("InvalidTimeStamp.Expired", True)


async def test_a_repeated_nonce_is_refused_but_not_permanent(fake: AliyunSmsFake) -> None:
    sms = sender(fake.url, nonce=lambda: "same-nonce-every-time")
    await sms.send_code(PHONE, CODE)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.code, caught.value.permanent) == ("SignatureNonceUsed", False)


@pytest.mark.parametrize(
    ("fault", "code", "permanent", "reason"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", "isv.BUSINESS_LIMIT_CONTROL", False, "limit"),
        ("isv.DAY_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", False, "limit"),
        ("Throttling.User", "Throttling.User", False, "limit"),  # HTTP 400
        ("isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_NUMBER_ILLEGAL", True, "phone"),
        ("isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL", True, "config"),
        ("isv.AMOUNT_NOT_ENOUGH", "isv.AMOUNT_NOT_ENOUGH", True, "config"),
        ("isv.OUT_OF_SERVICE", "isv.OUT_OF_SERVICE", True, "config"),
        ("isp.RAM_PERMISSION_DENY", "isp.RAM_PERMISSION_DENY", True, "config"),
        ("SignatureDoesNotMatch", "SignatureDoesNotMatch", True, "config"),  # HTTP 400
        ("isp.SYSTEM_ERROR", "isp.SYSTEM_ERROR", False, "unavailable"),
        ("ServiceUnavailable", "HTTP503", False, "unavailable"),  # HTTP 503 (with JSON)
    ],
)
async def test_provider_errors_are_mapped(
    fake: AliyunSmsFake, fault: str, code: str, permanent: bool, reason: str
) -> None:
    fake.fail_next = fault
    sms = sender(fake.url)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    assert (caught.value.code, caught.value.permanent, caught.value.reason) == (
        code, permanent, reason,
    )
    await sms.send_code(PHONE, CODE)
    await sms.close()
    assert fake.sent == [(PHONE, CODE)]


async def test_the_fakes_own_checks_give_aliyuns_codes(fake: AliyunSmsFake) -> None:
    for changes, expected in [
        ({"sign_name": "别的签名"}, "isv.SMS_SIGNATURE_ILLEGAL"),
        ({"template_code": "SMS_000"}, "isv.SMS_TEMPLATE_ILLEGAL"),
        ({"sign_name": ""}, "MissingSignName"),
    ]:
        sms = sender(fake.url, **changes)
        with pytest.raises(SmsError) as caught:
            await sms.send_code(PHONE, CODE)
        await sms.close()
        assert (caught.value.code, caught.value.permanent) == (expected, True)
    assert fake.sent == []


@pytest.mark.parametrize("fault", ["HTTP500", "HTTP502"])
async def test_5xx_is_not_permanent(fake: AliyunSmsFake, fault: str) -> None:
    fake.fail_next = fault
    sms = sender(fake.url)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.permanent, caught.value.code) == (False, fault)


async def test_a_hanging_fake_times_out_not_permanent(fake: AliyunSmsFake) -> None:
    fake.fail_next, fake.hang_seconds = "hang", 1.0
    sms = sender(fake.url, timeout=0.2)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.permanent, caught.value.reason) == (False, "unavailable")


async def test_a_fake_that_is_down_is_not_permanent() -> None:
    sms = sender(unused_url(), timeout=2.0)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.permanent, caught.value.reason) == (False, "unavailable")
    assert CODE not in str(caught.value)  # the code travels in the query string: never echoed


async def test_the_code_is_never_logged_nor_kept_in_errors(
    fake: AliyunSmsFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sms = sender(fake.url)
    await sms.send_code(PHONE, CODE)
    fake.fail_next = "isv.INVALID_PARAMETERS"
    fake.fail_message = f'参数异常: TemplateParam={{"code":"{CODE}"}}'
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert CODE not in str(caught.value)
    assert "138****1234" in caplog.text
    assert CODE not in caplog.text and PHONE not in caplog.text


# --- the signature, piece by piece ------------------------------------------------------------
async def _post(url: str, headers: dict[str, str], query: str = "") -> tuple[int, str]:
    target = URL(url + "/" + (f"?{query}" if query else ""), encoded=True)
    async with aiohttp.ClientSession() as session, session.post(
        target, headers=headers, skip_auto_headers=NO_BODY
    ) as resp:
        return resp.status, str((await resp.json(content_type=None))["Code"])


async def test_every_signed_part_is_checked(fake: AliyunSmsFake) -> None:
    nonces = iter(f"nonce{i}" for i in range(100))
    sms = sender(fake.url, nonce=lambda: next(nonces))

    def fresh() -> tuple[dict[str, str], str]:
        url, headers = sms.request(PHONE, CODE)
        return headers, urlsplit(url).query

    headers, query = fresh()
    assert await _post(fake.url, headers, query) == (200, "OK")
    mismatch = (400, "SignatureDoesNotMatch")
    headers, query = fresh()
    assert await _post(fake.url, headers, query.replace(CODE, "000000")) == mismatch
    headers, query = fresh()
    assert await _post(fake.url, headers, query.replace("PhoneNumbers=", "PhoneNumbers=%2B86")) == mismatch
    headers, query = fresh()
    assert await _post(fake.url, {**headers, "x-acs-signature-nonce": "other"}, query) == mismatch
    headers, query = fresh()
    assert await _post(fake.url, {**headers, "host": "dysmsapi.aliyuncs.com"}, query) == mismatch
    headers, query = fresh()
    assert await _post(fake.url, {**headers, "x-acs-content-sha256": "0" * 64}, query) == mismatch
    headers, query = fresh()
    dropped = headers["Authorization"].replace("x-acs-date;", "")
    assert await _post(fake.url, {**headers, "Authorization": dropped}, query) == (
        400, "IncompleteSignature",
    )
    headers, query = fresh()
    assert await _post(fake.url, {**headers, "x-acs-extra": "1"}, query) == (400, "IncompleteSignature")
    headers, query = fresh()
    async with aiohttp.ClientSession() as session, session.post(  # an unsigned Content-Type
        URL(f"{fake.url}/?{query}", encoded=True), headers=headers
    ) as resp:
        assert (resp.status, (await resp.json())["Code"]) == (400, "IncompleteSignature")
    await sms.close()
    assert fake.sent == [(PHONE, CODE)]


async def test_the_query_is_encoded_the_rfc3986_way() -> None:
    params = {"b": "a b*~", "a": "沙县 +/", "TemplateParam": '{"code":"1"}'}
    query = acs_query(params)
    assert query == (
        "TemplateParam=%7B%22code%22%3A%221%22%7D&a=%E6%B2%99%E5%8E%BF%20%2B%2F&b=a%20b%2A~"
    )
    assert dict(parse_qsl(query)) == params


# --- known answers from Aliyun's own SDK -----------------------------------------------------
def test_our_signer_matches_aliyuns_sdk() -> None:
    signed = vec.ALIYUN_HEADERS["authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert acs3_authorization(
        access_key_id=vec.ALIYUN_ACCESS_KEY_ID,
        access_key_secret=vec.ALIYUN_ACCESS_KEY_SECRET,
        method="POST",
        uri="/",
        query=acs_query(vec.ALIYUN_QUERY),
        headers=vec.ALIYUN_HEADERS,
        signed_headers=signed.split(";"),
        payload_sha256=vec.ALIYUN_HEADERS["x-acs-content-sha256"],
    ) == vec.ALIYUN_HEADERS["authorization"]


async def test_the_fake_accepts_a_request_signed_by_aliyuns_sdk() -> None:
    when = datetime.strptime(vec.ALIYUN_DATE, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    async with aliyun_sms_fake(
        vec.ALIYUN_ACCESS_KEY_ID, vec.ALIYUN_ACCESS_KEY_SECRET, clock=lambda: when + 5
    ) as fake, aiohttp.ClientSession() as session:
        async with session.post(
            fake.url + "/", params=vec.ALIYUN_QUERY, headers=vec.ALIYUN_HEADERS,
            skip_auto_headers=NO_BODY,
        ) as resp:
            assert (resp.status, (await resp.json())["Code"]) == (200, "OK")
        changed = {**vec.ALIYUN_QUERY, "PhoneNumbers": "13900001111"}
        async with session.post(
            fake.url + "/", params=changed, headers=vec.ALIYUN_HEADERS, skip_auto_headers=NO_BODY
        ) as resp:
            assert (resp.status, (await resp.json())["Code"]) == (400, "SignatureDoesNotMatch")
    assert fake.sent == [("13812341234", "654321")]
