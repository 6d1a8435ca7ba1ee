"""Answers to the profile questions: how each is read, and the states that ask for them.

Registration and profile editing ask the same questions; both build their states from here, with
a different ``done`` step at the end.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dialogs import texts
from dialogs.base import DialogContext, State, Step, StepFn
from matching.gazetteer import find_towns
from matching.intents import compact, match_choice
from matching.names import impersonation
from matching.normalize import normalize
from matching.phones import extract_phones, is_mobile
from matching.taxonomy import load_taxonomy

Done = Callable[[DialogContext], Awaitable[Step]]
AVAILABILITY_CHOICES = ("any", "weekdays", "weekends", "half_day", "evenings")
_DIGITS = re.compile(r"[0-9０-９一二三四五六七八九零〇幺两]")
# What to cut out of a message to leave the name: Arabic digits, and runs of Chinese digits long
# enough to be a spoken phone number (张三 and 王五 keep their 三 and 五).
_NUMBER_SPANS = re.compile(r"[0-9０-９]+|[一二三四五六七八九零〇幺两]{5,}")
_NAME_NOISE = re.compile(r"[\s\d,，.。:：;；、!！?？~～\-—_()（）【】\[\]<>《》\"'“”‘’/\\|@#*&%$^+=]+")
_NAME_PREFIX = re.compile(r"^(?:我叫|我是|叫我|称呼|姓名|名字|我姓|本人)+")
_PHONE_PREFIX = re.compile(r"(?:手机号码|手机号|电话号码|电话|手机|号码|tel|phone)")


@dataclass(frozen=True)
class Contact:
    """A name and phone read from one answer; ``bad_phone`` when a number was given but is not valid."""

    name: str | None
    phone: str | None
    bad_phone: bool = False


def read_consent(text: str) -> bool | None:
    choice = match_choice(text, {1, 2})
    if choice is not None:
        return choice == 1
    key = compact(text)
    if key in {"同意", "好", "好的", "可以", "行", "是", "yes", "ok", "嗯", "同意并开始"}:
        return True
    if key in {"不同意", "不", "不要", "不行", "否", "no"}:
        return False
    return None


def read_contact(text: str) -> Contact:
    """``张师傅 138 1234 5678`` → name and phone; either may be missing."""
    phones = [p for p in extract_phones(text) if is_mobile(p)]
    rest = _PHONE_PREFIX.sub(" ", text)
    bad_phone = not phones and len(_DIGITS.findall(text)) >= 5
    if phones or bad_phone:
        rest = _NUMBER_SPANS.sub(" ", rest)
    name = _NAME_PREFIX.sub("", _NAME_NOISE.sub("", rest))
    return Contact(name=name or None, phone=phones[0] if phones else None, bad_phone=bad_phone)


_NAME_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z·]{1,12}")


def valid_name(name: str | None) -> bool:
    """Chinese characters or letters, 1–12 of them (no emoji, digits or markup)."""
    if not name:
        return False
    return _NAME_CHARS.fullmatch(name) is not None and name not in {"不知道", "没有"}


def read_trades(text: str) -> list[str] | None:
    found = load_taxonomy().find(text)
    return [t.id for t in found] or None


def read_towns(text: str) -> list[str] | None:
    """Town names; ``[]`` means the whole county (全县/哪里都行)."""
    key = compact(text)
    if key in {"全县", "都行", "哪里都行", "都可以", "随便", "不限", "全部", "沙县", "沙县区"}:
        return []
    towns = find_towns(text)
    return [t.name for t in towns] or None


def read_town(text: str) -> str | None:
    towns = find_towns(text)
    return towns[0].name if towns else None


def read_availability(text: str) -> str | None:
    choice = match_choice(text, set(range(1, len(AVAILABILITY_CHOICES) + 1)))
    if choice is not None:
        return AVAILABILITY_CHOICES[choice - 1]
    key = compact(text)
    for code, label in texts.AVAILABILITY_LABELS.items():
        if key and (key == compact(label) or key in compact(label)) and len(key) >= 2:
            return code
    return None


def read_min_wage(text: str) -> tuple[int, str] | None:
    """(fen, unit). ``0``/``不限`` is no minimum."""
    key = compact(text)
    if key in {"0", "不限", "无", "没有", "随便", "都行", "不要求", "零"}:
        return (0, "day")
    from matching.parse import parse_wage

    wages = parse_wage(text)
    if not wages:
        return None
    wage = wages[0]
    unit = wage.unit if wage.unit in texts.WAGE_UNIT_LABELS else "day"
    fen = wage.min_fen
    if fen is None or fen < 0 or fen > 10_000_000:
        return None
    return (fen, unit)


def read_company(text: str) -> str | None:
    key = compact(text)
    if key in {"个人", "无", "没有", "自己", "私人", "个体"}:
        return ""
    name = text.strip()
    return name if 2 <= len(name) <= 30 else None


def name_refusal(ctx: DialogContext, name: str | None) -> str | None:
    """Why a person's name is refused (it imitates the bot or the staff), or None."""
    word = impersonation(name or "", ctx.settings.bot_name)
    return texts.NAME_IMPERSONATES.format(word=word) if word else None


def company_refusal(ctx: DialogContext, company: str) -> str | None:
    """Why a company name is refused (it imitates the bot, the platform or an office), or None."""
    word = impersonation(company, ctx.settings.bot_name)
    return texts.COMPANY_IMPERSONATES.format(word=word) if word else None


# -- state builders -------------------------------------------------------------------------------
def _const(text: str) -> Callable[[DialogContext], str]:
    return lambda _ctx: text


def contact_states(done: Done, prefix: str = "contact") -> dict[str, State]:
    """Three states that end with ``data['name']`` and ``data['phone']`` set, then ``done``."""

    async def ask_phone_only(ctx: DialogContext) -> str:
        return texts.ASK_PHONE_ONLY.format(name=ctx.data.get("name", ""))

    async def on_contact(ctx: DialogContext) -> Step:
        c = read_contact(ctx.text)
        if c.bad_phone:
            return Step.again(texts.BAD_PHONE)
        refusal = name_refusal(ctx, c.name)
        if refusal is not None:
            return Step.again(refusal)
        if c.name is not None and not valid_name(c.name):
            return Step.again(texts.BAD_NAME)
        if c.name and c.phone:
            ctx.data.update(name=c.name, phone=c.phone)
            return await done(ctx)
        if c.name:
            ctx.data["name"] = c.name
            return Step.to(f"{prefix}_phone")
        if c.phone:
            ctx.data["phone"] = c.phone
            return Step.to(f"{prefix}_name")
        return Step.again(texts.NOT_UNDERSTOOD)

    async def on_phone(ctx: DialogContext) -> Step:
        c = read_contact(ctx.text)
        if not c.phone:
            return Step.again(texts.BAD_PHONE)
        ctx.data["phone"] = c.phone
        return await done(ctx)

    async def on_name(ctx: DialogContext) -> Step:
        c = read_contact(ctx.text)
        refusal = name_refusal(ctx, c.name)
        if refusal is not None:
            return Step.again(refusal)
        if not valid_name(c.name):
            return Step.again(texts.BAD_NAME)
        ctx.data["name"] = c.name
        return await done(ctx)

    return {
        prefix: State(prefix, _const(texts.ASK_NAME_PHONE), on_contact),
        f"{prefix}_phone": State(f"{prefix}_phone", ask_phone_only, on_phone),
        f"{prefix}_name": State(f"{prefix}_name", _const(texts.ASK_NAME_ONLY), on_name),
    }


def value_state(
    name: str, ask: str, read: Callable[[str], Any], error: str, key: str, done: Done
) -> State:
    """A state that reads one value into ``data[key]`` (re-asking with ``error``), then ``done``."""

    async def handle(ctx: DialogContext) -> Step:
        value = read(ctx.text)
        if value is None:
            return Step.again(error)
        ctx.data[key] = value
        return await done(ctx)

    return State(name, _const(ask), handle)


def company_state(name: str, done: Done) -> State:
    """Asks for the company (``个人`` for none) into ``data['company']``, then ``done``; a name
    that imitates the platform or an office is refused with its reason and asked again."""

    async def handle(ctx: DialogContext) -> Step:
        company = read_company(ctx.text)
        refusal = company_refusal(ctx, ctx.text if company is None else company)
        if refusal is not None:
            return Step.again(refusal)
        if company is None:
            return Step.again(texts.BAD_COMPANY)
        ctx.data["company"] = company
        return await done(ctx)

    return State(name, _const(texts.ASK_COMPANY), handle)


def goto(state: str) -> Done:
    async def step(_ctx: DialogContext) -> Step:
        return Step.to(state)

    return step


def consent_state(ask: str, done: Done) -> State:
    async def handle(ctx: DialogContext) -> Step:
        agreed = read_consent(ctx.text)
        if agreed is None:
            return Step.again(texts.CONSENT_AGAIN)
        if not agreed:
            return Step.end(texts.CONSENT_DECLINED)
        return await done(ctx)

    return State("consent", _const(ask), handle)


def start_at(state: str) -> StepFn:
    async def start(_ctx: DialogContext) -> Step:
        return Step.to(state)

    return start


def read_extras(text: str, now: datetime) -> dict[str, object] | None:
    """``男 52岁 电工证`` → birth year, gender, certificates (the parser's self-introduction
    reading). ``清空`` clears them."""
    from matching.fields import find_requirements

    if compact(text) in {"清空", "清除", "不告诉", "无", "没有"}:
        return {"birth_year": None, "gender": None, "certificates": []}
    req = find_requirements(normalize(text), kind="seeker")
    age = req.age or req.age_min
    if age is None and req.gender is None and not req.certificates:
        return None
    return {
        "birth_year": now.year - age if age else None,
        "gender": req.gender,
        "certificates": list(req.certificates),
    }


_HOUR = re.compile(
    r"(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*[点:：时]\s*"
    r"(半|\d{1,2}|[一二三四五]十[一二三四五六七八九]?)?"
)


def read_clock(text: str) -> str | None:
    """``6点半`` / ``7点`` / ``06:30`` / ``早上七点`` → ``"06:30"``."""
    from matching.numbers import parse_count

    m = _HOUR.search(normalize(text))
    if m is None:
        return None
    hour = parse_count(m.group(1))
    minute_text = m.group(2)
    minute = 30 if minute_text == "半" else (parse_count(minute_text) if minute_text else 0)
    if hour is None or minute is None:
        return None
    if any(w in text for w in ("下午", "晚上")) and hour < 12:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"
