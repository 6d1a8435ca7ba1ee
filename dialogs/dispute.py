"""投诉 CODE (a dispute about a job, or a complaint about the post) and 举报 CODE; 方案 / 同意方案
for the negotiation. See dispute.mmd."""

from __future__ import annotations

from dialogs import texts
from dialogs.base import DialogContext, Flow, State, Step
from dialogs.chain import amount_fen
from dialogs.jobs import one_shot
from market import cases
from market import texts as mtexts
from market.errors import UserFacingError
from market.money import fen_to_text
from market.orders import applicants, by_code
from matching.intents import match_choice
from matching.numbers import parse_count

DISPUTE_CHOICES = {1: "unfinished", 2: "unpaid", 3: "quality", 4: "safety", 5: "other"}
REPORT_CHOICES = {1: "fake_post", 2: "black_broker", 3: "other"}


async def _uid(ctx: DialogContext) -> int:
    uid = await ctx.user_id()
    if uid is None:
        raise UserFacingError(texts.TAKE_NEED_REGISTER)
    return uid


async def dispute_start(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    order = await by_code(ctx.session, ctx.command.code)
    ctx.data["code"] = order.code
    ctx.data["employer"] = order.employer_id == await ctx.user_id()
    return Step.to("reason")


async def on_reason(ctx: DialogContext) -> Step:
    choice = match_choice(ctx.text, {1, 2, 3, 4, 5, 6})
    if choice is None:
        return Step.again(texts.REASON_AGAIN)
    if choice == 6:
        ctx.data["kind"] = "complaint"
        return Step.to("report_reason")
    ctx.data["kind"] = "dispute"
    ctx.data["reason"] = DISPUTE_CHOICES[choice]
    if ctx.data["employer"]:
        order = await by_code(ctx.session, ctx.data["code"])
        usable = [
            i for i, (a, _w) in enumerate(await applicants(ctx.session, order.id), 1)
            if a.status in ("confirmed", "completed", "no_show")
        ]
        if len(usable) == 1:
            ctx.data["n"] = usable[0]
        else:
            return Step.to("who")
    return Step.to("describe")


async def on_who(ctx: DialogContext) -> Step:
    n = parse_count(ctx.text.strip())
    if n is None:
        return Step.again(texts.REASON_AGAIN)
    ctx.data["n"] = n
    return Step.to("describe")


async def on_report_reason(ctx: DialogContext) -> Step:
    choice = match_choice(ctx.text, {1, 2, 3})
    if choice is None:
        return Step.again(texts.REASON_AGAIN)
    ctx.data["kind"] = "complaint"
    ctx.data["reason"] = REPORT_CHOICES[choice]
    return Step.to("describe")


async def on_describe(ctx: DialogContext) -> Step:
    d = ctx.data
    uid = await _uid(ctx)
    if d["kind"] == "complaint":
        case = await cases.open_complaint(ctx.session, d["code"], uid, d["reason"], ctx.text, ctx.now)
        return Step.end(
            mtexts.COMPLAINT_OPENED.format(case=case.id, reason=mtexts.CASE_REASONS[d["reason"]], hotline=ctx.settings.hotline)
        )
    case = await cases.open_dispute(
        ctx.session, d["code"], uid, d["reason"], ctx.text, ctx.market, ctx.now, n=d.get("n")
    )
    return Step.end(
        mtexts.CASE_OPENED.format(
            case=case.id,
            reason=mtexts.CASE_REASONS[case.reason],
            hours=ctx.market.dispute_respond_hours,
            hotline=ctx.settings.hotline,
        )
    )


def _const(text: str):  # type: ignore[no-untyped-def]
    return lambda _ctx: text


DISPUTE = Flow(
    name="dispute",
    title=texts.DISPUTE_NAME,
    start=dispute_start,
    states={
        "reason": State("reason", _const(texts.ASK_DISPUTE_REASON), on_reason),
        "who": State("who", lambda c: texts.ASK_DISPUTE_WHO.format(code=c.data["code"]), on_who),
        "report_reason": State("report_reason", _const(texts.ASK_REPORT_REASON), on_report_reason),
        "describe": State("describe", _const(texts.ASK_DISPUTE_DESC), on_describe),
    },
)


async def report_start(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    order = await by_code(ctx.session, ctx.command.code)
    ctx.data.update(code=order.code, employer=False, kind="complaint")
    return Step.to("report_reason")


REPORT = Flow(
    name="report",
    title=texts.REPORT_NAME,
    start=report_start,
    states={
        "report_reason": State("report_reason", _const(texts.ASK_REPORT_REASON), on_report_reason),
        "describe": State("describe", _const(texts.ASK_DISPUTE_DESC), on_describe),
    },
)


async def case_offer(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    amount = amount_fen(ctx.command.rest) if ctx.command.rest else None
    if amount is None:
        return Step.end(mtexts.CASE_NO_OFFER.format(case=ctx.command.code))
    await cases.offer(ctx.session, int(ctx.command.code), await _uid(ctx), amount, ctx.now)
    return Step.end(mtexts.CASE_OFFER_SENT.format(amount=fen_to_text(amount)))


async def case_accept(ctx: DialogContext) -> Step:
    assert ctx.command is not None
    await cases.accept(ctx.session, int(ctx.command.code), await _uid(ctx), ctx.now)
    return Step.end()  # both sides get the outcome


FLOWS = [
    DISPUTE,
    REPORT,
    one_shot("case_offer", "协商方案", case_offer),
    one_shot("case_accept", "同意方案", case_accept),
]
