"""Commands around pushes: 退订 / 订阅, 还招 CODE (still hiring), 培训报名 CODE."""

from __future__ import annotations

from dialogs import texts
from dialogs.base import DialogContext, Step
from dialogs.jobs import one_shot
from market import digests, training
from market import texts as mtexts


async def unsubscribe(ctx: DialogContext) -> Step:
    uid = await ctx.user_id()
    if uid is None or await digests.set_subscription(ctx.session, uid, False) is None:
        return Step.end(texts.SUBSCRIPTION_NEEDS_WORKER)
    return Step.end(mtexts.UNSUBSCRIBED)


async def subscribe(ctx: DialogContext) -> Step:
    uid = await ctx.user_id()
    profile = await digests.set_subscription(ctx.session, uid, True) if uid is not None else None
    if profile is None:
        return Step.end(texts.SUBSCRIPTION_NEEDS_WORKER)
    return Step.end(mtexts.SUBSCRIBED.format(time=profile.digest_time))


async def still_hiring(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    uid = await ctx.user_id()
    if uid is None:
        return Step.end(mtexts.NOT_YOUR_ORDER)
    await digests.confirm_still_hiring(ctx.session, ctx.command.code, uid, ctx.now)
    return Step.end(mtexts.STILL_HIRING_OK.format(code=ctx.command.code))


async def training_signup(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    user = await ctx.ensure_user()
    return Step.end(await training.sign_up(ctx.session, ctx.command.code, user.id, ctx.market, ctx.now))


FLOWS = [
    one_shot("unsubscribe", "退订", unsubscribe),
    one_shot("subscribe", "订阅", subscribe),
    one_shot("still_hiring", "还招", still_hiring),
    one_shot("training_signup", "培训报名", training_signup),
]
