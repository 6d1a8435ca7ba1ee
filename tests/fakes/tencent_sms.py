"""A fake 腾讯云短信 API 3.0 (``SendSms``, version 2021-01-11) on 127.0.0.1.

It checks a request as Tencent's gateway does, from what arrived on the wire: the
``Authorization`` header (TC3-HMAC-SHA256) is recomputed from the method, path, query, the headers
named in ``SignedHeaders`` (lower-cased, trimmed), the SHA-256 of the body and the signing key
derived from ``"TC3" + SecretKey`` → date → ``sms`` → ``tc3_request``; the timestamp must be within
five minutes; ``content-type`` and ``host`` must be signed. It answers HTTP 200 with
``{"Response": {..., "RequestId": ...}}``: request errors as ``Response.Error`` and per-number
results in ``SendStatusSet`` (``Code: "Ok"`` when sent).

Written from Tencent's documentation, independently of ``bot.login.sms``.

    async with tencent_sms_fake("AKIDfake", "fake-key") as fake:
        fake.url                      # base URL for TencentSms(endpoint=...)
        fake.sent                     # [("+8613812341234", "123456")]
        fake.fail_next = "LimitExceeded.PhoneNumberDailyLimit"   # next accepted request fails so
        fake.fail_next = "HTTP502"    # ... or the gateway answers 502; "hang": no answer in time
        fake.rejected                 # error codes answered, in order
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes import serving

ACTION = "SendSms"
VERSION = "2021-01-11"
REGIONS = frozenset({"ap-guangzhou", "ap-beijing", "ap-nanjing"})
MAX_SKEW_SECONDS = 300

_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/\s,]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)"
    r"/tc3_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<sig>[0-9a-f]{64})$"
)
_E164_MAINLAND = re.compile(r"\+861[3-9][0-9]{9}")

PER_NUMBER = (
    "LimitExceeded.PhoneNumber",
    "LimitExceeded.DeliveryFrequencyLimit",
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.ContainSensitiveWord",
    "FailedOperation.InsufficientBalanceInSmsPackage",
)
"""Codes Tencent reports per number in ``SendStatusSet`` (the call itself succeeded)."""

MESSAGES = {
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated. "
    "Please check your signature is correct.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your "
    "SecretId is correct.",
    "AuthFailure.SignatureExpire": "Signature expired. Timestamp is out of the valid range.",
    "AuthFailure.InvalidAuthorization": "Authorization header is invalid.",
    "LimitExceeded.PhoneNumberDailyLimit": "单个手机号日下发短信条数超过设定的上限",
    "LimitExceeded.PhoneNumberOneHourLimit": "单个手机号1小时内下发短信条数超过设定的上限",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误",
    "FailedOperation.SignatureIncorrectOrUnapproved": "签名未审批或格式错误",
    "FailedOperation.TemplateIncorrectOrUnapproved": "模板未审批或内容不匹配",
    "InternalError.Timeout": "请求下发短信超时",
}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    outcome: str
    """``Ok`` or the error code answered."""


@dataclass
class TencentSmsFake:
    secret_id: str
    secret_key: str
    sdk_app_id: str | None = None
    """When set, any other SmsSdkAppId is refused (InvalidParameterValue.SdkAppIdNotExist)."""
    sign_name: str | None = None
    template_id: str | None = None
    template_params: int = 1
    hang_seconds: float = 30.0
    clock: Callable[[], float] = time.time
    url: str = ""
    fail_next: str | None = None
    fail_message: str | None = None
    """The Message of the next injected failure (default: Tencent's usual text)."""
    sent: list[tuple[str, str]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    # -- answers ---------------------------------------------------------------------------
    @staticmethod
    def _answer(response: dict[str, Any]) -> web.Response:
        response["RequestId"] = str(uuid.uuid4())
        body = json.dumps({"Response": response}, ensure_ascii=False).encode()
        # exactly this Content-Type, no charset, as Tencent sends it (its SDK checks it)
        return web.Response(body=body, headers={"Content-Type": "application/json"})

    def _error(self, code: str, message: str | None = None) -> web.Response:
        self.rejected.append(code)
        text = message or MESSAGES.get(code) or f"{code} (fake)"
        return self._answer({"Error": {"Code": code, "Message": text}})

    def _status(self, phone: str, code: str, message: str | None = None) -> dict[str, Any]:
        ok = code == "Ok"
        return {
            "SerialNo": f"2433:{uuid.uuid4().int % 10**20}" if ok else "",
            "PhoneNumber": phone,
            "Fee": 1 if ok else 0,
            "SessionContext": "",
            "Code": code,
            "Message": message or ("send success" if ok else MESSAGES.get(code, code)),
            "IsoCode": "CN" if phone.startswith("+86") else "",
        }

    # -- the request -----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        record = Received(headers=headers, body=body, outcome="")
        self.received.append(record)
        fault = self.fail_next
        if fault is not None and (fault.startswith("HTTP") or fault == "hang"):
            self.fail_next = None
            record.outcome = fault
            if fault == "hang":
                await asyncio.sleep(self.hang_seconds)
                return web.Response(status=504, text="gateway timeout")
            return web.Response(status=int(fault[4:]), text=f"<html>{fault[4:]}</html>")
        before = len(self.rejected)
        response = self._send_sms(request, headers, body)
        record.outcome = self.rejected[-1] if len(self.rejected) > before else "Ok"
        return response

    def _authenticate(self, request: web.Request, headers: dict[str, str], body: bytes) -> str:
        """'' when the signature holds, else the error code Tencent would answer."""
        match = _AUTH.match(headers.get("authorization", ""))
        if not match:
            return "AuthFailure.InvalidAuthorization"
        try:
            timestamp = int(headers.get("x-tc-timestamp", ""))
        except ValueError:
            return "MissingParameter"
        if abs(self.clock() - timestamp) > MAX_SKEW_SECONDS:
            return "AuthFailure.SignatureExpire"
        if match["id"] != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if match["date"] != date or match["service"] != "sms":
            return "AuthFailure.SignatureFailure"
        signed = match["signed"].split(";")
        if "content-type" not in signed or "host" not in signed:
            return "AuthFailure.InvalidAuthorization"
        if any(name not in headers for name in signed):
            return "AuthFailure.SignatureFailure"
        canonical_headers = "".join(f"{n}:{headers[n].strip().lower()}\n" for n in signed)
        canonical_request = "\n".join(
            (
                request.method,
                request.raw_path.split("?", 1)[0],
                request.query_string,
                canonical_headers,
                match["signed"],
                hashlib.sha256(body).hexdigest(),
            )
        )
        string_to_sign = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n"
            + hashlib.sha256(canonical_request.encode()).hexdigest()
        )
        key = ("TC3" + self.secret_key).encode()
        for part in (date, "sms", "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["sig"]):
            return "AuthFailure.SignatureFailure"
        return ""

    def _send_sms(self, request: web.Request, headers: dict[str, str], body: bytes) -> web.Response:
        problem = self._authenticate(request, headers, body)
        if problem:
            return self._error(problem)
        if headers.get("x-tc-action", "").lower() != ACTION.lower():
            return self._error("InvalidAction")
        if headers.get("x-tc-version") != VERSION:
            return self._error("NoSuchVersion")
        region = headers.get("x-tc-region", "")
        if not region:
            return self._error("MissingParameter", "The request is missing `Region`.")
        if region not in REGIONS:
            return self._error("UnsupportedRegion")
        if request.method != "POST" or not headers.get("content-type", "").startswith(
            "application/json"
        ):
            return self._error("InvalidParameter", "this fake takes POST application/json")
        try:
            params = json.loads(body)
            phones = params["PhoneNumberSet"]
            app_id = params["SmsSdkAppId"]
            template = params["TemplateId"]
            sign = params.get("SignName", "")
            values = params.get("TemplateParamSet", [])
            if not (isinstance(phones, list) and phones and isinstance(values, list)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self._error("FailedOperation.FailResolvePacket")
        fault, self.fail_next = self.fail_next, None
        message, self.fail_message = self.fail_message, None
        if fault is not None and not fault.startswith(PER_NUMBER):
            return self._error(fault, message)
        if self.sdk_app_id is not None and app_id != self.sdk_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist")
        if self.sign_name is not None and sign != self.sign_name:
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved")
        if self.template_id is not None and template != self.template_id:
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved")
        if len(values) != self.template_params:
            return self._error("FailedOperation.TemplateParamSetNotMatchApprovedTemplate")
        statuses = []
        for phone in phones:
            if fault is not None:
                self.rejected.append(fault)
                statuses.append(self._status(str(phone), fault, message))
            elif not (isinstance(phone, str) and _E164_MAINLAND.fullmatch(phone)):
                self.rejected.append("InvalidParameterValue.IncorrectPhoneNumber")
                statuses.append(
                    self._status(str(phone), "InvalidParameterValue.IncorrectPhoneNumber")
                )
            else:
                self.sent.append((phone, str(values[0]) if values else ""))
                statuses.append(self._status(phone, "Ok"))
        return self._answer({"SendStatusSet": statuses})


@asynccontextmanager
async def tencent_sms_fake(
    secret_id: str, secret_key: str, **options: Any
) -> AsyncIterator[TencentSmsFake]:
    """A running fake; ``options`` are ``TencentSmsFake`` fields (sdk_app_id, sign_name, ...)."""
    fake = TencentSmsFake(secret_id, secret_key, **options)
    async with serving(fake.app()) as url:
        fake.url = url
        yield fake
