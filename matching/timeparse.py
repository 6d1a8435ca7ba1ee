"""Start times and durations as posts write them, resolved against a given "now".

Everything is interpreted in China time (UTC+8, no daylight saving). A clock time without a day
prefers the future: at 21:00, 明早6点半 and 早上7点 both mean tomorrow. A bare hour 5-11 is read as
morning, 12 as noon and 1-4 as afternoon, the way work posts use them. A date without a clock time
resolves to 00:00 of that day. Work-schedule phrases (工作时间8点到5点, 每天7点上班) are not starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from matching.numbers import CN_DIGIT_VALUE, parse_count

__all__ = ["CHINA_TZ", "Duration", "Start", "find_duration", "find_start", "to_china"]

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_N = r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})"
_REL_DAY = {
    "今天": 0, "今日": 0, "今早": 0, "今晚": 0, "今儿": 0, "今天早上": 0, "今天晚上": 0,
    "今个": 0, "当天": 0,
    "明天": 1, "明日": 1, "明早": 1, "明晚": 1, "明儿": 1, "明天早上": 1, "明天一早": 1,
    "明早上": 1, "明个": 1, "明朝": 1,
    "后天": 2, "後天": 2, "大后天": 3,
}
_REL_DAY_RE = "|".join(sorted(_REL_DAY, key=len, reverse=True))
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_PERIOD = (
    r"早上|早晨|一早|清早|上午|中午|下午|傍晚|晚上|夜里|夜晚|凌晨|晚|早"
)
_NOW_WORDS = r"(?:马上|立即|立刻|即刻|现在就)(?=要|来|到|开工|上班|上岗|干|做|出发|集合|过来|就要|需要)|速来"

_DATE_RE = re.compile(
    rf"(?P<rel>{_REL_DAY_RE})(?!岗位|招聘|信息|推荐|更新|新闻|头条)"
    rf"|(?P<wkpre>下下|下个?|这个?|本)?(?<!每)(?<!一)(?:周|星期|礼拜)(?P<wd>[一二三四五六日天]|[1-7](?![\d次天个]))"
    rf"|(?P<mon>{_N})月(?P<mday>{_N})(?:日|号)?"
    rf"|(?<![\d.])(?P<day>\d{{1,2}}|[一二三四五六七八九十]{{1,3}})(?:号|日(?![结薪工]))"
    rf"|(?P<now>{_NOW_WORDS})"
)
_TIME_RE = re.compile(
    rf"(?P<period>{_PERIOD})?\s*(?P<hour>\d{{1,2}}|[一二两三四五六七八九十]{{1,3}})"
    rf"(?:(?P<sep>[点:：时])(?P<rest>半|一刻|三刻|整|\d{{1,2}}分?|[一二三四五][十]?[一二三四五六七八九]?分)?)"
    r"(?![点工\d])"
)
_RANGE_AFTER_RE = re.compile(
    rf"^\s*(?:-|~|～|—|到|至)\s*(?:{_PERIOD})?\s*(?:\d{{1,2}}|[一二两三四五六七八九十]{{1,3}})(?:[点:：时]|$)"
)
_HABIT_AFTER_RE = re.compile(r"^\s*(?:上班|下班|开门|营业|打卡)")
_SCHEDULE_BEFORE_RE = re.compile(r"(工作时间|上班时间|营业时间|时间段|每天|每日|天天|工时|作息)[^,，。;；!！]{0,6}$")
_END_BEFORE_RE = re.compile(r"(到|至|~|-|—|干到|做到|截止|结束)\s*$")
_CLAUSE_SPLIT_RE = re.compile(r"[,，。;；!！?？\n]")


@dataclass(frozen=True, slots=True)
class Start:
    """When the job starts. ``at`` is None when the text names a start it cannot resolve."""

    at: datetime | None
    text: str


@dataclass(frozen=True, slots=True)
class Duration:
    """How long the job lasts: ``days`` when given, ``until_done`` for 做完为止, else just text."""

    days: float | None
    until_done: bool
    text: str


def to_china(now: datetime) -> datetime:
    """``now`` as China time; a naive datetime is taken to be China time already."""
    if now.tzinfo is None:
        return now.replace(tzinfo=CHINA_TZ)
    return now.astimezone(CHINA_TZ)


def _num(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s in CN_DIGIT_VALUE:
        return CN_DIGIT_VALUE[s]
    return parse_count(s)


def _minutes(rest: str | None) -> int:
    if not rest or rest == "整":
        return 0
    if rest == "半":
        return 30
    if rest == "一刻":
        return 15
    if rest == "三刻":
        return 45
    r = rest.rstrip("分")
    v = _num(r) if r else None
    return v if v is not None and 0 <= v < 60 else 0


def _hour24(hour: int, period: str | None) -> int | None:
    if hour > 24:
        return None
    if hour == 24:
        return 0
    if period in ("下午", "晚上", "夜里", "夜晚", "傍晚", "晚"):
        return hour + 12 if hour < 12 else hour
    if period == "中午":
        return hour + 12 if hour < 6 else hour
    if period in ("凌晨",):
        return hour % 12
    if period is not None:  # morning words
        return hour % 12 if hour == 12 else hour
    # bare hour
    if hour >= 13:
        return hour
    if 1 <= hour <= 4:
        return hour + 12
    return hour


def _resolve_date(m: re.Match[str], today: date) -> date | None:
    if m.group("rel"):
        return today + timedelta(days=_REL_DAY[m.group("rel")])
    if m.group("wd"):
        wd = _WEEKDAY[m.group("wd")]
        pre = m.group("wkpre") or ""
        monday = today - timedelta(days=today.weekday())
        if pre.startswith("下下"):
            return monday + timedelta(days=14 + wd)
        if pre.startswith("下"):
            return monday + timedelta(days=7 + wd)
        if pre:
            return monday + timedelta(days=wd)
        ahead = (wd - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    if m.group("mon"):
        mon, mday = _num(m.group("mon")), _num(m.group("mday"))
        if not mon or not mday or not 1 <= mon <= 12:
            return None
        for year in (today.year, today.year + 1):
            try:
                d = date(year, mon, mday)
            except ValueError:
                return None
            if d >= today - timedelta(days=1):
                return d
        return None
    if m.group("day"):
        dd = _num(m.group("day"))
        if not dd or not 1 <= dd <= 31:
            return None
        y, mo = today.year, today.month
        for _ in range(3):
            try:
                d = date(y, mo, dd)
                if d >= today:
                    return d
            except ValueError:
                pass
            mo += 1
            if mo > 12:
                y, mo = y + 1, 1
        return None
    return None


def find_start(norm: str, now: datetime) -> Start | None:
    """First start time in normalised text, or None when the text names none."""
    if not norm:
        return None
    now_c = to_china(now)
    today = now_c.date()
    for clause_m in _iter_clauses(norm):
        clause, base = clause_m
        res = _start_in_clause(clause, base, norm, now_c, today)
        if res is not None:
            return res
    return None


def _iter_clauses(norm: str) -> list[tuple[str, int]]:
    out = []
    pos = 0
    for m in _CLAUSE_SPLIT_RE.finditer(norm):
        out.append((norm[pos : m.start()], pos))
        pos = m.end()
    out.append((norm[pos:], pos))
    return out


def _start_in_clause(
    clause: str, base: int, norm: str, now_c: datetime, today: date
) -> Start | None:
    dm = None
    for cand in _DATE_RE.finditer(clause):
        if cand.group("day") and not _day_context_ok(clause, cand):
            continue
        if _END_BEFORE_RE.search(clause[: cand.start()]) and cand.group("now") is None:
            continue
        dm = cand
        break
    tm = None
    search_from = dm.end() if dm else 0
    for cand in _TIME_RE.finditer(clause, search_from):
        if not _time_ok(clause, cand):
            continue
        if dm is None and _SCHEDULE_BEFORE_RE.search(clause[: cand.start()]):
            continue
        if dm is None and (
            _RANGE_AFTER_RE.match(clause[cand.end() :]) or _HABIT_AFTER_RE.match(clause[cand.end() :])
        ):
            continue  # 早上8点到11点 / 8点上班: a daily schedule, not a start
        if _END_BEFORE_RE.search(clause[: cand.start()]):
            continue
        # a time far after the date belongs to something else
        if dm is not None and (
            cand.start() - dm.end() > 24 or _DATE_RE.search(clause, dm.end(), cand.start())
        ):
            break
        tm = cand
        break
    if dm is None and tm is None:
        return None
    if dm is not None and dm.group("now"):
        if tm is None:
            return Start(now_c.replace(second=0, microsecond=0), dm.group())
        dm = None  # "马上" followed by a clock time: use the clock time
    day: date | None = None
    hint: str | None = None
    s, e = (dm.start(), dm.end()) if dm else (tm.start(), tm.end())  # type: ignore[union-attr]
    if dm is not None:
        day = _resolve_date(dm, today)
        rel = dm.group("rel") or ""
        if rel.endswith(("早", "早上", "一早", "朝")):
            hint = "早上"
        elif rel.endswith(("晚", "晚上")):
            hint = "晚上"
        if day is None:
            return Start(None, dm.group())
    if tm is not None:
        e = tm.end()
        hour = _num(tm.group("hour"))
        period = tm.group("period") or hint
        if hour is None:
            return Start(None, clause[s:e]) if day is None else _at(day, None, clause[s:e])
        h24 = _hour24(hour, period)
        if h24 is None:
            return _at(day, None, clause[s:e]) if day else None
        t = time(h24, _minutes(tm.group("rest")))
        if day is None:
            day = today
            cand_dt = datetime.combine(day, t, CHINA_TZ)
            if cand_dt < now_c - timedelta(minutes=30):
                day = today + timedelta(days=1)
        return _at(day, t, clause[s:e])
    return _at(day, None, clause[s:e])


def _at(day: date | None, t: time | None, text: str) -> Start:
    if day is None:
        return Start(None, text)
    return Start(datetime.combine(day, t or time(0, 0), CHINA_TZ), text)


def _day_context_ok(clause: str, m: re.Match[str]) -> bool:
    """'5号' is a date; '3日结' / '200日' are not."""
    before = clause[max(0, m.start() - 1) : m.start()]
    return not before or not (before.isdigit() or before in "月/-.:")


def _time_ok(clause: str, m: re.Match[str]) -> bool:
    hour_s = m.group("hour")
    sep = m.group("sep")
    period = m.group("period")
    before = clause[max(0, m.start("hour") - 1) : m.start("hour")]
    if before and (before.isdigit() or before in ".-~/"):
        return False
    after = clause[m.end() : m.end() + 2]
    if sep == "时" and (m.group("rest") is None) and not period:
        # '20元/时', '8小时' are not clock times
        return False
    if after.startswith(("工", "钟", "个", "元", "块", "天", "岁")):
        return False
    if clause[max(0, m.start("hour") - 1) : m.start("hour")] in ("小", "个"):
        return False
    if not hour_s.isdigit():
        # 一点 / 两点 without a period word are "a bit", "two points"
        if hour_s in ("一", "两", "二") and not period and not m.group("rest"):
            return False
        if sep in (":", "："):
            return False
    return sep not in (":", "：") or (m.group("rest") or "").rstrip("分").isdigit()


_DURATION_RE = re.compile(
    rf"(?P<until>做完为止|干完为止|做完就走|活干完|干完结束|做完结束|做完即止|完工为止|做完为止)"
    rf"|(?:干|做|需要?|要|工期|大概|大约|约|预计)?\s*(?P<n>{_N}|半)\s*(?P<u>天|日|个?星期|周|个?礼拜|个?月|个工)"
    rf"(?P<tail>左右|以上|以内|上下)?"
)


def find_duration(norm: str) -> Duration | None:
    """How long the work lasts (干3天 / 一个星期 / 做完为止), or None."""
    if not norm:
        return None
    for m in _DURATION_RE.finditer(norm):
        if m.group("until"):
            return Duration(None, True, m.group())
        n_s, unit = m.group("n"), m.group("u")
        before = norm[max(0, m.start() - 2) : m.start()]
        after = norm[m.end() : m.end() + 1]
        # bare "3天" only when followed by 左右/completed context; avoids '一天380'
        bare = not m.group().startswith(("干", "做", "需", "要", "工期", "大概", "大约", "约", "预计"))
        if bare and not m.group("tail") and after not in ("活", "完", "的", "工"):
            continue
        if before.endswith(("每", "一")) or after in ("结", "薪"):
            continue
        n = 0.5 if n_s == "半" else _num(n_s)
        if n is None:
            continue
        mult = 1.0
        if "星期" in unit or "周" in unit or "礼拜" in unit:
            mult = 7.0
        elif "月" in unit:
            mult = 30.0
        return Duration(float(n) * mult, False, m.group())
    return None
