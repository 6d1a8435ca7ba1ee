"""``linggong parse`` never drops a line: one output line per input line, whatever the bytes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.cli import MAX_LINE_BYTES, run_parse

ROOT = Path(__file__).resolve().parents[2]
NOW = "2025-05-12T08:30:00+08:00"


def _cli(stdin: bytes, *args: str, **env: str) -> tuple[int, bytes]:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "parse", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        timeout=120,
        check=False,
    )
    assert proc.stderr == b"", proc.stderr.decode("utf-8", "replace")
    return proc.returncode, proc.stdout


def _post(rid: object, text: str) -> bytes:
    return json.dumps({"id": rid, "text": text}, ensure_ascii=False).encode()


def test_a_bad_byte_spoils_only_its_own_line_through_the_real_cli() -> None:
    lines = [
        _post(1, "招小工2名 明天7点 日结200"),
        _post(2, "夏茂镇招采茶工5名 一斤1块2"),
        _post(3, "招保洁") [:-8] + b"\xff\xfe" + _post(3, "招保洁")[-8:],  # one bad byte pair
        _post(4, "急招泥水师傅3个 一天380"),
        b"not json at all",
        b"[1, 2, 3]",
        json.dumps({"id": 7, "text": 12}).encode(),
        json.dumps({"id": 8, "text": "招小工", "now": 5}, ensure_ascii=False).encode(),
        b"",  # an empty line in the middle
        _post(10, "招搬运工2名") + b"\r",  # CRLF
        b"\xe6\x8b",  # a truncated character alone
        _post(12, "招电工1名 后天8点"),  # no newline at the end
    ]
    rc, out = _cli(b"\n".join(lines), "--now", NOW)
    assert rc == 0
    got = [json.loads(line) for line in out.decode("utf-8").split("\n") if line]
    assert len(got) == len(lines)
    assert got[2] == {"line": 3, "id": None, "error": "invalid UTF-8"}
    assert got[10] == {"line": 11, "id": None, "error": "invalid UTF-8"}
    assert got[4] == {"line": 5, "id": None, "error": "invalid json"}
    assert got[5] == {"line": 6, "id": None, "error": "not a json object"}
    assert got[6] == {"line": 7, "id": 7, "error": "missing text"}
    assert got[7] == {"line": 8, "id": 8, "error": "invalid now"}
    assert got[8] == {"line": 9, "id": None, "error": "empty line"}
    for i in (0, 1, 3, 9, 11):
        assert got[i]["id"] == i + 1 and got[i]["kind"] == "job", got[i]
    assert got[0]["start"]["at"] == "2025-05-13T07:00:00+08:00"


def test_output_is_utf8_whatever_the_locale() -> None:
    rc, out = _cli(_post("a", "招小工2名 夏茂") + b"\n", "--now", NOW, LC_ALL="C", LANG="C",
                   PYTHONIOENCODING="ascii", PYTHONUTF8="0")
    assert rc == 0
    [res] = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert res["id"] == "a" and res["location"]["town"] == "夏茂镇"


def _run_bytes(data: bytes) -> list[dict]:
    out = io.StringIO()
    assert run_parse(["--now", NOW], io.BytesIO(data), out) == 0
    text = out.getvalue()
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def test_an_oversize_line_is_one_error_and_the_next_line_is_read() -> None:
    big = b'{"id": "big", "text": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}'
    res = _run_bytes(big + b"\n" + _post("ok", "招保洁2名") + b"\n")
    assert res[0] == {"line": 1, "id": None, "error": "line too long"}
    assert res[1]["id"] == "ok" and len(res) == 2


def test_a_bom_on_the_first_line_is_ignored_and_text_streams_still_work() -> None:
    res = _run_bytes(b"\xef\xbb\xbf" + _post(1, "招小工") + b"\n")
    assert res[0]["id"] == 1 and "error" not in res[0]
    out = io.StringIO()
    run_parse(["--now", NOW], io.StringIO('{"id": 1, "text": "招小工"}\n"\ud800"\n'), out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and json.loads(lines[1]) == {"line": 2, "id": None, "error": "invalid UTF-8"}


_line_bytes = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=20).map(lambda t: _post("t", t)),
    st.sampled_from([b"", b"\r", b"{}", b"null", b'{"text": "\\ud800"}', b'{"text": "\\u0000"}', b"[" * 3000,
                     b'{"id": 1, "text": "\xe6\x8b\x9b\xe5\xb0\x8f\xe5\xb7\xa5"}', b"\xff", b"\xc0\xaf"]),
).map(lambda b: b.replace(b"\n", b" "))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line_bytes, max_size=12), st.booleans())
def test_lines_out_equal_lines_in_for_arbitrary_byte_lines(lines: list[bytes], final_newline: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    res = _run_bytes(data)
    # An empty last line without its newline is no line at all (nothing follows the last "\n").
    unterminated_empty = bool(lines) and not final_newline and lines[-1] == b""
    assert len(res) == len(lines) - unterminated_empty
    for n, r in enumerate(res, start=1):
        assert isinstance(r, dict)
        if "error" in r:
            assert r["line"] == n
