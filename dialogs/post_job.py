"""Employer side: post a job (发布招工) and manage it (我的招工, 看报名, 选, 不要, 取消招工, 改人数,
改时间). See post_job.mmd.

Posting reads the employer's own words first (``matching.parse``) and then asks only for what is
missing, one question at a time. A post the fraud screen holds is saved as ``held`` and is not
published before an operator reviews it (第八条).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogs import texts
from dialogs.base import DialogContext, Flow, State, Step
from dialogs.fields import read_trades
from dialogs.jobs import one_shot
from market import digests, orders
from market import texts as mtexts
from market.money import fen_to_text
from market.orders import OrderDraft
from matching.fields import Requirements
from matching.gazetteer import find_town
from matching.intents import match_choice
from matching.parse import parse_headcount, parse_post, parse_start, parse_wage
from storage.repositories import UserRepository

NAME = "post_job"
FIELDS = ("trade_id", "headcount", "wage", "start_at", "town")
ASK_FOR = {"trade_id": "trade", "headcount": "headcount", "wage": "wage", "start_at": "start", "town": "town"}


def requirements_text(req: Requirements) -> str:
    """``18-55岁 男 有经验 电工证`` — the hard requirements as the card shows them."""
    parts: list[str] = []
    if req.age_min and req.age_max:
        parts.append(f"{req.age_min}-{req.age_max}岁")
    elif req.age_max:
        parts.append(f"{req.age_max}岁以下")
    elif req.age_min:
        parts.append(f"{req.age_min}岁以上")
    if req.gender:
        parts.append(texts.GENDER_LABELS.get(req.gender, req.gender))
    if req.experience is True:
        parts.append("有经验")
    elif req.experience is False:
        parts.append("不要经验")
    parts.extend(req.certificates)
    return " ".join(parts)


def _iso(at: datetime) -> str:
    return at.isoformat()


def _next_missing(data: dict[str, Any]) -> str:
    for f in FIELDS:
        if data.get(f) in (None, ""):
            return ASK_FOR[f]
    if "mode" not in data:
        return "mode"
    return "insurance" if "insurance" not in data else "confirm"


def _wage_of(text: str) -> list[Any] | None:
    wages = parse_wage(text)
    if not wages or wages[0].min_fen <= 0:
        return None
    return [wages[0].min_fen, wages[0].unit]


async def start(ctx: DialogContext) -> Step:
    uid = await ctx.user_id()
    if uid is None or await UserRepository(ctx.session).employer(uid) is None:
        return Step.switch("register_employer", texts.POST_NEED_REGISTER)
    return Step.to("describe")


async def on_describe(ctx: DialogContext) -> Step:
    parsed = parse_post(ctx.text, ctx.now)
    d = ctx.data
    d["raw_text"] = ctx.text[:2000]
    if parsed.trades:
        d["trade_id"] = parsed.trades[0].trade_id
    if parsed.headcount:
        d["headcount"] = min(parsed.headcount, 200)
    if parsed.wages and parsed.wages[0].min_fen > 0:
        d["wage"] = [parsed.wages[0].min_fen, parsed.wages[0].unit]
    if parsed.start is not None and parsed.start.at is not None and parsed.start.at > ctx.now:
        d["start_at"] = _iso(parsed.start.at)
    if parsed.duration is not None:
        d["duration_text"] = parsed.duration.text[:32]
    if parsed.location is not None and parsed.location.town:
        d["town"] = parsed.location.town
        d["place"] = parsed.location.text[:64]
    d["perks"] = list(parsed.perks)[:8]
    d["requirements"] = requirements_text(parsed.requirements)[:200]
    d["requirement_data"] = parsed.requirements.to_json_dict()
    d["risk"] = {"level": parsed.risk.level, "reasons": list(parsed.risk.reasons)}
    if not any(d.get(f) for f in FIELDS):
        return Step.to("trade")
    return Step.to(_next_missing(d))


def _field_state(name: str, ask: str, error: str, read) -> State:  # type: ignore[no-untyped-def]
    async def handle(ctx: DialogContext) -> Step:
        values = read(ctx)
        if values is None:
            return Step.again(error)
        ctx.data.update(values)
        return Step.to(_next_missing(ctx.data))

    return State(name, lambda _c: ask, handle)


def _read_trade(ctx: DialogContext) -> dict[str, Any] | None:
    found = read_trades(ctx.text)
    return {"trade_id": found[0]} if found else None


def _read_headcount(ctx: DialogContext) -> dict[str, Any] | None:
    n = parse_headcount(ctx.text)
    return {"headcount": n} if n is not None and 1 <= n <= 200 else None


def _read_wage(ctx: DialogContext) -> dict[str, Any] | None:
    wage = _wage_of(ctx.text)
    return {"wage": wage} if wage else None


def _read_start(ctx: DialogContext) -> dict[str, Any] | None:
    found = parse_start(ctx.text, ctx.now)
    if found is None or found.at is None or found.at <= ctx.now:
        return None
    return {"start_at": _iso(found.at)}


def _read_town(ctx: DialogContext) -> dict[str, Any] | None:
    town = find_town(ctx.text)
    return {"town": town.name, "place": ctx.text.strip()[:64]} if town else None


async def on_mode(ctx: DialogContext) -> Step:
    choice = match_choice(ctx.text, {1, 2})
    if choice is None:
        return Step.again(texts.MODE_AGAIN)
    ctx.data["mode"] = "first_come" if choice == 1 else "pick"
    return Step.to(_next_missing(ctx.data))


def ask_insurance(ctx: DialogContext) -> str:
    options = ctx.market.insurance_options
    lines = [
        f"{i} 买：{o.insurer}「{o.product}」每人每天{fen_to_text(o.premium_fen)}，"
        f"{'老板出' if o.payer == 'employer' else '工人出'}（{o.coverage}）"
        for i, o in enumerate(options, 1)
    ]
    lines.append(f"{len(options) + 1} 不买")
    return texts.ASK_INSURANCE + "\n" + "\n".join(lines)


async def on_insurance(ctx: DialogContext) -> Step:
    options = ctx.market.insurance_options
    choice = match_choice(ctx.text, set(range(1, len(options) + 2)))
    if choice is None:
        return Step.again(texts.INSURANCE_AGAIN)
    ctx.data["insurance"] = options[choice - 1].id if choice <= len(options) else ""
    return Step.to("confirm")


def _draft(ctx: DialogContext) -> OrderDraft:
    d = ctx.data
    fen, unit = d["wage"]
    return OrderDraft(
        trade_id=d["trade_id"],
        headcount=int(d["headcount"]),
        wage_fen=int(fen),
        wage_unit=unit,
        start_at=datetime.fromisoformat(d["start_at"]),
        duration_text=d.get("duration_text", ""),
        town=d["town"],
        place=d.get("place", ""),
        requirements=d.get("requirements", ""),
        requirement_data=dict(d.get("requirement_data", {})),
        perks=list(d.get("perks", [])),
        mode=d.get("mode", "first_come"),
        insurance=d.get("insurance", ""),
        source="group" if ctx.msg.is_group else "chat",
        raw_text=d.get("raw_text", ""),
    )


async def ask_confirm(ctx: DialogContext) -> str:
    preview = orders.preview_card(_draft(ctx), ctx.tz)
    return texts.CONFIRM_POST.format(card=preview)


async def on_confirm(ctx: DialogContext) -> Step:
    choice = match_choice(ctx.text, {1, 2, 3})
    if choice is None:
        return Step.again(texts.CONFIRM_AGAIN)
    if choice == 3:
        return Step.end(texts.POST_DISCARDED)
    if choice == 2:
        ctx.data.clear()
        return Step.to("describe")
    uid = await ctx.user_id()
    assert uid is not None
    risk = ctx.data.get("risk") or {"level": "ok", "reasons": []}
    order = await orders.publish_order(
        ctx.session, uid, _draft(ctx), ctx.now, held=risk["level"] == "hold"
    )
    if order.status == "held":
        reasons = "；".join(risk["reasons"]) or "内容需要核实"
        return Step.end(texts.POST_HELD.format(reasons=reasons, hotline=ctx.settings.hotline))
    await digests.offer_to_priority_workers(ctx.session, order, ctx.market, ctx.now)  # 第七条
    return Step.end(texts.POSTED.format(code=order.code))


FLOW = Flow(
    name=NAME,
    title=texts.POST_JOB_NAME,
    start=start,
    states={
        "describe": State("describe", lambda _c: texts.ASK_DESCRIBE, on_describe),
        "trade": _field_state("trade", texts.ASK_TRADE, texts.TRADES_NOT_FOUND, _read_trade),
        "headcount": _field_state("headcount", texts.ASK_HEADCOUNT, texts.BAD_HEADCOUNT, _read_headcount),
        "wage": _field_state("wage", texts.ASK_WAGE, texts.BAD_WAGE, _read_wage),
        "start": _field_state("start", texts.ASK_START, texts.BAD_START, _read_start),
        "town": _field_state("town", texts.ASK_TOWN, texts.TOWNS_NOT_FOUND, _read_town),
        "mode": State("mode", lambda _c: texts.ASK_MODE, on_mode),
        "insurance": State("insurance", ask_insurance, on_insurance),
        "confirm": State("confirm", ask_confirm, on_confirm),
    },
)


# -- managing orders (one-shot commands) ---------------------------------------------------------
async def _employer_id(ctx: DialogContext) -> int:
    uid = await ctx.user_id()
    if uid is None:
        from market.errors import UserFacingError
        from market.texts import NOT_EMPLOYER

        raise UserFacingError(NOT_EMPLOYER)
    return uid


async def my_orders(ctx: DialogContext) -> Step:
    uid = await ctx.user_id()
    found = await orders.orders_of_employer(ctx.session, uid) if uid is not None else []
    if not found:
        return Step.end(texts.MY_ORDERS_NONE)
    from market.texts import STATUS_LABELS

    lines = [
        texts.MY_ORDER_LINE.format(
            code=o.code,
            trade=orders.trade_name(o.trade_id),
            confirmed=o.confirmed,
            headcount=o.headcount,
            when=orders.when_text(o.start_at, ctx.tz),
            status=STATUS_LABELS.get(o.status, o.status),
        )
        for o in found
    ]
    return Step.end(texts.MY_ORDERS_HEAD + "\n" + "\n".join(lines) + "\n" + texts.MY_ORDERS_TAIL)


async def show_applicants(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    order = await orders.by_code(ctx.session, code)
    orders.ensure_owner(order, await _employer_id(ctx))
    listed = await orders.applicants(ctx.session, order.id)
    if not listed:
        return Step.end(texts.APPLICANTS_NONE.format(code=code))
    # Priority workers (第七条) are listed first; the numbers stay those of application order.
    worked = await digests.last_work(ctx.session)
    numbered = [
        (i, a, w, bool(digests.priority_groups(w, ctx.now, ctx.market, worked.get(w.user_id))))
        for i, (a, w) in enumerate(listed, 1)
    ]
    numbered.sort(key=lambda x: (not x[3], x[0]))
    lines = [
        texts.APPLICANT_LINE.format(
            n=i, name=w.name + (texts.PRIORITY_MARK if prio else ""), phone=w.phone,
            status=mtexts.ASSIGNMENT_STATUS.get(a.status, a.status),
        )
        for i, a, w, prio in numbered
    ]
    return Step.end(texts.APPLICANTS_HEAD.format(code=code) + "\n" + "\n".join(lines))


def _number(ctx: DialogContext) -> int | None:
    assert ctx.command is not None
    return parse_headcount(ctx.command.rest) if ctx.command.rest else None


async def pick(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    n = _number(ctx)
    if n is None:
        return Step.end(texts.PICK_WHICH.format(code=code))
    a = await orders.pick(ctx.session, code, await _employer_id(ctx), n, ctx.now, ctx.tz)
    order = await orders.by_code(ctx.session, code)
    worker = await UserRepository(ctx.session).worker(a.worker_id)
    return Step.end(
        texts.PICKED.format(name=worker.name if worker else "", confirmed=order.confirmed, headcount=order.headcount)
    )


async def decline(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    n = _number(ctx)
    if n is None:
        return Step.end(texts.PICK_WHICH.format(code=code))
    a = await orders.decline(ctx.session, code, await _employer_id(ctx), n, ctx.now)
    worker = await UserRepository(ctx.session).worker(a.worker_id)
    return Step.end(texts.DECLINED.format(name=worker.name if worker else ""))


async def cancel_order(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    told = await orders.cancel_order(ctx.session, code, await _employer_id(ctx), ctx.now)
    return Step.end(texts.ORDER_CANCELLED.format(code=code, told=told))


async def change_headcount(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    n = _number(ctx)
    if n is None or not 1 <= n <= 200:
        return Step.end(texts.ASK_NEW_HEADCOUNT.format(code=code))
    await orders.change_headcount(ctx.session, code, await _employer_id(ctx), n, ctx.now, ctx.tz)
    return Step.end(texts.HEADCOUNT_CHANGED.format(code=code, headcount=n))


async def change_start(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    found = parse_start(ctx.command.rest, ctx.now) if ctx.command.rest else None
    if found is None or found.at is None or found.at <= ctx.now:
        return Step.end(texts.ASK_NEW_START.format(code=code))
    await orders.change_start(ctx.session, code, await _employer_id(ctx), found.at, ctx.now, ctx.tz)
    return Step.end(texts.START_CHANGED.format(code=code, when=orders.when_text(found.at, ctx.tz)))


FLOWS = [
    FLOW,
    one_shot("my_orders", "我的招工", my_orders),
    one_shot("applicants", "看报名", show_applicants),
    one_shot("pick", "录用", pick),
    one_shot("decline", "不录用", decline),
    one_shot("cancel_order", "取消招工", cancel_order),
    one_shot("change_headcount", "改人数", change_headcount),
    one_shot("change_start", "改时间", change_start),
]
