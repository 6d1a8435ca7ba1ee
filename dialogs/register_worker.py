"""Worker registration (零工登记): consent, contact, trades, places, time, minimum wage.

Six answers at most (see register_worker.mmd). Nothing is stored before the last answer; the
profile and the consent time are written together.
"""

from __future__ import annotations

from dialogs import texts
from dialogs.base import DialogContext, Flow, Step
from dialogs.fields import (
    consent_state,
    contact_states,
    goto,
    read_availability,
    read_min_wage,
    read_towns,
    read_trades,
    value_state,
)
from dialogs.views import worker_summary
from market.people import register_worker
from storage.repositories import UserRepository

NAME = "register_worker"


async def start(ctx: DialogContext) -> Step:
    user = await ctx.user()
    if user is not None and await UserRepository(ctx.session).worker(user.id) is not None:
        return Step.switch("profile", texts.WORKER_ALREADY)
    return Step.to("consent")


async def finish(ctx: DialogContext) -> Step:
    d = ctx.data
    fen, unit = d["min_wage"]
    user = await ctx.ensure_user()
    profile = await register_worker(
        ctx.session,
        user,
        name=d["name"],
        phone=d["phone"],
        trades=d["trades"],
        towns=d["towns"],
        availability=d["availability"],
        min_wage_fen=fen,
        min_wage_unit=unit,
        now=ctx.now,
    )
    return Step.end(
        texts.WORKER_DONE.format(
            summary=worker_summary(profile, ctx.now.astimezone(ctx.tz).year), hotline=ctx.settings.hotline
        )
    )


FLOW = Flow(
    name=NAME,
    title=texts.WORKER_NAME_OF_FLOW,
    start=start,
    states={
        "consent": consent_state(texts.CONSENT, goto("contact")),
        **contact_states(goto("trades")),
        "trades": value_state(
            "trades", texts.ASK_TRADES, read_trades, texts.TRADES_NOT_FOUND, "trades", goto("towns")
        ),
        "towns": value_state(
            "towns", texts.ASK_TOWNS, read_towns, texts.TOWNS_NOT_FOUND, "towns", goto("availability")
        ),
        "availability": value_state(
            "availability",
            texts.ASK_AVAILABILITY,
            read_availability,
            texts.AVAILABILITY_AGAIN,
            "availability",
            goto("min_wage"),
        ),
        "min_wage": value_state(
            "min_wage", texts.ASK_MIN_WAGE, read_min_wage, texts.BAD_MIN_WAGE, "min_wage", finish
        ),
    },
)
