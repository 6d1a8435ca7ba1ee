from __future__ import annotations

import io
import json

from matching.cli import run_parse

KEYS = {"id", "kind", "trades", "headcount", "wages", "start", "location", "phones", "contact_name",
        "perks", "requirements", "risk"}


def _run(stdin: str, *args: str) -> tuple[int, list[dict]]:
    out = io.StringIO()
    rc = run_parse(list(args), io.StringIO(stdin), out)
    return rc, [json.loads(line) for line in out.getvalue().splitlines()]


def test_parse_lines_in_order() -> None:
    lines = [
        json.dumps({"id": 1, "text": "招小工2名 明天7点 日结200"}, ensure_ascii=False),
        json.dumps({"id": "b", "text": "吃饭了吗"}, ensure_ascii=False),
    ]
    rc, res = _run("\n".join(lines) + "\n", "--now", "2025-05-12T08:30:00+08:00")
    assert rc == 0
    assert [r["id"] for r in res] == [1, "b"]
    assert set(res[0]) == KEYS
    assert res[0]["kind"] == "job" and res[0]["start"]["at"] == "2025-05-13T07:00:00+08:00"
    assert res[1]["kind"] == "other"


def test_bad_lines_yield_errors_and_parsing_goes_on() -> None:
    big = json.dumps({"id": "big", "text": "招" * 1_000_001})
    lines = [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"id": "nt"}),
        json.dumps({"id": "empty", "text": "  "}),
        json.dumps({"id": "num", "text": 12}),
        big,
        json.dumps({"id": "ok", "text": "招保洁2名"}, ensure_ascii=False),
    ]
    rc, res = _run("\n".join(lines) + "\n")
    assert rc == 0
    assert len(res) == 7
    for r in res[:6]:
        assert set(r) == {"line", "id", "error"}
    assert [r["id"] for r in res[2:6]] == ["nt", "empty", "num", None]
    assert res[6]["id"] == "ok" and res[6]["kind"] == "job"


def test_bad_now_option() -> None:
    rc, res = _run("", "--now", "yesterday")
    assert rc == 2 and "error" in res[0]


def test_eval_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    item = {
        "id": "x", "text": "吃饭了吗", "now": "2025-05-12T08:30:00+08:00",
        "expected": {"kind": "other", "trades": [], "headcount": None, "wages": [], "start": None,
                     "location": None, "phones": [], "contact_name": None, "perks": [],
                     "requirements": {"age_min": None, "age_max": None, "gender": None,
                                      "experience": None, "certificates": [], "age": None},
                     "risk": {"level": "ok", "reasons": []}},
    }
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    out = io.StringIO()
    assert run_parse(["--eval", str(f)], io.StringIO(""), out) == 0
    assert "kind" in out.getvalue() and "100.0 %" in out.getvalue()
