"""Sending a login code by SMS, behind one small interface.

* ``TencentSms`` — 腾讯云短信 API 3.0: ``SendSms`` version ``2021-01-11``, a JSON POST signed with
  TC3-HMAC-SHA256 (the signed headers are ``content-type;host;x-tc-action``).
* ``AliyunSms`` — 阿里云短信 dysmsapi ``SendSms`` version ``2017-05-25``, signed with Aliyun's
  **V3 signature, ACS3-HMAC-SHA256**: the business parameters travel in the query string (as in
  Aliyun's own SDK for this RPC-style API), the body is empty, and every ``x-acs-*`` header and
  ``host`` are signed.
* ``LogSms`` — demo mode: nothing is sent; the log says "code sent to 138****1234" and the last
  code per phone is kept in memory. Only chosen by ``sms.provider: log``.

Every failure is an ``SmsError``: ``permanent`` when trying again cannot help (a wrong number,
refused credentials, an unapproved sign or template), not permanent for network trouble, 5xx
answers and rate limits (a later try can succeed). ``reason`` tells the caller what to say.

The code itself is never logged, and provider messages are scrubbed of it before they are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from bot.login.http import HttpClient, Unreachable

if TYPE_CHECKING:
    from bot.config import SmsConfig

log = logging.getLogger("bot.login.sms")

TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com"
ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com"
DEFAULT_TIMEOUT = 10.0

SmsFailure = Literal["phone", "limit", "config", "unavailable"]
"""What went wrong, for the caller: ``phone`` — the number cannot get SMS (tell the person);
``limit`` — too many codes for now (tell them to wait); ``config`` — our account, credentials, sign
or template (alert the operators); ``unavailable`` — no usable answer (try again later)."""


class SmsError(Exception):
    """permanent: True when retrying cannot help (bad phone, bad template, auth refused)"""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str = "",
        reason: SmsFailure | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        """The provider's error code (e.g. ``LimitExceeded.PhoneNumberDailyLimit``), or ours."""
        self.reason: SmsFailure = reason or ("config" if permanent else "unavailable")


class SmsSender(Protocol):
    """Sends login codes by SMS (one per provider)."""

    name: str

    async def send_code(self, phone: str, code: str) -> None:
        """Send ``code`` to ``phone`` (a mainland mobile number); raises ``SmsError``."""
        ...

    async def close(self) -> None:
        """Release the HTTP session, if the sender made one."""
        ...


# --- phones and codes ------------------------------------------------------------------------
_MAINLAND = re.compile(r"1[3-9][0-9]{9}")
_CODE = re.compile(r"[0-9]{4,8}")


def mainland_phone(phone: str) -> str:
    """The 11 digits of a mainland mobile number written as ``13812341234``, ``8613812341234``
    or ``+86 138-1234-1234``; ``SmsError`` (permanent, reason ``phone``) for anything else."""
    digits = re.sub(r"[\s-]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MAINLAND.fullmatch(digits):
        raise SmsError(
            "not a mainland mobile number", permanent=True, code="InvalidPhone", reason="phone"
        )
    return digits


def mask_phone(phone: str) -> str:
    """``138****1234`` — what logs may say about a phone number."""
    digits = re.sub(r"[^0-9]", "", phone)[-11:]
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def _check_code(code: str) -> None:
    if not _CODE.fullmatch(code):
        raise ValueError("a login code is 4 to 8 ASCII digits")  # a caller's bug, not an SMS error


def _scrub(text: object, code: str, limit: int = 200) -> str:
    """A provider's message, shortened, with the code (should it echo it) blotted out."""
    text = str(text or "")
    return (text.replace(code, "*" * len(code)) if code else text)[:limit]


def _base(endpoint: str) -> tuple[str, str, str]:
    """Scheme+host of the base URL, its host (``host[:port]``, as the Host header says it) and
    its path (``/`` when empty)."""
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) base URL: {endpoint!r}")
    return f"{parts.scheme}://{parts.netloc}", parts.netloc.lower(), parts.path or "/"


def _classify(code: str, rules: Iterable[tuple[str, bool, SmsFailure]]) -> tuple[bool, SmsFailure]:
    """The first rule that matches ``code``: written in full, or a prefix ending in ``*``.
    Codes no rule knows are taken as passing trouble (not permanent)."""
    for pattern, permanent, reason in rules:
        if code == pattern or (pattern.endswith("*") and code.startswith(pattern[:-1])):
            return permanent, reason
    return False, "unavailable"


# --- Tencent Cloud (TC3-HMAC-SHA256) ------------------------------------------------------------
TENCENT_SERVICE = "sms"
TENCENT_ACTION = "SendSms"
TENCENT_VERSION = "2021-01-11"
TENCENT_SIGNED_HEADERS = ("content-type", "host", "x-tc-action")
_TENCENT_JSON = "application/json; charset=utf-8"

TENCENT_RULES: tuple[tuple[str, bool, SmsFailure], ...] = (
    # the number
    ("InvalidParameterValue.IncorrectPhoneNumber", True, "phone"),
    ("FailedOperation.PhoneNumberInBlacklist", True, "phone"),
    ("FailedOperation.PhoneNumberParseFail", True, "phone"),
    ("UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", True, "phone"),
    # per-number and per-app limits: later may work
    ("LimitExceeded.PhoneNumberCountLimit", True, "config"),  # too many numbers: our bug
    ("LimitExceeded.*", False, "limit"),
    ("RequestLimitExceeded*", False, "limit"),
    # Tencent's side
    ("InternalError*", False, "unavailable"),
    ("ResourceUnavailable*", False, "unavailable"),
    ("ServiceUnavailable*", False, "unavailable"),
    # credentials, account, sign, template, request shape: someone must fix something
    ("AuthFailure*", True, "config"),
    ("UnauthorizedOperation*", True, "config"),
    ("FailedOperation*", True, "config"),
    ("InvalidParameter*", True, "config"),  # also InvalidParameterValue.*
    ("MissingParameter*", True, "config"),
    ("UnsupportedOperation*", True, "config"),
    ("InvalidAction*", True, "config"),
    ("NoSuchVersion", True, "config"),
    ("UnsupportedRegion", True, "config"),
)


def tencent_error(code: str, message: object, sms_code: str = "") -> SmsError:
    permanent, reason = _classify(code, TENCENT_RULES)
    text = _scrub(message, sms_code)
    return SmsError(f"tencent: {code}: {text}", permanent=permanent, code=code, reason=reason)


def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    timestamp: int,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    payload: bytes,
    method: str = "POST",
    uri: str = "/",
    query: str = "",
) -> str:
    """The ``Authorization`` header of Tencent Cloud API 3.0 (signature v3, TC3-HMAC-SHA256).

    The canonical request joins the method, URI, query, the signed headers as ``name:value``
    (names and values lower-cased and trimmed, sorted by name), their names, and the payload's
    SHA-256; the signing key is derived from ``"TC3" + SecretKey`` through the UTC date, the
    service and ``tc3_request``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    names = sorted({h.lower() for h in signed_headers})
    canonical_headers = "".join(f"{n}:{lowered[n].strip().lower()}\n" for n in names)
    signed = ";".join(names)
    canonical_request = "\n".join(
        (method.upper(), uri, query, canonical_headers, signed, hashlib.sha256(payload).hexdigest())
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        (
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        )
    )
    key = _hmac256(("TC3" + secret_key).encode("utf-8"), date)
    key = _hmac256(key, service)
    key = _hmac256(key, "tc3_request")
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )


class TencentSms:
    """腾讯云短信 SendSms: one number, the code as the template's single parameter ``{1}``."""

    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        region: str = "ap-guangzhou",
        endpoint: str = TENCENT_ENDPOINT,
        timeout: float = DEFAULT_TIMEOUT,
        http: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret_id = secret_id
        self._secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.region = region
        origin, self.host, self.path = _base(endpoint)
        self.url = origin + self.path
        self.clock = clock
        self.http = HttpClient(timeout=timeout, session=http)

    def request(self, phone: str, code: str) -> tuple[dict[str, str], bytes]:
        """The headers and body of the SendSms call (``phone`` already 11 digits)."""
        payload = {
            "PhoneNumberSet": ["+86" + phone],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": self.template_id,
            "TemplateParamSet": [code],
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(self.clock())
        headers = {
            "Content-Type": _TENCENT_JSON,
            "Host": self.host,
            "X-TC-Action": TENCENT_ACTION,
            "X-TC-Version": TENCENT_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        headers["Authorization"] = tc3_authorization(
            secret_id=self.secret_id,
            secret_key=self._secret_key,
            service=TENCENT_SERVICE,
            timestamp=timestamp,
            headers=headers,
            signed_headers=TENCENT_SIGNED_HEADERS,
            payload=body,
            uri=self.path,
        )
        return headers, body

    async def send_code(self, phone: str, code: str) -> None:
        digits = mainland_phone(phone)
        _check_code(code)
        headers, body = self.request(digits, code)
        try:
            status, raw = await self.http.request("POST", self.url, headers=headers, data=body)
        except Unreachable as exc:
            raise SmsError(f"tencent: {exc}", permanent=False) from exc
        serial = _tencent_outcome(status, raw, code)
        log.info("sms tencent: code sent to %s (serial %s)", mask_phone(digits), serial)

    async def close(self) -> None:
        await self.http.close()


def _tencent_outcome(status: int, raw: bytes, code: str) -> str:
    """The SerialNo of an accepted message; ``SmsError`` for everything else."""
    if status >= 500:
        raise SmsError(f"tencent: HTTP {status}", permanent=False, code=f"HTTP{status}")
    try:
        answer = json.loads(raw)
        response = answer["Response"]
        if not isinstance(response, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise SmsError(f"tencent: HTTP {status}, not the API's JSON", permanent=False) from exc
    error = response.get("Error")
    if isinstance(error, dict):
        raise tencent_error(str(error.get("Code") or "Unknown"), error.get("Message"), code)
    statuses = response.get("SendStatusSet")
    if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
        raise SmsError("tencent: the answer has no SendStatusSet", permanent=False)
    first: dict[str, Any] = statuses[0]
    result = str(first.get("Code") or "")
    if result != "Ok":
        raise tencent_error(result or "Unknown", first.get("Message"), code)
    return str(first.get("SerialNo") or "")


# --- Aliyun (ACS3-HMAC-SHA256, signature V3) ------------------------------------------------
ALIYUN_ACTION = "SendSms"
ALIYUN_VERSION = "2017-05-25"
ALIYUN_ALGORITHM = "ACS3-HMAC-SHA256"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

ALIYUN_RULES: tuple[tuple[str, bool, SmsFailure], ...] = (
    ("isv.MOBILE_NUMBER_ILLEGAL", True, "phone"),
    ("isv.BUSINESS_LIMIT_CONTROL", False, "limit"),  # per-number minute/hour/day flow control
    ("isv.DAY_LIMIT_CONTROL", False, "limit"),
    ("isv.MONTH_LIMIT_CONTROL", False, "limit"),
    ("Throttling*", False, "limit"),
    ("isp.SYSTEM_ERROR", False, "unavailable"),
    ("isv.SYSTEM_ERROR", False, "unavailable"),
    ("InternalError*", False, "unavailable"),
    ("ServiceUnavailable*", False, "unavailable"),
    ("SignatureNonceUsed", False, "unavailable"),  # a fresh nonce next time
    ("SignatureDoesNotMatch", True, "config"),
    ("IncompleteSignature", True, "config"),
    ("InvalidAccessKeyId*", True, "config"),
    ("InvalidTimeStamp*", True, "config"),  # our clock is off
    ("Forbidden*", True, "config"),
    ("isp.RAM_PERMISSION_DENY", True, "config"),
    ("isv.*", True, "config"),  # sign, template, balance, account, parameters
    ("Missing*", True, "config"),
    ("InvalidParameter*", True, "config"),
    ("InvalidAction*", True, "config"),
    ("InvalidVersion", True, "config"),
)


def aliyun_error(code: str, message: object, sms_code: str = "") -> SmsError:
    permanent, reason = _classify(code, ALIYUN_RULES)
    text = _scrub(message, sms_code)
    return SmsError(f"aliyun: {code}: {text}", permanent=permanent, code=code, reason=reason)


def acs_encode(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 (only ``A-Z a-z 0-9 - _ . ~`` stay as they are)."""
    return quote(value, safe="~", encoding="utf-8")


def acs_query(params: Mapping[str, str]) -> str:
    """The canonical query string: encoded names and values, sorted by name, ``&``-joined."""
    return "&".join(f"{acs_encode(k)}={acs_encode(v)}" for k, v in sorted(params.items()))


def acs3_authorization(
    *,
    access_key_id: str,
    access_key_secret: str,
    method: str,
    uri: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    payload_sha256: str,
) -> str:
    """The ``Authorization`` header of Aliyun's V3 signature (ACS3-HMAC-SHA256).

    Canonical request: method, URI, canonical query, the signed headers as ``name:value``
    (names lower-cased, values trimmed, sorted by name), their names, the payload's SHA-256; the
    string to sign is the algorithm and the canonical request's SHA-256; the signature is the
    hex HMAC-SHA256 of it under the AccessKey secret."""
    lowered = {k.lower(): v for k, v in headers.items()}
    names = sorted({h.lower() for h in signed_headers})
    canonical_headers = "".join(f"{n}:{lowered[n].strip()}\n" for n in names)
    signed = ";".join(names)
    canonical_request = "\n".join(
        (method.upper(), uri, query, canonical_headers, signed, payload_sha256)
    )
    string_to_sign = (
        f"{ALIYUN_ALGORITHM}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
    )
    signature = hmac.new(
        access_key_secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return f"{ALIYUN_ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"


class AliyunSms:
    """阿里云短信 SendSms: one number, ``TemplateParam`` = ``{"<template_param>": code}``."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        template_param: str = "code",
        endpoint: str = ALIYUN_ENDPOINT,
        timeout: float = DEFAULT_TIMEOUT,
        http: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.template_param = template_param
        self.origin, self.host, self.path = _base(endpoint)
        self.clock = clock
        self.nonce = nonce
        self.http = HttpClient(timeout=timeout, session=http)

    def request(self, phone: str, code: str) -> tuple[str, dict[str, str]]:
        """The URL (query already canonical) and headers of the SendSms call; the body is empty."""
        params = {
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({self.template_param: code}, separators=(",", ":")),
        }
        query = acs_query(params)
        headers = {
            "host": self.host,
            "x-acs-action": ALIYUN_ACTION,
            "x-acs-version": ALIYUN_VERSION,
            "x-acs-date": datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": self.nonce(),
            "x-acs-content-sha256": _EMPTY_SHA256,
        }
        headers["Authorization"] = acs3_authorization(
            access_key_id=self.access_key_id,
            access_key_secret=self._secret,
            method="POST",
            uri=self.path,
            query=query,
            headers=headers,
            signed_headers=headers.keys(),
            payload_sha256=_EMPTY_SHA256,
        )
        headers["Accept"] = "application/json"
        return f"{self.origin}{self.path}?{query}", headers

    async def send_code(self, phone: str, code: str) -> None:
        digits = mainland_phone(phone)
        _check_code(code)
        url, headers = self.request(digits, code)
        try:
            status, raw = await self.http.request("POST", URL(url, encoded=True), headers=headers)
        except Unreachable as exc:
            raise SmsError(f"aliyun: {exc}", permanent=False) from exc
        biz_id = _aliyun_outcome(status, raw, code)
        log.info("sms aliyun: code sent to %s (BizId %s)", mask_phone(digits), biz_id)

    async def close(self) -> None:
        await self.http.close()


def _aliyun_outcome(status: int, raw: bytes, code: str) -> str:
    """The BizId of an accepted message; ``SmsError`` for everything else. Aliyun answers
    business errors with HTTP 200 and gateway errors (signature, key) with 4xx, both as JSON."""
    if status >= 500:
        raise SmsError(f"aliyun: HTTP {status}", permanent=False, code=f"HTTP{status}")
    try:
        answer = json.loads(raw)
        if not isinstance(answer, dict):
            raise TypeError
        result = str(answer["Code"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SmsError(f"aliyun: HTTP {status}, not the API's JSON", permanent=False) from exc
    if result != "OK":
        raise aliyun_error(result, answer.get("Message"), code)
    return str(answer.get("BizId") or "")


# --- demo mode ------------------------------------------------------------------------------
class LogSms:
    """Sends nothing: logs "code sent to 138****1234" and remembers the last code per phone (for
    the demo page and tests). Never picked unless the configuration says ``provider: log``."""

    name = "log"
    max_phones = 1000

    def __init__(self) -> None:
        self._last: OrderedDict[str, str] = OrderedDict()

    async def send_code(self, phone: str, code: str) -> None:
        digits = mainland_phone(phone)
        _check_code(code)
        self._last[digits] = code
        self._last.move_to_end(digits)
        while len(self._last) > self.max_phones:
            self._last.popitem(last=False)
        log.info("sms log: code sent to %s (demo mode, no SMS)", mask_phone(digits))

    def last_code(self, phone: str) -> str | None:
        try:
            return self._last.get(mainland_phone(phone))
        except SmsError:
            return None

    async def close(self) -> None:
        return None


def sms_sender(cfg: SmsConfig, http: aiohttp.ClientSession | None = None) -> SmsSender | None:
    """The sender the configuration asks for; None when ``provider`` is ``none``."""
    timeout = cfg.request_timeout_seconds
    if cfg.provider == "none":
        return None
    if cfg.provider == "log":
        log.warning("sms.provider is 'log': login codes are only logged, never sent (demo mode)")
        return LogSms()
    if cfg.provider == "tencent":
        t = cfg.tencent
        return TencentSms(
            secret_id=t.secret_id,
            secret_key=t.secret_key,
            sdk_app_id=t.sdk_app_id,
            sign_name=t.sign_name,
            template_id=t.template_id,
            region=t.region,
            endpoint=t.endpoint,
            timeout=timeout,
            http=http,
        )
    if cfg.provider == "aliyun":
        a = cfg.aliyun
        return AliyunSms(
            access_key_id=a.access_key_id,
            access_key_secret=a.access_key_secret,
            sign_name=a.sign_name,
            template_code=a.template_code,
            template_param=a.template_param,
            endpoint=a.endpoint,
            timeout=timeout,
            http=http,
        )
    raise ValueError(f"unknown sms provider {cfg.provider!r}")
