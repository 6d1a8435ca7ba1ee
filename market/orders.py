"""Orders and taking them (岗位任务订单, 接单).

State of an order, guarded here and nowhere else (see ``dialogs/post_job.mmd``)::

    open ⇄ full → in_progress → completed → closed
    open/full → cancelled (employer) | expired (no answer to "still hiring?")

Overbooking is impossible by construction (reference §2.5): a worker's place is an
``assignments`` row, unique per (order, worker), and a confirmation increments ``orders.confirmed``
only through ``UPDATE … WHERE confirmed < headcount AND status = 'open'``; when that matches no row
the whole take is rolled back to its savepoint and the worker hears "已满". A CHECK constraint on
``confirmed`` is the last line.

Every change to an order row (take, application, withdraw, pick, decline, 改人数, 改时间, 取消招工,
还招, the still-hiring and expiry jobs, check-in, 完工, settlement) is one conditional UPDATE
(``edit``): its WHERE holds the precondition on the row itself (``status``, ``confirmed <= :h`` …),
its SET computes from the row as it is (``status`` by CASE, ``version = version + 1``), and no match
means refused; the row is read again only to word the refusal, with the same messages as before.
Under PostgreSQL's READ COMMITTED a second writer waits for the row lock and re-checks the WHERE on
the committed row, so no edit acts on a stale read or overwrites a concurrent take's ``confirmed``,
``status`` or ``version`` (versions name notifications: a lost increment would swallow a notice).
The order's row lock comes first, before any assignment row; what depends on other rows (who is
taken and so told, who is left to complete or pay) is read after it, so it sees every take committed
before, and later ones wait. Assignments change only ``WHERE status = <the status read>``.

Why not SQLAlchemy's ``version_id_col``: an edit would fail whenever a take slipped in between its
read and its write — under a run of takes the employer's 改人数 keeps failing — and every failure
needs the whole step, notifications included, retried. A conditional UPDATE waits its turn instead,
needs no retry, and is what the take already did.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from market import texts
from market.errors import UserFacingError
from market.money import fen_to_text
from market.notify import notify_user
from matching.taxonomy import load_taxonomy
from storage.models import Assignment, EmployerProfile, Order, WorkerProfile
from storage.repositories import AssignmentRepository

OPEN_STATES = ("open", "full")
ACTIVE_ASSIGNMENT = ("applied", "confirmed")
UNIT_LABELS = {
    "day": "天", "half_day": "半天", "hour": "小时", "piece": "件", "week": "周", "month": "月", "total": "总价",
}
WEEKDAYS = "一二三四五六日"
_CODE_ALPHABET = "0123456789"


class OrderFull(UserFacingError):
    pass


@dataclass
class OrderDraft:
    trade_id: str
    headcount: int
    wage_fen: int
    wage_unit: str
    start_at: datetime
    duration_text: str = ""
    town: str = ""
    place: str = ""
    requirements: str = ""
    requirement_data: dict[str, object] = field(default_factory=dict)
    """Hard requirements as parsed (age_min, age_max, gender, certificates ...)."""
    perks: list[str] = field(default_factory=list)
    mode: str = "first_come"
    insurance: str = ""
    """Accident-insurance option id (market.settings.InsuranceOption), "" for none."""
    source: str = "chat"
    raw_text: str = ""
    payment_due_hours: int = 24


@dataclass(frozen=True)
class TakeResult:
    assignment_id: int
    status: str  # "confirmed" (first come) or "applied" (employer picks)


# -- formatting ----------------------------------------------------------------------------------
def wage_text(fen: int, unit: str) -> str:
    if unit == "total":
        return f"包干{fen_to_text(fen)}"
    return f"{fen_to_text(fen)}/{UNIT_LABELS.get(unit, unit)}"


def when_text(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local.month}月{local.day}日(周{WEEKDAYS[local.weekday()]}) {local:%H:%M}"


def trade_name(trade_id: str) -> str:
    trade = load_taxonomy().get(trade_id)
    return trade.name if trade is not None else trade_id


def order_card(order: Order, tz: ZoneInfo, *, with_take_hint: bool = True) -> str:
    lines = [
        f"【招工 {order.code}】{trade_name(order.trade_id)} {order.headcount}人"
        + (f"（已招{order.confirmed}人）" if order.confirmed else ""),
        f"工资：{wage_text(order.wage_fen, order.wage_unit)}",
        f"开工：{when_text(order.start_at, tz)}" + (f" {order.duration_text}" if order.duration_text else ""),
        f"地点：{order.town}{(' ' + order.place) if order.place else ''}",
    ]
    if order.requirements:
        lines.append(f"要求：{order.requirements}")
    if order.perks:
        lines.append(f"待遇：{'、'.join(order.perks)}")
    if order.insurance:
        lines.append("保险：含人身意外险")
    if order.mode == "pick":
        lines.append("老板挑人，报名后等通知")
    if with_take_hint and order.status == "open":
        lines.append(f"想去回：接 {order.code}")
    return "\n".join(lines)


def price_prompt(order: Order, wage_fen: int | None = None) -> str:
    return texts.PRICE_PROMPT_WORKER.format(
        wage=wage_text(wage_fen or order.wage_fen, order.wage_unit), code=order.code
    )


# -- queries -------------------------------------------------------------------------------------
async def by_code(session: AsyncSession, code: str) -> Order:
    order = (await session.execute(select(Order).where(Order.code == code))).scalar_one_or_none()
    if order is None:
        raise UserFacingError(texts.NO_SUCH_ORDER.format(code=code))
    return order


async def orders_of_employer(session: AsyncSession, employer_id: int, limit: int = 10) -> list[Order]:
    stmt = (
        select(Order)
        .where(Order.employer_id == employer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def assignments_of_worker(
    session: AsyncSession, worker_id: int, limit: int = 10
) -> list[tuple[Assignment, Order]]:
    stmt = (
        select(Assignment, Order)
        .join(Order, Order.id == Assignment.order_id)
        .where(Assignment.worker_id == worker_id)
        .order_by(Assignment.created_at.desc(), Assignment.id.desc())
        .limit(limit)
    )
    return [(a, o) for a, o in (await session.execute(stmt)).all()]


async def applicants(session: AsyncSession, order_id: int) -> list[tuple[Assignment, WorkerProfile]]:
    """Everyone who ever applied, in order of application: "第 n 号" always means the same
    person, whatever happened since (callers look at the status)."""
    stmt = (
        select(Assignment, WorkerProfile)
        .join(WorkerProfile, WorkerProfile.user_id == Assignment.worker_id)
        .where(Assignment.order_id == order_id)
        .order_by(Assignment.id)
    )
    return [(a, w) for a, w in (await session.execute(stmt)).all()]


async def active_applicants(session: AsyncSession, order_id: int) -> list[tuple[Assignment, WorkerProfile]]:
    return [(a, w) for a, w in await applicants(session, order_id) if a.status in ACTIVE_ASSIGNMENT]


# -- commands ------------------------------------------------------------------------------------
async def _new_code(session: AsyncSession) -> str:
    """A short numeric code people can type. Four digits while they last, then longer."""
    for length in (4, 4, 4, 5, 5, 6, 6, 8):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))
        if code[0] == "0":
            continue
        taken = await session.scalar(select(func.count()).select_from(Order).where(Order.code == code))
        if not taken:
            return code
    raise RuntimeError("no free order code")


def preview_card(draft: OrderDraft, tz: ZoneInfo) -> str:
    """The card of an order not yet published (for the employer's confirmation)."""
    order = Order(
        code="----", trade_id=draft.trade_id, headcount=draft.headcount, confirmed=0,
        wage_fen=draft.wage_fen, wage_unit=draft.wage_unit, start_at=draft.start_at,
        duration_text=draft.duration_text, town=draft.town, place=draft.place,
        requirements=draft.requirements, perks=list(draft.perks), mode=draft.mode, status="draft",
        insurance=draft.insurance,
    )
    return order_card(order, tz, with_take_hint=False)


async def publish_order(
    session: AsyncSession, employer_id: int, draft: OrderDraft, now: datetime, *, held: bool = False
) -> Order:
    """Save and publish an order; ``held`` ones wait for an operator's review (第八条)."""
    if await session.get(EmployerProfile, employer_id) is None:
        raise UserFacingError(texts.NOT_EMPLOYER)
    order = Order(
        code=await _new_code(session),
        employer_id=employer_id,
        trade_id=draft.trade_id,
        headcount=draft.headcount,
        confirmed=0,
        wage_fen=draft.wage_fen,
        wage_unit=draft.wage_unit,
        start_at=draft.start_at,
        duration_text=draft.duration_text,
        town=draft.town,
        place=draft.place,
        requirements=draft.requirements,
        requirement_data=dict(draft.requirement_data),
        perks=list(draft.perks),
        mode=draft.mode,
        insurance=draft.insurance,
        status="held" if held else "open",
        source=draft.source,
        raw_text=draft.raw_text,
        payment_due_hours=draft.payment_due_hours,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    return order


async def edit(
    session: AsyncSession, order_id: int, now: datetime, *where: ColumnElement[bool], **values: object
) -> bool:
    """Change an order in one conditional UPDATE: ``values`` (SQL expressions see the row as it
    was), one more ``version``, ``updated_at``; only if ``where`` holds. True when it did.

    The ORM copy of the order in the session is stale afterwards: refresh it to read it."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, *where)
        .values(version=Order.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def _claim_slot(session: AsyncSession, order_id: int, now: datetime) -> bool:
    """Atomically take one place; False when none is left (conditional UPDATE, §2.5)."""
    fills = Order.confirmed + 1 >= Order.headcount
    return await edit(
        session, order_id, now, Order.status == "open", Order.confirmed < Order.headcount,
        confirmed=Order.confirmed + 1,
        status=case((fills, "full"), else_=Order.status),
        filled_at=case((fills, literal(now, Order.filled_at.type)), else_=Order.filled_at),
    )


async def _release(
    session: AsyncSession, order_id: int, now: datetime, slot: bool, *where: ColumnElement[bool]
) -> bool:
    """Lock an open order for a change of one of its assignments; ``slot``: also give a
    confirmed place back (a full order opens again). False when the order is no longer open."""
    if not slot:
        return await edit(session, order_id, now, Order.status.in_(OPEN_STATES), *where)
    return await edit(
        session, order_id, now, Order.status.in_(OPEN_STATES), Order.confirmed > 0, *where,
        confirmed=Order.confirmed - 1,
        status=case((Order.status == "full", "open"), else_=Order.status),
    )


async def _move(session: AsyncSession, a: Assignment, seen: str, **values: object) -> bool:
    """Change an assignment only if it still has the status read before (conditional UPDATE);
    the session's copy is refreshed either way."""
    result = await session.execute(
        update(Assignment)
        .where(Assignment.id == a.id, Assignment.status == seen)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(a)
    return result.rowcount == 1


async def _refresh(session: AsyncSession, order: Order) -> Order:
    await session.refresh(order)
    return order


def _finished(order: Order) -> UserFacingError:
    return UserFacingError(texts.ORDER_FINISHED.format(status=texts.STATUS_LABELS.get(order.status, order.status)))


def _not_open(order: Order, code: str) -> UserFacingError:
    if order.status in OPEN_STATES:  # open, but the last place went a moment ago
        return OrderFull(texts.ORDER_FULL.format(code=code))
    return UserFacingError(
        texts.ORDER_NOT_OPEN.format(code=code, status=texts.STATUS_LABELS.get(order.status, order.status))
    )


async def cancel_active(session: AsyncSession, order_id: int, now: datetime) -> None:
    """End every still-active assignment of an order that just closed (under its row lock)."""
    await session.execute(
        update(Assignment)
        .where(Assignment.order_id == order_id, Assignment.status.in_(ACTIVE_ASSIGNMENT))
        .values(status="cancelled", ended_at=now)
        .execution_options(synchronize_session="fetch")
    )


async def take(
    session: AsyncSession, code: str, worker_id: int, now: datetime, tz: ZoneInfo
) -> TakeResult:
    """A worker takes an order (接单). First come: confirmed at once if a place is left; pick
    mode: applied, the employer chooses. Repeats by the same worker change nothing."""
    order = await by_code(session, code)
    worker = await session.get(WorkerProfile, worker_id)
    if worker is None:
        raise UserFacingError(texts.NOT_WORKER)
    if order.employer_id == worker_id:
        raise UserFacingError(texts.OWN_ORDER)
    existing = (
        await session.execute(
            select(Assignment).where(Assignment.order_id == order.id, Assignment.worker_id == worker_id)
        )
    ).scalar_one_or_none()
    if existing is not None and existing.status == "confirmed":
        raise UserFacingError(texts.ALREADY_TAKEN.format(code=code))
    if existing is not None and existing.status == "applied":
        raise UserFacingError(texts.ALREADY_APPLIED.format(code=code))
    if order.status != "open":
        raise _not_open(order, code)
    status = "confirmed" if order.mode == "first_come" else "applied"
    # The order row first (a place, or for an application just the row lock), then the assignment.
    if status == "confirmed":
        locked = await _claim_slot(session, order.id, now)
    else:
        locked = await edit(session, order.id, now, Order.status == "open")
    if not locked:
        raise _not_open(await _refresh(session, order), code)
    if existing is None:
        assignment_id = await AssignmentRepository(session).add_once(
            order_id=order.id,
            worker_id=worker_id,
            status=status,
            agreed_wage_fen=order.wage_fen,
            wage_unit=order.wage_unit,
            confirmed_at=now if status == "confirmed" else None,
            # The posted wage is the employer's offer: their side of the price is agreed.
            employer_price_ok_at=now,
            now=now,
        )
        if assignment_id is None:  # another delivery of the same tap got here first
            raise UserFacingError(texts.ALREADY_TAKEN.format(code=code))
    else:  # came back after withdrawing or being declined
        came_back = await _move(
            session, existing, existing.status, status=status, confirmed_at=now if status == "confirmed" else None,
            ended_at=None, agreed_wage_fen=order.wage_fen, employer_price_ok_at=now, worker_price_ok_at=None,
        )
        if not came_back:  # another delivery of the same tap got here first
            raise UserFacingError(texts.ALREADY_TAKEN.format(code=code))
        assignment_id = existing.id

    order = await _refresh(session, order)
    card = order_card(order, tz, with_take_hint=False)
    employer_note = await _employer_note(session, order, worker, status)
    await notify_user(
        session, order.employer_id, employer_note, key=f"take:{assignment_id}:{status}:{now.timestamp()}", now=now
    )
    if order.status == "full":
        await notify_user(
            session, order.employer_id, texts.FULL_EMPLOYER.format(code=code, headcount=order.headcount),
            key=f"full:{order.id}:{order.version}", now=now,
        )
    if status == "confirmed":
        note = texts.TAKEN_WORKER.format(card=card, code=code, price=price_prompt(order))
    else:
        note = texts.APPLIED_WORKER.format(card=card, code=code)
    await notify_user(session, worker_id, note, key=f"took:{assignment_id}:{status}:{now.timestamp()}", now=now)
    return TakeResult(assignment_id, status)


async def _employer_note(session: AsyncSession, order: Order, worker: WorkerProfile, status: str) -> str:
    if status == "confirmed":
        return texts.TAKEN_EMPLOYER.format(
            name=worker.name, phone=worker.phone, code=order.code, confirmed=order.confirmed, headcount=order.headcount
        )
    count = len(await active_applicants(session, order.id))
    return texts.APPLIED_EMPLOYER.format(name=worker.name, code=order.code, applicants=count)


async def withdraw(
    session: AsyncSession, code: str, worker_id: int, now: datetime
) -> Order:
    """A worker withdraws before the start (退单); the place opens again."""
    order = await by_code(session, code)
    a = (
        await session.execute(
            select(Assignment).where(
                Assignment.order_id == order.id,
                Assignment.worker_id == worker_id,
                Assignment.status.in_(ACTIVE_ASSIGNMENT),
            )
        )
    ).scalar_one_or_none()
    if a is None:
        raise UserFacingError(texts.NOT_TAKEN.format(code=code))
    too_late = UserFacingError(texts.TOO_LATE_TO_WITHDRAW.format(code=code, hotline="{hotline}"))
    if order.status not in OPEN_STATES or order.start_at <= now:
        raise too_late
    seen = a.status
    if not await _release(session, order.id, now, seen == "confirmed", Order.start_at > now):
        raise too_late
    if not await _move(session, a, seen, status="withdrawn", ended_at=now):
        raise UserFacingError(texts.NOT_TAKEN.format(code=code))
    order = await _refresh(session, order)
    worker = await session.get(WorkerProfile, worker_id)
    await notify_user(
        session,
        order.employer_id,
        texts.WITHDRAWN_EMPLOYER.format(
            name=worker.name if worker else "", code=code, confirmed=order.confirmed, headcount=order.headcount
        ),
        key=f"withdraw:{a.id}:{now.timestamp()}",
        now=now,
    )
    return order


def ensure_owner(order: Order, employer_id: int) -> None:
    if order.employer_id != employer_id:
        raise UserFacingError(texts.NOT_YOUR_ORDER)


def _own(order: Order, employer_id: int) -> None:
    if order.employer_id != employer_id:
        raise UserFacingError(texts.NOT_YOUR_ORDER)
    if order.status not in OPEN_STATES:
        raise UserFacingError(
            texts.ORDER_FINISHED.format(status=texts.STATUS_LABELS.get(order.status, order.status))
        )


async def pick(
    session: AsyncSession, code: str, employer_id: int, n: int, now: datetime, tz: ZoneInfo
) -> Assignment:
    """The employer confirms applicant number ``n`` (1-based, as listed by ``applicants``)."""
    order = await by_code(session, code)
    _own(order, employer_id)
    listed = await applicants(session, order.id)
    if not 1 <= n <= len(listed):
        raise UserFacingError(texts.NO_SUCH_APPLICANT.format(n=n))
    a, _worker = listed[n - 1]
    if a.status == "confirmed":
        return a
    if a.status != "applied":
        raise UserFacingError(texts.APPLICANT_GONE.format(n=n, status=texts.ASSIGNMENT_STATUS.get(a.status, a.status)))
    if not await _claim_slot(session, order.id, now):
        order = await _refresh(session, order)
        raise OrderFull(texts.ORDER_FULL.format(code=code)) if order.status in OPEN_STATES else _finished(order)
    if not await _move(session, a, "applied", status="confirmed", confirmed_at=now):
        raise UserFacingError(texts.APPLICANT_GONE.format(n=n, status=texts.ASSIGNMENT_STATUS.get(a.status, a.status)))
    order = await _refresh(session, order)
    await notify_user(
        session,
        a.worker_id,
        texts.PICKED_WORKER.format(
            card=order_card(order, tz, with_take_hint=False), code=code, price=price_prompt(order, a.agreed_wage_fen)
        ),
        key=f"pick:{a.id}", now=now,
    )
    return a


async def decline(session: AsyncSession, code: str, employer_id: int, n: int, now: datetime) -> Assignment:
    order = await by_code(session, code)
    _own(order, employer_id)
    listed = await applicants(session, order.id)
    if not 1 <= n <= len(listed):
        raise UserFacingError(texts.NO_SUCH_APPLICANT.format(n=n))
    a, _worker = listed[n - 1]
    if a.status not in ACTIVE_ASSIGNMENT:
        raise UserFacingError(texts.APPLICANT_GONE.format(n=n, status=texts.ASSIGNMENT_STATUS.get(a.status, a.status)))
    seen = a.status
    if not await _release(session, order.id, now, seen == "confirmed"):
        raise _finished(await _refresh(session, order))
    if not await _move(session, a, seen, status="declined", ended_at=now):
        raise UserFacingError(texts.APPLICANT_GONE.format(n=n, status=texts.ASSIGNMENT_STATUS.get(a.status, a.status)))
    await notify_user(session, a.worker_id, texts.DECLINED_WORKER.format(code=code), key=f"decline:{a.id}", now=now)
    return a


async def _tell_taken(session: AsyncSession, order: Order, text: str, key: str, now: datetime) -> int:
    told = 0
    for a, _w in await active_applicants(session, order.id):
        if await notify_user(session, a.worker_id, text, key=f"{key}:{a.id}", now=now):
            told += 1
    return told


async def cancel_order(session: AsyncSession, code: str, employer_id: int, now: datetime) -> int:
    """The employer cancels; every taken worker is told. Returns how many were told."""
    order = await by_code(session, code)
    _own(order, employer_id)
    if not await edit(session, order.id, now, Order.status.in_(OPEN_STATES), status="cancelled", closed_at=now):
        raise _finished(await _refresh(session, order))
    order = await _refresh(session, order)
    told = await _tell_taken(
        session, order, texts.CANCELLED_WORKER.format(code=code, trade=trade_name(order.trade_id)),
        f"cancel:{order.id}", now,
    )
    await cancel_active(session, order.id, now)
    return told


async def change_headcount(
    session: AsyncSession, code: str, employer_id: int, headcount: int, now: datetime, tz: ZoneInfo
) -> Order:
    order = await by_code(session, code)
    _own(order, employer_id)
    if headcount < max(1, order.confirmed):
        raise UserFacingError(texts.HEADCOUNT_BELOW_CONFIRMED.format(confirmed=order.confirmed))
    changed = await edit(
        session, order.id, now, Order.status.in_(OPEN_STATES), Order.confirmed <= headcount,
        headcount=headcount, status=case((Order.confirmed >= headcount, "full"), else_="open"),
    )
    order = await _refresh(session, order)
    if not changed:  # taken, cancelled … since it was read
        if order.status not in OPEN_STATES:
            raise _finished(order)
        raise UserFacingError(texts.HEADCOUNT_BELOW_CONFIRMED.format(confirmed=order.confirmed))
    await _tell_taken(
        session, order,
        texts.CHANGED_WORKER.format(
            code=code, change=f"人数改为{headcount}人", card=order_card(order, tz, with_take_hint=False)
        ),
        f"headcount:{order.id}:{order.version}", now,
    )
    return order


async def change_start(
    session: AsyncSession, code: str, employer_id: int, start_at: datetime, now: datetime, tz: ZoneInfo
) -> Order:
    order = await by_code(session, code)
    _own(order, employer_id)
    changed = await edit(session, order.id, now, Order.status.in_(OPEN_STATES), start_at=start_at)
    order = await _refresh(session, order)
    if not changed:
        raise _finished(order)
    await _tell_taken(
        session, order,
        texts.CHANGED_WORKER.format(
            code=code, change=f"开工时间改为{when_text(start_at, tz)}", card=order_card(order, tz, with_take_hint=False)
        ),
        f"start:{order.id}:{order.version}", now,
    )
    return order


def default_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Tomorrow 07:00 local time — the usual start when a post names none."""
    local = now.astimezone(tz) + timedelta(days=1)
    return local.replace(hour=7, minute=0, second=0, microsecond=0)


STALE_AFTER_START = timedelta(hours=12)


async def expire_stale(session: AsyncSession, settings: object, now: datetime) -> int:
    """Orders whose start is long past: nobody confirmed → ``expired`` (applicants told); with
    confirmed workers → ``in_progress`` (the work is under way; completion follows)."""
    stale = (Order.status.in_(OPEN_STATES), Order.start_at <= now - STALE_AFTER_START)
    changed = 0
    for order in list((await session.execute(select(Order).where(*stale))).scalars()):
        nobody = Order.confirmed == 0
        if not await edit(
            session, order.id, now, *stale,
            status=case((nobody, "expired"), else_="in_progress"),
            closed_at=case((nobody, literal(now, Order.closed_at.type)), else_=Order.closed_at),
        ):
            continue  # moved (or taken and started) since it was read
        order = await _refresh(session, order)
        if order.status == "expired":
            await _tell_taken(session, order, texts.EXPIRED_WORKER.format(code=order.code), f"expired:{order.id}", now)
            await cancel_active(session, order.id, now)
            await notify_user(
                session, order.employer_id, texts.EXPIRED_EMPLOYER.format(code=order.code),
                key=f"expired:{order.id}:employer", now=now,
            )
        changed += 1
    return changed
