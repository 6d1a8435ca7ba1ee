"""Benchmark of the 公众号 callback pipeline against a bare aiohttp handler, in one run.

    python bench/bench_oa_callback.py [--requests 3000] [--concurrency 16] [--rate 200]
                                      [--seconds 15] [--aes] [--with-sender]

Two servers, each in its own process on 127.0.0.1 (the load generator is this process):

* **bare** — an aiohttp handler on the same route that reads the body and answers ``success``;
* **full** — the real app (``bot.app.build_app``) with the 公众号 channel on and a fresh, migrated
  SQLite database: signature check, body cap, defusedxml, the dialog engine's transaction
  (dedupe by MsgId, dialog state, outbox), the passive-reply claim, the reply XML.
  ``--with-sender`` also runs the outbox sender and scheduler, as ``linggong serve`` does.

Requests are built beforehand by the independent simulator (``tests/wechat_sim``): 400
followers, each sending 帮助 / 找活 / 取消 / 菜单 / 6 in turn (help, a registration that starts,
a cancel, the menu and a choice in it), every one a new MsgId.

1. Throughput: ``--concurrency`` clients send ``--requests`` messages as fast as answers come back,
   to each server in turn, for ``--rounds`` alternating rounds; the ratio of the median rates
   full / bare is printed (goal ≥ 0.25), and beside it the ratio of the servers' CPU time per
   message (read from ``/proc``: steadier when the load generator, on the same two cores, is the
   bottleneck of the bare run).
2. Latency: an open-loop load of ``--rate`` messages a second for ``--seconds`` seconds against
   the full pipeline (requests fired on schedule, whatever the answers do); p50 / p95 / p99 / max
   (goal p99 ≤ 100 ms at 200/s).

Not run by the tests (the machine's other load changes the numbers); prints one JSON line last.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "benchToken2026"
APPID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PATH = "/wechat/oa"
TEXTS = ("帮助", "找活", "取消", "菜单", "6")
FOLLOWERS = 400


# ----------------------------------------------------------------------------- servers
def _serve(kind: str, db_dir: str, aes: bool, with_sender: bool) -> None:
    import logging

    from aiohttp import web

    logging.basicConfig(level=logging.WARNING)

    cleanup: list = []  # type: ignore[type-arg]

    async def make() -> web.Application:
        if kind == "bare":

            async def handler(request: web.Request) -> web.Response:
                await request.read()
                return web.Response(text="success")

            app = web.Application()
            app.router.add_post(PATH, handler)
            return app
        from bot.app import build_app, build_services
        from bot.config import load_config
        from storage.migrate import upgrade

        url = f"sqlite+aiosqlite:///{db_dir}/bench.db"
        upgrade(url)
        env = {"DATABASE_URL": url, "WECHAT_OA_TOKEN": TOKEN, "WECHAT_OA_APPID": APPID}
        if aes:
            env["WECHAT_OA_AES_KEY"] = AES_KEY
        cfg = load_config(ROOT / "config.yaml", env=env)
        services = build_services(cfg)
        if not with_sender:  # otherwise the app's own cleanup closes the database
            cleanup.append(services.db.dispose)
        return build_app(services, with_background=with_sender, freeze_heap=True)  # as `serve`

    async def main() -> None:
        runner = web.AppRunner(await make(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(port, flush=True)
        await asyncio.get_running_loop().run_in_executor(
            None, sys.stdin.read
        )  # until stdin closes
        await runner.cleanup()
        for step in cleanup:
            await step()

    asyncio.run(main())


class Server:
    def __init__(self, kind: str, aes: bool, with_sender: bool) -> None:
        self.dir = tempfile.TemporaryDirectory()
        args = [sys.executable, __file__, "--serve", kind, "--db-dir", self.dir.name]
        args += ["--aes"] if aes else []
        args += ["--with-sender"] if with_sender else []
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"{kind} server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{line}{PATH}"

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.dir.cleanup()


# ----------------------------------------------------------------------------- load
def _requests(n: int, aes: bool, start: int) -> list:  # type: ignore[type-arg]
    from tests.wechat_sim import OfficialAccountSim

    sim = OfficialAccountSim(token=TOKEN, appid=APPID, encoding_aes_key=AES_KEY, safe_mode=aes)
    out = []
    for i in range(start, start + n):
        user = f"oBench{i % FOLLOWERS:05d}_0000000000000"
        text = TEXTS[(i // FOLLOWERS) % len(TEXTS)]
        out.append(sim.text(user, text, msg_id=7_000_000_000 + i))
    return out


async def _send(session, url: str, req) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    async with session.post(url, params=req.params, data=req.body, headers=req.headers) as r:
        return r.status, await r.read()


async def throughput(url: str, reqs: list, concurrency: int) -> tuple[float, int]:  # type: ignore[type-arg]
    import aiohttp

    it = iter(reqs)
    bad = 0
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def worker() -> None:
            nonlocal bad
            for req in it:
                status, _body = await _send(session, url, req)
                bad += status != 200

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return len(reqs) / elapsed, bad


async def latency(url: str, reqs: list, rate: float) -> dict[str, float]:  # type: ignore[type-arg]
    import aiohttp

    lat: list[float] = []
    bad = 0
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def one(req, at: float) -> None:  # type: ignore[no-untyped-def]
            nonlocal bad
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            t = time.perf_counter()
            status, body = await _send(session, url, req)
            lat.append(time.perf_counter() - t)
            bad += status != 200 or not body.startswith(b"<xml>")

        t0 = time.perf_counter() + 0.2
        await asyncio.gather(*(one(r, t0 + i / rate) for i, r in enumerate(reqs)))
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

    return {
        "n": len(lat),
        "bad": bad,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": lat[-1] * 1000,
        "mean_ms": statistics.fmean(lat) * 1000,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace) -> dict[str, object]:
    warm = 300
    per_round = args.requests
    base = _requests(warm + per_round * args.rounds, args.aes, 0)
    lat_reqs = _requests(int(args.rate * args.seconds), args.aes, 10_000_000)
    # The load generator's own full garbage collections (it holds every prepared request) would
    # show up as the server's latency: its start-up heap is frozen, as the served app's is.
    gc.collect()
    gc.freeze()
    results: dict[str, object] = {
        "requests": per_round,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "aes": args.aes,
    }
    servers = {kind: Server(kind, args.aes, args.with_sender) for kind in ("bare", "full")}
    try:
        for server in servers.values():  # warm-up (imports, caches)
            await throughput(server.url, base[:warm], args.concurrency)
        rps: dict[str, list[float]] = {"bare": [], "full": []}
        cpu: dict[str, list[float]] = {"bare": [], "full": []}
        bad = {"bare": 0, "full": 0}
        # Rounds alternate between the two servers, so that a slow spell of this machine
        # weighs on both; the medians are compared.
        for r in range(args.rounds):
            chunk = base[warm + r * per_round : warm + (r + 1) * per_round]
            for kind, server in servers.items():
                before = _cpu_seconds(server.proc.pid)
                got, errors = await throughput(server.url, chunk, args.concurrency)
                cpu[kind].append((_cpu_seconds(server.proc.pid) - before) / len(chunk))
                rps[kind].append(got)
                bad[kind] += errors
        for kind in servers:
            results[f"{kind}_rps"] = round(statistics.median(rps[kind]), 1)
            results[f"{kind}_rps_rounds"] = [round(x) for x in rps[kind]]
            results[f"{kind}_cpu_us_per_msg"] = round(statistics.median(cpu[kind]) * 1e6)
            results[f"{kind}_errors"] = bad[kind]
        results["latency_at_rate"] = {
            "rate": args.rate,
            **{
                k: round(v, 2)
                for k, v in (await latency(servers["full"].url, lat_reqs, args.rate)).items()
            },
        }
    finally:
        for server in servers.values():
            server.stop()
    results["ratio"] = round(float(results["full_rps"]) / float(results["bare_rps"]), 3)  # type: ignore[arg-type]
    results["cpu_ratio"] = round(
        float(results["bare_cpu_us_per_msg"]) / float(results["full_cpu_us_per_msg"]), 3  # type: ignore[arg-type]
    )
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000, help="per round and server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--aes", action="store_true", help="safe mode (AES) instead of plaintext")
    ap.add_argument(
        "--with-sender", action="store_true", help="also run the outbox sender and scheduler"
    )
    ap.add_argument("--serve", choices=("bare", "full"), help=argparse.SUPPRESS)
    ap.add_argument("--db-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        _serve(args.serve, args.db_dir, args.aes, args.with_sender)
        return 0
    res = asyncio.run(run(args))
    lat = res["latency_at_rate"]
    print(
        f"bare aiohttp handler : {res['bare_rps']:8.1f} messages/s (median of {res['bare_rps_rounds']}), "
        f"server CPU {res['bare_cpu_us_per_msg']} µs/message"
    )
    print(
        f"full 公众号 pipeline  : {res['full_rps']:8.1f} messages/s (median of {res['full_rps_rounds']}), "
        f"server CPU {res['full_cpu_us_per_msg']} µs/message"
    )
    print(
        f"ratio full / bare    : {res['ratio']:.3f} by throughput (goal ≥ 0.25), "
        f"{res['cpu_ratio']:.3f} by server CPU per message"
    )
    lat_ms = {k: float(v) for k, v in lat.items()}  # type: ignore[union-attr]
    print(
        f"latency at {lat_ms['rate']:.0f}/s      : p50 {lat_ms['p50_ms']:.1f} ms  "
        f"p95 {lat_ms['p95_ms']:.1f} ms  p99 {lat_ms['p99_ms']:.1f} ms  "
        f"max {lat_ms['max_ms']:.1f} ms (goal p99 ≤ 100 ms); "
        f"{lat_ms['bad']:.0f} of {lat_ms['n']:.0f} past the passive budget (answered by API)"
    )
    print(f"load average (1 min) : {os.getloadavg()[0]:.2f}")
    print(json.dumps(res, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
