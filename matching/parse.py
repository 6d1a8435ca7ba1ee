"""Free-text post → structured data (issue 4): the one entry point ``parse_post``.

``parse_post(text, now)`` never raises and is bounded in time: input beyond ``MAX_PARSE_CHARS``
is ignored. ``ParsedPost.to_json_dict()`` is exactly the ``linggong parse`` line (without "id").
Helpers usable on their own (dialog answers): ``parse_wage``, ``parse_headcount``,
``parse_start``, ``parse_duration``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from matching.fields import (
    Requirements,
    classify_kind,
    find_contact_name,
    find_headcount,
    find_perks,
    find_requirements,
)
from matching.gazetteer import PlaceMention, find_places_normalized
from matching.normalize import normalize
from matching.phones import find_numbers
from matching.risk import Risk, assess_risk
from matching.taxonomy import TradeMention, load_taxonomy
from matching.timeparse import CHINA_TZ, Duration, Start, find_duration, find_start
from matching.wages import RawWage, Wage, extract_wages

__all__ = [
    "MAX_PARSE_CHARS",
    "Duration",
    "Location",
    "ParsedPost",
    "Requirements",
    "Risk",
    "Start",
    "TradeRef",
    "Wage",
    "parse_duration",
    "parse_headcount",
    "parse_post",
    "parse_start",
    "parse_wage",
]

MAX_PARSE_CHARS = 4000
_MASKED_NUMBER_RE = re.compile(r"\d{2,4}[x*＊×]{2,6}\d{2,4}")
_LIST_JOIN_RE = re.compile(r"^\s*(?:和|与|及|跟|、|,|，|/|\+|加)\s*$")


@dataclass(frozen=True, slots=True)
class TradeRef:
    """A trade named in a post (``level``: 大工 / 小工 when said)."""

    trade_id: str
    name: str
    level: str | None = None  # "skilled" (大工/师傅) | "helper" (小工) | None


@dataclass(frozen=True, slots=True)
class Location:
    """Where: ``town`` is a 沙县 town's full name (None outside the district); ``text`` as written."""

    town: str | None
    text: str
    towns: tuple[str, ...] = ()  # every 沙县 town named, in order


@dataclass(frozen=True, slots=True)
class ParsedPost:
    """Everything understood from one post: kind, trades, headcount, wages, time, place, contact, risk."""

    kind: str  # "job" | "seeker" | "other"
    trades: tuple[TradeRef, ...] = ()
    headcount: int | None = None
    wages: tuple[Wage, ...] = ()
    start: Start | None = None
    duration: Duration | None = None
    location: Location | None = None
    phones: tuple[str, ...] = ()
    contact_name: str | None = None
    perks: tuple[str, ...] = ()
    requirements: Requirements = field(default_factory=Requirements)
    risk: Risk = field(default_factory=lambda: Risk("ok"))

    @property
    def main_wage(self) -> Wage | None:
        return self.wages[0] if self.wages else None

    def to_json_dict(self) -> dict[str, object]:
        """The CLI output line (without "id")."""
        return {
            "kind": self.kind,
            "trades": [{"trade_id": t.trade_id, "name": t.name} for t in self.trades],
            "headcount": self.headcount,
            "wages": [w.to_json_dict() for w in self.wages],
            "start": None
            if self.start is None
            else {
                "at": self.start.at.isoformat() if self.start.at else None,
                "text": self.start.text,
            },
            "location": None
            if self.location is None
            else {"town": self.location.town, "text": self.location.text},
            "phones": list(self.phones),
            "contact_name": self.contact_name,
            "perks": list(self.perks),
            "requirements": self.requirements.to_json_dict(),
            "risk": self.risk.to_json_dict(),
        }


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for a, b in spans:
        for i in range(max(0, a), min(len(chars), b)):
            chars[i] = " "
    return "".join(chars)


def _tie_wages(
    raw: list[RawWage], mentions: list[TradeMention], trade_ids: list[str], text: str
) -> list[Wage]:
    """Tie each wage to a trade.

    * one trade in the post: every wage is that trade's;
    * several trades and one wage: the wage is for the job as a whole (None);
    * several trades and several wages (大工400小工260, 厨师600 服务员150): each wage belongs to
      the trade named last before it on the same line; 小工 means helper, 大工/师傅 the skilled
      trade; a wage after a list of trades ("泥水工和小工 日结300") stays None.
    """
    out: list[Wage] = []
    distinct = list(dict.fromkeys(trade_ids))
    multi = len(raw) > 1
    for w in raw:
        tid: str | None = None
        if len(distinct) == 1:
            tid = distinct[0]
            if tid == "helper" and w.hint in ("大工", "师傅", "技工"):
                tid = None  # "大工400小工260": the skilled wage is not the helper's
        elif len(distinct) > 1 and multi:
            line_start = max(text.rfind(c, 0, w.start) for c in "\n。;；!！") + 1
            prev = [m for m in mentions if line_start <= m.start and m.end <= w.start]
            if w.hint == "小工" and "helper" in distinct:
                tid = "helper"
            elif prev:
                last = prev[-1]
                between = text[prev[-2].end : last.start] if len(prev) >= 2 else "x"
                if _LIST_JOIN_RE.match(between) is None:
                    tid = last.trade.id
                if w.hint in ("大工", "师傅", "技工") and tid in (None, "helper"):
                    skilled = [m for m in prev if m.trade.id != "helper"]
                    tid = skilled[-1].trade.id if skilled else None
        out.append(Wage(w.amount, w.unit, tid, w.text, w.start, w.end))
    return out


def parse_post(text: str, now: datetime) -> ParsedPost:
    """Parse one post. ``now`` should be tz-aware (interpreted in China time). Never raises."""
    try:
        return _parse(text, now)
    except Exception:  # pragma: no cover - last-resort guard: odd input must not crash callers
        return ParsedPost(kind="other")


def _parse(text: str, now: datetime) -> ParsedPost:
    if not isinstance(text, str):
        text = ""
    if not isinstance(now, datetime):
        now = datetime.now(CHINA_TZ)
    norm = normalize(text[: MAX_PARSE_CHARS * 2])[:MAX_PARSE_CHARS]
    if not norm:
        return ParsedPost(kind="other")
    numbers = find_numbers(norm)
    phones = tuple(dict.fromkeys(n.value for n in numbers if n.kind != "id"))
    spans = [(n.start, n.end) for n in numbers]
    spans += [(m.start(), m.end()) for m in _MASKED_NUMBER_RE.finditer(norm)]
    work = _blank(norm, spans)

    tax = load_taxonomy()
    mentions = tax.mentions_in_normalized(work)
    trade_ids = [m.trade.id for m in mentions]
    seen: dict[str, TradeRef] = {}
    for m in mentions:
        if m.trade.id not in seen:
            seen[m.trade.id] = TradeRef(m.trade.id, m.trade.name, m.level)
    trades = tuple(seen.values())

    places = find_places_normalized(work)
    location = _location(places)

    raw_wages = extract_wages(work, tuple(m.end for m in mentions))
    wages = _tie_wages(raw_wages, mentions, trade_ids, work)

    head_job = find_headcount(work, "job", n_trades=len(trades))
    kind = classify_kind(
        work,
        n_trades=len(trades),
        n_wages=len(wages),
        has_phone=bool(phones) or bool(_MASKED_NUMBER_RE.search(norm)),
        headcount=head_job,
    )
    headcount = head_job if kind == "job" else find_headcount(work, "seeker") if kind == "seeker" else None

    start = find_start(work, now)
    duration = find_duration(work)
    contact = find_contact_name(work)
    perks = tuple(find_perks(work))
    reqs = find_requirements(work, kind)

    medians = {
        t.id: {"day": t.median_day_wage, "hour": t.median_hour_wage, "month": t.median_month_wage}
        for t in tax.all()
    }
    risk = assess_risk(
        work,
        kind=kind,
        trade_ids=[t.trade_id for t in trades],
        wages=wages,
        perks=perks,
        town=location.town if location else None,
        outside_place=any(p.town is None for p in places),
        medians=medians,
    )
    if kind == "other":
        # chatter: keep what identifies it (trades, place, phones) and drop offer details
        return ParsedPost(
            kind=kind,
            trades=trades,
            location=location,
            phones=phones,
            risk=risk,
        )
    return ParsedPost(
        kind=kind,
        trades=trades,
        headcount=headcount,
        wages=tuple(wages),
        start=start,
        duration=duration,
        location=location,
        phones=phones,
        contact_name=contact,
        perks=perks,
        requirements=reqs,
        risk=risk,
    )


_VAGUE_PLACES = frozenset({"外地", "外省"})


def _location(places: list[PlaceMention]) -> Location | None:
    """The first 沙县 place; else the first named place outside (vague 外地 last)."""
    if not places:
        return None
    towns = tuple(dict.fromkeys(p.town.name for p in places if p.town is not None))
    for p in places:
        if p.town is not None:
            return Location(p.town.name, p.surface, towns)
    named = [p for p in places if p.surface not in _VAGUE_PLACES] or places
    return Location(None, named[0].surface, towns)


# ---------------------------------------------------------------------------- helpers


def parse_wage(text: str) -> list[Wage]:
    """Wages in a short answer ("两百五一天", "日结200", "350") for the order dialog.

    A bare number is accepted here as a day wage (the dialog asked 工资多少？) when 60-2000,
    a month wage when larger, an hourly wage when smaller.
    """
    norm = normalize(text if isinstance(text, str) else "")[:MAX_PARSE_CHARS]
    if not norm:
        return []
    mentions = load_taxonomy().mentions_in_normalized(norm)
    raw = extract_wages(norm, tuple(m.end for m in mentions))
    if not raw:
        bare = re.fullmatch(r"\s*(\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)\s*(?:元|块|块钱)?\s*", norm)
        if bare:
            raw = extract_wages(bare.group(1) + "元")
    return _tie_wages(raw, mentions, [m.trade.id for m in mentions], norm)


def parse_headcount(text: str) -> int | None:
    """Headcount in a short answer: "3个", "两人", "各2人" (one trade), "若干" → None."""
    norm = normalize(text if isinstance(text, str) else "")[:MAX_PARSE_CHARS]
    if not norm:
        return None
    n = find_headcount(norm, "job", n_trades=len(load_taxonomy().find(norm)))
    if n is not None:
        return n
    bare = re.fullmatch(r"\s*(\d{1,3}|[一二两三四五六七八九十]{1,3}|俩|仨)\s*(?:个|名|位)?\s*人?\s*", norm)
    if bare:
        from matching.numbers import parse_count

        v = parse_count(bare.group(1))
        return v if v and v > 0 else None
    return None


def parse_start(text: str, now: datetime) -> Start | None:
    """Start time in a short answer ("明早6点半", "下周一", "马上") relative to ``now``."""
    norm = normalize(text if isinstance(text, str) else "")[:MAX_PARSE_CHARS]
    if not isinstance(now, datetime):
        now = datetime.now(CHINA_TZ)
    return find_start(norm, now)


def parse_duration(text: str) -> Duration | None:
    """Duration in a short answer ("干3天", "做完为止")."""
    norm = normalize(text if isinstance(text, str) else "")[:MAX_PARSE_CHARS]
    return find_duration(norm)
