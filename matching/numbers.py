"""Money and count numbers as people write them: 200, 3千5, 3.5k, 1.2万, 两百五, 1块2, 5毛.

Chinese numerals go through cn2an on the *isolated* span only (cn2an over a whole sentence turns
两百一天 into 210天). Values are ``Decimal`` so money can become integer fen without float error.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import cn2an

__all__ = ["AMOUNT_PATTERN", "CN_DIGIT_VALUE", "parse_amount", "parse_count"]

CN_DIGIT_VALUE = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "仨": 3, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_CN_NUM = "零〇一二两三四五六七八九十百千万"
_MULT = {"k": 1000, "千": 1000, "w": 10000, "万": 10000}

# One amount. Order matters: the longest forms first.
AMOUNT_PATTERN = (
    r"(?:"
    r"\d{1,2}块(?:[一二两三四五六七八九\d](?![\d.天日个人号点月]))毛?"  # 1块2 (yuan.jiao)
    r"|[一二两三四五六七八九十]块[一二三四五六七八九](?![十百千万])毛?"  # 两块五
    r"|\d+(?:\.\d+)?[kw万千](?:\d{1,3}(?![\d.]))?"  # 3千5, 3.5k, 1.2万, 3k5
    r"|\d{1,2}毛"  # 5毛 = 0.5 yuan
    r"|\d+(?:\.\d+)?"
    r"|[一二两三四五六七八九十][十百千万]"  # 两百五, 三千五, 一百八十 (a trailing 一 before 天 is "per")
    r"(?:[零〇二两三四五六七八九十百千万]|一(?![天个斤竿杆件小周星月日平方次块元]))" + "{0,6}"
    r"|十[一二三四五六七八九]?"
    r"|[一二两三四五六七八九]毛"  # 三毛
    r"|[一二两三四五六七八九](?=[块元])"  # 五块
    r")"
)
_YUAN_JIAO_RE = re.compile(r"(\d+(?:\.\d+)?|[一二两三四五六七八九十])[块元]([一二两三四五六七八九\d])毛?")
_MULT_RE = re.compile(r"(\d+(?:\.\d+)?)([kw万千])(\d{1,3})?")


@lru_cache(maxsize=4096)
def _cn(span: str) -> Decimal | None:
    try:
        v = cn2an.cn2an(span, "smart")
    except Exception:
        return None
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return None


def _dec(s: str) -> Decimal | None:
    try:
        return Decimal(s)
    except (InvalidOperation, ValueError):
        return None


def parse_amount(span: str) -> Decimal | None:
    """Value of one amount span (already normalised: half-width, lowercase). None if unreadable."""
    if not span:
        return None
    s = span.strip()
    m = _YUAN_JIAO_RE.fullmatch(s)
    if m:
        y = _dec(m.group(1)) if m.group(1)[0].isdigit() else _cn(m.group(1))
        j = m.group(2)
        jd = Decimal(j) if j.isdigit() else Decimal(CN_DIGIT_VALUE.get(j, 0))
        return None if y is None else y + jd / 10
    m = _MULT_RE.fullmatch(s)
    if m:
        base = _dec(m.group(1))
        if base is None:
            return None
        mult = _MULT[m.group(2)]
        val = base * mult
        if m.group(3):
            tail = m.group(3)
            # 3千5 → 3500, 3千50 → 3050, 1万2 → 12000
            val += Decimal(tail) * (mult // (10 ** len(tail)))
        return val
    if s.endswith("毛"):
        v = _dec(s[:-1]) if s[0].isdigit() else _cn(s[:-1])
        return None if v is None else v / 10
    if s[0].isdigit():
        return _dec(s)
    return _cn(s)


def parse_count(span: str) -> int | None:
    """A small count (headcount, days): '3', '两', '十二', '几' → None."""
    if not span:
        return None
    if span.isdigit():
        n = int(span)
        return n if n < 100000 else None
    if span in CN_DIGIT_VALUE:
        return CN_DIGIT_VALUE[span]
    v = _cn(span)
    if v is None or v != v.to_integral_value():
        return None
    return int(v)
