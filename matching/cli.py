"""``linggong parse``: JSON lines in, one JSON line out per input, in order.

    linggong parse [--now ISO8601] < posts.jsonl > parsed.jsonl
    linggong parse --eval tests/data/parse_corpus.jsonl

Input lines are ``{"id": ..., "text": ...}`` (an optional per-line ``"now"`` overrides --now).
Lines out = lines in: standard input is read as bytes and split on ``\\n`` only, so a bad byte
spoils its own line and no other. A bad line (invalid UTF-8, empty, not JSON, not an object, no
text, a ``now`` that is not an ISO time, text over 100 000 characters, line over 1 MB) yields
``{"line": n, "id": ..., "error": ...}`` (``n`` counts from 1; ``id`` is null when unknown) and
parsing goes on. ``--eval`` prints per-field accuracy and the held rates over a labelled corpus
and exits 1 when a threshold is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any, TextIO

from matching.parse import parse_post
from matching.timeparse import CHINA_TZ

__all__ = ["FIELDS", "compare_field", "evaluate", "main", "run_parse"]

MAX_LINE_BYTES = 1_000_000
MAX_TEXT_CHARS = 100_000
FIELDS = (
    "kind",
    "trades",
    "headcount",
    "wages",
    "start",
    "location",
    "phones",
    "contact_name",
    "perks",
    "requirements",
    "risk",
)
FIELD_THRESHOLD = 0.95
HOLD_RECALL_THRESHOLD = 0.95
GENUINE_HELD_MAX = 0.05


def _parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(CHINA_TZ)
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=CHINA_TZ)


def _error(n: int, rid: Any, error: str) -> dict[str, Any]:
    return {"line": n, "id": rid, "error": error}


def _line_result(n: int, raw: bytes | None, default_now: datetime) -> dict[str, Any]:
    """The output object for input line ``n`` (``raw`` None: the line was over the size cap)."""
    if raw is None or len(raw) > MAX_LINE_BYTES:
        return _error(n, None, "line too long")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _error(n, None, "invalid UTF-8")
    if n == 1:
        line = line.removeprefix("\ufeff")  # a byte-order mark some editors write
    if not line.strip():
        return _error(n, None, "empty line")
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return _error(n, None, "invalid json")
    if not isinstance(obj, dict):
        return _error(n, None, "not a json object")
    rid = obj.get("id")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error(n, rid, "missing text")
    if len(text) > MAX_TEXT_CHARS:
        return _error(n, rid, "text too long")
    now = default_now
    if "now" in obj and obj["now"] is not None:
        if not isinstance(obj["now"], str):
            return _error(n, rid, "invalid now")
        try:
            now = _parse_now(obj["now"])
        except ValueError:
            return _error(n, rid, "invalid now")
    out: dict[str, Any] = {"id": rid}
    out.update(parse_post(text, now).to_json_dict())
    return out


def _binary_lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    """Lines split on ``\\n`` only, without it (and without a trailing ``\\r``); ``None`` for a
    line over ``MAX_LINE_BYTES``, read past without holding it. A final unterminated line counts."""
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 2)
        if not raw:
            return
        if not raw.endswith(b"\n") and len(raw) > MAX_LINE_BYTES + 1:
            while True:  # skip the rest of the oversize line
                rest = stream.readline(1 << 16)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        raw = raw.removesuffix(b"\n").removesuffix(b"\r")
        yield raw if len(raw) <= MAX_LINE_BYTES else None


def _text_lines(stream: IO[str]) -> Iterator[bytes | None]:
    """The same from a text stream (tests, embedding): lone surrogates count as invalid UTF-8."""
    lines = stream.read().split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another
    for line in lines:
        yield line.removesuffix("\r").encode("utf-8", "surrogatepass")


def _binary_stream(stream: IO[Any]) -> IO[bytes] | None:
    """The byte stream under ``stream`` (itself when it is one); None for a plain text stream."""
    if isinstance(stream, io.RawIOBase | io.BufferedIOBase):
        return stream
    buffer = getattr(stream, "buffer", None)
    return buffer if isinstance(buffer, io.RawIOBase | io.BufferedIOBase) else None  # type: ignore[return-value]


def _input_lines(stream: IO[Any]) -> Iterator[bytes | None]:
    binary = _binary_stream(stream)
    return _binary_lines(binary) if binary is not None else _text_lines(stream)


def _writer(stream: IO[Any]) -> Callable[[str], object]:
    """A ``write(str)`` that always emits UTF-8, whatever the locale of a text ``stream``."""
    binary = _binary_stream(stream)
    if binary is None:
        return stream.write
    return lambda s: binary.write(s.encode("utf-8"))


# ---------------------------------------------------------------------------- evaluation


def _norm_wages(ws: Any) -> list[tuple[Any, ...]]:
    out = []
    for w in ws or []:
        amt = w.get("amount")
        amt = tuple(float(a) for a in amt) if isinstance(amt, list) else float(amt)
        out.append((amt, w.get("unit"), w.get("trade_id")))
    return out


def compare_field(name: str, got: Any, exp: Any) -> bool:
    """Field equality used by --eval (lists of labels compared as sets where order is noise)."""
    if name == "trades":
        return {t["trade_id"] for t in got or []} == {t["trade_id"] for t in exp or []}
    if name == "wages":
        return _norm_wages(got) == _norm_wages(exp)
    if name == "start":
        if got is None or exp is None:
            return got is None and exp is None
        return got.get("at") == exp.get("at")
    if name == "location":
        if got is None or exp is None:
            return got is None and exp is None
        return got.get("town") == exp.get("town") and got.get("text") == exp.get("text")
    if name == "perks":
        return set(got or []) == set(exp or [])
    if name == "requirements":
        g = dict(got or {})
        e = dict(exp or {})
        g["certificates"] = sorted(g.get("certificates") or [])
        e["certificates"] = sorted(e.get("certificates") or [])
        return g == e
    if name == "risk":
        return (got or {}).get("level") == (exp or {}).get("level")
    return bool(got == exp)


def evaluate(lines: Iterable[str]) -> dict[str, Any]:
    """Score the parser on labelled lines ``{"id","text","now","expected"}``."""
    correct = dict.fromkeys(FIELDS, 0)
    total = 0
    misses: dict[str, list[Any]] = {f: [] for f in FIELDS}
    hard_total = hard_held = genuine_total = genuine_held = 0
    for line in lines:
        item = json.loads(line)
        exp = item["expected"]
        now = _parse_now(item.get("now"))
        got = parse_post(item["text"], now).to_json_dict()
        total += 1
        for f in FIELDS:
            if compare_field(f, got.get(f), exp.get(f)):
                correct[f] += 1
            else:
                misses[f].append({"id": item.get("id"), "got": got.get(f), "expected": exp.get(f)})
        exp_level = (exp.get("risk") or {}).get("level")
        risk = got.get("risk")
        got_level = risk.get("level") if isinstance(risk, dict) else None
        if exp_level == "hold":
            hard_total += 1
            hard_held += got_level == "hold"
        elif exp.get("kind") == "job":
            genuine_total += 1
            genuine_held += got_level == "hold"
    acc = {f: (correct[f] / total if total else 0.0) for f in FIELDS}
    return {
        "total": total,
        "accuracy": acc,
        "hold_recall": hard_held / hard_total if hard_total else 1.0,
        "hold_total": hard_total,
        "genuine_held_rate": genuine_held / genuine_total if genuine_total else 0.0,
        "genuine_total": genuine_total,
        "misses": misses,
    }


def _print_eval(report: dict[str, Any], out: TextIO, verbose: bool) -> bool:
    ok = True
    out.write(f"posts: {report['total']}\n")
    for f, a in report["accuracy"].items():
        flag = "" if a >= FIELD_THRESHOLD else "   <-- below 95%"
        ok &= a >= FIELD_THRESHOLD
        out.write(f"  {f:<13} {a * 100:6.1f} %{flag}\n")
    hr, gh = report["hold_recall"], report["genuine_held_rate"]
    ok &= hr >= HOLD_RECALL_THRESHOLD and gh <= GENUINE_HELD_MAX
    out.write(f"  red-flag posts held: {hr * 100:.1f} % of {report['hold_total']}\n")
    out.write(f"  genuine job posts held: {gh * 100:.1f} % of {report['genuine_total']}\n")
    if verbose:
        for f, ms in report["misses"].items():
            for m in ms:
                out.write(f"MISS {f} {json.dumps(m, ensure_ascii=False)}\n")
    return ok


# ---------------------------------------------------------------------------- entry points


def run_parse(argv: list[str], stdin: IO[Any], stdout: TextIO) -> int:
    """Implements ``linggong parse``; returns the process exit code. ``stdin`` may be a text
    stream with a ``buffer`` (``sys.stdin``: its bytes are read), a byte stream or a plain text
    stream; either way one output line per input line."""
    ap = argparse.ArgumentParser(prog="linggong parse", description="Parse gig posts (JSON lines).")
    ap.add_argument("--now", help="reference time, ISO 8601 (default: current China time)")
    ap.add_argument("--eval", metavar="FILE", help="score the parser on a labelled corpus")
    ap.add_argument("--verbose", "-v", action="store_true", help="with --eval: list every miss")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help / bad options
        return int(exc.code or 0)
    if args.eval:
        with open(args.eval, encoding="utf-8") as fh:
            report = evaluate(line for line in fh if line.strip())
        return 0 if _print_eval(report, stdout, args.verbose) else 1
    try:
        now = _parse_now(args.now)
    except ValueError:
        stdout.write(json.dumps({"id": None, "error": "invalid --now"}) + "\n")
        return 2
    stdout.flush()
    write = _writer(stdout)
    for n, raw in enumerate(_input_lines(stdin), start=1):
        try:
            res = _line_result(n, raw, now)
        except Exception:  # one bad line never stops the stream
            res = _error(n, None, "internal error")
        write(_dumps(res) + "\n")
    flush = getattr(_binary_stream(stdout), "flush", None) or stdout.flush
    flush()
    return 0


def _dumps(obj: dict[str, Any]) -> str:
    s = json.dumps(obj, ensure_ascii=False)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates in an echoed id
        s = json.dumps(obj, ensure_ascii=True)
    return s


def main(argv: list[str] | None = None) -> int:
    return run_parse(sys.argv[1:] if argv is None else argv, sys.stdin, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
