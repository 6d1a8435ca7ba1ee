"""Matching open orders to workers, and the pushes built on it (第五–七条): personal digests at
each worker's time, priority workers' first look and point-to-point offers, group digests,
"still hiring?" checks and reminders.

Scoring is pure (``matching.score`` / ``matching.digest``); this module turns rows into facts,
picks who gets what, and queues pushes through ``market.pushes`` (quiet hours, budgets, once
per key). Every job here is safe to run twice or to kill half-way: the keys make the repeat a
no-op.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market import texts
from market.errors import UserFacingError
from market.notify import notify_user
from market.orders import (
    OPEN_STATES,
    active_applicants,
    cancel_active,
    edit,
    order_card,
    trade_name,
    wage_text,
    when_text,
)
from market.pushes import in_quiet_hours, local_day, push
from market.ratings import on_time_counts
from market.settings import MarketSettings
from matching.digest import DigestIndex, workers_for_order
from matching.score import OrderFacts, WorkerFacts
from storage.models import Assignment, ChatGroup, Order, PriorityOffer, PushRecord, WorkerProfile
from storage.repositories import ChatGroupRepository, PriorityOfferRepository, WorkerProfileRepository

PRIORITY_FLAGS = {"low_income": "低收入家庭", "disabled": "残疾人", "hard_to_employ": "就业困难人员"}


# -- facts ---------------------------------------------------------------------------------------
def age_of(p: WorkerProfile, now: datetime, settings: MarketSettings) -> int | None:
    if not p.birth_year:
        return None
    return now.astimezone(settings.tz).year - p.birth_year


async def last_work(session: AsyncSession) -> dict[int, datetime]:
    rows = await session.execute(
        select(Assignment.worker_id, func.max(Assignment.completed_at))
        .where(Assignment.completed_at.is_not(None))
        .group_by(Assignment.worker_id)
    )
    return {w: at for w, at in rows.all() if at is not None}


def priority_groups(p: WorkerProfile, now: datetime, settings: MarketSettings, worked: datetime | None) -> list[str]:
    """Why a worker is a priority (第七条): operator flags, age, or a long wait without work."""
    groups = [f for f in p.priority_flags if f in PRIORITY_FLAGS]
    age = age_of(p, now, settings)
    if age is not None and age >= settings.priority_age:
        groups.append("older")
    if now - (worked or p.created_at) >= timedelta(days=settings.priority_wait_days):
        groups.append("long_wait")
    return groups


def days_waited(p: WorkerProfile, now: datetime, worked: datetime | None) -> int:
    return max(0, (now - (worked or p.created_at)).days)


def worker_facts(p: WorkerProfile, now: datetime, settings: MarketSettings, worked: datetime | None) -> WorkerFacts:
    return WorkerFacts(
        id=p.user_id,
        trades=tuple(p.trades),
        towns=tuple(p.towns),
        availability=p.availability,
        min_wage_fen=p.min_wage_fen,
        min_wage_unit=p.min_wage_unit,
        age=age_of(p, now, settings),
        gender=p.gender,
        certificates=tuple(p.certificates or ()),
        priority=bool(priority_groups(p, now, settings, worked)),
    )


def order_facts(o: Order, on_time: dict[int, float]) -> OrderFacts:
    return OrderFacts(
        id=o.id,
        code=o.code,
        trade_id=o.trade_id,
        town=o.town,
        wage_fen=o.wage_fen,
        wage_unit=o.wage_unit,
        start_at=o.start_at,
        created_at=o.created_at,
        requirements=dict(o.requirement_data or {}),
        employer_on_time_rate=on_time.get(o.employer_id),
        places_left=max(0, o.headcount - o.confirmed),
    )


async def on_time_rates(session: AsyncSession, now: datetime) -> dict[int, float]:
    """Employer on-time-pay rate for every employer with a due or paid job (market.ratings)."""
    return {e: ok / due for e, (ok, due) in (await on_time_counts(session, now)).items()}


def _listed(now: datetime):  # type: ignore[no-untyped-def]
    """Orders shown to people: open, started in the future, not waiting on "still hiring?"."""
    return and_(Order.status == "open", Order.start_at > now, Order.hiring_check_at.is_(None))


async def open_order_facts(session: AsyncSession, now: datetime) -> tuple[list[OrderFacts], dict[int, Order]]:
    orders = list((await session.execute(select(Order).where(_listed(now)))).scalars())
    rates = await on_time_rates(session, now)
    return [order_facts(o, rates) for o in orders], {o.id: o for o in orders}


def _first_look(settings: MarketSettings) -> timedelta:
    """Priority workers see a new order at once; everyone else after this window (第七条)."""
    return timedelta(minutes=settings.first_look_minutes)


# -- matches for one worker (找活) -----------------------------------------------------------------
@dataclass(frozen=True)
class Offer:
    """An open order fitting a worker, with why it fits."""

    order: Order
    why: str


async def matches_for(
    session: AsyncSession, user_id: int, settings: MarketSettings, now: datetime, n: int = 5
) -> list[Offer]:
    profile = await session.get(WorkerProfile, user_id)
    if profile is None:
        return []
    worked = (await last_work(session)).get(user_id)
    worker = worker_facts(profile, now, settings, worked)
    facts, by_id = await open_order_facts(session, now)
    taken = set(
        (await session.execute(select(Assignment.order_id).where(Assignment.worker_id == user_id))).scalars()
    )
    index = DigestIndex(facts, now, settings.tz, first_look=_first_look(settings))
    return [Offer(by_id[m.order_id], m.explanation) for m in index.top(worker, n, exclude=taken)]


# -- personal digests ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestRun:
    """What one digest run did (considered, sent, nothing fitting, skipped) and the last worker id."""

    considered: int
    sent: int
    nothing_fits: int
    skipped: int
    last_user_id: int = 0


async def send_digests(
    session: AsyncSession, settings: MarketSettings, now: datetime, *, after: int = 0, limit: int | None = None
) -> DigestRun:
    """Push each subscribed worker whose digest time has come today their best few orders, once
    a day (the push key). Nothing fits → no message. A worker who ignored
    ``ignored_digest_limit`` digests in a row is paused until they write to the bot again.

    ``after``/``limit`` walk the workers in batches by id (a long run commits as it goes; run
    again after a crash, it skips whoever already got today's digest)."""
    if in_quiet_hours(now, settings):
        return DigestRun(0, 0, 0, 0, after)
    day = local_day(now, settings)
    hhmm = now.astimezone(settings.tz).strftime("%H:%M")
    sent_today = select(PushRecord.user_id).where(PushRecord.kind == "digest", PushRecord.local_day == day)
    stmt = (
        select(WorkerProfile)
        .where(
            WorkerProfile.user_id > after,
            WorkerProfile.subscribed.is_(True),
            WorkerProfile.ignored_digests < settings.ignored_digest_limit,
            WorkerProfile.digest_time <= hhmm,
            WorkerProfile.user_id.not_in(sent_today),
        )
        .order_by(WorkerProfile.user_id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    profiles = list((await session.execute(stmt)).scalars())
    if not profiles:
        return DigestRun(0, 0, 0, 0, after)
    worked = await last_work(session)
    facts, by_id = await open_order_facts(session, now)
    index = DigestIndex(facts, now, settings.tz, first_look=_first_look(settings))
    taken: dict[int, set[int]] = defaultdict(set)
    ids = [p.user_id for p in profiles]
    taken_rows = select(Assignment.worker_id, Assignment.order_id).where(Assignment.worker_id.in_(ids))
    for w, o in (await session.execute(taken_rows)).all():
        taken[w].add(o)
    sent = nothing = skipped = 0
    facts_of = {p.user_id: worker_facts(p, now, settings, worked.get(p.user_id)) for p in profiles}
    # Priority workers (第七条) go first: their digests are queued, and so delivered, first.
    for p in sorted(profiles, key=lambda p: (not facts_of[p.user_id].priority, p.user_id)):
        worker = facts_of[p.user_id]
        top = index.top(worker, settings.digest_size, exclude=taken.get(p.user_id, set()))
        if not top:
            nothing += 1
            continue
        lines = [
            texts.DIGEST_LINE.format(
                n=i,
                code=m.code,
                trade=trade_name(by_id[m.order_id].trade_id),
                wage=wage_text(by_id[m.order_id].wage_fen, by_id[m.order_id].wage_unit),
                when=when_text(by_id[m.order_id].start_at, settings.tz),
                town=by_id[m.order_id].town,
                why=m.explanation,
            )
            for i, m in enumerate(top, 1)
        ]
        text = "\n".join([texts.DIGEST_HEAD.format(name=p.name), *lines, texts.DIGEST_TAIL])
        queued = await push(
            session, p.user_id, text, kind="digest", key=f"digest:{p.user_id}:{day}", now=now, settings=settings,
            ref=",".join(m.code for m in top),
        )
        if queued:
            sent += 1
            p.ignored_digests += 1  # reset to 0 by any message from the worker (touch)
        else:
            skipped += 1
    await session.flush()
    return DigestRun(len(profiles), sent, nothing, skipped, max(p.user_id for p in profiles))


ACTIVE_RESOLUTION = timedelta(minutes=10)


async def touch(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A worker wrote to the bot: they are active (digests count as read, a pause ends).
    Written at most every few minutes, not on every message (one conditional UPDATE)."""
    await WorkerProfileRepository(session).mark_active(user_id, now, now - ACTIVE_RESOLUTION)


async def set_subscription(session: AsyncSession, user_id: int, on: bool) -> WorkerProfile | None:
    profile = await session.get(WorkerProfile, user_id)
    if profile is not None:
        profile.subscribed = on
        profile.ignored_digests = 0
        await session.flush()
    return profile


# -- priority help: first look and point-to-point offers -------------------------------------------
async def offer_to_priority_workers(
    session: AsyncSession, order: Order, settings: MarketSettings, now: datetime
) -> int:
    """On a new order: the best-fitting priority workers get it first, point to point, rotating
    among equally fitting ones; the offers are recorded for the operator and the statistics."""
    if order.status != "open":
        return 0
    worked = await last_work(session)
    by_user = {
        p.user_id: p
        for p in (await session.execute(select(WorkerProfile))).scalars()
        if p.user_id != order.employer_id and priority_groups(p, now, settings, worked.get(p.user_id))
    }
    if not by_user:
        return 0
    facts = order_facts(order, await on_time_rates(session, now))
    last = dict(
        (
            await session.execute(
                select(PriorityOffer.worker_id, func.max(PriorityOffer.offered_at)).group_by(PriorityOffer.worker_id)
            )
        ).all()
    )
    chosen = workers_for_order(
        facts,
        [worker_facts(p, now, settings, worked.get(uid)) for uid, p in by_user.items()],
        settings.priority_offers_per_order,
        now=now,
        tz=settings.tz,
        last_offered=last,
    )
    card = order_card(order, settings.tz)
    sent = 0
    for user_id, m in chosen:
        p = by_user[user_id]
        made = await PriorityOfferRepository(session).record_once(
            order_id=order.id,
            worker_id=user_id,
            groups=priority_groups(p, now, settings, worked.get(user_id)),
            days_waited=days_waited(p, now, worked.get(user_id)),
            now=now,
        )
        if made is None:
            continue
        await push(
            session, user_id,
            texts.PRIORITY_OFFER.format(name=p.name, minutes=settings.first_look_minutes, card=card, why=m.explanation),
            kind="offer", key=f"offer:{order.id}:{user_id}", now=now, settings=settings, ref=order.code, budgeted=False,
        )
        sent += 1
    return sent


async def priority_list(session: AsyncSession, order: Order) -> list[tuple[PriorityOffer, WorkerProfile]]:
    rows = await session.execute(
        select(PriorityOffer, WorkerProfile)
        .join(WorkerProfile, WorkerProfile.user_id == PriorityOffer.worker_id)
        .where(PriorityOffer.order_id == order.id)
        .order_by(PriorityOffer.id)
    )
    return [(o, w) for o, w in rows.all()]


async def priority_report(session: AsyncSession) -> dict[str, dict[str, float]]:
    """Per priority group: offers, placements (the offered worker was hired on that order),
    average days waited at the offer, and earnings confirmed paid to them."""
    from market import ledger

    out: dict[str, dict[str, float]] = defaultdict(
        lambda: {"offers": 0, "placements": 0, "days_waited": 0, "earnings_fen": 0}
    )
    rows = await session.execute(select(PriorityOffer, Assignment).outerjoin(
        Assignment, and_(Assignment.order_id == PriorityOffer.order_id, Assignment.worker_id == PriorityOffer.worker_id)
    ))
    for offer, a in rows.all():
        placed = a is not None and a.status in ("confirmed", "completed")
        earned = 0
        if a is not None and a.status == "completed":
            earned = await ledger.earned_total(session, a.id) - await ledger.balance(session, ledger.wage_account(a.id))
        for g in offer.groups or ["other"]:
            out[g]["offers"] += 1
            out[g]["placements"] += int(placed)
            out[g]["days_waited"] += offer.days_waited
            out[g]["earnings_fen"] += earned
    for g in out.values():
        g["avg_days_waited"] = g["days_waited"] / g["offers"] if g["offers"] else 0
    return dict(out)


# -- group digests ---------------------------------------------------------------------------------
async def send_group_digests(session: AsyncSession, settings: MarketSettings, now: datetime) -> int:
    """One message per group per day listing open orders by trade (no phone numbers at all)."""
    if now.astimezone(settings.tz).hour < settings.group_digest_hour or in_quiet_hours(now, settings):
        return 0
    facts, by_id = await open_order_facts(session, now)
    first_look = timedelta(minutes=settings.first_look_minutes)
    visible = [by_id[f.id] for f in facts if now >= by_id[f.id].created_at + first_look]
    if not visible:
        return 0
    day = local_day(now, settings)
    sent = 0
    for group in (await session.execute(select(ChatGroup).where(ChatGroup.digest.is_(True)))).scalars():
        chosen = [o for o in visible if not group.town or o.town == group.town] or visible
        by_trade: dict[str, list[Order]] = defaultdict(list)
        for o in sorted(chosen, key=lambda o: o.start_at):
            by_trade[o.trade_id].append(o)
        lines = [texts.GROUP_DIGEST_HEAD.format(service=settings.service_name)]
        for trade_id, items in sorted(by_trade.items(), key=lambda kv: -len(kv[1]))[:12]:
            lines.append(
                texts.GROUP_DIGEST_TRADE.format(
                    trade=trade_name(trade_id),
                    items="；".join(
                        texts.GROUP_DIGEST_ITEM.format(
                            code=o.code, town=o.town, wage=wage_text(o.wage_fen, o.wage_unit)
                        )
                        for o in items[:5]
                    ),
                )
            )
        lines.append(texts.GROUP_DIGEST_TAIL.format(hotline=settings.hotline))
        from storage.repositories import OutboxRepository

        made = await OutboxRepository(session).enqueue(
            channel=group.channel, chat_id=group.chat_id, text="\n".join(lines),
            idempotency_key=f"group-digest:{group.id}:{day}", now=now,
        )
        sent += made is not None
    return sent


async def remember_group(session: AsyncSession, channel: str, chat_id: str, name: str, now: datetime) -> None:
    await ChatGroupRepository(session).remember(channel=channel, chat_id=chat_id, name=name[:64], now=now)


# -- still hiring? ---------------------------------------------------------------------------------
async def check_still_hiring(session: AsyncSession, settings: MarketSettings, now: datetime) -> tuple[int, int]:
    """Ask employers of older open orders whether they still hire; expire the unanswered."""
    age = timedelta(hours=settings.still_hiring_after_hours)
    answer = timedelta(hours=settings.still_hiring_answer_hours)
    asked = expired = 0
    # Each order changes by a conditional UPDATE (see market.orders): a 还招, a take or a cancel
    # committed since the order was read wins.
    stale = (
        Order.status == "open",
        Order.hiring_check_at.is_(None),
        func.coalesce(Order.hiring_confirmed_at, Order.created_at) <= now - age,
    )
    for o in list((await session.execute(select(Order).where(*stale))).scalars()):
        if not await edit(session, o.id, now, *stale, hiring_check_at=now):
            continue
        await notify_user(
            session, o.employer_id,
            texts.STILL_HIRING.format(
                code=o.code, trade=trade_name(o.trade_id), hours=settings.still_hiring_answer_hours
            ),
            key=f"still-hiring:{o.id}:{now.isoformat()}", now=now,
        )
        asked += 1
    unanswered = (Order.status.in_(OPEN_STATES), Order.hiring_check_at <= now - answer)
    for o in list((await session.execute(select(Order).where(*unanswered))).scalars()):
        if not await edit(session, o.id, now, *unanswered, status="expired", closed_at=now):
            continue
        for a, _w in await active_applicants(session, o.id):  # read after the row lock: nobody missed
            await notify_user(
                session, a.worker_id, texts.EXPIRED_NO_ANSWER_WORKER.format(code=o.code),
                key=f"expired-na:{o.id}:{a.id}", now=now,
            )
        await cancel_active(session, o.id, now)
        expired += 1
    return asked, expired


async def confirm_still_hiring(session: AsyncSession, code: str, employer_id: int, now: datetime) -> Order:
    from market.orders import by_code, ensure_owner

    o = await by_code(session, code)
    ensure_owner(o, employer_id)
    confirmed = await edit(
        session, o.id, now, Order.status.in_(OPEN_STATES), hiring_check_at=None, hiring_confirmed_at=now
    )
    await session.refresh(o)
    if not confirmed:  # expired (no answer in time), cancelled, done: too late for 还招
        raise UserFacingError(texts.ORDER_FINISHED.format(status=texts.STATUS_LABELS.get(o.status, o.status)))
    return o


# -- reminders -------------------------------------------------------------------------------------
async def send_reminders(session: AsyncSession, settings: MarketSettings, now: datetime) -> tuple[int, int]:
    """Start-time reminders to taken workers and unsigned-contract reminders to both sides."""
    from storage.models import Contract, ContractSignature

    if in_quiet_hours(now, settings):
        return (0, 0)
    started = 0
    soon = await session.execute(
        select(Assignment, Order)
        .join(Order, Order.id == Assignment.order_id)
        .where(
            Assignment.status == "confirmed",
            Assignment.start_reminded_at.is_(None),
            Order.start_at > now,
            Order.start_at <= now + timedelta(hours=settings.start_reminder_hours),
        )
    )
    for a, o in soon.all():
        await notify_user(
            session, a.worker_id,
            texts.START_REMINDER.format(
                code=o.code, trade=trade_name(o.trade_id), when=when_text(o.start_at, settings.tz),
                place=f"{o.town} {o.place}".strip(),
            ),
            key=f"start-reminder:{a.id}", now=now,
        )
        a.start_reminded_at = now
        started += 1
    signed = 0
    pending = await session.execute(
        select(Contract, Assignment, Order)
        .join(Assignment, Assignment.id == Contract.assignment_id)
        .join(Order, Order.id == Assignment.order_id)
        .where(
            Contract.status == "pending",
            Contract.created_at <= now - timedelta(hours=settings.sign_reminder_hours),
            Assignment.sign_reminded_at.is_(None),
        )
    )
    for c, a, o in pending.all():
        done = set(
            (
                await session.execute(select(ContractSignature.role).where(ContractSignature.contract_id == c.id))
            ).scalars()
        )
        for role, uid in (("worker", a.worker_id), ("employer", o.employer_id)):
            if role not in done:
                await notify_user(
                    session, uid, texts.SIGN_REMINDER.format(code=o.code, sign_code=c.sign_code),
                    key=f"sign-reminder:{c.id}:{role}", now=now,
                )
        a.sign_reminded_at = now
        signed += 1
    await session.flush()
    return started, signed

