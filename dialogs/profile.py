"""我的资料: view, edit one item, or delete (the person decides over their data). See profile.mmd."""

from __future__ import annotations

from dialogs import texts
from dialogs.base import DialogContext, Flow, State, Step
from dialogs.fields import (
    company_state,
    contact_states,
    read_availability,
    read_clock,
    read_extras,
    read_min_wage,
    read_town,
    read_towns,
    read_trades,
    value_state,
)
from dialogs.views import employer_summary, worker_summary
from market.people import delete_profile, update_profile
from matching.intents import match_choice
from storage.repositories import UserRepository

NAME = "profile"

# edit-menu number → (state to go to); the same numbers for both roles where they exist
WORKER_EDITS = {
    1: "e_contact", 2: "e_trades", 3: "e_towns", 4: "e_availability", 5: "e_min_wage", 7: "e_extras", 8: "e_digest",
}
EMPLOYER_EDITS = {1: "e_contact", 2: "e_company", 3: "e_town"}


async def _profiles(ctx: DialogContext) -> tuple[object | None, object | None]:
    user = await ctx.user()
    if user is None:
        return None, None
    repo = UserRepository(ctx.session)
    return await repo.worker(user.id), await repo.employer(user.id)


async def _summary(ctx: DialogContext) -> str:
    worker, employer = await _profiles(ctx)
    if ctx.data.get("role") == "worker" and worker is not None:
        return worker_summary(worker, ctx.now.astimezone(ctx.tz).year)  # type: ignore[arg-type]
    if employer is not None:
        return employer_summary(employer)  # type: ignore[arg-type]
    return texts.PROFILE_NONE


async def start(ctx: DialogContext) -> Step:
    worker, employer = await _profiles(ctx)
    if worker is None and employer is None:
        return Step.switch("menu", texts.PROFILE_NONE)
    if worker is not None and employer is not None:
        return Step.to("pick_role")
    ctx.data["role"] = "worker" if worker is not None else "employer"
    return Step.to("edit", await _summary(ctx))


async def on_pick_role(ctx: DialogContext) -> Step:
    choice = match_choice(ctx.text, {1, 2})
    if choice is None:
        return Step.again(texts.PROFILE_CHOICE_AGAIN)
    ctx.data["role"] = "worker" if choice == 1 else "employer"
    return Step.to("edit", await _summary(ctx))


def ask_edit(ctx: DialogContext) -> str:
    if ctx.data.get("role") == "worker":
        return texts.PROFILE_EDIT_MENU_WORKER
    return texts.PROFILE_EDIT_MENU_EMPLOYER


async def on_edit(ctx: DialogContext) -> Step:
    edits = WORKER_EDITS if ctx.data.get("role") == "worker" else EMPLOYER_EDITS
    choice = match_choice(ctx.text, {0, 6, *edits})
    if choice is None:
        return Step.again(texts.PROFILE_CHOICE_AGAIN)
    if choice == 0:
        return Step.end(texts.PROFILE_DONE)
    if choice == 6:
        return Step.to("confirm_delete")
    return Step.to(edits[choice])


async def on_confirm_delete(ctx: DialogContext) -> Step:
    choice = match_choice(ctx.text, {1, 2})
    if choice is None:
        return Step.again(texts.PROFILE_CHOICE_AGAIN)
    if choice == 2:
        return Step.end(texts.PROFILE_DONE)
    user = await ctx.user()
    assert user is not None
    await delete_profile(ctx.session, user.id, ctx.data["role"])
    return Step.end(texts.PROFILE_DELETED)


def save(*fields: str):  # type: ignore[no-untyped-def]
    """A ``done`` step writing ``data[field]`` for each field, then showing the profile."""

    async def done(ctx: DialogContext) -> Step:
        user = await ctx.user()
        assert user is not None
        changes: dict[str, object] = {}
        for f in fields:
            if f == "min_wage":
                changes["min_wage_fen"], changes["min_wage_unit"] = ctx.data[f]
            elif f == "extras":
                changes.update(ctx.data[f])
            elif f == "digest_time":
                changes.update(digest_time=ctx.data[f], subscribed=True)
            else:
                changes[f] = ctx.data[f]
        await update_profile(ctx.session, user.id, ctx.data["role"], ctx.now, **changes)
        if "name" in changes and ctx.data["role"] == "worker":
            user.display_name = str(changes["name"])
        return Step.end(texts.PROFILE_SAVED, await _summary(ctx))

    return done


async def on_extras(ctx: DialogContext) -> Step:
    extras = read_extras(ctx.text, ctx.now.astimezone(ctx.tz))
    if extras is None:
        return Step.again(texts.BAD_EXTRAS)
    ctx.data["extras"] = extras
    return await save("extras")(ctx)


FLOW = Flow(
    name=NAME,
    title=texts.PROFILE_NAME_OF_FLOW,
    start=start,
    states={
        "pick_role": State("pick_role", lambda _c: texts.PROFILE_PICK_ROLE, on_pick_role),
        "edit": State("edit", ask_edit, on_edit),
        "confirm_delete": State(
            "confirm_delete", lambda _c: texts.CONFIRM_DELETE, on_confirm_delete
        ),
        **contact_states(save("name", "phone"), prefix="e_contact"),
        "e_trades": value_state(
            "e_trades", texts.ASK_TRADES, read_trades, texts.TRADES_NOT_FOUND, "trades", save("trades")
        ),
        "e_towns": value_state(
            "e_towns", texts.ASK_TOWNS, read_towns, texts.TOWNS_NOT_FOUND, "towns", save("towns")
        ),
        "e_availability": value_state(
            "e_availability",
            texts.ASK_AVAILABILITY,
            read_availability,
            texts.AVAILABILITY_AGAIN,
            "availability",
            save("availability"),
        ),
        "e_min_wage": value_state(
            "e_min_wage", texts.ASK_MIN_WAGE, read_min_wage, texts.BAD_MIN_WAGE, "min_wage", save("min_wage")
        ),
        "e_extras": State("e_extras", lambda _c: texts.ASK_EXTRAS, on_extras),
        "e_digest": value_state(
            "e_digest", texts.ASK_DIGEST_TIME, read_clock, texts.BAD_DIGEST_TIME, "digest_time", save("digest_time")
        ),
        "e_company": company_state("e_company", save("company")),
        "e_town": value_state(
            "e_town", texts.ASK_EMPLOYER_TOWN, read_town, texts.TOWNS_NOT_FOUND, "town", save("town")
        ),
    },
)
