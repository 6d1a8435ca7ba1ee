"""Employers' posts in WeChat groups (群里的招工信息) → orders, and the one short card the bot
answers with.

Every group message goes through ``matching.parse.parse_post``:

* chatter and job *seekers* → nothing (the bot stays quiet in groups);
* a job post the fraud screen holds (第八条: deposits, fees, 刷单 …) → saved as a ``held`` order
  for an operator and **not** echoed;
* a real job post → an order (``source="group"``) published for the poster — an employer who
  never registered gets a minimal profile from the post (the group post is not consent to
  anything more: ``company`` stays empty) — and the card is returned: the standard order card,
  the contact with the phone masked, and "take it in private chat";
* the same post again (reposted in another group, small edits, ``matching.repost``) → no new order
  and no second card.

Posts without a trade or a wage are not orders (there is nothing to take) and are left alone.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.orders import OrderDraft, default_start, order_card, publish_order
from matching.parse import ParsedPost, parse_post
from matching.phones import mask_numbers
from matching.repost import is_repost
from storage.models import EmployerProfile, Order
from storage.repositories import UserRepository

log = logging.getLogger("market.group_posts")

REPOST_WINDOW = timedelta(days=3)
REPOST_SCAN = 300
CARD_CONTACT = "联系：{contact}"
CARD_TAKE = "想去的请私聊我，回：接 {code}"
CARD_CAUTION = "提醒：平台不收任何押金和费用，遇到收费请打热线举报。"
DEFAULT_CONTACT = "老板"
DEFAULT_START_HOUR = 7
_MIDNIGHT = re.compile(r"0点|零点|12点|十二点|24点|半夜|凌晨|:|：")


async def _repost_of(session: AsyncSession, text: str, now: datetime) -> Order | None:
    stmt = (
        select(Order)
        .where(Order.source == "group", Order.created_at >= now - REPOST_WINDOW)
        .order_by(Order.id.desc())
        .limit(REPOST_SCAN)
    )
    for order in (await session.execute(stmt)).scalars():
        if order.raw_text and is_repost(order.raw_text, text):
            return order
    return None


def _draft(parsed: ParsedPost, text: str, now: datetime, tz: ZoneInfo) -> OrderDraft | None:
    wage = parsed.main_wage
    if not parsed.trades or wage is None or wage.min_fen <= 0:
        return None
    start = parsed.start.at if parsed.start is not None else None
    if start is not None and parsed.start is not None:
        local = start.astimezone(tz)
        if (local.hour, local.minute) == (0, 0) and not _MIDNIGHT.search(parsed.start.text):
            start = local.replace(hour=DEFAULT_START_HOUR)  # "明天" with no time: the usual start
    if start is None or start <= now:
        start = default_start(now, tz)
    town = parsed.location.town if parsed.location is not None and parsed.location.town else ""
    place = parsed.location.text if parsed.location is not None else ""
    if place and town and (place in town or town.startswith(place)):
        place = ""  # "夏茂" is the town itself, not a place in it
    return OrderDraft(
        trade_id=parsed.trades[0].trade_id,
        headcount=max(1, min(parsed.headcount or 1, 200)),
        wage_fen=wage.min_fen,
        wage_unit=wage.unit,
        start_at=start,
        duration_text=(parsed.duration.text if parsed.duration is not None else "")[:32],
        town=(town or "")[:16],
        place=(place or "")[:64],
        perks=list(parsed.perks)[:8],
        requirement_data=parsed.requirements.to_json_dict(),
        source="group",
        raw_text=text[:2000],
    )


async def _employer(
    session: AsyncSession,
    channel: str,
    user_id: str,
    sender_name: str,
    parsed: ParsedPost,
    town: str,
    now: datetime,
) -> tuple[int, str, str]:
    """(user id, contact name, phone) of the poster, with a minimal profile when they have none."""
    user = await UserRepository(session).get_or_create(
        channel, user_id, sender_name or DEFAULT_CONTACT, now
    )
    profile = await session.get(EmployerProfile, user.id)
    name = (parsed.contact_name or sender_name or DEFAULT_CONTACT)[:32]
    phone = (parsed.phones[0] if parsed.phones else "")[:20]
    if profile is None:
        profile = EmployerProfile(
            user_id=user.id,
            name=name,
            phone=phone,
            company="",  # created from a group post: no registration, no consent beyond the post
            town=town[:16],
            consent_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(profile)
        await session.flush()
    return user.id, name, phone or profile.phone


async def handle_group_post(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    user_id: str,
    sender_name: str,
    text: str,
    now: datetime,
    tz: ZoneInfo,
) -> str | None:
    """Read one group message; the card to answer with, or None to stay quiet."""
    parsed = parse_post(text, now)
    if parsed.kind != "job":
        return None
    draft = _draft(parsed, text, now, tz)
    if draft is None:
        log.info(
            "group post in %s/%s is a job post without trade or wage; not an order",
            channel,
            chat_id,
        )
        return None
    if await _repost_of(session, text, now) is not None:
        log.info("group post in %s/%s repeats an earlier order; no second card", channel, chat_id)
        return None
    employer_id, contact, phone = await _employer(
        session, channel, user_id, sender_name, parsed, draft.town, now
    )
    held = parsed.risk.level == "hold"
    order = await publish_order(session, employer_id, draft, now, held=held)
    if held:
        log.warning(
            "group post in %s/%s held for review as order %s: %s",
            channel,
            chat_id,
            order.code,
            "；".join(parsed.risk.reasons),
        )
        return None
    lines = [
        order_card(order, tz, with_take_hint=False),
        CARD_CONTACT.format(contact=f"{contact} {phone}".strip()),
        CARD_TAKE.format(code=order.code),
    ]
    if parsed.risk.level == "caution":
        lines.append(CARD_CAUTION)
    return mask_numbers("\n".join(lines))
