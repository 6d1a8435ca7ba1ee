"""Flows as data (errbot's habit): every state is reachable in its diagram, every flow has one,
and every entry command leads to a flow."""

from __future__ import annotations

from pathlib import Path

from dialogs.registry import ENTRY, FLOWS
from matching.intents import CODE_COMMANDS, INTENTS

DIALOGS = Path(__file__).resolve().parents[2] / "dialogs"
DIAGRAM_OF = {
    "menu": "menu", "register_worker": "register_worker", "register_employer": "register_employer",
    "profile": "profile", "post_job": "post_job", "complete": "chain", "dispute": "dispute", "report": "dispute",
}


def test_every_entry_leads_to_a_flow() -> None:
    assert set(ENTRY.values()) <= set(FLOWS)
    for intent in ENTRY:
        assert intent in INTENTS or intent in CODE_COMMANDS, intent


def test_every_multi_state_flow_has_a_diagram_naming_its_states() -> None:
    for name, flow in FLOWS.items():
        if not flow.states:
            continue  # one-shot commands: dialogs/jobs.mmd and chain.mmd
        diagram = (DIALOGS / f"{DIAGRAM_OF[name]}.mmd").read_text(encoding="utf-8")
        for state in flow.states:
            assert state in diagram, f"{name}.{state} missing from {DIAGRAM_OF[name]}.mmd"


def test_one_shot_commands_are_in_a_diagram() -> None:
    text = (DIALOGS / "jobs.mmd").read_text(encoding="utf-8") + (DIALOGS / "chain.mmd").read_text(encoding="utf-8")
    for verb in ("接 CODE", "退 CODE", "选", "确认 CODE", "同意 123456", "签到 CODE", "完工 CODE", "已付 CODE", "已收到 CODE", "评价 CODE"):
        assert verb in text, verb
