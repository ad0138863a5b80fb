"""Embedded store: start, stop, search and event-loop stalls during saves, at two sizes.

    python -m bench store           # 5,000 vs 50,000 listings, a few minutes
    python -m bench store --quick   # 500 vs 5,000 listings, about a minute

Each size is seeded once (``homer-rt seed-demo --properties N --messages 4N`` into a data file: 5,000 listings
come with 20,000 chat messages, 50,000 with 200,000). Every run copies that file and starts a fresh
``python -m homer_rt serve`` on it (EMBEDDED_DATA_FILE: the embedded store) pinned to one core; this process
pins itself to the other.

Measured per run:
  start   seconds from spawning the server to its first HTTP answer (loading the file included)
  search  GET /api/properties/search with the README's example query, p50 and p95 of requests in a row
  save    two demo users chat over Socket.IO at a fixed rate (each message is a write, so periodic saves
          follow one another) while GET / is probed every 10 ms. A save is under way while its temporary
          file exists beside the data file. Reported: the longest step a save held the event loop for, as
          the server measured it (its debug log line; wall time, which includes the core being taken by
          other processes, and CPU time), the slowest probe answered during a save and outside saves (what
          a client saw: the save's step plus any other work and noise), chat p99 send->receive of messages
          sent during saves and outside them, and how long a save takes
  stop    seconds from SIGTERM to exit, right after a write (so the shutdown save has all to write); the
          written message is then looked for in the file

Rows give min/median/max over the runs at each size and the ratio of the medians, large / small: about 10
where a figure grows in proportion to the data. "before" is the issue's figure for the store layer before
this benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import (
    HarnessError,
    ServerProcess,
    at_most,
    free_port,
    homer_environment,
    homer_serve_argv,
    log,
    machine,
    percentile,
)
from bench.load import SioClient
from bench.report import Report, ScaleRow, scale_table
from homer_rt.demo import DEMO_PASSWORD, DEMO_RENTERS, demo_id, demo_owner

SEARCH = (
    "/api/properties/search?city=bengaluru&bhk_type=2BHK&max_price=40000&sort_by=price_low&page=1&limit=20"
)
# The demo chat: renter2 and the owner of listing 0.
CHAT_ID = demo_id("chat:0")
RENTER_EMAIL = DEMO_RENTERS[1].email
OWNER_EMAIL = demo_owner(0).email


# ``homer-rt serve`` with the store's debug lines on: each save logs its longest serialization step as the
# server measured it (wall and CPU), which this harness reads from the server's output.
SERVE_WITH_SAVE_LOG = (
    "import logging, sys; logging.getLogger('homer_rt.store').setLevel(logging.DEBUG); "
    "from homer_rt.cli import main; sys.exit(main(sys.argv[1:]))"
)
SAVE_LINE = re.compile(r"saved the embedded store .* the longest ([0-9.]+) ms \(([0-9.]+) ms of CPU\)")


@dataclass
class Plan:
    sizes: tuple[int, int]  # listings, small then large; messages are MESSAGES_PER_LISTING per listing
    runs: int  # runs at each size
    searches: int  # search requests in a row per run
    chat_seconds: float  # how long the demo users chat (and saves are watched) per run
    chat_rate: float  # messages per second, both directions together
    save_interval: float  # EMBEDDED_SAVE_INTERVAL_SECONDS of the measured server


MESSAGES_PER_LISTING = 4
FULL = Plan(sizes=(5_000, 50_000), runs=3, searches=15, chat_seconds=20.0, chat_rate=20.0, save_interval=2.0)
QUICK = Plan(sizes=(500, 5_000), runs=2, searches=8, chat_seconds=8.0, chat_rate=20.0, save_interval=1.0)


@dataclass
class RunResult:
    start_s: float
    start_cpu_s: float
    rss_mb: float
    search_p50_ms: float
    search_p95_ms: float
    saves: list[float]  # seconds each save took, wall
    longest_step_ms: float  # the server's own measure of its longest save step, over every save of the run
    longest_step_cpu_ms: float
    stall_during_save_ms: float
    stall_outside_save_ms: float
    chat_p99_during_save_ms: float
    chat_p99_outside_save_ms: float
    chat_lost: int
    stop_s: float
    stop_saved_last_write: bool
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- server


def server_env(data_file: Path, workdir: Path, save_interval: float) -> dict[str, str]:
    return homer_environment(
        workdir,
        EMBEDDED_DATA_FILE=str(data_file),
        EMBEDDED_SAVE_INTERVAL_SECONDS=str(save_interval),
    )


def seed(data_file: Path, workdir: Path, listings: int) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "homer_rt",
            "seed-demo",
            "--properties",
            str(listings),
            "--messages",
            str(MESSAGES_PER_LISTING * listings),
        ],
        cwd=workdir,
        env=server_env(data_file, workdir, 3600),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if completed.returncode != 0:
        raise HarnessError(f"seed-demo failed: {completed.stderr[-2000:]}")
    return time.perf_counter() - started


def start_server(data_file: Path, workdir: Path, save_interval: float) -> ServerProcess:
    """``homer-rt serve`` on ``data_file``, its store's debug lines on (each save's longest step)."""
    port = free_port()
    return ServerProcess(
        homer_serve_argv(port, launcher=("-c", SERVE_WITH_SAVE_LOG)),
        port=port,
        workdir=workdir,
        env=server_env(data_file, workdir, save_interval),
        log_name=f"serve-{port}.log",
    )


# --------------------------------------------------------------------------------------------- measures


async def login(http: aiohttp.ClientSession, base: str, email: str) -> str:
    async with http.post(f"{base}/api/auth/login", json={"email": email, "password": DEMO_PASSWORD}) as resp:
        if resp.status != 200:
            raise HarnessError(f"login {email}: HTTP {resp.status} {(await resp.text())[:200]}")
        return str((await resp.json())["token"])


async def search_latencies(http: aiohttp.ClientSession, base: str, n: int) -> list[float]:
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        async with http.get(base + SEARCH) as response:
            await response.read()
            if response.status != 200:
                raise HarnessError(f"search: HTTP {response.status}")
        latencies.append(time.perf_counter() - started)
    return latencies


class SaveWatcher:
    """Save windows seen from outside: the store writes a temporary file beside the data file from the
    start of a save to its rename."""

    def __init__(self, data_file: Path) -> None:
        self._directory = data_file.parent
        self._prefix = f".{data_file.name}."
        self.windows: list[tuple[float, float]] = []
        self._since: float | None = None

    @property
    def saving(self) -> bool:
        return self._since is not None

    def poll(self) -> None:
        now = time.perf_counter()
        saving = any(name.startswith(self._prefix) for name in os.listdir(self._directory))
        if saving and self._since is None:
            self._since = now
        elif not saving and self._since is not None:
            self.windows.append((self._since, now))
            self._since = None

    def during(self, start: float, end: float) -> bool:
        return any(start < w_end and end > w_start for w_start, w_end in self.windows)


async def chat_during_saves(
    http: aiohttp.ClientSession, server: ServerProcess, data_file: Path, plan: Plan
) -> tuple[list[float], list[tuple[float, float]], list[tuple[float, float]], int, SaveWatcher]:
    """Chat at a fixed rate and probe GET / for ``plan.chat_seconds``; returns the save windows' lengths,
    (sent at, latency) of delivered messages, (sent at, latency) of probes, lost messages, the watcher."""
    renter_token = await login(http, server.base, RENTER_EMAIL)
    owner_token = await login(http, server.base, OWNER_EMAIL)
    renter = SioClient(http, server.base, "/chat", renter_token)
    owner = SioClient(http, server.base, "/chat", owner_token)
    sent: dict[str, float] = {}
    delivered: list[tuple[float, float]] = []

    def on_event(event: str, data: Any) -> None:
        if event != "message":
            return
        key = str(data["message"]["message"]).split(" ", 1)[0]
        at = sent.pop(key, None)
        if at is not None:
            delivered.append((at, time.perf_counter() - at))

    renter.on_event = owner.on_event = on_event
    watcher = SaveWatcher(data_file)
    probes: list[tuple[float, float]] = []
    try:
        await asyncio.gather(renter.connect(), owner.connect())
        for client in (renter, owner):
            ack = await client.call("join_chat", {"chat_id": CHAT_ID})
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise HarnessError(f"join_chat refused: {ack}")
        started = time.perf_counter()
        deadline = started + plan.chat_seconds
        running = True

        async def probe() -> None:
            while running:
                at = time.perf_counter()
                async with http.get(f"{server.base}/") as response:
                    await response.read()
                probes.append((at, time.perf_counter() - at))
                await asyncio.sleep(0.01)

        async def watch() -> None:
            while running:
                watcher.poll()
                await asyncio.sleep(0.005)

        helpers = [asyncio.create_task(probe()), asyncio.create_task(watch())]
        count = 0
        tag = uuid.uuid4().hex[:6]
        while (now := time.perf_counter()) < deadline:
            while count < int((now - started) * plan.chat_rate):
                key = f"{tag}-{count}"
                sender = renter if count % 2 == 0 else owner
                sent[key] = time.perf_counter()
                sender.emit_with_ack(
                    "send_message",
                    {"chat_id": CHAT_ID, "message": f"{key} Is it still available?", "client_msg_id": key},
                )
                count += 1
            await asyncio.sleep(0.002)
        drain_until = time.perf_counter() + 10
        while sent and time.perf_counter() < drain_until:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        # Let a save that began in the window finish, so its length counts.
        finish_until = time.perf_counter() + 60
        while watcher.saving and time.perf_counter() < finish_until:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        running = False
        await asyncio.gather(*helpers)
    finally:
        await asyncio.gather(renter.close(), owner.close())
    return (
        [end - start for start, end in watcher.windows],
        delivered,
        probes,
        len(sent),
        watcher,
    )


async def send_rest(http: aiohttp.ClientSession, base: str, token: str, text: str) -> None:
    async with http.post(
        f"{base}/api/chats/{CHAT_ID}/messages",
        json={"message": text},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        if response.status != 200:
            raise HarnessError(f"send over REST: HTTP {response.status} {(await response.text())[:200]}")


async def one_run(http: aiohttp.ClientSession, seeded: Path, workdir: Path, plan: Plan) -> RunResult:
    data_file = workdir / "homer-data.json"
    await asyncio.to_thread(shutil.copyfile, seeded, data_file)
    server = start_server(data_file, workdir, plan.save_interval)
    try:
        start_s = await server.wait_answering(http)
        start_cpu = server.cpu_seconds()
        rss = server.rss_kb() / 1024
        searches = await search_latencies(http, server.base, plan.searches)
        saves, delivered, probes, lost, watcher = await chat_during_saves(http, server, data_file, plan)
        during = [lat for at, lat in delivered if watcher.during(at, at + lat)]
        outside = [lat for at, lat in delivered if not watcher.during(at, at + lat)]
        probes_during = [lat for at, lat in probes if watcher.during(at, at + lat)]
        probes_outside = [lat for at, lat in probes if not watcher.during(at, at + lat)]
        # A last write, so that the shutdown has a save to make, then SIGTERM.
        marker = f"stop-{uuid.uuid4().hex[:8]}"
        await send_rest(http, server.base, await login(http, server.base, RENTER_EMAIL), marker)
        stop_s = await server.terminate()
    except BaseException:
        server.kill()
        raise
    saved_last = marker.encode() in await asyncio.to_thread(data_file.read_bytes)
    steps = [
        (float(m[1]), float(m[2])) for m in SAVE_LINE.finditer(server.log_path.read_text(errors="replace"))
    ]
    if not steps:
        raise HarnessError(f"no save was logged: {server.tail()}")
    result = RunResult(
        start_s=start_s,
        start_cpu_s=start_cpu,
        rss_mb=rss,
        search_p50_ms=percentile(searches, 0.5) * 1000,
        search_p95_ms=percentile(searches, 0.95) * 1000,
        saves=saves,
        longest_step_ms=max(wall for wall, _ in steps),
        longest_step_cpu_ms=max(cpu for _, cpu in steps),
        stall_during_save_ms=max(probes_during, default=float("nan")) * 1000,
        stall_outside_save_ms=max(probes_outside, default=float("nan")) * 1000,
        chat_p99_during_save_ms=percentile(during, 0.99) * 1000,
        chat_p99_outside_save_ms=percentile(outside, 0.99) * 1000,
        chat_lost=lost,
        stop_s=stop_s,
        stop_saved_last_write=saved_last,
    )
    result.notes.append(
        f"{len(saves)} saves of {', '.join(f'{s:.2f}' for s in saves)} s; messages delivered during saves "
        f"{len(during)}, outside {len(outside)}; probes during saves {len(probes_during)}"
    )
    return result


# --------------------------------------------------------------------------------------------- report

Row = ScaleRow[RunResult]
ROWS = [
    Row("start s", lambda r: r.start_s, before="2.1 / 40", target="<= 10 s at 50,000", meets=at_most(10)),
    Row("start server CPU s", lambda r: r.start_cpu_s),
    Row("RSS after start MB", lambda r: r.rss_mb, before="- / 650", fmt="{:.0f}"),
    Row("search p50 ms", lambda r: r.search_p50_ms, before="70-110 / 600-1200", fmt="{:.0f}"),
    Row("search p95 ms", lambda r: r.search_p95_ms, fmt="{:.0f}"),
    Row("save s (wall, median)", lambda r: statistics.median(r.saves or [float("nan")])),
    Row(
        "longest save step ms (server, wall)",
        lambda r: r.longest_step_ms,
        target="<= 100 ms",
        meets=at_most(100),
        fmt="{:.1f}",
    ),
    Row("longest save step ms (server, CPU)", lambda r: r.longest_step_cpu_ms, fmt="{:.1f}"),
    Row("slowest GET / during a save ms", lambda r: r.stall_during_save_ms, fmt="{:.1f}"),
    Row("slowest GET / outside saves ms", lambda r: r.stall_outside_save_ms, fmt="{:.1f}"),
    Row(
        "chat p99 during saves ms",
        lambda r: r.chat_p99_during_save_ms,
        target="<= 100 ms",
        meets=at_most(100),
        fmt="{:.1f}",
    ),
    Row("chat p99 outside saves ms", lambda r: r.chat_p99_outside_save_ms, fmt="{:.1f}"),
    Row(
        "stop s (SIGTERM after a write)",
        lambda r: r.stop_s,
        before="2.7 / ~120",
        target="<= 5 s at 50,000",
        meets=at_most(5),
    ),
]


def run_notes(plan: Plan, results: dict[int, list[RunResult]]) -> list[str]:
    notes = []
    for size in plan.sizes:
        for i, r in enumerate(results[size]):
            integrity = f"chat lost {r.chat_lost}, shutdown saved the last write: {r.stop_saved_last_write}"
            notes.append(f"  {size:,} run {i + 1}: {'; '.join(r.notes)}; {integrity}")
    return notes


# --------------------------------------------------------------------------------------------- main


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="500 vs 5,000 listings, 2 runs")
    parser.add_argument("--runs", type=int, default=0, help="runs per size (default 3, quick 2)")


async def run(args: argparse.Namespace, report: Report) -> int:
    plan = dataclasses.replace(QUICK if args.quick else FULL)
    if args.runs:
        plan.runs = args.runs
    report.preface(f"machine: {machine()}")
    report.preface(f"plan: {plan}")
    results: dict[int, list[RunResult]] = {}
    timeout = aiohttp.ClientTimeout(total=300)
    with tempfile.TemporaryDirectory(prefix="homer-store-bench-") as scratch:
        workdir = Path(scratch)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for listings in plan.sizes:
                seeded = workdir / f"seeded-{listings}.json"
                took = await asyncio.to_thread(seed, seeded, workdir, listings)
                size_mb = seeded.stat().st_size / 1e6
                log(
                    f"seeded {listings:,} listings, {MESSAGES_PER_LISTING * listings:,} messages: "
                    f"{took:.1f} s, {size_mb:.0f} MB"
                )
                results[listings] = []
                for run in range(plan.runs):
                    result = await one_run(http, seeded, workdir, plan)
                    results[listings].append(result)
                    log(
                        f"{listings:,} run {run + 1}: start {result.start_s:.2f} s "
                        f"(cpu {result.start_cpu_s:.2f} s, rss {result.rss_mb:.0f} MB), "
                        f"search p50/p95 {result.search_p50_ms:.0f}/{result.search_p95_ms:.0f} ms, "
                        f"longest save step {result.longest_step_ms:.1f} ms "
                        f"(cpu {result.longest_step_cpu_ms:.1f}), "
                        f"slowest GET / during a save {result.stall_during_save_ms:.1f} ms "
                        f"(outside {result.stall_outside_save_ms:.1f}), chat p99 during saves "
                        f"{result.chat_p99_during_save_ms:.1f} ms "
                        f"(outside {result.chat_p99_outside_save_ms:.1f}), "
                        f"stop {result.stop_s:.2f} s; {'; '.join(result.notes)}"
                    )
    small, large = plan.sizes
    table = scale_table(
        ROWS, results[small], results[large], sizes=plan.sizes, before="before (5,000 / 50,000)"
    )
    report.publish(
        "\n".join([table, "'met' judges the worst run at the large size.", *run_notes(plan, results)])
    )
    return 0
