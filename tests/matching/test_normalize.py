from __future__ import annotations

import pytest

from matching.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("招小工２名　明天７点", "招小工2名 明天7点"),
        ("ＡＢＣ Wechat", "abc wechat"),
        ("日结\u200b200\u200d元", "日结200元"),
        ("第一行\n第二行\r\n\t第三行", "第一行 第二行 第三行"),
        ("  多   空格  ", "多 空格"),
        ("①②③", "123"),
        ("\u202e反转\u202c文字", "反转文字"),
        ("电话：１３８－００１３", "电话:138-0013"),
        ("\x00控制\x07字符", "控制 字符"),
        ("", ""),
        ("\ud800坏", "坏"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("bad", [None, 123, b"bytes", ["list"]])
def test_normalize_non_string(bad: object) -> None:
    assert normalize(bad) == ""  # type: ignore[arg-type]
