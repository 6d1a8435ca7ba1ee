"""The numbered main menu. Later features add their entries here."""

from __future__ import annotations

from dialogs import texts
from dialogs.base import DialogContext, Flow, State, Step
from matching.intents import match_choice

NAME = "menu"
CHOICES = {1: "find_jobs", 2: "post_job", 3: "my_jobs", 4: "my_orders", 5: "profile"}
HELP_CHOICE = 6


async def start(_ctx: DialogContext) -> Step:
    return Step.to("choose")


def ask(ctx: DialogContext) -> str:
    return texts.MENU.format(service=ctx.settings.service_name)


async def on_choose(ctx: DialogContext) -> Step:
    choice = match_choice(ctx.text, {*CHOICES, HELP_CHOICE})
    if choice is None:
        return Step.again(texts.MENU_CHOICE_AGAIN)
    if choice == HELP_CHOICE:
        return Step.end(texts.HELP.format(hotline=ctx.settings.hotline))
    return Step.switch(CHOICES[choice])


FLOW = Flow(
    name=NAME,
    title=texts.MENU_NAME_OF_FLOW,
    start=start,
    states={"choose": State("choose", ask, on_choose)},
    transient=True,
)
