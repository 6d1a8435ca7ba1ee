"""Wage extraction: amount (yuan, or a [min, max] range) and unit from colloquial posts.

Forms handled: 日结200, 一天380, 两百五一天, 点工350/天, 一斤12块, 一竿1块2, 3千5/月, 150-200, 3-5千,
大工400小工260, 半天100, 包干3000, 日赚千元, 月入过万. Subsidies, fees and deposits (补贴10元/天,
押金200) are not wages. Counts, ages, dates and clock times are not wages either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from matching.numbers import AMOUNT_PATTERN, parse_amount

__all__ = ["UNITS", "RawWage", "Wage", "extract_wages"]

UNITS = ("day", "half_day", "hour", "piece", "week", "month", "total")

_SEP = r"\s*(?:-|~|～|—|–|到|至)\s*"
_AMT_RE = re.compile(rf"(?P<a>{AMOUNT_PATTERN})(?:{_SEP}(?P<b>{AMOUNT_PATTERN}))?")
_CURRENCY_RE = re.compile(r"\s*(?:元|块钱|块|rmb|¥|￥|米)(?!粒)")  # 米 = money in chat slang
_UNIT_WORDS = {
    "天": "day", "日": "day", "工": "day", "小时": "hour", "钟头": "hour", "钟": "hour",
    "个钟": "hour", "时": "hour", "h": "hour", "月": "month", "个月": "month", "周": "week",
    "星期": "week", "个星期": "week", "礼拜": "week", "半天": "half_day", "件": "piece",
    "个": "piece", "斤": "piece", "公斤": "piece", "竿": "piece", "杆": "piece", "平": "piece",
    "平方": "piece", "平米": "piece", "方": "piece", "米": "piece", "吨": "piece", "车": "piece",
    "趟": "piece", "亩": "piece", "晚": "day", "夜": "day", "只": "piece", "棵": "piece", "株": "piece", "箱": "piece",
    "袋": "piece", "包": "piece", "桶": "piece", "筐": "piece", "担": "piece", "块": "piece",
    "单": "piece", "床": "piece", "间": "piece", "套": "piece", "户": "piece", "次": "piece",
}
_UNIT_ALT = "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
# unit after the amount. Time units may follow a currency word directly (200元一天, 200元/天,
# 20元小时); measure words need a separator (12块一斤, 3元/个), else "200元 包晚餐" reads 包 as a unit.
_TIME_UNITS = "半天|小时|钟头|个钟|个月|星期|个星期|礼拜|天|日(?![结薪])|月|周|时|h|晚|夜"
_RIGHT_UNIT_RE = re.compile(
    r"(?P<cur2>\s*(?:元|块钱|块|rmb|¥|￥))?\s*(?P<tail>日结|包干|包工|全包|一口价|包活)"
    r"|(?P<per>\s*(?:元|块钱|块)?\s*(?:/|每|一)\s*(?:个)?人(?!民))"
    rf"|(?P<cur>\s*(?:元|块钱|块|rmb|¥|￥)(?:钱)?)?(?P<sep>/|每|一|1|一个|每个)?\s*(?P<unit>{_UNIT_ALT})"
)
_TIME_UNIT_RE = re.compile(rf"^(?:{_TIME_UNITS})$")
_LEFT_UNIT = [
    (r"日结|日薪|日工资|一天|每天|1天|一日|每日|天工资|点工|一工|一个工|每工|按天|天价|一天工钱|日工|"
     r"日入|日赚|日收入|每天赚|一天赚|天赚|每天收入|一个台班|台班|日均|一晚|每晚|一个晚上|一夜|"
     r"(?:8|9|10|八|九|十)个?小时", "day"),
    (r"每人|一人|每个人|一个人|(?:[2-7]|[两三四五六七])个?小时", "total"),
    (r"半天", "half_day"),
    (r"时薪|每小时|一小时|1小时|一个钟|每个钟|一个小时|按小时|小时工资|钟点", "hour"),
    (r"月薪|每月|一个月|1个月|月工资|底薪|保底|月收入|月入|月结|每个月|包月|月均|月平均", "month"),
    (r"周薪|一周|每周|一星期|一个星期|每星期|一礼拜", "week"),
    (r"包干|包工|包活|总价|一共|总共|全包|打包价|整个活|整活|一口价|总工钱|清包", "total"),
    (r"计件|一斤|每斤|1斤|一公斤|一竿|每竿|一杆|每杆|一件|每件|一个|每个|一平|每平方?|一平方|一方|"
     r"每方|一亩|每亩|一亩地|每亩地|一箱|每箱|一车|每车|一趟|每趟|一吨|每吨|一袋|每袋|一株|一棵|按斤|按件|"
     r"按平|按方|一块|一单|每单|一台|每台|一米|每米|一只|每只|一桶|每桶|一床|一间|一套|一户|一次|每次|"
     r"(?:一|每)个[\u4e00-\u9fff]",
     "piece"),
]
_LEFT_UNIT_RES = [
    (re.compile(
        rf"(?:{pat})\s*[:：]?\s*(?:合计|一共|共|总共|大概|大约|约|佣金|提成|轻松|工资|工钱|价格|价钱|是|给|开|为|"
        rf"有|能拿|可拿|拿|算|结)*\s*$"
    ), unit)
    for pat, unit in _LEFT_UNIT
]
_WAGE_WORD_RE = re.compile(
    r"(工资|工价|薪资|薪水|待遇|价格|价钱|报酬|工钱|给|开|大工|小工|师傅|技工|普工|熟手|新手|学徒|"
    r"包吃住|包住|包吃|收入|能拿|可拿|拿|赚|挣|要价|期望|希望|要求|佣金)\s*[:：]?\s*(?:是|为|有|你|他|您)?\s*$"
)
_SKIP_LEFT_RE = re.compile(
    r"(补贴|补助|餐补|饭补|车补|房补|话补|奖励|奖金|押金|保证金|抵押金|费|培训|提成|加班|满|第|前|"
    r"年龄|年满|身高|体重|编号|号码|电话|手机|尾号|qq|微信|vx|群|房间|地址|门牌|楼|栋|单元|电话:|"
    r"车牌|返|返利|返现|充值|垫付|诚意金|定金|订金|预付|先交|需交|要交|交|收)\s*[:：]?\s*$"
)
_SKIP_RIGHT_RE = re.compile(
    r"(?:多?岁|周岁|人|名|位|个人|几|多个|余|来个|小时|个小时|天(?!价)|周(?!薪)|个星期|星期|趟|遍|亩|斤|公斤|吨|"
    r"平方(?![一/])|平(?![一/])|方(?![一/])|公分|米(?![一/])|个(?=[\u4e00-\u9fff])(?!钟|小时|月|星期|礼拜)|号|点(?!工)|:|：|年|"
    r"层|楼|栋|%|公里|km|分钟|分|秒|度|厘米|cm|mm|kg|g\b|克|个月(?!工资|薪)|多个|来个|左右的人|"
    r"平米(?!一|/)|万平|亩地|户|台|辆|部|家|间|套|栋|位|期|次|届|路|号线|元素)"
)
_SKIP_RIGHT_FEE_RE = re.compile(r"\s*(?:元|块)?\s*(?:的)?\s*(?:押金|保证金|培训费|报名费|服装费|体检费|中介费|介绍费|"
                                r"手续费|路费|定金|诚意金|补贴|餐补|路补|车费|的?补助|返利)")
_LURE_RE = re.compile(
    r"(?P<u>日|天|每天|一天|月|每月|一个月)\s*(?:赚|入|收入|薪|挣|结)\s*(?:可达|轻松|能|可)?\s*"
    r"(?:过|上|超|破)?(?P<v>千|万|上千|上万|过千|过万|几千|几百|数千|[一二两三四五六七八九]千|[一二两三四五六七八九]万)"
    r"(?![一二两三四五六七八九十百\d])"
)
_CLAUSE_END = re.compile(r"[,，。;；!！?？\n]")


@dataclass(frozen=True, slots=True)
class Wage:
    """A wage: ``amount`` in yuan (``Decimal``, or a ``(min, max)`` pair) per ``unit``.

    Money elsewhere in the project is integer fen: use :attr:`fen` (single amounts),
    :attr:`min_fen` / :attr:`max_fen` (both kinds). ``trade_id`` ties the wage to one trade when
    the post names several (大工400小工260). ``start``/``end`` index the normalised text.
    """

    amount: Decimal | tuple[Decimal, Decimal]
    unit: str
    trade_id: str | None = None
    text: str = ""
    start: int = 0
    end: int = 0

    @property
    def is_range(self) -> bool:
        return isinstance(self.amount, tuple)

    @property
    def min_yuan(self) -> Decimal:
        return self.amount[0] if isinstance(self.amount, tuple) else self.amount

    @property
    def max_yuan(self) -> Decimal:
        return self.amount[1] if isinstance(self.amount, tuple) else self.amount

    @property
    def min_fen(self) -> int:
        return _to_fen(self.min_yuan)

    @property
    def max_fen(self) -> int:
        return _to_fen(self.max_yuan)

    @property
    def fen(self) -> int | None:
        """Integer fen of a single amount; ``None`` for a range (use min_fen/max_fen)."""
        return None if self.is_range else _to_fen(self.min_yuan)

    def amount_json(self) -> int | float | list[int | float]:
        if isinstance(self.amount, tuple):
            return [_json_num(self.amount[0]), _json_num(self.amount[1])]
        return _json_num(self.amount)

    def to_json_dict(self) -> dict[str, object]:
        return {"amount": self.amount_json(), "unit": self.unit, "trade_id": self.trade_id}


def _to_fen(v: Decimal) -> int:
    return int((v * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _json_num(v: Decimal) -> int | float:
    return int(v) if v == v.to_integral_value() else float(v)


@dataclass(frozen=True, slots=True)
class RawWage:
    """A wage before it is tied to a trade; ``hint`` is the left-context word (大工/小工...)."""

    amount: Decimal | tuple[Decimal, Decimal]
    unit: str
    start: int
    end: int
    text: str
    hint: str


def _fallback_unit(v: Decimal, norm: str) -> str:
    if re.search(r"日结|点工|按天|一天|每天|天工", norm) and 60 <= v < 2000:
        return "day"
    if re.search(r"计件|按件|按斤", norm) and v < 60:
        return "piece"
    if v >= 1800:
        return "month"
    if v >= 60:
        return "day"
    if re.search(r"小时|钟点|时薪|/h", norm):
        return "hour"
    return "hour" if v >= 10 else "piece"


_BARE_TAIL_RE = re.compile(r"\s*(?:以上|左右|起|多|\+|上下)|(?=\s|$|[,，。;；!！])")


def extract_wages(norm: str, anchors: tuple[int, ...] = ()) -> list[RawWage]:
    """All wages in normalised text (phones already blanked by the caller), in order.

    ``anchors`` are end offsets of trade words: an amount right after one is a wage (厨师600).
    """
    out: list[RawWage] = []
    if not norm:
        return out
    for m in _LURE_RE.finditer(norm):
        v = m.group("v")
        amount = Decimal(10000) if "万" in v else Decimal(1000)
        if v[0] in "二两三四五六七八九" or v[0] == "一":
            amount *= {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                       "七": 7, "八": 8, "九": 9}[v[0]]
        if v.startswith("几百"):
            amount = Decimal(100)
        unit = "month" if "月" in m.group("u") else "day"
        out.append(RawWage(amount, unit, m.start(), m.end(), m.group(), "lure"))
    lure_spans = [(w.start, w.end) for w in out]
    for m in _AMT_RE.finditer(norm):
        s, e = m.start(), m.end()
        if any(a <= s < b for a, b in lure_spans):
            continue
        a_txt, b_txt = m.group("a"), m.group("b")
        # an amount glued to letters/digits (model numbers, 58同城) is not money
        prev = norm[s - 1 : s]
        if prev and ((prev.isascii() and prev.isalnum()) or prev in "*x"):
            continue
        left = norm[max(0, s - 10) : s]
        right = norm[e : e + 10]
        if _SKIP_LEFT_RE.search(left):
            continue
        if _SKIP_RIGHT_FEE_RE.match(right):
            continue
        ru = _RIGHT_UNIT_RE.match(right)
        unit: str | None = None
        has_cur = False
        hint = ""
        consumed = 0
        if a_txt.endswith("毛"):
            has_cur = True
        if ru:
            if ru.group("tail"):
                tail = ru.group("tail")
                unit = "day" if tail == "日结" else "total"
                has_cur = bool(ru.group("cur2")) or has_cur
                consumed = ru.end()
            elif ru.group("per"):
                unit = "total"
                has_cur = True
                consumed = ru.end()
            elif ru.group("unit") and (
                ru.group("sep") or (ru.group("cur") and _TIME_UNIT_RE.match(ru.group("unit")))
            ):
                unit = _UNIT_WORDS[ru.group("unit")]
                has_cur = bool(ru.group("cur")) or has_cur
                consumed = ru.end()
                # "200块一个小工": the unit word is a count, not a unit
                after_u = norm[e + ru.end() : e + ru.end() + 1]
                if ru.group("unit") in ("个", "位") and after_u and re.match(r"[人小大师工]", after_u):
                    unit = None
            elif ru.group("cur"):
                has_cur = True
                consumed = len(ru.group("cur"))
        if not has_cur and unit is None:
            cm = _CURRENCY_RE.match(right)
            if cm and not (cm.group().strip() == "米" and not _looks_money_context(left)):
                has_cur = True
                consumed = cm.end()
        if not has_cur and unit is None and _SKIP_RIGHT_RE.match(right):
            continue
        left_unit = None
        for rx, u in _LEFT_UNIT_RES:
            lm = rx.search(left)
            if lm:
                left_unit = u
                hint = lm.group()
                break
        wm = _WAGE_WORD_RE.search(left)
        if wm:
            hint = hint or wm.group(1)
        anchored = any(0 <= s - a <= 1 for a in anchors)  # "厨师600": right after a trade word
        if left_unit is not None and (
            (ru is not None and ru.group("tail") == "日结")
            or (ru is not None and ru.group("per") and left_unit in ("day", "hour", "half_day", "week", "month"))
        ):
            unit = left_unit  # 一个赞3毛 日结 → piece; 一天250一个人 → day
        if unit is None:
            unit = left_unit
        bare_ok = False
        if unit is None and not has_cur and not wm and not anchored:
            # bare ranges (150-200, 4500-5500) and round sums with 以上/左右/起 are wages too
            tail = _BARE_TAIL_RE.match(right)
            if not tail:
                continue
            bare_ok = True
        va = parse_amount(a_txt)
        if va is None:
            continue
        amount: Decimal | tuple[Decimal, Decimal] = va
        if b_txt:
            vb = parse_amount(b_txt)
            if vb is None:
                continue
            if va < 10 and vb >= 1000 and a_txt.isdigit() and not b_txt.isdigit():
                # 3-5千 → 3000-5000
                mult = Decimal(10) ** (len(str(int(vb))) - 1)
                va = va * mult
            if va > vb or va <= 0:
                continue
            amount = (va, vb) if va != vb else va
        lo = amount[0] if isinstance(amount, tuple) else amount
        hi = amount[1] if isinstance(amount, tuple) else amount
        if lo <= 0 or hi > 200000:
            continue
        if bare_ok:
            rng = isinstance(amount, tuple)
            tail_txt = _BARE_TAIL_RE.match(right)
            has_tail = bool(tail_txt and tail_txt.group().strip())
            if not (rng and lo >= 50) and not (has_tail and lo >= 100) and not (lo >= 1000 and lo % 100 == 0):
                continue
            if prev and not re.match(r"[\s:：,，薪资入均]", prev):
                continue
        if unit is None:
            # plain money without unit: drop implausible tiny sums after wage words only
            if not has_cur and lo < 10:
                continue
            unit = _fallback_unit(lo, norm)
        if unit == "day" and hi > 5000:
            continue
        if unit == "hour" and hi > 1000:
            continue
        end = e + consumed
        out.append(RawWage(amount, unit, s, end, norm[s:end], hint))
    out.sort(key=lambda w: w.start)
    # drop exact duplicates (the same wage repeated)
    seen: set[tuple[object, str]] = set()
    uniq: list[RawWage] = []
    for w in out:
        key = (w.amount, w.unit)
        if key in seen:
            continue
        seen.add(key)
        uniq.append(w)
    return uniq


def _looks_money_context(left: str) -> bool:
    return bool(re.search(r"(日结|工资|一天|每天|给|开|赚|拿|价)\s*$", left))
