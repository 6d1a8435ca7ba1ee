"""JSON from browsers (bot.web.jsonbody): a JSON object or a clear 4xx, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.web import texts
from bot.web.jsonbody import BadInput, field_str, json_error, parse_json_object, read_json_object

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refused(raw: bytes | str, **kw: Any) -> BadInput:
    with pytest.raises(BadInput) as info:
        parse_json_object(raw, **kw)
    return info.value


# -- parse_json_object ---------------------------------------------------------------------------
def test_a_plain_object_passes() -> None:
    body = json.dumps({"name": "张师傅", "n": [1, {"a": "b"}], "emoji": "😀"}, ensure_ascii=True)
    assert parse_json_object(body.encode()) == {"name": "张师傅", "n": [1, {"a": "b"}], "emoji": "😀"}
    assert parse_json_object('{"a": "李姐"}') == {"a": "李姐"}


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{}",
        b'{"a": "\xe6\x9d"}',  # truncated UTF-8 sequence
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 (CESU-style)
        b"\xef\xbb\xbf{}",  # a byte-order mark is not JSON
    ],
)
def test_invalid_utf8_or_bom_is_400(raw: bytes) -> None:
    exc = _refused(raw)
    assert exc.status == 400 and exc.message


@pytest.mark.parametrize(
    "raw", [b"", b"   ", b"not json", b'{"a": 1', b"{'a': 1}", b'{"a": NaN}', b'{"a": -Infinity}',
            b'{"a": 1}{"b": 2}', b'{"a": ' + b"9" * 5000 + b"}"],
)
def test_not_json_is_400(raw: bytes) -> None:
    assert _refused(raw).status == 400


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"12", b"null", b"true", b'[{"a": 1}]'])
def test_top_level_must_be_an_object(raw: bytes) -> None:
    assert _refused(raw).status == 400


def test_nesting_deeper_than_the_limit_is_400_without_recursion_error() -> None:
    levels = 100_000
    deep = "[" * levels + "]" * levels
    exc = _refused('{"a": ' + deep + "}", max_bytes=10 * levels)
    assert exc.status == 400 and exc.message == texts.TOO_DEEP
    exc = _refused(("{" + '"a":' ) * levels + "1" + "}" * levels, max_bytes=10 * levels)
    assert exc.status == 400
    # the top level counts as one level
    ok = '{"a": ' + "[" * 15 + "]" * 15 + "}"
    expected: list[Any] = []
    for _ in range(14):
        expected = [expected]
    assert parse_json_object(ok) == {"a": expected}
    assert _refused('{"a": ' + "[" * 16 + "]" * 16 + "}").status == 400
    assert parse_json_object('{"a": [[1]]}', max_depth=3) == {"a": [[1]]}
    assert _refused('{"a": [[1]]}', max_depth=2).status == 400


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = "[[[[{{{{" * 10 + '\\"' + "]]]]"
    assert parse_json_object(json.dumps({"t": text})) == {"t": text}


@pytest.mark.parametrize(
    "raw",
    [
        r'{"a": "\ud800"}',
        r'{"a": "x\udfffy"}',
        r'{"\ud83d": 1}',  # a high surrogate alone in a key
        r'{"a": ["ok", {"b": "\ude00\ud83d"}]}',  # reversed pair: two lone halves
        r'{"a": "\u0000"}',
        r'{"\u0000": 1}',
        r'{"a": {"b": ["x\u0000y"]}}',
    ],
)
def test_nul_and_lone_surrogates_are_400(raw: str) -> None:
    assert _refused(raw.encode()).status == 400
    assert _refused(raw).status == 400


def test_an_escaped_surrogate_pair_is_fine() -> None:
    assert parse_json_object(rb'{"a": "\ud83d\ude00"}') == {"a": "😀"}


def test_a_raw_lone_surrogate_in_a_str_is_400() -> None:
    assert _refused('{"a": "\ud800"}').status == 400


def test_oversize_is_413() -> None:
    body = json.dumps({"a": "x" * 100}).encode()
    assert _refused(body, max_bytes=50).status == 413
    assert _refused(body.decode(), max_bytes=50).status == 413
    assert _refused(json.dumps({"a": "字" * 30}, ensure_ascii=False), max_bytes=50).status == 413
    assert parse_json_object(body, max_bytes=len(body)) == {"a": "x" * 100}


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_an_object_or_bad_input(raw: bytes) -> None:
    try:
        assert isinstance(parse_json_object(raw), dict)
    except BadInput as exc:
        assert exc.status in {400, 413} and exc.message


_chars = st.characters(exclude_categories=()) | st.sampled_from(["\x00", "\ud800", "\udfff", "😀", "张"])
_texts = st.text(alphabet=_chars, max_size=6)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=30,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@SETTINGS
@given(st.dictionaries(_texts, _json_values, max_size=4))
def test_arbitrary_json_objects_round_trip_or_are_refused_for_bad_characters(obj: dict[str, Any]) -> None:
    raw = json.dumps(obj, ensure_ascii=True)
    has_bad = any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for s in _strings(obj) for c in s)
    try:
        got = parse_json_object(raw, max_depth=64, max_bytes=1 << 20)
    except BadInput as exc:
        assert exc.status == 400 and has_bad
    else:
        assert got == obj and not has_bad


# -- field_str ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [12, 1.5, True, None, ["a"], {"a": "b"}])
def test_field_str_refuses_other_json_types(value: object) -> None:
    with pytest.raises(BadInput) as info:
        field_str({"name": value}, "name", max_len=10)
    assert info.value.status == 400 and "name" in info.value.message
    with pytest.raises(BadInput):
        field_str({"name": value}, "name", max_len=10, required=False)


def test_field_str_required_length_and_optional() -> None:
    assert field_str({"name": "张师傅"}, "name", max_len=3) == "张师傅"
    assert field_str({"name": ""}, "name", max_len=3) == ""
    assert field_str({}, "name", max_len=3, required=False) == ""
    with pytest.raises(BadInput) as info:
        field_str({}, "name", max_len=3)
    assert info.value.status == 400
    with pytest.raises(BadInput) as info:
        field_str({"name": "张师傅好"}, "name", max_len=3)
    assert info.value.status == 400 and "3" in info.value.message
    with pytest.raises(BadInput):
        field_str({"name": "a\x00b"}, "name", max_len=10)


# -- read_json_object over real HTTP --------------------------------------------------------------
async def _echo(request: web.Request) -> web.Response:
    try:
        body = await read_json_object(request, max_bytes=1024)
        name = field_str(body, "name", max_len=12)
    except BadInput as exc:
        return json_error(exc)
    return web.json_response({"name": name})


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    app = web.Application()
    app.router.add_post("/echo", _echo)
    async with TestClient(TestServer(app)) as c:
        yield c


async def _post(client: TestClient, data: bytes, content_type: str | None, **kw: Any) -> tuple[int, Any]:
    headers = {"Content-Type": content_type} if content_type else {}
    resp = await client.post("/echo", data=data, headers=headers, **kw)
    body = await resp.json(content_type=None)
    return resp.status, body


async def test_read_json_object_accepts_json(client: TestClient) -> None:
    body = json.dumps({"name": "李姐"}).encode()
    assert await _post(client, body, "application/json") == (200, {"name": "李姐"})
    assert await _post(client, body, "Application/JSON; charset=UTF-8") == (200, {"name": "李姐"})


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data",
     "application/json; charset=iso-8859-1", None],
)
async def test_cross_site_form_content_types_are_415(client: TestClient, content_type: str | None) -> None:
    status, body = await _post(client, json.dumps({"name": "李姐"}).encode(), content_type)
    assert status == 415 and body == {"error": texts.NEEDS_JSON}


async def test_oversize_body_is_413_declared_or_streamed(client: TestClient) -> None:
    big = json.dumps({"name": "x" * 5000}).encode()
    status, body = await _post(client, big, "application/json")
    assert status == 413 and body == {"error": texts.TOO_LARGE}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(10):
            yield b" " * 500
        yield b"{}"

    status, _ = await _post(client, chunks(), "application/json")  # type: ignore[arg-type]
    assert status == 413


@pytest.mark.parametrize(
    "data",
    [b"\xff", b"nope", b"[]", rb'{"name": "\u0000"}', rb'{"name": "\ud800"}', b'{"name": 5}', b'{"name": null}',
     b'{"other": "x"}', b"[" * 400 + b"]" * 400],
)
async def test_bad_bodies_are_400_with_a_chinese_message(client: TestClient, data: bytes) -> None:
    status, body = await _post(client, data, "application/json")
    assert status == 400
    assert set(body) == {"error"} and any("\u4e00" <= c <= "\u9fff" for c in body["error"])


def test_json_error_shape() -> None:
    resp = json_error(BadInput(texts.BAD_REQUEST, 400))
    assert resp.status == 400 and resp.content_type == "application/json"
    assert json.loads(resp.text or "") == {"error": "请求格式不对"}
