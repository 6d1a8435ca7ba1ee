"""Benchmark of ``matching.parse`` (issue 4): throughput, CLI start-up time and memory.

    python bench/bench_parse.py [--posts 3000]

Compares our parser with jionlp's ``ner.extract_time`` on the same posts in the same process
(jionlp is a bench-only dependency: ``pip install jionlp``). Without jionlp a naive regex
time extractor is the baseline. Also reports how often each finds the labelled start time of the
corpus, the start-up time of ``python -m matching.cli`` and resident memory. Not run by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "data" / "parse_corpus.jsonl"


def _load(n: int) -> list[dict]:
    items = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    while len(out) < n:
        out.extend(items)
    return out[:n]


def _rate(fn, items: list[dict]) -> float:
    t = time.perf_counter()
    for it in items:
        fn(it)
    return len(items) / (time.perf_counter() - t)


_NAIVE_RE = re.compile(r"(今天|明天|后天|明早|周[一二三四五六日]|\d{1,2}月\d{1,2}[日号]|\d{1,2}[点:]\d{0,2})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=3000)
    args = ap.parse_args()

    from matching.parse import parse_post
    from matching.timeparse import CHINA_TZ

    items = _load(args.posts)
    for it in items:
        it["_now"] = datetime.fromisoformat(it["now"])
    parse_post("预热 招小工2名", datetime.now(CHINA_TZ))  # load data files once

    ours = _rate(lambda it: parse_post(it["text"], it["_now"]), items)
    print(f"matching.parse_post        {ours:10.0f} posts/s   (full parse, {len(items)} posts, 1 core)")

    try:
        import logging

        import jionlp as jio  # bench-only dependency

        logging.disable(logging.CRITICAL)  # jionlp logs a traceback for every non-time number

        def jio_fn(it: dict) -> object:
            return jio.ner.extract_time(it["text"], time_base=it["_now"].timestamp())

        jio_fn(items[0])  # warm up its lexicons
        baseline_name = "jionlp ner.extract_time"
        base = _rate(jio_fn, items)
    except ImportError:
        jio = None

        def jio_fn(it: dict) -> object:
            return _NAIVE_RE.findall(it["text"])

        baseline_name = "naive regex time (no jionlp)"
        base = _rate(jio_fn, items)
    print(f"{baseline_name:<26} {base:10.0f} posts/s   (time expressions only)")
    print(f"ratio ours / baseline      {ours / base:10.1f} x")

    # agreement with the hand labels on start time (distinct corpus items only)
    uniq = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = [it for it in uniq if it["expected"]["start"] and it["expected"]["start"]["at"]]
    ok_ours = ok_jio = 0
    for it in labelled:
        now = datetime.fromisoformat(it["now"])
        want = it["expected"]["start"]["at"]
        got = parse_post(it["text"], now).start
        ok_ours += bool(got and got.at and got.at.isoformat() == want)
        if jio is not None:
            try:
                res = jio.ner.extract_time(it["text"], time_base=now.timestamp())
                pts = [r for r in res if r["type"] == "time_point"]
                if pts:
                    first = pts[0]["detail"]["time"][0].replace(" ", "T") + "+08:00"
                    ok_jio += first == want
            except Exception:
                pass
    print(f"start time = label         ours {ok_ours}/{len(labelled)}"
          + (f", jionlp {ok_jio}/{len(labelled)}" if jio is not None else ""))

    # start-up: time until the CLI has answered one line
    line = json.dumps({"id": 1, "text": "招小工2名 明天7点 日结200"}, ensure_ascii=False) + "\n"
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "matching.cli", "--now", "2025-05-12T08:30:00+08:00"],
            input=line.encode(), capture_output=True, check=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        best = min(best, time.perf_counter() - t)
    print(f"`python -m matching.cli` ready and answered one line in {best:.2f} s")

    # memory: a CLI process parsing the whole batch
    payload = "".join(json.dumps({"id": i, "text": it["text"]}, ensure_ascii=False) + "\n"
                      for i, it in enumerate(items))
    subprocess.run([sys.executable, "-m", "matching.cli"], input=payload.encode(), capture_output=True,
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"max RSS of the CLI parsing {len(items)} posts: {rss_mb:.0f} MB")
    print(f"RSS of this bench process (ours + baseline loaded): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
