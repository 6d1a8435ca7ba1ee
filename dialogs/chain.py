"""The order-to-pay chain after taking: 确认/议价 (price), 同意 CODE (sign), 签到 (check in),
完工 (completion, asks the work done per worker), 已付 / 已收到 / 没收到 (payment), 评价 (rating).
See chain.mmd.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from dialogs import texts
from dialogs.base import DialogContext, Flow, State, Step
from dialogs.jobs import one_shot
from market import agreement, contracts, payments, ratings, work
from market import texts as mtexts
from market.errors import UserFacingError
from market.money import fen_to_text
from market.orders import UNIT_LABELS, by_code
from matching.normalize import normalize
from matching.numbers import parse_amount, parse_count
from matching.parse import parse_wage

_NUMBER = re.compile(r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+")


async def _uid(ctx: DialogContext) -> int:
    uid = await ctx.user_id()
    if uid is None:
        raise UserFacingError(texts.TAKE_NEED_REGISTER)
    return uid


def _tokens(rest: str) -> list[str]:
    return [t for t in re.split(r"[\s,，]+", normalize(rest)) if t]


def _count(token: str) -> int | None:
    return parse_count(token)


def amount_fen(text: str) -> int | None:
    wages = parse_wage(text)
    if wages and wages[0].min_fen > 0:
        return wages[0].min_fen
    value = parse_amount(normalize(text))
    if value is None or value <= 0:
        return None
    return int(value * 100)


def _split_n_amount(rest: str, employer: bool) -> tuple[int | None, int | None]:
    tokens = _tokens(rest)
    if employer and len(tokens) >= 2:
        return _count(tokens[0]), amount_fen(" ".join(tokens[1:]))
    if employer and len(tokens) == 1:
        return _count(tokens[0]), None
    return None, amount_fen(rest) if rest else None


async def _is_employer(ctx: DialogContext) -> bool:
    assert ctx.command is not None
    order = await by_code(ctx.session, ctx.command.code)
    return order.employer_id == await _uid(ctx)


# -- price -----------------------------------------------------------------------------------------
async def confirm_price(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    employer = await _is_employer(ctx)
    n, _ = _split_n_amount(ctx.command.rest, employer) if employer else (None, None)
    reply = await agreement.confirm_price(
        ctx.session, ctx.command.code, await _uid(ctx), n, ctx.market, ctx.now
    )
    return Step.end(reply)


async def propose_price(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    employer = await _is_employer(ctx)
    n, amount = _split_n_amount(ctx.command.rest, employer)
    if amount is None:
        return Step.end(texts.NEED_AMOUNT.format(code=ctx.command.code))
    reply = await agreement.propose_price(
        ctx.session, ctx.command.code, await _uid(ctx), n, amount, ctx.market, ctx.now
    )
    return Step.end(reply)


# -- signing ---------------------------------------------------------------------------------------
async def sign(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    if len(code) != 6:  # 同意 3827: agreeing to the price of an order
        return await confirm_price(ctx)
    await contracts.sign(
        ctx.session,
        code,
        await _uid(ctx),
        channel=ctx.msg.channel,
        channel_user_id=ctx.msg.user_id,
        message_id=ctx.msg.message_id,
        now=ctx.now,
    )
    return Step.end()  # both sides get a notification (signed by one / in force)


# -- attendance and completion ---------------------------------------------------------------------
async def check_in(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    await work.check_in(ctx.session, ctx.command.code, await _uid(ctx), ctx.market, ctx.now)
    return Step.end(mtexts.CHECKED_IN.format(code=ctx.command.code))


def read_quantity(text: str) -> int | None:
    """``1`` / ``1.5`` / ``一天半`` / ``半天`` / ``0`` → thousandths (1500 for 1.5)."""
    norm = normalize(text).replace("个", "")
    if norm in {"半", "半天", "半个", "0.5"}:
        return 500
    half = norm.endswith("半") or "天半" in norm or "个半" in norm
    m = _NUMBER.search(norm)
    if m is None:
        return None
    token = m.group(0)
    try:
        value = Decimal(token) if token[0].isdigit() else Decimal(parse_count(token) or -1)
    except InvalidOperation:
        return None
    if value < 0:
        return None
    if half and value == value.to_integral_value():
        value += Decimal("0.5")
    milli = int(value * 1000)
    return milli if milli <= 1_000_000 else None


async def complete_start(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    code = ctx.command.code
    order, pending = await work.to_complete(ctx.session, code, await _uid(ctx))
    ctx.data.update(
        code=code,
        unit=order.wage_unit,
        queue=[[n, a.id, w.name, a.checked_in_at is not None] for n, a, w in pending],
        done=[],
    )
    tokens = _tokens(ctx.command.rest)
    if len(tokens) >= 2:  # 完工 3827 2 1.5 — one worker in one message
        n, qty = _count(tokens[0]), read_quantity(" ".join(tokens[1:]))
        item = next((q for q in ctx.data["queue"] if q[0] == n), None)
        if item is None or qty is None:
            return Step.to("quantity")
        ctx.data["queue"] = [item]
        return await _record(ctx, item, qty)
    return Step.to("quantity")


def ask_quantity(ctx: DialogContext) -> str:
    n, _aid, name, checked = ctx.data["queue"][0]
    return texts.ASK_QUANTITY.format(
        n=n, name=name, checked=texts.CHECKED_YES if checked else texts.CHECKED_NO,
        unit=UNIT_LABELS.get(ctx.data["unit"], ""),
    )


async def _record(ctx: DialogContext, item: list, qty: int) -> Step:  # type: ignore[type-arg]
    n, aid, name, _checked = item
    a = await work.complete(ctx.session, aid, await _uid(ctx), qty, ctx.market, ctx.now)
    if a.status == "no_show":
        ctx.data["done"].append(texts.COMPLETE_NO_SHOW.format(n=n, name=name))
    else:
        ctx.data["done"].append(
            texts.COMPLETE_LINE.format(
                n=n, name=name, quantity=work.quantity_text(qty, a.wage_unit), amount=fen_to_text(a.amount_due_fen or 0)
            )
        )
    ctx.data["queue"] = ctx.data["queue"][1:]
    if ctx.data["queue"]:
        return Step.to("quantity")
    return Step.end(texts.COMPLETE_DONE.format(lines="\n".join(ctx.data["done"]), code=ctx.data["code"]))


async def on_quantity(ctx: DialogContext) -> Step:
    qty = read_quantity(ctx.text)
    if qty is None:
        return Step.again(texts.BAD_QUANTITY)
    return await _record(ctx, ctx.data["queue"][0], qty)


COMPLETE = Flow(
    name="complete",
    title=texts.COMPLETE_NAME,
    start=complete_start,
    states={"quantity": State("quantity", ask_quantity, on_quantity)},
)


# -- payment ---------------------------------------------------------------------------------------
async def paid(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    n, amount = _split_n_amount(ctx.command.rest, employer=True)
    made = await payments.claim_payment(
        ctx.session, ctx.command.code, await _uid(ctx), n, amount, key=f"claim:{ctx.msg.channel}:{ctx.msg.message_id}", now=ctx.now
    )
    return Step.end(texts.PAID_RECORDED.format(amount=fen_to_text(sum(p.amount_fen for p in made))))


async def received(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    total = await payments.confirm_received(ctx.session, ctx.command.code, await _uid(ctx), ctx.now)
    return Step.end(texts.RECEIVED_DONE.format(amount=fen_to_text(total)))


async def not_received(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    total = await payments.reject_claim(ctx.session, ctx.command.code, await _uid(ctx), ctx.now)
    return Step.end(
        texts.REJECTED_DONE.format(amount=fen_to_text(total), code=ctx.command.code, hotline=ctx.settings.hotline)
    )


# -- rating ----------------------------------------------------------------------------------------
async def rate(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    employer = await _is_employer(ctx)
    tokens = _tokens(ctx.command.rest)
    n: int | None = None
    if employer and len(tokens) >= 2 and _count(tokens[0]) is not None and _count(tokens[1]) is not None:
        n, tokens = _count(tokens[0]), tokens[1:]
    score = _count(tokens[0]) if tokens else None
    if score is None:
        return Step.end(mtexts.BAD_SCORE.format(code=ctx.command.code))
    comment = " ".join(tokens[1:])
    await ratings.rate(ctx.session, ctx.command.code, await _uid(ctx), n, score, comment, ctx.now)
    return Step.end(mtexts.RATED)


FLOWS = [
    one_shot("confirm_price", "确认价格", confirm_price),
    one_shot("propose_price", "议价", propose_price),
    one_shot("sign", "签合同", sign),
    one_shot("check_in", "签到", check_in),
    COMPLETE,
    one_shot("paid", "登记付款", paid),
    one_shot("received", "确认收款", received),
    one_shot("not_received", "没收到", not_received),
    one_shot("rate", "评价", rate),
]
