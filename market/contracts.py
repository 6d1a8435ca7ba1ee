"""Electronic contracts with insurance (电子合同含保险).

The text is rendered from a versioned template, normalised (NFC, ``\\n`` line ends) and hashed
with SHA-256; the text and hash never change afterwards (a change of terms is a new version).
Each party signs by replying ``同意`` plus the contract's 6-digit code in private chat; the
signature row records who, on which channel and message, when, and the hash they agreed to.
``verify`` recomputes the hash from the stored text; ``render_pdf`` prints it with a CJK font.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market import texts
from market.errors import UserFacingError
from market.money import fen_to_text
from market.notify import notify_user
from market.orders import trade_name, wage_text, when_text
from market.settings import MarketSettings
from storage.models import (
    Assignment,
    Contract,
    ContractSignature,
    EmployerProfile,
    Order,
    WorkerProfile,
)

TEMPLATE_VERSION = "v1"
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain text, never HTML
)
UNIT_WORDS = {
    "day": "天数", "half_day": "半天数", "hour": "小时数", "piece": "件数", "week": "周数", "month": "月数",
    "total": "工程量",
}


def canonical(text: str) -> str:
    """The exact form that is hashed: NFC, LF line ends, no trailing spaces, one final LF."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pdf_path(contract: Contract) -> str:
    """The unguessable path of a contract's PDF: its id and its random link token (128 bits;
    nothing in the contract's text or hash gives it away)."""
    return f"/contracts/{contract.id}/{contract.link_token}.pdf"


def contract_no(contract_id: int, version: int) -> str:
    return f"HT{contract_id:06d}-{version}"


@dataclass(frozen=True)
class Parties:
    """An assignment with its order, worker and employer: who a contract binds."""

    order: Order
    assignment: Assignment
    worker: WorkerProfile
    employer: EmployerProfile


async def _parties(session: AsyncSession, assignment: Assignment) -> Parties:
    order = await session.get(Order, assignment.order_id)
    worker = await session.get(WorkerProfile, assignment.worker_id)
    assert order is not None and worker is not None
    employer = await session.get(EmployerProfile, order.employer_id)
    assert employer is not None
    return Parties(order, assignment, worker, employer)


def render(p: Parties, settings: MarketSettings, *, contract_id: int, version: int) -> str:
    o, a = p.order, p.assignment
    option = settings.insurance(o.insurance) if o.insurance else None
    if option is None:
        clause = "双方选择不购买人身意外险。平台建议购买，乙方已知悉风险。"
    else:
        payer = "甲方" if option.payer == "employer" else "乙方"
        clause = (
            f"为乙方投保{option.insurer}「{option.product}」，保费每人每天{fen_to_text(option.premium_fen)}，"
            f"由{payer}承担；保障内容：{option.coverage}。"
        )
    text = _TEMPLATES.get_template(f"contract_{TEMPLATE_VERSION}.txt").render(
        service_name=settings.service_name,
        contract_no=contract_no(contract_id, version),
        version=version,
        template_version=TEMPLATE_VERSION,
        employer_name=p.employer.name,
        company=p.employer.company,
        employer_phone=p.employer.phone,
        worker_name=p.worker.name,
        worker_phone=p.worker.phone,
        trade=trade_name(o.trade_id),
        requirements=o.requirements,
        place=f"沙县区{o.town}{(' ' + o.place) if o.place and o.place != o.town else ''}",
        start=when_text(o.start_at, settings.tz),
        duration=o.duration_text,
        wage=wage_text(a.agreed_wage_fen, a.wage_unit),
        unit_word=UNIT_WORDS.get(a.wage_unit, "工作量"),
        perks="、".join(o.perks),
        due_hours=o.payment_due_hours,
        insurance_clause=clause,
        operator_name=settings.operator_name,
        hotline=settings.hotline,
    )
    return canonical(text)


async def _new_sign_code(session: AsyncSession) -> str:
    while True:
        code = f"{secrets.randbelow(900000) + 100000}"
        clash = await session.scalar(
            select(func.count()).select_from(Contract).where(Contract.sign_code == code, Contract.status == "pending")
        )
        if not clash:
            return code


async def create_contract(
    session: AsyncSession, assignment: Assignment, settings: MarketSettings, now: datetime
) -> Contract:
    """A new contract version for the assignment's current terms; older ones are superseded."""
    p = await _parties(session, assignment)
    previous = list(
        (await session.execute(select(Contract).where(Contract.assignment_id == assignment.id))).scalars()
    )
    for c in previous:
        if c.status in ("pending", "signed"):
            c.status = "superseded"
    version = max((c.version for c in previous), default=0) + 1
    option = settings.insurance(p.order.insurance) if p.order.insurance else None
    contract = Contract(
        assignment_id=assignment.id,
        version=version,
        status="pending",
        template_version=TEMPLATE_VERSION,
        text="",
        sha256="",
        sign_code=await _new_sign_code(session),
        link_token=secrets.token_urlsafe(16),
        insurance_id=option.id if option else "",
        insurer=option.insurer if option else "",
        insurance_product=option.product if option else "",
        premium_fen=option.premium_fen if option else 0,
        premium_payer=option.payer if option else "",
        created_at=now,
    )
    session.add(contract)
    await session.flush()  # the id goes into the contract number inside the text
    contract.text = render(p, settings, contract_id=contract.id, version=version)
    contract.sha256 = sha256_text(contract.text)
    await session.flush()
    for role, user_id in (("worker", p.worker.user_id), ("employer", p.employer.user_id)):
        await notify_user(
            session,
            user_id,
            texts.CONTRACT_TO_SIGN.format(
                code=p.order.code,
                no=contract_no(contract.id, version),
                summary=summary(p, contract, settings),
                sign_code=contract.sign_code,
                hash8=contract.sha256[:8],
                url=settings.public_url.rstrip("/") + pdf_path(contract),
            ),
            key=f"contract:{contract.id}:{role}",
            now=now,
        )
    return contract


def summary(p: Parties, contract: Contract, settings: MarketSettings) -> str:
    o, a = p.order, p.assignment
    insurance = (
        f"{contract.insurer}{contract.insurance_product}，保费{fen_to_text(contract.premium_fen)}/天"
        f"（{'老板' if contract.premium_payer == 'employer' else '工人'}出）"
        if contract.insurance_id
        else "不买意外险"
    )
    return texts.CONTRACT_SUMMARY.format(
        employer=p.employer.name,
        worker=p.worker.name,
        trade=trade_name(o.trade_id),
        place=o.town,
        start=when_text(o.start_at, settings.tz),
        wage=wage_text(a.agreed_wage_fen, a.wage_unit),
        due=o.payment_due_hours,
        insurance=insurance,
    )


@dataclass(frozen=True)
class SignResult:
    """A signature recorded: the contract, who signed, and whether both parties have."""

    contract: Contract
    role: str
    complete: bool


async def sign(
    session: AsyncSession,
    sign_code: str,
    user_id: int,
    *,
    channel: str,
    channel_user_id: str,
    message_id: str,
    now: datetime,
) -> SignResult:
    contracts = list(
        (
            await session.execute(
                select(Contract).where(Contract.sign_code == sign_code, Contract.status.in_(("pending", "signed")))
            )
        ).scalars()
    )
    for contract in contracts:
        a = await session.get(Assignment, contract.assignment_id)
        order = await session.get(Order, a.order_id) if a else None
        if a is None or order is None:
            continue
        role = "worker" if a.worker_id == user_id else "employer" if order.employer_id == user_id else None
        if role is None:
            continue
        if contract.status == "signed":
            raise UserFacingError(texts.ALREADY_SIGNED)
        if sha256_text(contract.text) != contract.sha256:
            raise UserFacingError(texts.CONTRACT_TAMPERED)
        done = await session.scalar(
            select(func.count()).select_from(ContractSignature).where(
                ContractSignature.contract_id == contract.id, ContractSignature.role == role
            )
        )
        if done:
            raise UserFacingError(texts.ALREADY_SIGNED)
        session.add(
            ContractSignature(
                contract_id=contract.id,
                role=role,
                user_id=user_id,
                channel=channel,
                channel_user_id=channel_user_id,
                message_id=message_id,
                sha256=contract.sha256,
                signed_at=now,
            )
        )
        await session.flush()
        count = await session.scalar(
            select(func.count()).select_from(ContractSignature).where(ContractSignature.contract_id == contract.id)
        )
        complete = count == 2
        if complete:
            contract.status = "signed"
            contract.signed_at = now
            await session.flush()
            for uid in (a.worker_id, order.employer_id):
                await notify_user(
                    session,
                    uid,
                    texts.CONTRACT_SIGNED.format(
                        no=contract_no(contract.id, contract.version), code=order.code, hash8=contract.sha256[:8]
                    ),
                    key=f"signed:{contract.id}:{uid}",
                    now=now,
                )
        else:
            other = order.employer_id if role == "worker" else a.worker_id
            await notify_user(
                session, other, texts.CONTRACT_OTHER_SIGNED.format(code=order.code, sign_code=contract.sign_code),
                key=f"half-signed:{contract.id}", now=now,
            )
        return SignResult(contract, role, complete)
    raise UserFacingError(texts.NO_SUCH_CONTRACT.format(code=sign_code))


@dataclass(frozen=True)
class Verification:
    """A contract's stored hash against the one computed again, and the hashes its parties signed."""

    contract_id: int
    stored: str
    computed: str
    signatures: tuple[tuple[str, str], ...]
    """(role, hash the party signed)"""

    @property
    def ok(self) -> bool:
        return self.stored == self.computed and all(h == self.computed for _r, h in self.signatures)


async def verify(session: AsyncSession, contract_id: int) -> Verification:
    contract = await session.get(Contract, contract_id)
    if contract is None:
        raise UserFacingError(f"没有编号为 {contract_id} 的合同。")
    sigs = (
        await session.execute(
            select(ContractSignature.role, ContractSignature.sha256)
            .where(ContractSignature.contract_id == contract_id)
            .order_by(ContractSignature.id)
        )
    ).all()
    return Verification(contract_id, contract.sha256, sha256_text(contract.text), tuple((r, h) for r, h in sigs))


def find_font(settings: MarketSettings) -> Path:
    for candidate in settings.font_paths:
        if Path(candidate).exists():
            return Path(candidate)
    raise RuntimeError(
        "找不到中文字体，无法生成 PDF。请安装 fonts-wqy-microhei（make run / make test 会自动安装）。\n"
        "No CJK font found; install Debian's fonts-wqy-microhei."
    )


async def render_pdf(session: AsyncSession, contract_id: int, settings: MarketSettings) -> bytes:
    """A printable copy: the exact text, the signature record and the SHA-256 on every page."""
    from fpdf import FPDF

    contract = await session.get(Contract, contract_id)
    if contract is None:
        raise UserFacingError(f"没有编号为 {contract_id} 的合同。")
    sigs = list(
        (
            await session.execute(
                select(ContractSignature)
                .where(ContractSignature.contract_id == contract_id)
                .order_by(ContractSignature.id)
            )
        ).scalars()
    )
    font = find_font(settings)
    digest = contract.sha256

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("cjk", size=7)
            self.cell(0, 5, f"SHA-256: {digest}   第 {self.page_no()} 页", align="C")

    pdf = _Pdf(format="A4")
    pdf.set_title(contract_no(contract.id, contract.version))
    pdf.set_subject(f"sha256:{digest}")
    pdf.set_creator(settings.service_name)
    pdf.set_creation_date(contract.created_at)
    pdf.add_font("cjk", "", str(font), collection_font_number=0)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("cjk", size=11)
    for line in contract.text.split("\n"):
        pdf.multi_cell(0, 6.5, line or " ", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=10)
    pdf.multi_cell(0, 6, "【签字记录】", new_x="LMARGIN", new_y="NEXT")
    role_names = {"worker": "乙方（劳务方）", "employer": "甲方（用工方）"}
    if not sigs:
        pdf.multi_cell(0, 6, "尚未签字", new_x="LMARGIN", new_y="NEXT")
    for s in sigs:
        local = s.signed_at.astimezone(settings.tz)
        pdf.multi_cell(
            0, 6,
            f"{role_names.get(s.role, s.role)}：{local:%Y-%m-%d %H:%M:%S} 北京时间，渠道 {s.channel}，"
            f"消息 {s.message_id}，签署文本校验值 {s.sha256}",
            new_x="LMARGIN", new_y="NEXT",
        )
    pdf.multi_cell(0, 6, f"合同文本 SHA-256：{digest}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
