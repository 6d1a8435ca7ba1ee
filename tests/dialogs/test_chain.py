"""The whole order-to-pay chain in chat, through the real engine, on SQLite and PostgreSQL:
post → three workers take → price (one negotiates) → contracts signed → check-in → completion →
payments confirmed → ratings; the dispute path to mediation; the arrears alarm."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from market import cases, contracts, ledger, payments, ratings
from storage.models import Assignment, Case, Contract, ContractSignature, Order, Rating
from tests.conftest import Chat
from tests.dialogs.test_orders import outbox_texts, post, register_employer, register_worker


async def last(c: Chat, chat_id: str) -> str:
    return (await outbox_texts(c, chat_id))[-1]


def sign_code(text: str) -> str:
    m = re.search(r"同意 (\d{6})", text)
    assert m, text
    return m.group(1)


async def setup_three(make_chat) -> tuple[Chat, list[Chat], str]:  # type: ignore[no-untyped-def]
    boss = make_chat("boss")
    await register_employer(boss)
    code = await post(boss, "招泥水工3名 明天早上7点 夏茂镇 一天380 包午饭")
    workers = [make_chat(f"w{i}") for i in range(3)]
    for i, w in enumerate(workers):
        await register_worker(w, ["张三", "李四", "王五"][i], f"1390000000{i}")
        await w.say(f"接 {code}")
        assert "确认 " + code in await last(w, f"w{i}")
    return boss, workers, code


async def test_whole_chain(make_chat, services, clock) -> None:  # type: ignore[no-untyped-def]
    boss, (w0, w1, w2), code = await setup_three(make_chat)

    # Price: two confirm the posted price, one negotiates up and the employer agrees.
    assert "合同" in await w0.say(f"确认 {code}")
    await w1.say(f"同意 {code}")
    r = await w2.say(f"议价 {code} 400")
    assert "等对方确认" in r
    assert "王五" in await last(boss, "boss") and "400元/天" in await last(boss, "boss")
    r = await boss.say(f"确认 {code} 3")
    assert "价格已确认" in r

    # Contracts: each side signs with the code; the text hash is stored with each signature.
    codes = {}
    for w, chat_id in ((w0, "w0"), (w1, "w1"), (w2, "w2")):
        offer = await last(w, chat_id)
        assert "电子合同" in offer and "保险" in offer
        code6 = codes[chat_id] = sign_code(offer)
        await w.say(f"同意 {code6}")
        assert "对方已签字" in await last(boss, "boss")
        await boss.say(f"同意 {code6}")
        assert "双方已签字" in await last(w, chat_id)
    assert "签过" in await w0.say(f"同意 {codes['w0']}")
    assert "不对" in await w0.say(f"同意 {codes['w1']}")  # someone else's contract
    async with services.db.reader() as s:
        signed = list((await s.execute(select(Contract).where(Contract.status == "signed"))).scalars())
        sigs = await s.scalar(select(func.count()).select_from(ContractSignature))
        wang = (await s.execute(select(Contract).where(Contract.text.contains("王五")))).scalar_one()
    assert len(signed) == 3 and sigs == 6
    assert "400元/天" in wang.text and "示例保险公司" in wang.text
    assert all(c.sha256 == contracts.sha256_text(c.text) for c in signed)

    # Check-in on the day, then the employer confirms the work done.
    clock.advance(hours=22)  # 2026-11-26 22:00 UTC = 11-27 06:00 Beijing, an hour before start
    assert "签到成功" in await w0.say(f"签到 {code}")
    assert "签到成功" in await w1.say(f"到了 {code}")
    clock.advance(hours=10)
    r = await boss.say(f"完工 {code}")
    assert "第1号 张三（已签到）" in r
    r = await boss.say("1")
    assert "第2号 李四" in r
    r = await boss.say("一天半")
    assert "第3号 王五（没签到）" in r
    r = await boss.say("1")
    assert "已确认完工" in r and "570元" in r and "400元" in r
    assert "应得 570元" in await last(w1, "w1")

    # Payments: the employer records, each worker confirms; only then is it posted.
    r = await boss.say(f"已付 {code}")
    assert "1350元" in r  # 380 + 570 + 400
    async with services.db.reader() as s:
        assert await ledger.balance(s, ledger.employer_account(1)) in (-135000,)  # nothing posted yet
    for w, chat_id in ((w0, "w0"), (w1, "w1"), (w2, "w2")):
        assert "已付您" in await last(w, chat_id)
        r = await w.say(f"已收到 {code}")
        assert "已确认收到" in r
        assert "已结清" in await last(w, chat_id)
    async with services.db.reader() as s:
        assert await ledger.problems(s) == []
        o = (await s.execute(select(Order))).scalar_one()
        assert o.status == "closed"
        for a in (await s.execute(select(Assignment))).scalars():
            assert await payments.outstanding(s, a.id) == 0 and a.paid_at is not None

    # Ratings both ways; derived reputations.
    assert "谢谢" in await w0.say(f"评价 {code} 5 老板人好")
    assert "评价过" in await w0.say(f"评价 {code} 4")
    assert "谢谢" in await boss.say(f"评价 {code} 2 4 干活细")
    async with services.db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Rating)) == 2
        rep = await ratings.employer_reputation(s, o.employer_id, clock())
        assert rep.rate == 1.0 and rep.average_score == 5.0
        w1_id = (await s.execute(select(Assignment.worker_id).where(Assignment.amount_due_fen == 57000))).scalar_one()
        wrep = await ratings.worker_reputation(s, w1_id, clock())
        assert wrep.rate == 1.0 and wrep.average_score == 4.0


async def test_dispute_negotiation_and_mediation(make_chat, services, clock) -> None:  # type: ignore[no-untyped-def]
    boss, (w0, w1, _w2), code = await setup_three(make_chat)
    clock.advance(hours=30)
    await boss.say(f"完工 {code}")
    for answer in ("1", "1", "0"):  # the third did not come
        r = await boss.say(answer)
    assert "没到岗" in r
    assert "缺勤" in await last(_w2, "w2")

    # Worker 0 says he was underpaid: negotiation, counter-offer, agreement.
    r = await w0.say(f"投诉 {code}")
    assert "遇到什么问题" in r
    await w0.say("2")
    r = await w0.say("说好的一天，老板只认半天")
    case_id = int(re.search(r"案件 (\d+)", r).group(1))  # type: ignore[union-attr]
    assert "协商" in await last(boss, "boss")
    await boss.say(f"方案 {case_id} 300")
    assert "300元" in await last(w0, "w0")
    assert "自己提的" in await boss.say(f"同意方案 {case_id}")
    await w0.say(f"方案 {case_id} 350")
    await boss.say(f"同意方案 {case_id}")
    assert "已解决" in await last(w0, "w0")
    async with services.db.reader() as s:
        a0 = (await s.execute(select(Assignment).order_by(Assignment.id))).scalars().first()
        assert await ledger.earned_total(s, a0.id) == 35000
        assert await ledger.problems(s) == []

    # Worker 1's dispute gets no answer: after the response time it goes to mediation.
    await w1.say(f"投诉 {code}")
    await w1.say("1")
    r = await w1.say("活干完了老板说没干完")
    case2 = int(re.search(r"案件 (\d+)", r).group(1))  # type: ignore[union-attr]
    async with services.db.transaction() as s:
        assert await cases.escalate_due(s, services.engine.settings.market, clock()) == 0
    clock.advance(hours=25)
    async with services.db.transaction() as s:
        assert await cases.escalate_due(s, services.engine.settings.market, clock()) == 1
    assert "调解" in await last(w1, "w1")
    async with services.db.transaction() as s:
        queue = await cases.mediation_queue(s)
        assert [c.id for c in queue] == [case2]
        await cases.resolve_by_operator(s, case2, 38000, "核实已干完，按一天结算", "operator:小林", clock())
    assert "工作人员调解结果" in await last(w1, "w1") and "380元" in await last(boss, "boss")
    async with services.db.reader() as s:
        c = await s.get(Case, case2)
        assert c is not None and c.status == "resolved" and c.final_fen == 38000
        assert await ledger.problems(s) == []

    # A complaint about the post goes straight to the queue.
    outsider = make_chat("x")
    await register_worker(outsider, "路人", "13900000077")
    await outsider.say(f"举报 {code}")
    await outsider.say("2")
    r = await outsider.say("让先交200押金")
    assert "举报已收到" in r
    async with services.db.reader() as s:
        assert any(c.kind == "complaint" for c in await cases.mediation_queue(s))


async def test_arrears_alarm_with_fixed_clock(make_chat, services, clock) -> None:  # type: ignore[no-untyped-def]
    boss, (w0, _w1, _w2), code = await setup_three(make_chat)
    for w in (_w1, _w2):
        await w.say(f"退 {code}")
    clock.advance(hours=30)
    await boss.say(f"完工 {code}")
    await boss.say("1")
    market = services.engine.settings.market
    async with services.db.transaction() as s:
        run = await payments.check_arrears(s, market, clock())
    assert (run.reminded, run.escalated) == (0, 0)  # not due yet
    clock.advance(hours=25)
    async with services.db.transaction() as s:
        run = await payments.check_arrears(s, market, clock())
    assert (run.reminded, run.escalated) == (1, 0)
    assert "欠薪提醒" in await last(boss, "boss")
    assert "欠薪提醒" in await last(w0, "w0") and "投诉" in await last(w0, "w0")
    async with services.db.transaction() as s:
        run = await payments.check_arrears(s, market, clock())
    assert (run.reminded, run.escalated) == (0, 0)  # once per stage
    clock.advance(hours=48)
    async with services.db.transaction() as s:
        run = await payments.check_arrears(s, market, clock())
        queue = await cases.mediation_queue(s)
    assert run.escalated == 1 and queue[0].kind == "arrears"
    assert "运营方" in await last(w0, "w0")


async def test_withdraw_cancel_and_contract_tampering(make_chat, services) -> None:  # type: ignore[no-untyped-def]
    boss, (w0, w1, _w2), code = await setup_three(make_chat)
    await w0.say(f"确认 {code}")
    assert "已退出" in await w1.say(f"退 {code}")
    async with services.db.reader() as s:
        c = (await s.execute(select(Contract))).scalar_one()
        assert (await contracts.verify(s, c.id)).ok
    async with services.db.transaction() as s:
        c = await s.get(Contract, c.id)
        c.text = c.text.replace("380元", "880元")
    async with services.db.reader() as s:
        v = await contracts.verify(s, c.id)
    assert not v.ok and v.stored != v.computed
    r = await w0.say("同意 " + c.sign_code)
    assert "校验不通过" in r
    r = await boss.say(f"取消招工 {code}")
    assert "已取消" in r
