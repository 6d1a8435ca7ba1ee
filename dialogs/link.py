"""绑定 CODE: the person registered in the 公众号 joins the phone login they made on the web."""

from __future__ import annotations

from dialogs.base import DialogContext, Step
from dialogs.jobs import one_shot
from market import people
from market import texts as mtexts


async def link_web(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    uid = await ctx.user_id()
    if uid is None:
        return Step.end(mtexts.LINK_NOT_YOURS)
    return Step.end(await people.link_web(ctx.session, ctx.command.code, uid, ctx.now, hotline=ctx.settings.hotline))


FLOWS = [one_shot("link_web", "绑定", link_web)]
