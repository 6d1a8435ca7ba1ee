"""Operator commands of ``linggong``: contracts, cash payments, cases, statistics, ledger checks.

(Kept apart from ``bot.cli`` so each command family stays small; ``bot.cli`` registers them.)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config import AppConfig

COMMANDS = ("contract", "pay", "cases", "stats", "ledger", "digests", "training", "priority")


def add_commands(sub: Any) -> None:
    contract = sub.add_parser("contract", help="e-contracts")
    csub = contract.add_subparsers(dest="contract_command", required=True)
    verify = csub.add_parser("verify", help="recompute a contract's SHA-256 (exit 1 if it was changed)")
    verify.add_argument("contract_id", type=int)
    pdf = csub.add_parser("pdf", help="write a printable PDF of a contract")
    pdf.add_argument("contract_id", type=int)
    pdf.add_argument("-o", "--output", type=Path, required=True)

    pay = sub.add_parser("pay", help="wage payments recorded by operators")
    psub = pay.add_subparsers(dest="pay_command", required=True)
    imp = psub.add_parser("import", help="record cash paid at the hall from a CSV: key,assignment_id,amount_fen")
    imp.add_argument("file", type=Path)
    imp.add_argument("--operator", default="operator:hall")

    cases = sub.add_parser("cases", help="the operator's mediation queue")
    ksub = cases.add_subparsers(dest="cases_command", required=True)
    ksub.add_parser("list", help="cases waiting for an operator")
    resolve = ksub.add_parser("resolve", help="record a mediation outcome")
    resolve.add_argument("case_id", type=int)
    resolve.add_argument("--note", required=True)
    resolve.add_argument("--amount", type=Decimal, help="the worker's total wage in yuan, if it changes")
    resolve.add_argument("--operator", required=True)

    stats = sub.add_parser("stats", help="statistics by day, trade or town")
    stats.add_argument("--from", dest="start", type=date.fromisoformat)
    stats.add_argument("--to", dest="end", type=date.fromisoformat)
    stats.add_argument("--by", choices=("day", "trade", "town"), default="day")

    ledger = sub.add_parser("ledger", help="ledger")
    lsub = ledger.add_subparsers(dest="ledger_command", required=True)
    lsub.add_parser("check", help="check the ledger's invariants (exit 1 on a problem)")

    dig = sub.add_parser("digests", help="personal digests (normally sent by the scheduler)")
    dsub = dig.add_subparsers(dest="digests_command", required=True)
    dsend = dsub.add_parser("send", help="send today's due digests now, in batches")
    dsend.add_argument("--now", type=datetime.fromisoformat, help="pretend it is this time (ISO 8601 with zone)")
    dsend.add_argument("--batch", type=int, default=500)

    tr = sub.add_parser("training", help="training courses (第六条) and job fairs")
    tsub = tr.add_subparsers(dest="training_command", required=True)
    tadd = tsub.add_parser("add", help="publish a course or a fair")
    tadd.add_argument("--kind", choices=("training", "fair"), default="training")
    tadd.add_argument("--title", required=True)
    tadd.add_argument("--starts", type=datetime.fromisoformat, required=True, help="ISO 8601, e.g. 2026-12-01T09:00+08:00")
    tadd.add_argument("--place", required=True)
    tadd.add_argument("--trades", default="", help="comma-separated trade ids (empty: everyone)")
    tadd.add_argument("--towns", default="", help="comma-separated town names (empty: whole county)")
    tadd.add_argument("--priority-only", action="store_true")
    tadd.add_argument("--capacity", type=int, default=0)
    tadd.add_argument("--subsidy", default="")
    tpush = tsub.add_parser("push", help="push a course or fair to the workers it fits")
    tpush.add_argument("code")
    tsub.add_parser("list", help="courses and fairs with their sign-ups")

    pr = sub.add_parser("priority", help="priority help (第七条)")
    psub2 = pr.add_subparsers(dest="priority_command", required=True)
    plist = psub2.add_parser("list", help="the point-to-point list of priority workers offered an order")
    plist.add_argument("code")
    psub2.add_parser("report", help="offers, placements, days waited and earnings per group")
    pflag = psub2.add_parser("flag", help="mark a worker (by phone) as a priority worker")
    pflag.add_argument("phone")
    pflag.add_argument("--flag", choices=("low_income", "disabled", "hard_to_employ"), required=True)
    pflag.add_argument("--remove", action="store_true")


def run(cfg: AppConfig, args: argparse.Namespace) -> int:
    from market.errors import UserFacingError

    try:
        return asyncio.run(_run(cfg, args))
    except UserFacingError as exc:
        print(str(exc), file=sys.stderr)
        return 1


async def _run(cfg: AppConfig, args: argparse.Namespace) -> int:
    from bot.app import market_settings, utc_now
    from storage.db import Database

    db = Database(cfg.database.url)
    market = market_settings(cfg)
    try:
        if args.command == "contract":
            return await _contract(db, market, args)
        if args.command == "pay":
            return await _pay_import(db, args.file, args.operator, utc_now)
        if args.command == "cases":
            return await _cases(db, args, utc_now)
        if args.command == "stats":
            return await _stats(db, market, args, utc_now)
        if args.command == "ledger":
            return await _ledger_check(db)
        if args.command == "digests":
            return await _digests(db, market, args, utc_now)
        if args.command == "training":
            return await _training(db, market, args, utc_now)
        if args.command == "priority":
            return await _priority(db, market, args, utc_now)
        return 2
    finally:
        await db.dispose()


async def _contract(db, market, args) -> int:  # type: ignore[no-untyped-def]
    from market import contracts

    async with db.reader() as s:
        if args.contract_command == "verify":
            v = await contracts.verify(s, args.contract_id)
            print(
                json.dumps(
                    {"contract": v.contract_id, "ok": v.ok, "stored": v.stored, "computed": v.computed,
                     "signatures": [{"role": r, "sha256": h} for r, h in v.signatures]},
                    ensure_ascii=False,
                )
            )
            if not v.ok:
                print(f"合同 {v.contract_id} 的文本已被改动，校验不通过。Contract text was changed.", file=sys.stderr)
            return 0 if v.ok else 1
        data = await contracts.render_pdf(s, args.contract_id, market)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


async def _pay_import(db, path: Path, operator: str, clock) -> int:  # type: ignore[no-untyped-def]
    """One transaction per row; a row's key makes it happen once, so a killed import can simply
    be run again."""
    from market import payments
    from market.errors import UserFacingError

    recorded = repeated = refused = 0
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if not row or row[0].startswith("#"):
                continue
            key, assignment_id, amount = row[0].strip(), int(row[1]), int(row[2])
            try:
                async with db.transaction() as s:
                    made = await payments.record_cash(
                        s, assignment_id, amount, key=f"cash:{key}", operator=operator, now=clock()
                    )
            except UserFacingError as exc:
                refused += 1
                print(f"{key}: {exc}", file=sys.stderr)
                continue
            if made is None:
                repeated += 1
            else:
                recorded += 1
    print(json.dumps({"recorded": recorded, "already_recorded": repeated, "refused": refused}))
    return 0


async def _cases(db, args, clock) -> int:  # type: ignore[no-untyped-def]
    from market import cases
    from market.money import yuan_to_fen

    if args.cases_command == "list":
        async with db.reader() as s:
            for c in await cases.mediation_queue(s):
                print(json.dumps(
                    {"id": c.id, "kind": c.kind, "reason": c.reason, "order": c.order_id,
                     "assignment": c.assignment_id, "description": c.description,
                     "since": (c.escalated_at or c.created_at).isoformat()},
                    ensure_ascii=False,
                ))
        return 0
    amount = yuan_to_fen(args.amount) if args.amount is not None else None
    async with db.transaction() as s:
        case = await cases.resolve_by_operator(s, args.case_id, amount, args.note, args.operator, clock())
    print(json.dumps({"id": case.id, "status": case.status, "outcome": case.outcome}, ensure_ascii=False))
    return 0


async def _stats(db, market, args, clock) -> int:  # type: ignore[no-untyped-def]
    from market import statistics

    now = clock()
    today = now.astimezone(market.tz).date()
    period = statistics.Period(args.start or today - timedelta(days=30), args.end or today, market.tz)
    async with db.reader() as s:
        groups = await statistics.breakdown(s, period, args.by, now)
    for key in sorted(groups):
        print(json.dumps({args.by: key, **groups[key].as_dict()}, ensure_ascii=False))
    print(json.dumps({args.by: "合计", **statistics.merge(groups).as_dict()}, ensure_ascii=False))
    return 0


async def _ledger_check(db) -> int:  # type: ignore[no-untyped-def]
    from market import ledger

    async with db.reader() as s:
        problems = await ledger.problems(s)
    for p in problems:
        print(p)
    print("ledger ok" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


async def _digests(db, market, args, clock) -> int:  # type: ignore[no-untyped-def]
    """Send today's due digests, a batch per transaction: killed half-way and run again, it
    continues where it stopped and sends nobody a second digest (the push keys)."""
    from market import digests

    now = args.now or clock()
    after = sent = nothing = 0
    while True:
        async with db.transaction() as s:
            run = await digests.send_digests(s, market, now, after=after, limit=args.batch)
        if run.considered == 0:
            break
        after, sent, nothing = run.last_user_id, sent + run.sent, nothing + run.nothing_fits
    print(json.dumps({"sent": sent, "nothing_fits": nothing}))
    return 0


async def _training(db, market, args, clock) -> int:  # type: ignore[no-untyped-def]
    from market import training

    if args.training_command == "add":
        if args.starts.tzinfo is None:
            args.starts = args.starts.replace(tzinfo=market.tz)
        async with db.transaction() as s:
            t = await training.add_training(
                s, kind=args.kind, title=args.title, starts_at=args.starts, place=args.place,
                trades=[x for x in args.trades.split(",") if x], towns=[x for x in args.towns.split(",") if x],
                priority_only=args.priority_only, capacity=args.capacity, subsidy=args.subsidy, now=clock(),
            )
        print(json.dumps({"code": t.code, "kind": t.kind, "title": t.title}, ensure_ascii=False))
        return 0
    if args.training_command == "push":
        async with db.transaction() as s:
            sent = await training.push_training(s, args.code, market, clock())
        print(json.dumps({"pushed": sent}))
        return 0
    async with db.reader() as s:
        for t, n in await training.signups(s):
            print(json.dumps({"code": t.code, "kind": t.kind, "title": t.title, "starts": t.starts_at.isoformat(), "signups": n}, ensure_ascii=False))
    return 0


async def _priority(db, market, args, clock) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from market import digests
    from market.orders import by_code
    from storage.models import WorkerProfile

    if args.priority_command == "list":
        async with db.reader() as s:
            order = await by_code(s, args.code)
            for offer, w in await digests.priority_list(s, order):
                print(json.dumps({"name": w.name, "phone": w.phone, "groups": offer.groups,
                                  "days_waited": offer.days_waited, "offered_at": offer.offered_at.isoformat()},
                                 ensure_ascii=False))
        return 0
    if args.priority_command == "report":
        async with db.reader() as s:
            print(json.dumps(await digests.priority_report(s), ensure_ascii=False))
        return 0
    async with db.transaction() as s:
        found = list((await s.execute(select(WorkerProfile).where(WorkerProfile.phone == args.phone))).scalars())
        if not found:
            print(f"没有手机号为 {args.phone} 的工人。No worker with that phone.", file=sys.stderr)
            return 1
        for w in found:
            flags = set(w.priority_flags or [])
            flags.discard(args.flag) if args.remove else flags.add(args.flag)
            w.priority_flags = sorted(flags)
    print(json.dumps({"phone": args.phone, "flags": sorted(flags)}))
    return 0
