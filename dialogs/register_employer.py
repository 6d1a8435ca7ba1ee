"""Employer registration (雇主登记): consent, contact, company, town. See register_employer.mmd."""

from __future__ import annotations

from dialogs import texts
from dialogs.base import DialogContext, Flow, Step
from dialogs.fields import company_state, consent_state, contact_states, goto, read_town, value_state
from dialogs.views import employer_summary
from market.people import register_employer
from storage.repositories import UserRepository

NAME = "register_employer"


async def start(ctx: DialogContext) -> Step:
    user = await ctx.user()
    if user is not None and await UserRepository(ctx.session).employer(user.id) is not None:
        return Step.switch("profile", texts.EMPLOYER_ALREADY)
    return Step.to("consent")


async def finish(ctx: DialogContext) -> Step:
    d = ctx.data
    user = await ctx.ensure_user()
    profile = await register_employer(
        ctx.session,
        user,
        name=d["name"],
        phone=d["phone"],
        company=d["company"],
        town=d["town"],
        now=ctx.now,
    )
    return Step.end(
        texts.EMPLOYER_DONE.format(summary=employer_summary(profile), hotline=ctx.settings.hotline)
    )


FLOW = Flow(
    name=NAME,
    title=texts.EMPLOYER_NAME_OF_FLOW,
    start=start,
    states={
        "consent": consent_state(texts.EMPLOYER_CONSENT, goto("contact")),
        **contact_states(goto("company")),
        "company": company_state("company", goto("town")),
        "town": value_state(
            "town", texts.ASK_EMPLOYER_TOWN, read_town, texts.TOWNS_NOT_FOUND, "town", finish
        ),
    },
)
