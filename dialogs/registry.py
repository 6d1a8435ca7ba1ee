"""Which flows exist and which command starts each (explicit, in one place)."""

from __future__ import annotations

from dialogs import (
    chain,
    dispute,
    jobs,
    link,
    menu,
    post_job,
    profile,
    pushes,
    register_employer,
    register_worker,
)
from dialogs.base import Flow

FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        menu.FLOW,
        register_worker.FLOW,
        register_employer.FLOW,
        profile.FLOW,
        *jobs.FLOWS,
        *post_job.FLOWS,
        *chain.FLOWS,
        *dispute.FLOWS,
        *pushes.FLOWS,
        *link.FLOWS,
    )
}

# intent (matching.intents: INTENTS and CODE_COMMANDS) → the flow it starts
ENTRY: dict[str, str] = {
    "menu": menu.NAME,
    "register_worker": register_worker.NAME,
    "register_employer": register_employer.NAME,
    "profile": profile.NAME,
    "post_job": post_job.NAME,
    **{name: name for name in ("find_jobs", "my_jobs", "my_orders", "unsubscribe", "subscribe")},
    **{
        name: name
        for name in (
            "take", "withdraw", "cancel_code", "view", "applicants", "pick", "decline",
            "cancel_order", "change_headcount", "change_start",
            "confirm_price", "propose_price", "sign", "check_in", "complete", "paid", "received",
            "not_received", "rate", "dispute", "report", "case_offer", "case_accept",
            "still_hiring", "training_signup", "link_web",
        )
    },
}
