"""Phone and ID-number detection and masking that beat common obfuscation.

Posts hide numbers behind spaces and dashes (138 0013-8000), full-width digits (１３８),
Chinese numerals (一三八 / 幺三八), emoji keycaps (1️⃣3️⃣8️⃣), circled digits (①③⑧) and zero-width
characters. We scan the *raw* text: a regex finds runs of digit-like characters joined by
separators, each run is turned into a digit string that remembers the raw index of every digit,
and numbers are only accepted when they start and end on a group boundary (a separator or a
change between Chinese numerals and other digits). That keeps "150-200 13800138000" from being
read as the mobile 15020013800.

Masking (reference §5.3) replaces every detected number by ``138****5678`` (mobile),
``0598-***2345`` (landline) or ``3504**********1234`` (ID), then runs a safety pass that stars
the middle of any run still holding 11 or more digits, so no 11-digit mobile stays readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matching._unicode_digits import DIGIT_RUNS, MULTI_DIGIT_CHARS
from matching.normalize import INVISIBLE_CHARS

__all__ = [
    "FoundNumber",
    "digit_runs",
    "extract_phones",
    "find_numbers",
    "is_mobile",
    "mask_numbers",
]

# --- character tables --------------------------------------------------------------------------

_CN_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "◯": "0",
    "一": "1", "壹": "1", "幺": "1", "弌": "1",
    "二": "2", "贰": "2", "貳": "2", "两": "2", "兩": "2", "弍": "2",
    "三": "3", "叁": "3", "參": "3", "弎": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9",
}

_DIGIT_OF: dict[str, str] = {}
for _start, _value, _count in DIGIT_RUNS:
    for _i in range(_count):
        _DIGIT_OF[chr(_start + _i)] = str(_value + _i)
for _cp, _digits in MULTI_DIGIT_CHARS.items():
    _DIGIT_OF[chr(_cp)] = _digits
_DIGIT_OF.update(_CN_DIGITS)

_CN_SET = frozenset(_CN_DIGITS)
_MAX_DIGITS_PER_CHAR = max(len(v) for v in _DIGIT_OF.values())


def _char_class(chars: frozenset[str] | set[str]) -> str:
    """Build a compact regex character class body from a set of characters."""
    cps = sorted(ord(c) for c in chars)
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        a, b = chr(cps[i]), chr(cps[j])
        parts.append(re.escape(a) if i == j else f"{re.escape(a)}-{re.escape(b)}")
        i = j + 1
    return "".join(parts)


_DIGIT_CLASS = _char_class(set(_DIGIT_OF))
# Characters that may sit between the digits of one number.
_SEP_CLASS = (
    r"\s\x00-\x1f\x7f-\x9f\-\u2010-\u2015\u2212_.\u00b7\u30fb,\uff0c\u3001/\\|~\uff5e"
    r"()\uff08\uff09\[\]\u3010\u3011+\uff0b\u2795\u2796\uff0d\uff0e\uff0f\uff3f\uff5c\uff3b\uff3d"
    + INVISIBLE_CHARS
)
_RUN_RE = re.compile(f"[{_DIGIT_CLASS}](?:[{_SEP_CLASS}]*[{_DIGIT_CLASS}])*")
_INVISIBLE_ONLY_RE = re.compile(f"[{INVISIBLE_CHARS}]*")

_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_ID_RE = re.compile(
    r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]"
)
_LANDLINE_RE = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))([2-9]\d{6,7})")
_PHONE_CONTEXT_RE = re.compile(r"(?:电话|手机|座机|固话|tel|phone|联系|热线|call|打)[^\d]{0,4}$", re.I)
_X_CHARS = frozenset("xX\uff38\uff58\u00d7")

_MIN_RUN_DIGITS = 7


@dataclass(frozen=True, slots=True)
class FoundNumber:
    """One phone or ID number located in a text.

    ``start``/``end`` index the raw text given to :func:`find_numbers`; ``value`` is the
    canonical form (11 digits, ``0598-5812345``, 18-char ID); ``masked`` is what to show.
    """

    kind: str  # "mobile" | "landline" | "id"
    value: str
    start: int
    end: int
    masked: str


@dataclass(slots=True)
class _Run:
    digits: str
    pos: list[int]  # raw index of the character each digit came from
    bounds: frozenset[int]  # digit offsets where a group starts or ends
    start: int
    end: int


def _runs(text: str, min_digits: int) -> list[_Run]:
    out: list[_Run] = []
    digit_of = _DIGIT_OF
    for m in _RUN_RE.finditer(text):
        if (m.end() - m.start()) * _MAX_DIGITS_PER_CHAR < min_digits:
            continue
        digits: list[str] = []
        pos: list[int] = []
        bounds = {0}
        prev_cn: bool | None = None
        prev_idx = -2
        base = m.start()
        for k, ch in enumerate(m.group()):
            d = digit_of.get(ch)
            if d is None:
                continue
            idx = base + k
            is_cn = ch in _CN_SET
            n = len(digits)
            if idx != prev_idx + 1 or (prev_cn is not None and is_cn != prev_cn):
                bounds.add(n)
            digits.extend(d)
            pos.extend([idx] * len(d))
            prev_cn = is_cn
            prev_idx = idx
        if len(digits) < min_digits:
            continue
        bounds.add(len(digits))
        out.append(_Run("".join(digits), pos, frozenset(bounds), m.start(), m.end()))
    return out


def digit_runs(text: str) -> list[str]:
    """Digit strings of every run of digit-like characters (separators and obfuscation removed).

    This is the "readable numbers" view used by the masking guarantee and its tests.
    """
    if not isinstance(text, str):
        return []
    return [r.digits for r in _runs(text, 1)]


def _followed_by_x(text: str, idx: int) -> bool:
    m = _INVISIBLE_ONLY_RE.match(text, idx)
    j = m.end() if m else idx
    return j < len(text) and text[j] in _X_CHARS


def _mask_mobile(d: str) -> str:
    return f"{d[:3]}****{d[-4:]}"


def _scan_run(text: str, run: _Run) -> list[FoundNumber]:
    found: list[FoundNumber] = []
    d = run.digits
    bounds = run.bounds
    starts = sorted(bounds)
    cursor = 0
    for s in starts:
        if s < cursor or s >= len(d):
            continue
        item: tuple[str, str, int, int, str] | None = None  # kind, value, d_start, d_end, masked
        # +86 / 0086 prefix glued to the number
        for pre in ("0086", "86"):
            e = s + len(pre) + 11
            if d.startswith(pre, s) and e in bounds and _MOBILE_RE.fullmatch(d, s + len(pre), e):
                v = d[s + len(pre) : e]
                item = ("mobile", v, s, e, _mask_mobile(v))
                break
        if item is None:
            e = s + 11
            if e in bounds and _MOBILE_RE.fullmatch(d, s, e):
                v = d[s:e]
                item = ("mobile", v, s, e, _mask_mobile(v))
        if item is None:
            e = s + 18
            if e in bounds and _ID_RE.fullmatch(d, s, e):
                v = d[s:e]
                item = ("id", v, s, e, f"{v[:4]}{'*' * 10}{v[-4:]}")
            else:
                e = s + 17
                if (
                    e in bounds
                    and e == len(d)
                    and _followed_by_x(text, run.end)
                    and _ID_RE.fullmatch(d[s:e] + "X")
                ):
                    v = d[s:e] + "X"
                    item = ("id", v, s, e, f"{v[:4]}{'*' * 10}{v[-4:]}")
        if item is None and d[s] == "0":
            for e in (s + 12, s + 11, s + 10):
                if e in bounds:
                    lm = _LANDLINE_RE.fullmatch(d, s, e)
                    if lm:
                        area, local = lm.group(1), lm.group(2)
                        masked = f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
                        item = ("landline", f"{area}-{local}", s, e, masked)
                        break
        if item is None:
            for e in (s + 8, s + 7):
                if (
                    e in bounds
                    and d[s] in "23456789"
                    and (s == 0 or s in bounds)
                    and _PHONE_CONTEXT_RE.search(text, max(0, run.pos[s] - 12), run.pos[s])
                ):
                    v = d[s:e]
                    item = ("landline", v, s, e, f"{'*' * (len(v) - 4)}{v[-4:]}")
                    break
        if item is None:
            continue
        kind, value, ds, de, masked = item
        end_raw = run.pos[de - 1] + 1
        if kind == "id" and value.endswith("X") and de == len(d):
            m = _INVISIBLE_ONLY_RE.match(text, run.end)
            end_raw = (m.end() if m else run.end) + 1
        m_tail = _INVISIBLE_ONLY_RE.match(text, end_raw)
        if m_tail:
            end_raw = m_tail.end()  # swallow keycap/variation selectors after the last digit
        found.append(FoundNumber(kind, value, run.pos[ds], end_raw, masked))
        cursor = de
    return found


def find_numbers(text: str) -> list[FoundNumber]:
    """All phones (mobile, landline) and ID numbers in ``text``, in order. Never raises."""
    if not isinstance(text, str) or not text:
        return []
    try:
        out: list[FoundNumber] = []
        for run in _runs(text, _MIN_RUN_DIGITS):
            out.extend(_scan_run(text, run))
        return out
    except Exception:  # pragma: no cover - defensive
        return []


def extract_phones(text: str) -> list[str]:
    """Phone numbers in order of appearance, without duplicates.

    Mobiles come back as 11 plain digits, landlines as ``0598-5812345`` (a bare 7/8-digit local
    number right after 电话/座机/tel is returned as written digits).
    """
    seen: set[str] = set()
    out: list[str] = []
    for f in find_numbers(text):
        if f.kind != "id" and f.value not in seen:
            seen.add(f.value)
            out.append(f.value)
    return out


_IS_MOBILE_STRIP_RE = re.compile(f"[{_SEP_CLASS}]+")


def is_mobile(s: str) -> bool:
    """True when ``s`` is just a valid mainland mobile number (after de-obfuscation)."""
    if not isinstance(s, str) or len(s) > 64:
        return False
    body = _IS_MOBILE_STRIP_RE.sub("", s)
    digits: list[str] = []
    for ch in body:
        d = _DIGIT_OF.get(ch)
        if d is None:
            return False
        digits.append(d)
    ds = "".join(digits)
    for pre in ("0086", "86"):
        if len(ds) == 11 + len(pre) and ds.startswith(pre):
            ds = ds[len(pre) :]
            break
    return _MOBILE_RE.fullmatch(ds) is not None


def mask_numbers(text: str) -> str:
    """Mask every phone and ID number in ``text`` for display in a group. Never raises.

    Guarantee: the result holds no run of 11 or more readable digits (digits joined only by
    separators, invisible characters or obfuscation), so no mobile number survives.
    """
    if not isinstance(text, str) or not text:
        return "" if not isinstance(text, str) else text
    try:
        found = find_numbers(text)
        if found:
            parts: list[str] = []
            last = 0
            for f in found:
                if f.start < last:
                    continue
                parts.append(text[last : f.start])
                parts.append(f.masked)
                last = f.end
            parts.append(text[last:])
            text = "".join(parts)
        return _mask_long_runs(text)
    except Exception:  # pragma: no cover - defensive: fall back to starring every digit
        return "".join("*" if ch in _DIGIT_OF else ch for ch in text)


def _mask_long_runs(text: str) -> str:
    runs = [r for r in _runs(text, 11) if len(r.digits) >= 11]
    if not runs:
        return text
    chars = list(text)
    for r in runs:
        total = len(r.digits)
        # digits per raw position, in order
        seen = 0
        i = 0
        while i < total:
            p = r.pos[i]
            j = i
            while j < total and r.pos[j] == p:
                j += 1
            first, last = seen, seen + (j - i)  # digit offsets covered by this character
            keep = last <= 3 or first >= total - 4
            if not keep:
                chars[p] = "*"
            seen = last
            i = j
    return "".join(chars)
