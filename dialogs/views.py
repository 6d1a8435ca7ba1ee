"""How profiles read in chat."""

from __future__ import annotations

from dialogs import texts
from market.money import fen_to_text
from matching.taxonomy import load_taxonomy
from storage.models import EmployerProfile, WorkerProfile


def trade_names(ids: list[str]) -> str:
    tax = load_taxonomy()
    names = [t.name for t in (tax.get(i) for i in ids) if t is not None]
    return "、".join(names) or "未填"


def min_wage_text(fen: int, unit: str) -> str:
    if fen <= 0:
        return texts.NO_LIMIT
    return f"{fen_to_text(fen)}/{texts.WAGE_UNIT_LABELS.get(unit, unit)}"


def extras_text(p: WorkerProfile, year: int) -> str:
    parts = []
    if p.gender:
        parts.append(texts.GENDER_WORDS.get(p.gender, p.gender))
    if p.birth_year:
        parts.append(f"{year - p.birth_year}岁")
    parts.extend(p.certificates or [])
    return " ".join(parts) or texts.EXTRAS_NONE


def worker_summary(p: WorkerProfile, year: int) -> str:
    """``year``: the current local year (ages are shown from the birth year)."""
    return texts.PROFILE_WORKER.format(
        name=p.name,
        phone=p.phone,
        trades=trade_names(p.trades),
        towns="、".join(p.towns) or texts.WHOLE_COUNTY,
        availability=texts.AVAILABILITY_LABELS.get(p.availability, p.availability),
        min_wage=min_wage_text(p.min_wage_fen, p.min_wage_unit),
        extras=extras_text(p, year),
        digest=p.digest_time if p.subscribed else texts.DIGEST_OFF,
    )


def employer_summary(p: EmployerProfile) -> str:
    return texts.PROFILE_EMPLOYER.format(
        name=p.name, phone=p.phone, company=p.company or texts.PERSONAL, town=p.town or "未填"
    )
