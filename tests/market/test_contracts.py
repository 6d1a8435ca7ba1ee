"""E-contracts: exact text hashed, signatures bound to the hash, a printable PDF with the hash,
and ``linggong contract verify`` catching a one-byte change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, update

from market import agreement, contracts, orders
from market.errors import UserFacingError
from market.settings import MarketSettings
from storage.db import Database
from storage.models import Assignment, Contract, Order
from tests.market import factory

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = MarketSettings()


async def _contract(db: Database, clock) -> Contract:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", clock())
        w = await factory.worker(s, "w", clock())
        o = await factory.order(s, boss, clock(), insurance="basic", wage_fen=38000)
        await orders.take(s, o.code, w, clock(), SETTINGS.tz)
        await agreement.confirm_price(s, o.code, w, None, SETTINGS, clock())
    async with db.reader() as s:
        return (await s.execute(select(Contract))).scalar_one()


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yaml"), *args],
        env={**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_canonical_text_and_hash_are_stable() -> None:
    a = contracts.canonical("甲方：张三  \r\n乙方：李四\r\n\r\n")
    b = contracts.canonical("甲方：张三\n乙方：李四")
    assert a == b == "甲方：张三\n乙方：李四\n"
    assert contracts.sha256_text(a) == contracts.sha256_text(b)
    # NFC: the same character in two Unicode forms hashes alike
    assert contracts.canonical("e\u0301") == contracts.canonical("\u00e9")


async def test_contract_has_every_clause(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    c = await _contract(db, clock)
    for clause in ("甲方", "乙方", "工作内容", "工作地点", "工作时间", "劳务报酬", "支付方式和期限",
                   "未完成的处理", "安全", "保险", "争议处理", "押金", "SHA-256"):
        assert clause in c.text, clause
    assert "380元/天" in c.text and "示例保险公司" in c.text and "24 小时内" in c.text
    assert c.sha256 == contracts.sha256_text(c.text) and len(c.sign_code) == 6
    assert c.premium_fen == 300 and c.premium_payer == "employer"


async def test_verify_cli_detects_one_changed_byte(db: Database, db_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    c = await _contract(db, clock)
    ok = _cli(db_url, "contract", "verify", str(c.id))
    assert ok.returncode == 0 and '"ok": true' in ok.stdout
    tampered = c.text.replace("380", "381", 1)
    assert len(tampered.encode()) == len(c.text.encode())  # one byte differs
    async with db.transaction() as s:
        await s.execute(update(Contract).where(Contract.id == c.id).values(text=tampered))
    bad = _cli(db_url, "contract", "verify", str(c.id))
    assert bad.returncode == 1 and '"ok": false' in bad.stdout and "改动" in bad.stderr


async def test_printable_pdf_shows_the_hash(db: Database, db_url: str, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = await _contract(db, clock)
    out = tmp_path / "c.pdf"
    done = _cli(db_url, "contract", "pdf", str(c.id), "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and c.sha256.encode() in data  # in the metadata
    if Path("/usr/bin/pdftotext").exists():
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        assert c.sha256 in text.replace("\n", "") and "零工劳务协议" in text


async def test_a_changed_price_makes_a_new_version(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    c1 = await _contract(db, clock)
    async with db.transaction() as s:
        a = (await s.execute(select(Assignment))).scalar_one()
        order = await s.get(Order, a.order_id)
        await agreement.propose_price(s, order.code, order.employer_id, 1, 40000, SETTINGS, clock())
        with pytest.raises(UserFacingError):
            await agreement.confirm_price(s, order.code, order.employer_id, None, SETTINGS, clock())
        await agreement.confirm_price(s, order.code, a.worker_id, None, SETTINGS, clock())
        versions = list((await s.execute(select(Contract).order_by(Contract.version))).scalars())
    assert [v.status for v in versions] == ["superseded", "pending"]
    assert versions[0].text == c1.text and versions[0].sha256 == c1.sha256  # the old text is untouched
    assert "400元/天" in versions[1].text and versions[1].version == 2
