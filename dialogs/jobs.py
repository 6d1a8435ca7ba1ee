"""Worker-side commands: 找活 (open jobs), 接 CODE, 退 CODE, 看 CODE, 我的活.

One-shot flows: each answers in one message and keeps no conversation state.
"""

from __future__ import annotations

from dialogs import texts
from dialogs.base import DialogContext, Flow, Step
from market import digests, orders
from market import texts as mtexts
from storage.repositories import UserRepository


async def _worker_id(ctx: DialogContext) -> int | None:
    uid = await ctx.user_id()
    if uid is None or await UserRepository(ctx.session).worker(uid) is None:
        return None
    return uid


async def find_jobs(ctx: DialogContext) -> Step:
    """找活: the best-fitting open orders for this worker, with why each fits."""
    uid = await _worker_id(ctx)
    if uid is None:
        return Step.switch("register_worker", texts.TAKE_NEED_REGISTER)
    found = await digests.matches_for(ctx.session, uid, ctx.market, ctx.now)
    if not found:
        return Step.end(texts.NO_MATCHES)
    cards = [f"{orders.order_card(m.order, ctx.tz)}\n（{m.why}）" for m in found]
    return Step.end(texts.MATCHES_HEAD, *cards)


async def take(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    uid = await _worker_id(ctx)
    if uid is None:
        return Step.switch("register_worker", texts.TAKE_NEED_REGISTER)
    await orders.take(ctx.session, ctx.command.code, uid, ctx.now, ctx.tz)
    return Step.end()  # the confirmation is a notification with the order card


async def withdraw(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    uid = await ctx.user_id()
    code = ctx.command.code
    if uid is None:
        return Step.end(texts.TAKE_NEED_REGISTER)
    await orders.withdraw(ctx.session, code, uid, ctx.now)
    return Step.end(texts.WITHDRAWN.format(code=code))


async def cancel_code(ctx: DialogContext) -> Step:
    """取消 CODE: the employer cancels their order; anybody else withdraws from it."""
    assert ctx.command is not None
    order = await orders.by_code(ctx.session, ctx.command.code)
    if order.employer_id == await ctx.user_id():
        return Step.switch("cancel_order")
    return await withdraw(ctx)


async def view(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    order = await orders.by_code(ctx.session, ctx.command.code)
    return Step.end(orders.order_card(order, ctx.tz))


async def my_jobs(ctx: DialogContext) -> Step:
    uid = await ctx.user_id()
    rows = await orders.assignments_of_worker(ctx.session, uid) if uid is not None else []
    if not rows:
        return Step.end(texts.MY_JOBS_NONE)
    lines = [
        texts.MY_JOB_LINE.format(
            code=o.code,
            trade=orders.trade_name(o.trade_id),
            when=orders.when_text(o.start_at, ctx.tz),
            status=mtexts.ASSIGNMENT_STATUS.get(a.status, a.status),
        )
        for a, o in rows
    ]
    return Step.end(texts.MY_JOBS_HEAD + "\n" + "\n".join(lines))


def one_shot(name: str, title: str, fn) -> Flow:  # type: ignore[no-untyped-def]
    return Flow(name=name, title=title, start=fn, states={}, transient=True)


FLOWS = [
    one_shot("find_jobs", texts.FIND_JOBS_NAME, find_jobs),
    one_shot("take", "接单", take),
    one_shot("withdraw", "退单", withdraw),
    one_shot("cancel_code", "取消", cancel_code),
    one_shot("view", "查看招工", view),
    one_shot("my_jobs", "我的活", my_jobs),
]
