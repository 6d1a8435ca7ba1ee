"""A fake 阿里云短信 dysmsapi (``SendSms``, version 2017-05-25) on 127.0.0.1, V3 signature.

It checks a request as Aliyun's API gateway does for signature V3 (ACS3-HMAC-SHA256), from what
arrived on the wire: the canonical request is rebuilt from the method, the path, the query
parameters (sorted, RFC 3986-encoded again), the headers named in ``SignedHeaders`` (names
lower-cased, values trimmed) and the SHA-256 of the body, which must equal
``x-acs-content-sha256``; ``host`` and every ``x-acs-*`` header must be signed; the date must be
within 15 minutes and a signature nonce is good once. Gateway errors answer 4xx JSON
(``SignatureDoesNotMatch``, ``InvalidAccessKeyId.NotFound`` …); business errors answer HTTP 200
with ``Code`` (``isv.MOBILE_NUMBER_ILLEGAL`` …); success is ``{"Code": "OK", "BizId": …}``.

Written from Aliyun's documentation, independently of ``bot.login.sms``.

    async with aliyun_sms_fake("LTAIfake", "fake-secret") as fake:
        fake.url, fake.sent           # [("13812341234", "123456")]
        fake.fail_next = "isv.BUSINESS_LIMIT_CONTROL"   # or "HTTP503", "hang"
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
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes import serving

ACTION = "SendSms"
VERSION = "2017-05-25"
MAX_SKEW_SECONDS = 15 * 60
HOST_ID = "dysmsapi.aliyuncs.com"

_AUTH = re.compile(
    r"^ACS3-HMAC-SHA256 Credential=(?P<id>[^,\s]+),\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),"
    r"\s*Signature=(?P<sig>[0-9a-f]{64})$"
)
_PHONE = re.compile(r"(\+?86)?1[3-9][0-9]{9}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

STATUS = {
    "SignatureDoesNotMatch": 400,
    "IncompleteSignature": 400,
    "InvalidTimeStamp.Expired": 400,
    "InvalidTimeStamp.Format": 400,
    "SignatureNonceUsed": 400,
    "MissingSignatureNonce": 400,
    "InvalidVersion": 400,
    "Throttling.User": 400,
    "InvalidAccessKeyId.NotFound": 404,
    "InvalidAccessKeyId.Inactive": 400,
    "InvalidAction.NotFound": 404,
    "InternalError": 500,
    "ServiceUnavailable": 503,
}
"""HTTP status of gateway errors; everything else (``isv.*``, ``isp.*``) comes with 200."""

MESSAGES = {
    "SignatureDoesNotMatch": "Specified signature does not match our calculation.",
    "IncompleteSignature": "The request signature does not conform to Aliyun standards.",
    "InvalidAccessKeyId.NotFound": "Specified access key is not found.",
    "InvalidTimeStamp.Expired": "Specified time stamp or date value is expired.",
    "SignatureNonceUsed": "Specified signature nonce was used already.",
    "isv.BUSINESS_LIMIT_CONTROL": "触发号码天级流控Permits:10",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量缺少对应参数值",
    "isv.INVALID_JSON_PARAM": "JSON参数不合法，只接受字符串值",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isp.SYSTEM_ERROR": "系统错误",
}


def rfc3986(text: str) -> str:
    """Percent-encode all but ``A-Z a-z 0-9 - _ . ~`` (UTF-8, upper-case hex)."""
    return "".join(
        c if c in _UNRESERVED else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text
    )


@dataclass
class Received:
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    outcome: str


@dataclass
class AliyunSmsFake:
    access_key_id: str
    access_key_secret: str
    sign_name: str | None = None
    template_code: str | None = None
    template_param: str = "code"
    hang_seconds: float = 30.0
    clock: Callable[[], float] = time.time
    url: str = ""
    fail_next: str | None = None
    fail_message: str | None = None
    sent: list[tuple[str, str]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    def _error(self, code: str, message: str | None = None) -> web.Response:
        self.rejected.append(code)
        status = STATUS.get(code, 200)
        answer: dict[str, Any] = {
            "RequestId": str(uuid.uuid4()).upper(),
            "Message": message or MESSAGES.get(code) or f"{code} (fake)",
            "Code": code,
        }
        if status != 200:
            answer["HostId"] = HOST_ID
            answer["Recommend"] = f"https://api.aliyun.com/troubleshoot?q={code}&product=Dysmsapi"
        return web.json_response(answer, status=status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = dict(request.query)
        record = Received(headers=headers, query=query, body=body, outcome="")
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
        response = self._send_sms(request, headers, query, body)
        record.outcome = self.rejected[-1] if len(self.rejected) > before else "OK"
        return response

    def _authenticate(
        self, request: web.Request, headers: dict[str, str], body: bytes
    ) -> tuple[str, str]:
        """('', '') when the signature holds, else (error code, message)."""
        match = _AUTH.match(headers.get("authorization", ""))
        if not match:
            return "IncompleteSignature", ""
        if match["id"] != self.access_key_id:
            return "InvalidAccessKeyId.NotFound", ""
        date = headers.get("x-acs-date", "")
        try:
            if not date.endswith("Z"):
                raise ValueError
            sent_at = datetime.strptime(date, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return "InvalidTimeStamp.Format", "x-acs-date must be yyyy-MM-ddTHH:mm:ssZ"
        if abs(self.clock() - sent_at.timestamp()) > MAX_SKEW_SECONDS:
            return "InvalidTimeStamp.Expired", ""
        nonce = headers.get("x-acs-signature-nonce", "")
        if not nonce:
            return "MissingSignatureNonce", ""
        signed = match["signed"].split(";")
        must = {"host"} | {n for n in headers if n.startswith("x-acs-")}
        if "content-type" in headers:
            must.add("content-type")
        if not must <= set(signed) or any(n not in headers for n in signed):
            return "IncompleteSignature", "every x-acs-* header, host and content-type are signed"
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash:
            return "SignatureDoesNotMatch", "x-acs-content-sha256 is not the body's SHA-256"
        query = "&".join(
            f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(request.query.items())
        )
        canonical = "\n".join(
            (
                request.method,
                request.raw_path.split("?", 1)[0],
                query,
                "".join(f"{n}:{headers[n].strip()}\n" for n in signed),
                match["signed"],
                payload_hash,
            )
        )
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(
            self.access_key_secret.encode(), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, match["sig"]):
            return "SignatureDoesNotMatch", (
                "Specified signature does not match our calculation. server string to sign is:"
                + to_sign
            )
        if nonce in self.nonces:
            return "SignatureNonceUsed", ""
        self.nonces.add(nonce)
        return "", ""

    def _send_sms(
        self, request: web.Request, headers: dict[str, str], query: dict[str, str], body: bytes
    ) -> web.Response:
        problem, message = self._authenticate(request, headers, body)
        if problem:
            return self._error(problem, message or None)
        if headers.get("x-acs-action") != ACTION:
            return self._error("InvalidAction.NotFound")
        if headers.get("x-acs-version") != VERSION:
            return self._error("InvalidVersion")
        params = dict(query)
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))  # RPC form body
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return self._error(f"Missing{name}", f"{name} is mandatory for this action.")
        fault, self.fail_next = self.fail_next, None
        fault_message, self.fail_message = self.fail_message, None
        if fault is not None:
            return self._error(fault, fault_message)
        phones = params["PhoneNumbers"].split(",")
        if not all(_PHONE.fullmatch(p) for p in phones):
            return self._error("isv.MOBILE_NUMBER_ILLEGAL")
        if self.sign_name is not None and params["SignName"] != self.sign_name:
            return self._error("isv.SMS_SIGNATURE_ILLEGAL")
        if self.template_code is not None and params["TemplateCode"] != self.template_code:
            return self._error("isv.SMS_TEMPLATE_ILLEGAL")
        try:
            values = json.loads(params.get("TemplateParam", "{}"))
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                raise TypeError
        except (ValueError, TypeError):
            return self._error("isv.INVALID_JSON_PARAM")
        if self.template_param not in values:
            return self._error("isv.TEMPLATE_MISSING_PARAMETERS")
        for phone in phones:
            self.sent.append((phone, values[self.template_param]))
        return web.json_response(
            {
                "Code": "OK",
                "Message": "OK",
                "BizId": f"{uuid.uuid4().int % 10**15}^0",
                "RequestId": str(uuid.uuid4()).upper(),
            }
        )


@asynccontextmanager
async def aliyun_sms_fake(
    access_key_id: str, access_key_secret: str, **options: Any
) -> AsyncIterator[AliyunSmsFake]:
    """A running fake; ``options`` are ``AliyunSmsFake`` fields (sign_name, template_code, ...)."""
    fake = AliyunSmsFake(access_key_id, access_key_secret, **options)
    async with serving(fake.app()) as url:
        fake.url = url
        yield fake
