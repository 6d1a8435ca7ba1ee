"""TencentSms over the real wire protocol (TC3-HMAC-SHA256 signed JSON POST) against a fake that
recomputes the signature from what arrived; plus known answers recorded from Tencent's own SDK."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.login.sms import SmsError, TencentSms, tc3_authorization
from tests.fakes import unused_url
from tests.fakes.tencent_sms import TencentSmsFake, tencent_sms_fake
from tests.login import sdk_vectors as vec

SECRET_ID = "AKIDfakefakefakefakefakefakefake1234"
SECRET_KEY = "fakeSecretKeyForTestsOnly0123456789"
APP_ID = "1400000001"
SIGN = "沙县零工"
TEMPLATE = "2233445"
PHONE = "13812341234"
CODE = "482913"


def sender(url: str, **changes: object) -> TencentSms:
    options: dict[str, object] = {
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "sdk_app_id": APP_ID,
        "sign_name": SIGN,
        "template_id": TEMPLATE,
        "endpoint": url,
        **changes,
    }
    return TencentSms(**options)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[TencentSmsFake]:
    async with tencent_sms_fake(
        SECRET_ID, SECRET_KEY, sdk_app_id=APP_ID, sign_name=SIGN, template_id=TEMPLATE
    ) as running:
        yield running


async def test_a_code_reaches_the_fake_with_a_valid_signature(fake: TencentSmsFake) -> None:
    sms = sender(fake.url)
    try:
        await sms.send_code(PHONE, CODE)
        await sms.send_code("+86 139-0000-1111", "000123")
    finally:
        await sms.close()
    assert fake.sent == [("+86" + PHONE, CODE), ("+8613900001111", "000123")]
    assert [r.outcome for r in fake.received] == ["Ok", "Ok"]
    first = fake.received[0]
    assert "SignedHeaders=content-type;host;x-tc-action," in first.headers["authorization"]
    assert first.headers["x-tc-version"] == "2021-01-11"
    assert first.headers["x-tc-region"] == "ap-guangzhou"
    body = json.loads(first.body)
    assert body == {
        "PhoneNumberSet": ["+8613812341234"],
        "SmsSdkAppId": APP_ID,
        "SignName": SIGN,
        "TemplateId": TEMPLATE,
        "TemplateParamSet": [CODE],
    }


async def test_a_wrong_secret_key_is_a_permanent_signature_failure(fake: TencentSmsFake) -> None:
    sms = sender(fake.url, secret_key="not-the-key")
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    err = caught.value
    assert (err.code, err.permanent, err.reason) == ("AuthFailure.SignatureFailure", True, "config")
    assert fake.sent == []


async def test_an_unknown_secret_id_is_refused(fake: TencentSmsFake) -> None:
    sms = sender(fake.url, secret_id="AKIDsomebodyelse")
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.code, caught.value.permanent) == ("AuthFailure.SecretIdNotFound", True)


async def test_a_clock_ten_minutes_off_is_an_expired_signature(fake: TencentSmsFake) -> None:
    sms = sender(fake.url, clock=lambda: fake.clock() - 600)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.code, caught.value.permanent) == ("AuthFailure.SignatureExpire", True)


@pytest.mark.parametrize(
    ("code", "permanent", "reason"),
    [
        ("LimitExceeded.PhoneNumberDailyLimit", False, "limit"),  # in SendStatusSet
        ("LimitExceeded.PhoneNumberThirtySecondLimit", False, "limit"),
        ("InvalidParameterValue.IncorrectPhoneNumber", True, "phone"),
        ("FailedOperation.PhoneNumberInBlacklist", True, "phone"),
        ("FailedOperation.InsufficientBalanceInSmsPackage", True, "config"),
        ("FailedOperation.TemplateIncorrectOrUnapproved", True, "config"),  # in Response.Error
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", True, "config"),
        ("RequestLimitExceeded", False, "limit"),
        ("InternalError.Timeout", False, "unavailable"),
        ("SomethingNew.NobodyKnows", False, "unavailable"),
    ],
)
async def test_provider_errors_are_mapped(
    fake: TencentSmsFake, code: str, permanent: bool, reason: str
) -> None:
    fake.fail_next = code
    sms = sender(fake.url)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    assert (caught.value.code, caught.value.permanent, caught.value.reason) == (
        code, permanent, reason,
    )
    await sms.send_code(PHONE, CODE)  # the fault was for one request only
    await sms.close()
    assert fake.sent == [("+86" + PHONE, CODE)]


async def test_the_fakes_own_checks_give_tencents_codes(fake: TencentSmsFake) -> None:
    for changes, expected in [
        ({"sign_name": "别的签名"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
        ({"template_id": "999"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
        ({"sdk_app_id": "1400999999"}, "InvalidParameterValue.SdkAppIdNotExist"),
        ({"region": "eu-frankfurt"}, "UnsupportedRegion"),
    ]:
        sms = sender(fake.url, **changes)
        with pytest.raises(SmsError) as caught:
            await sms.send_code(PHONE, CODE)
        await sms.close()
        assert (caught.value.code, caught.value.permanent) == (expected, True)
    assert fake.sent == []


async def test_a_bad_phone_is_refused_before_any_request(fake: TencentSmsFake) -> None:
    sms = sender(fake.url)
    for phone in ("12345", "23812341234", "+1 415 555 0100", "１３８１２３４１２３４"):
        with pytest.raises(SmsError) as caught:
            await sms.send_code(phone, CODE)
        assert (caught.value.permanent, caught.value.reason) == (True, "phone")
    with pytest.raises(ValueError):
        await sms.send_code(PHONE, "12a456")
    await sms.close()
    assert fake.received == []


@pytest.mark.parametrize("fault", ["HTTP500", "HTTP502", "HTTP503"])
async def test_5xx_is_not_permanent(fake: TencentSmsFake, fault: str) -> None:
    fake.fail_next = fault
    sms = sender(fake.url)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.permanent, caught.value.reason) == (False, "unavailable")


async def test_a_hanging_fake_times_out_not_permanent(fake: TencentSmsFake) -> None:
    fake.fail_next, fake.hang_seconds = "hang", 1.0
    sms = sender(fake.url, timeout=0.2)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.permanent, caught.value.reason) == (False, "unavailable")
    assert fake.sent == []


async def test_a_fake_that_is_down_is_not_permanent() -> None:
    sms = sender(unused_url(), timeout=2.0)
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert (caught.value.permanent, caught.value.reason) == (False, "unavailable")


async def test_the_code_is_never_logged_nor_kept_in_errors(
    fake: TencentSmsFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sms = sender(fake.url)
    await sms.send_code(PHONE, CODE)
    fake.fail_next = "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    fake.fail_message = f"参数 {CODE} 与模板不符"  # a provider echoing the code
    with pytest.raises(SmsError) as caught:
        await sms.send_code(PHONE, CODE)
    await sms.close()
    assert CODE not in str(caught.value)
    assert "138****1234" in caplog.text
    assert CODE not in caplog.text and PHONE not in caplog.text


async def test_a_borrowed_session_stays_open(fake: TencentSmsFake) -> None:
    async with aiohttp.ClientSession() as session:
        sms = sender(fake.url, http=session)
        await sms.send_code(PHONE, CODE)
        await sms.close()
        assert not session.closed
        await sms.send_code(PHONE, CODE)
    assert len(fake.sent) == 2


# --- the signature, piece by piece: anything changed after signing must be refused ------------
async def _post(url: str, headers: dict[str, str], body: bytes) -> dict[str, object]:
    async with aiohttp.ClientSession() as session, session.post(
        url + "/", headers=headers, data=body
    ) as resp:
        answer: dict[str, object] = (await resp.json(content_type=None))["Response"]
        return answer


def _outcome(answer: dict[str, object]) -> str:
    if "Error" in answer:
        return str(answer["Error"]["Code"])  # type: ignore[index]
    return str(answer["SendStatusSet"][0]["Code"])  # type: ignore[index]


async def test_every_signed_part_is_checked(fake: TencentSmsFake) -> None:
    sms = sender(fake.url)
    headers, body = sms.request(PHONE, CODE)
    assert _outcome(await _post(fake.url, headers, body)) == "Ok"

    def tampered(**changes: str) -> dict[str, str]:
        return {**headers, **changes}

    auth = headers["Authorization"]
    cases: list[tuple[dict[str, str], bytes]] = [
        (headers, body.replace(CODE.encode(), b"000000")),  # the body
        (tampered(Host="sms.tencentcloudapi.com"), body),  # a signed header
        (tampered(**{"Content-Type": "application/json"}), body),  # charset dropped
        (tampered(**{"X-TC-Action": "PullSmsSendStatus"}), body),  # x-tc-action is signed
        (tampered(**{"X-TC-Timestamp": str(int(headers["X-TC-Timestamp"]) - 1)}), body),
        # the same signature claimed over fewer headers
        (tampered(Authorization=auth.replace("content-type;host;x-tc-action", "content-type;host")),
         body),
    ]
    for changed_headers, changed_body in cases:
        assert _outcome(await _post(fake.url, changed_headers, changed_body)) == (
            "AuthFailure.SignatureFailure"
        )
    unsigned_host = tampered(Authorization=auth.replace("content-type;host;x-tc-action", "content-type"))
    assert _outcome(await _post(fake.url, unsigned_host, body)) == "AuthFailure.InvalidAuthorization"
    assert fake.sent == [("+86" + PHONE, CODE)]
    await sms.close()


# --- known answers from Tencent's own SDK ---------------------------------------------------
def test_our_signer_matches_tencents_sdk() -> None:
    assert tc3_authorization(
        secret_id=vec.TENCENT_SECRET_ID,
        secret_key=vec.TENCENT_SECRET_KEY,
        service="sms",
        timestamp=vec.TENCENT_TIMESTAMP,
        headers=vec.TENCENT_HEADERS,
        signed_headers=("content-type", "host"),
        payload=vec.TENCENT_BODY,
    ) == vec.TENCENT_HEADERS["authorization"]


async def test_the_fake_accepts_a_request_signed_by_tencents_sdk() -> None:
    async with tencent_sms_fake(
        vec.TENCENT_SECRET_ID, vec.TENCENT_SECRET_KEY, clock=lambda: vec.TENCENT_TIMESTAMP + 1.0
    ) as fake:
        assert _outcome(await _post(fake.url, vec.TENCENT_HEADERS, vec.TENCENT_BODY)) == "Ok"
        wrong = vec.TENCENT_BODY.replace(b"654321", b"654320")
        assert _outcome(await _post(fake.url, vec.TENCENT_HEADERS, wrong)) == (
            "AuthFailure.SignatureFailure"
        )
    assert fake.sent == [("+8613812341234", "654321")]
