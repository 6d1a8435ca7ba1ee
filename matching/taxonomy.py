"""The 工种 (trade) taxonomy and a tolerant finder of trades mentioned in free text.

Matching, cheapest first:
1. exact aliases (plus generated 大工 / 小工 / 师傅 variants) with a trie regex, leftmost-longest;
2. same-pinyin spellings (泥水功, 尼水工, 服物员) of aliases of three or more characters, and the
   listed typos of short aliases (保结, 插车, 挖鸡);
3. toneless pinyin typed in latin letters (xiaogong, baojie);
4. for short answers only (registration dialogs): rapidfuzz on characters and on pinyin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from matching._lexicon import homophone_key, load_yaml, to_pinyin, trie_regex
from matching.normalize import normalize

__all__ = ["Taxonomy", "Trade", "TradeMention", "load_taxonomy"]

MAX_TEXT = 4000

# Phrases that contain an alias but never mean the trade; blanked before matching.
STOP_PHRASES: tuple[str, ...] = (
    "水电费", "水电全包", "包水电", "水电自理", "水电气", "水电另算", "水电煤",
    "零工市场", "零工驿站", "小吃文化城", "小吃城", "服装费", "工装费",
    "司机接送", "专车接送", "接送司机", "班车接送", "包车接送",
    "车间主任", "厂里包", "电工证书", "拉新人", "点赞支持",
    "刷单返利", "厂里提供", "招聘会",
    # certificates are requirements, not trades
    "电工证", "电工操作证", "焊工证", "电焊证", "叉车证", "厨师证", "护理证", "护工证", "保安证",
    "育婴师证", "月嫂证", "挖机证", "挖掘机证", "塔吊证", "农机驾驶证",
)

_SKILLED = ("大工", "师傅", "技工", "熟手", "大师傅")
_HELPER = ("小工", "学徒", "杂工", "帮工", "打下手")
_SUFFIXES = ("师傅", "工", "匠", "员")
_VARIANT_TAILS = ("大工", "小工", "师傅", "工", "师")
# 小工 is a trade of its own: it modifies the word before it only when written right after it
_MODIFIER_AFTER_RE = re.compile(r"(大工|小工|师傅|技工|学徒|熟手|操作工)| (大工|师傅|技工|学徒|熟手)")
_LATIN_RUN_RE = re.compile(r"[a-z]+(?: [a-z]+)*")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Trade:
    """One trade (工种). Wages are estimated county medians in yuan, ``None`` when unknown."""

    id: str
    name: str
    category: str
    aliases: tuple[str, ...] = ()
    typos: tuple[str, ...] = ()
    occupation_code: str | None = None
    median_day_wage: int | None = None
    median_hour_wage: int | None = None
    median_month_wage: int | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class TradeMention:
    """A trade found at ``[start, end)`` of the *normalised* text.

    ``level`` is "skilled" (大工/师傅), "helper" (小工/学徒) or ``None``; ``how`` tells which
    matcher found it: "exact", "homophone", "pinyin" or "fuzzy".
    """

    trade: Trade
    start: int
    end: int
    surface: str
    level: str | None
    how: str


def _level_of(surface: str) -> str | None:
    if surface.endswith(_SKILLED) or surface.startswith(("大工", "师傅")):
        return "skilled"
    if surface.endswith(_HELPER):
        return "helper"
    return None


def _variants(alias: str) -> set[str]:
    """Alias plus its modifier forms: 泥水工 → 泥水大工, 泥水小工, 泥水师傅, 泥水师..."""
    out = {alias}
    stem = alias
    for suf in _SUFFIXES:
        if alias.endswith(suf) and len(alias) > len(suf):
            stem = alias[: -len(suf)]
            break
    if len(stem) >= 2 and _CJK_RE.match(stem[-1]):
        for tail in _VARIANT_TAILS:
            v = stem + tail
            if len(v) >= 2:
                out.add(v)
    return out


class Taxonomy:
    """All trades, lookups by id, and finding trades in text."""

    def __init__(self, trades: list[Trade], pay_mode_words: tuple[str, ...] = ()) -> None:
        self._trades = list(trades)
        self._by_id = {t.id: t for t in trades}
        self.pay_mode_words = pay_mode_words
        exact: dict[str, str] = {}
        # Pass 1: explicit aliases and names win over generated variants.
        for t in trades:
            base = [t.name] if "(" not in t.name else []
            for a in (*base, *t.aliases, *t.typos):
                a = normalize(a)
                if a:
                    exact.setdefault(a, t.id)
        for t in trades:
            base = [t.name] if "(" not in t.name else []
            for a in (*base, *t.aliases):
                for v in _variants(normalize(a)):
                    exact.setdefault(v, t.id)
        for a in ("小工", "杂工", "大工"):
            exact.pop(a, None)
        exact["小工"] = "helper"
        exact["杂工"] = "helper"
        self._exact = exact
        self._exact_re = trie_regex(exact)
        # Homophone keys of aliases with 3+ characters (2-char keys collide too often:
        # 电工/点工, 司机/四季, 油工/有工).
        homo: dict[str, str] = {}
        for surface, tid in exact.items():
            if len(surface) >= 3 and _CJK_RE.search(surface):
                homo.setdefault(homophone_key(surface), tid)
        self._homo = homo
        self._homo_re = trie_regex(homo)
        # Latin pinyin of aliases (xiaogong, baojie); 5+ letters to avoid short collisions.
        pin: dict[str, str] = {}
        for surface, tid in exact.items():
            if _CJK_RE.fullmatch(surface[0]) and all(_CJK_RE.match(c) for c in surface):
                p = to_pinyin(surface)
                if len(p) >= 5 and p.isascii():
                    pin.setdefault(p, tid)
        self._pinyin = pin
        self._pinyin_re = trie_regex(pin)
        self._stop_re = trie_regex(normalize(p) for p in STOP_PHRASES)
        # Fuzzy choices: aliases of 3+ chars, with their pinyin.
        self._fuzzy_surfaces = [s for s in exact if len(s) >= 3]
        self._fuzzy_py_surfaces = [s for s in exact if len(s) >= 2 and _CJK_RE.match(s)]
        self._fuzzy_pinyin = [to_pinyin(s) for s in self._fuzzy_py_surfaces]

    # -- lookups ------------------------------------------------------------------------------
    def get(self, trade_id: str) -> Trade | None:
        return self._by_id.get(trade_id) if isinstance(trade_id, str) else None

    def all(self) -> list[Trade]:
        return list(self._trades)

    def __len__(self) -> int:
        return len(self._trades)

    # -- finding ------------------------------------------------------------------------------
    def find(self, text: str) -> list[Trade]:
        """Trades mentioned in ``text`` (ordered by first appearance, no duplicates)."""
        norm = normalize(text)[:MAX_TEXT]
        mentions = self.mentions_in_normalized(norm)
        if not mentions and 0 < len(norm) <= 12:
            mentions = self._fuzzy(norm)
        out: list[Trade] = []
        seen: set[str] = set()
        for m in mentions:
            if m.trade.id not in seen:
                seen.add(m.trade.id)
                out.append(m.trade)
        return out

    def mentions(self, text: str) -> list[TradeMention]:
        """Mentions with spans in ``normalize(text)``."""
        return self.mentions_in_normalized(normalize(text)[:MAX_TEXT])

    def mentions_in_normalized(self, norm: str) -> list[TradeMention]:
        """Mentions in already normalised text, sorted by start."""
        if not norm:
            return []
        work = norm
        if self._stop_re is not None:
            work = self._stop_re.sub(lambda m: "#" * len(m.group()), work)
        # Candidates from the exact and the homophone matcher; then leftmost-longest wins,
        # exact before homophone on equal spans ("插车司机" beats "插车" + "司机").
        cands: list[tuple[int, int, int, str, str]] = []  # start, end, rank, trade id, how
        if self._exact_re is not None:
            for m in self._exact_re.finditer(work):
                cands.append((m.start(), m.end(), 0, self._exact[m.group()], "exact"))
        if self._homo_re is not None and _CJK_RE.search(work):
            key = homophone_key(work)
            for m in self._homo_re.finditer(key):
                cands.append((m.start(), m.end(), 1, self._homo[m.group()], "homophone"))
        cands.sort(key=lambda c: (c[0], -(c[1] - c[0]), c[2]))
        found: list[TradeMention] = []
        last_end = 0
        for start, end, _rank, tid, how in cands:
            if start < last_end:
                continue
            surface = norm[start:end]
            level = _level_of(surface)
            mod = _MODIFIER_AFTER_RE.match(work, end)
            if mod is not None:
                end = mod.end()
                level = _level_of(mod.group(1) or mod.group(2) or "")
            found.append(TradeMention(self._by_id[tid], start, end, norm[start:end], level, how))
            last_end = end
        found = _disambiguate(found)
        if self._pinyin_re is not None:
            for run in _LATIN_RUN_RE.finditer(work):
                joined = run.group().replace(" ", "")
                if len(joined) < 5:
                    continue
                for m in self._pinyin_re.finditer(joined):
                    t = self._by_id[self._pinyin[m.group()]]
                    a = run.start()
                    found.append(TradeMention(t, a, run.end(), run.group(), None, "pinyin"))
                    break
        found.sort(key=lambda x: (x.start, -x.end))
        return found

    def _fuzzy(self, norm: str) -> list[TradeMention]:
        text = re.sub(r"[^\u3400-\u9fffa-z]", "", norm)
        if len(text) < 2:
            return []
        best: tuple[str, float] | None = None
        hit = process.extractOne(
            text, self._fuzzy_surfaces, scorer=fuzz.ratio, score_cutoff=75
        )
        if hit is not None:
            best = (hit[0], hit[1])
        py = to_pinyin(text)
        if len(py) >= 5:
            hit2 = process.extractOne(py, self._fuzzy_pinyin, scorer=fuzz.ratio, score_cutoff=88)
            if hit2 is not None and (best is None or hit2[1] > best[1]):
                best = (self._fuzzy_py_surfaces[hit2[2]], hit2[1])
        if best is None:
            return []
        t = self._by_id[self._exact[best[0]]]
        return [TradeMention(t, 0, len(norm), norm, _level_of(norm), "fuzzy")]


# Surface forms that mean another trade when that trade is also named ("服装厂招车工" = sewing).
_AMBIGUOUS: dict[str, tuple[str, ...]] = {"车工": ("sewing",), "车位": ("machinist",)}


def _disambiguate(found: list[TradeMention]) -> list[TradeMention]:
    ids = {m.trade.id for m in found}
    out = []
    for m in found:
        alts = _AMBIGUOUS.get(m.surface)
        if alts and any(a in ids for a in alts):
            continue
        out.append(m)
    return out


def _opt_int(v: object) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    """Load ``matching/data/trades.yaml`` once (cached)."""
    raw = load_yaml("trades.yaml")
    assert isinstance(raw, dict)
    trades: list[Trade] = []
    for item in raw.get("trades", []):
        wage = item.get("wage") or {}
        trades.append(
            Trade(
                id=str(item["id"]),
                name=str(item["name"]),
                category=str(item.get("category", "other")),
                aliases=tuple(str(a) for a in item.get("aliases") or ()),
                typos=tuple(str(a) for a in item.get("typos") or ()),
                occupation_code=item.get("occupation_code"),
                median_day_wage=_opt_int(wage.get("day")),
                median_hour_wage=_opt_int(wage.get("hour")),
                median_month_wage=_opt_int(wage.get("month")),
                notes=str(item.get("notes") or ""),
            )
        )
    return Taxonomy(trades, tuple(raw.get("pay_mode_words") or ()))
