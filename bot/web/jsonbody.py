"""JSON from browsers, in one place: a JSON object or a clear 4xx, never a 500.

    try:
        body = await read_json_object(request)
        name = field_str(body, "name", max_len=12)
    except BadInput as exc:
        return json_error(exc)

What is refused, and how:

* 415: the request is not ``Content-Type: application/json`` (UTF-8). A cross-site HTML form can
  only send ``text/plain``, ``application/x-www-form-urlencoded`` or ``multipart/form-data``
  without a CORS preflight, so such a POST never reaches the handler's logic;
* 413: the body is over ``max_bytes`` (the declared length is checked before reading, and the
  stream is read no further than the cap);
* 400: invalid UTF-8; not JSON (``NaN``/``Infinity`` included); a top level that is not an
  object; nesting deeper than ``max_depth`` (counted before ``json.loads`` runs, so a hundred
  thousand ``[`` cannot exhaust the recursion limit); a NUL or a lone surrogate anywhere in a key
  or a value, escaped (``\\u0000``, ``\\ud800``) or not — PostgreSQL refuses NUL in text and no
  database driver can encode a lone surrogate; a field of the wrong JSON type.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from bot.web import texts

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "BadInput",
    "field_str",
    "json_error",
    "parse_json_object",
    "read_json_object",
]

MAX_DEPTH = 16
MAX_BYTES = 64 * 1024
_READ_CHUNK = 64 * 1024

# A JSON string literal (escapes included), and the characters that open or close a container.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


class BadInput(Exception):
    """A request the client got wrong: ``status`` (400, 413 or 415) and a short Chinese ``message``
    that can be shown to the person; ``detail`` is English, for logs only."""

    def __init__(self, message: str, status: int = 400, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message = message
        self.status = status
        self.detail = detail


def _too_deep(text: str, max_depth: int) -> bool:
    """True when containers nest deeper than ``max_depth``; linear, no recursion."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    # Brackets inside string literals do not nest. An unterminated string is left in place: its
    # brackets may count, and such text is not JSON anyway.
    bare = _STRING.sub('""', text) if '"' in text else text
    depth = 0
    for m in _BRACKET.finditer(bare):
        if m.group() in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif depth:
            depth -= 1
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _has_bad_char(value: Any) -> bool:
    """A NUL or a lone surrogate in any key or string value (iterative; depth is bounded anyway)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD_CHAR.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json_object(
    raw: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES
) -> dict[str, Any]:
    """``raw`` as a JSON object, or ``BadInput`` (413 oversize, 400 otherwise)."""
    if isinstance(raw, str):
        if len(raw) > max_bytes:  # every character is at least one byte
            raise BadInput(texts.TOO_LARGE, 413, "body too large")
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError:
            raise BadInput(texts.BAD_CHARACTERS, 400, "lone surrogate") from None
        if size > max_bytes:
            raise BadInput(texts.TOO_LARGE, 413, "body too large")
        text = raw
    else:
        if len(raw) > max_bytes:
            raise BadInput(texts.TOO_LARGE, 413, "body too large")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(texts.BAD_ENCODING, 400, "invalid UTF-8") from None
    if _too_deep(text, max_depth):
        raise BadInput(texts.TOO_DEEP, 400, f"nested deeper than {max_depth}")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise BadInput(texts.BAD_REQUEST, 400, "not JSON") from None
    if not isinstance(obj, dict):
        raise BadInput(texts.NOT_AN_OBJECT, 400, "top level is not an object")
    # Raw NUL is not valid JSON and valid UTF-8 holds no surrogates: only escapes can bring them.
    if "\\u" in text and _has_bad_char(obj):
        raise BadInput(texts.BAD_CHARACTERS, 400, "NUL or lone surrogate")
    return obj


def _is_json_content_type(request: web.Request) -> bool:
    if request.content_type != "application/json":
        return False
    charset = request.charset
    return charset is None or charset.lower() in {"utf-8", "utf8"}


async def read_json_object(
    request: web.Request, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES
) -> dict[str, Any]:
    """The request's body as a JSON object: 415 unless ``application/json``, 413 over
    ``max_bytes`` (read no further than that), then as ``parse_json_object``."""
    if not _is_json_content_type(request):
        raise BadInput(texts.NEEDS_JSON, 415, f"content type {request.content_type!r}")
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise BadInput(texts.TOO_LARGE, 413, "declared body too large")
    body = bytearray()
    while True:
        chunk = await request.content.read(_READ_CHUNK)
        if not chunk:
            break
        body += chunk
        if len(body) > max_bytes:
            raise BadInput(texts.TOO_LARGE, 413, "body too large")
    return parse_json_object(bytes(body), max_depth=max_depth, max_bytes=max_bytes)


def field_str(obj: dict[str, Any], key: str, *, max_len: int, required: bool = True) -> str:
    """``obj[key]`` as a string of at most ``max_len`` characters.

    A missing key is a 400 when ``required`` (otherwise ``""``); a value of another JSON type —
    number, boolean, list, object or null — is always a 400. An empty string is returned as is.
    """
    if key not in obj:
        if required:
            raise BadInput(texts.FIELD_MISSING.format(key=key), 400, f"missing {key}")
        return ""
    value = obj[key]
    if not isinstance(value, str):
        raise BadInput(texts.FIELD_NOT_TEXT.format(key=key), 400, f"{key} is {type(value).__name__}")
    if len(value) > max_len:
        raise BadInput(texts.FIELD_TOO_LONG.format(key=key, max_len=max_len), 400, f"{key} too long")
    if _BAD_CHAR.search(value):  # obj may not have come through parse_json_object
        raise BadInput(texts.BAD_CHARACTERS, 400, f"{key}: NUL or lone surrogate")
    return value


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def json_error(exc: BadInput) -> web.Response:
    """``{"error": message}`` with the exception's status."""
    return web.json_response({"error": exc.message}, status=exc.status, dumps=_dumps)
