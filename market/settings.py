"""What market services need from the configuration, as plain frozen values (no pydantic here:
``bot.config`` builds these from config.yaml and passes them in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class InsuranceOption:
    """A personal accident insurance product offered with contracts (第七章)."""

    id: str
    insurer: str
    product: str
    premium_fen: int
    """Per worker per day."""
    coverage: str
    payer: str = "employer"
    """employer | worker"""


@dataclass(frozen=True)
class MarketSettings:
    """The market's rules as domain services need them (built from ``MarketConfig``)."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    hotline: str = "0598-5822345"
    service_name: str = "沙县区零工市场"
    public_url: str = "http://127.0.0.1:8080"
    """Where people open documents (contract PDFs) from their chat."""
    operator_name: str = "沙县区零工市场运营中心"
    insurance_options: tuple[InsuranceOption, ...] = (
        InsuranceOption("basic", "示例保险公司", "零工人身意外险（日保）", 300, "意外身故伤残10万元，意外医疗1万元"),
    )
    payment_due_hours: int = 24
    """A completed job must be paid within this many hours (欠薪预警 after)."""
    arrears_escalate_hours: int = 48
    """Hours after the first reminder before the operator is alerted."""
    dispute_respond_hours: int = 24
    """A dispute unresolved this long goes to operator mediation."""
    # -- matching and pushes (issue 6) --
    digest_size: int = 5
    """Orders in a personal digest."""
    quiet_start: int = 21
    """No pushes from this hour (local) ..."""
    quiet_end: int = 6
    """... until this hour."""
    weekly_push_budget: int = 10
    """Pushes (digests, offers, training) per worker per 7 days."""
    ignored_digest_limit: int = 3
    """After this many digests in a row without any reply, digests pause until the worker writes."""
    first_look_minutes: int = 30
    """Priority workers see a new fitting order this long before everyone else (第七条)."""
    priority_age: int = 50
    priority_wait_days: int = 14
    priority_offers_per_order: int = 5
    still_hiring_after_hours: int = 48
    still_hiring_answer_hours: int = 24
    group_digest_hour: int = 7
    start_reminder_hours: int = 12
    sign_reminder_hours: int = 2
    font_paths: tuple[str, ...] = (
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    )

    def insurance(self, option_id: str) -> InsuranceOption | None:
        return next((o for o in self.insurance_options if o.id == option_id), None)
