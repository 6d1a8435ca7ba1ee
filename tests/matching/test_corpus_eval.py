"""The hand-labelled corpus (tests/data/parse_corpus.jsonl) and the issue-4 quality bar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching.cli import FIELDS, evaluate

CORPUS = Path(__file__).resolve().parents[1] / "data" / "parse_corpus.jsonl"


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_corpus_shape(lines: list[str]) -> None:
    assert len(lines) >= 300
    ids = set()
    kinds: dict[str, int] = {}
    held = 0
    for line in lines:
        item = json.loads(line)
        assert {"id", "text", "now", "expected"} <= set(item)
        assert item["id"] not in ids
        ids.add(item["id"])
        assert set(FIELDS) <= set(item["expected"])
        kinds[item["expected"]["kind"]] = kinds.get(item["expected"]["kind"], 0) + 1
        held += item["expected"]["risk"]["level"] == "hold"
    assert kinds.get("job", 0) >= 150 and kinds.get("seeker", 0) >= 50 and kinds.get("other", 0) >= 50
    assert held >= 40


def test_eval_thresholds(lines: list[str]) -> None:
    report = evaluate(lines)
    low = {f: a for f, a in report["accuracy"].items() if a < 0.95}
    assert not low, low
    assert report["hold_recall"] >= 0.95
    assert report["genuine_held_rate"] <= 0.05
