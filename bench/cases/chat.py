"""Live chat: Homer against a bare python-socketio relay, same load generator, same run.

    python -m bench chat            # full run, a few minutes
    python -m bench chat --quick    # smoke run, well under a minute

Each server is a real process (``python -m homer_rt serve`` on the embedded store; ``bench/relay.py``)
pinned to one core; this load generator pins itself to the other. Every run of a case gets a fresh
server process, so no case inherits another's data or garbage. Clients offer permessage-deflate as
browsers do; what each server negotiates is printed.

Cases (each run several times; min/median/max and the Homer/relay ratio of the medians):
  saturation  delivered messages/s, closed loop (every sender keeps a window of unacked sends)
  latency     p99 send->receive at a fixed open-loop load of half Homer's median saturation rate
  memory      server RSS per idle connected client (RSS at 0 and at N clients)
  history     GET /api/chats/{id} and GET /api/chats/unread-count, a chat of 10,000 messages vs one of
              10, requested in turn on one server (Homer)
  storm       chat p99 while 20 logins/s hit POST /api/auth/login (BCRYPT_ROUNDS=12) vs no logins
Loss (acked, never delivered) and duplicates (delivered twice) are counted in every chat case.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bench.harness import (
    SERVER_CORE,
    HarnessError,
    Server,
    at_least,
    at_most,
    cpu_ticks,
    generator_gc_paused,
    log,
    machine,
    raise_open_files_limit,
    running,
    steal_share,
)
from bench.load import (
    RUN_TAG,
    Direction,
    Fleet,
    Party,
    SioClient,
    Traffic,
    auth,
    bounded,
    check,
    fill_chat,
    homer_pairs,
    login_storm,
    make_pairs,
    register,
    register_renters,
)
from bench.report import Report, Row, Sample, chat_table

CASES = ("saturation", "latency", "memory", "history", "storm")
T = TypeVar("T")


@dataclass
class Plan:
    runs: int  # runs of each case per server
    pairs: int  # renter/owner pairs chatting in saturation and latency
    window: int  # unacked sends each sender keeps in flight in saturation
    saturation_seconds: float
    latency_seconds: float
    idle_clients: int  # connected in the memory case
    history_small: int  # messages in the short chat of the history case
    history_large: int  # ... and in the long one
    history_requests: int  # requests of each kind per run, taken in turn
    storm_seconds: float
    storm_logins_per_second: float
    storm_load_fraction: float  # chat load during the storm, as a share of Homer's saturation rate
    storm_pairs: int


FULL = Plan(
    runs=3,
    pairs=10,
    window=8,
    saturation_seconds=5.0,
    latency_seconds=8.0,
    idle_clients=2000,
    history_small=10,
    history_large=10_000,
    history_requests=40,
    storm_seconds=8.0,
    storm_logins_per_second=20.0,
    storm_load_fraction=0.25,
    storm_pairs=4,
)
QUICK = Plan(
    runs=2,
    pairs=4,
    window=4,
    saturation_seconds=1.5,
    latency_seconds=2.0,
    idle_clients=200,
    history_small=10,
    history_large=500,
    history_requests=10,
    storm_seconds=2.0,
    storm_logins_per_second=20.0,
    storm_load_fraction=0.25,
    storm_pairs=2,
)


@dataclass
class Bench:
    """What every case of one invocation shares."""

    http: aiohttp.ClientSession
    workdir: Path
    plan: Plan
    mongodb_url: str | None  # Homer on this MongoDB instead of the embedded store

    def running(self, kind: str, **options: Any) -> Any:
        return running(kind, self.workdir, mongodb_url=self.mongodb_url, run_tag=RUN_TAG, **options)


# --------------------------------------------------------------------------------------------- measures


async def saturate(fleet: Fleet, server: Server, *, seconds: float, window: int) -> tuple[Sample, str]:
    with generator_gc_paused():
        traffic = fleet.traffic
        state = {"running": True}

        def keep_going(direction: Direction) -> Callable[[], None]:
            def again() -> None:
                if state["running"]:
                    traffic.send(direction, again)

            return again

        for direction in fleet.directions:
            for _ in range(window):
                traffic.send(direction, keep_going(direction))
        await asyncio.sleep(1.0)  # warm-up, not counted
        cpu_server, cpu_self, started = server.cpu_seconds(), time.process_time(), time.perf_counter()
        traffic.counting = True
        await asyncio.sleep(seconds)
        traffic.counting = False
        elapsed = time.perf_counter() - started
        server_share = (server.cpu_seconds() - cpu_server) / elapsed
        self_share = (time.process_time() - cpu_self) / elapsed
        state["running"] = False
        await traffic.drain()
    rate = traffic.window_deliveries / elapsed
    note = f"server cpu {server_share:.0%}, loadgen cpu {self_share:.0%}"
    sample = Sample(rate, traffic.lost, traffic.duplicates, traffic.failed)
    sample.per_cpu = rate / server_share if server_share else 0.0
    return sample, note


async def fixed_load(
    fleet: Fleet, server: Server, *, rate: float, seconds: float, warmup: float = 1.0
) -> Sample:
    """Open-loop sends at ``rate``; p99 send->receive latency of the messages sent after ``warmup``.

    The note gives the server's busy share of its core over the measured window: the rate is half of a
    maximum measured minutes earlier, and on a shared machine the core may be slower now."""
    with generator_gc_paused():
        traffic = fleet.traffic
        directions = fleet.directions
        started = time.perf_counter()
        traffic.record_from = started + warmup
        deadline = started + warmup + seconds
        sent = 0
        lag = 0
        steal_from: tuple[int, int] | None = None
        busy_from = (0.0, 0.0)
        while (now := time.perf_counter()) < deadline:
            if steal_from is None and now >= traffic.record_from:
                steal_from = cpu_ticks(SERVER_CORE)
                busy_from = (server.cpu_seconds(), now)
            due = int((now - started) * rate)
            lag = max(lag, due - sent)
            while sent < due:
                traffic.send(directions[sent % len(directions)])
                sent += 1
            await asyncio.sleep(0.001)
        steal = steal_share(steal_from or cpu_ticks(SERVER_CORE), cpu_ticks(SERVER_CORE))
        busy = (server.cpu_seconds() - busy_from[0]) / max(time.perf_counter() - busy_from[1], 1e-9)
        await traffic.drain()
    measured = sum(1 for _, at in traffic.sent.values() if at >= traffic.record_from)
    # A measured message that never arrived counts as infinitely late, not as absent from the percentile.
    latencies = sorted(traffic.latencies) + [float("inf")] * max(0, measured - len(traffic.latencies))
    if not latencies:
        raise HarnessError("nothing was sent during the fixed-load phase")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    p50 = latencies[len(latencies) // 2]
    note = (
        f"p50 {p50 * 1000:.1f} ms, {measured} msgs sent, {len(traffic.latencies)} delivered, "
        f"server busy {busy:.0%} of its core, hypervisor steal on the server core {steal:.0%}"
    )
    return Sample(p99 * 1000, traffic.lost, traffic.duplicates, traffic.failed, note)


async def with_fleet(
    bench: Bench, kind: str, pairs: int, body: Callable[[Fleet, Server], Awaitable[T]]
) -> tuple[T, set[int]]:
    """``body`` run on a fresh ``kind`` server with ``pairs`` connected pairs; its result and the deflate
    window bits the connections negotiated."""
    async with bench.running(kind) as server:
        fleet = Fleet(bench.http, server.base, await make_pairs(bench.http, server, pairs), Traffic())
        try:
            await fleet.connect()
            result = await body(fleet, server)
            if fleet.dropped:
                raise HarnessError(f"{kind}: {fleet.dropped} connections dropped during the run")
            return result, fleet.negotiated
        finally:
            await fleet.close()


async def memory_per_client(bench: Bench, kind: str, clients: int) -> Sample:
    http = bench.http
    async with bench.running(kind) as server:
        if server.kind == "homer":
            tokens = await register_renters(http, server.base, 50)
        else:
            tokens = [f"user-{i}" for i in range(50)]
        # Warm the code paths (imports, caches, first allocations) so the baseline is a running server.
        warm = [SioClient(http, server.base, "/chat", tokens[i % len(tokens)]) for i in range(20)]
        await bounded(20, (c.connect() for c in warm))
        await asyncio.gather(*(c.close() for c in warm))
        await asyncio.sleep(1.5)
        before = server.rss_kb()
        fleet = [SioClient(http, server.base, "/chat", tokens[i % len(tokens)]) for i in range(clients)]
        try:
            await bounded(64, (c.connect() for c in fleet))
            await asyncio.sleep(2.0)
            after = server.rss_kb()
            dropped = sum(c.dropped for c in fleet)
            negotiated = {c.negotiated_compress for c in fleet}
        finally:
            await asyncio.gather(*(c.close() for c in fleet))
        per_client = (after - before) / clients
        return Sample(
            per_client,
            errors=dropped,
            note=f"rss {before / 1024:.0f} -> {after / 1024:.0f} MB, deflate {negotiated}",
        )


async def timed_get(http: aiohttp.ClientSession, url: str, party: Party) -> float:
    started = time.perf_counter()
    async with http.get(url, headers=auth(party)) as response:
        await check(response, f"GET {url}")
    return time.perf_counter() - started


async def alternating_gets(
    http: aiohttp.ClientSession, requests: list[tuple[str, Party]], n: int
) -> list[float]:
    """Median milliseconds of each request, the requests taken in turn n times: a burst of noise on the
    shared machine lands on all of them alike instead of on whichever was measured at that moment."""
    times: list[list[float]] = [[] for _ in requests]
    for _ in range(n):
        for i, (url, party) in enumerate(requests):
            times[i].append(await timed_get(http, url, party))
    return [statistics.median(t) * 1000 for t in times]


# --------------------------------------------------------------------------------------------- cases


async def case_saturation(bench: Bench, kinds: list[str]) -> dict[str, list[Sample]]:
    plan = bench.plan
    results: dict[str, list[Sample]] = {k: [] for k in kinds}
    for run in range(plan.runs):
        for kind in kinds:

            async def body(fleet: Fleet, server: Server) -> tuple[Sample, str]:
                return await saturate(fleet, server, seconds=plan.saturation_seconds, window=plan.window)

            (sample, note), negotiated = await with_fleet(bench, kind, plan.pairs, body)
            sample.note = f"{note}, deflate negotiated {sorted(negotiated)}"
            results[kind].append(sample)
            log(f"saturation run {run + 1} {kind}: {sample.value:.0f} msg/s ({sample.note})")
    return results


async def case_latency(bench: Bench, kinds: list[str], rate: float) -> dict[str, list[Sample]]:
    plan = bench.plan
    results: dict[str, list[Sample]] = {k: [] for k in kinds}
    for run in range(plan.runs):
        for kind in kinds:

            async def body(fleet: Fleet, server: Server) -> Sample:
                return await fixed_load(fleet, server, rate=rate, seconds=plan.latency_seconds)

            sample, _ = await with_fleet(bench, kind, plan.pairs, body)
            results[kind].append(sample)
            log(
                f"latency run {run + 1} {kind} at {rate:.0f} msg/s: p99 {sample.value:.1f} ms ({sample.note})"
            )
    return results


async def case_memory(bench: Bench, kinds: list[str]) -> dict[str, list[Sample]]:
    results: dict[str, list[Sample]] = {k: [] for k in kinds}
    for run in range(bench.plan.runs):
        for kind in kinds:
            sample = await memory_per_client(bench, kind, bench.plan.idle_clients)
            results[kind].append(sample)
            log(f"memory run {run + 1} {kind}: {sample.value:.1f} KB per idle client ({sample.note})")
    return results


async def case_history(bench: Bench) -> dict[str, list[Sample]]:
    """Two chats on one server, one grown to 10 messages and one to 10,000; each is opened (by its renter)
    and counted (by its owner, for whom all of the renter's messages are unread) in turn."""
    plan = bench.plan
    # In the order of the requests below.
    results: dict[str, list[Sample]] = {
        "open small": [],
        "open large": [],
        "unread small": [],
        "unread large": [],
    }

    async def body(fleet: Fleet, server: Server) -> None:
        small, large = fleet.pairs
        # Directions come two per pair, renter -> owner first; the initiate message counts.
        await fill_chat(fleet, fleet.directions[0], plan.history_small - 1)
        await fill_chat(fleet, fleet.directions[2], plan.history_large - 1)
        unread_url = f"{server.base}/api/chats/unread-count"
        requests = [
            (f"{server.base}/api/chats/{small.chat_id}", small.renter),
            (f"{server.base}/api/chats/{large.chat_id}", large.renter),
            (unread_url, small.owner),
            (unread_url, large.owner),
        ]
        for _ in range(plan.runs):
            medians = await alternating_gets(bench.http, requests, plan.history_requests)
            for label, value in zip(results, medians, strict=True):
                results[label].append(Sample(value))
            log(
                f"history ({plan.history_small} / {plan.history_large} messages): "
                f"open {medians[0]:.2f} / {medians[1]:.2f} ms, "
                f"unread-count {medians[2]:.2f} / {medians[3]:.2f} ms "
                f"(medians of {plan.history_requests}, taken in turn)"
            )
        traffic = fleet.traffic
        results["open large"][-1].lost = traffic.lost
        results["open large"][-1].duplicates = traffic.duplicates
        results["open large"][-1].errors = traffic.failed

    await with_fleet(bench, "homer", 2, body)
    return results


async def case_storm(bench: Bench, rate: float) -> dict[str, list[Sample]]:
    plan, http = bench.plan, bench.http
    results: dict[str, list[Sample]] = {"idle": [], "storm": []}
    async with bench.running("homer", bcrypt_rounds=12) as server:
        log("storm: registering users at BCRYPT_ROUNDS=12")
        _, login_email = await register(http, server.base, "renter")
        pairs = await homer_pairs(http, server.base, plan.storm_pairs)
        for run in range(plan.runs):
            for phase in ("idle", "storm"):
                fleet = Fleet(http, server.base, pairs, Traffic())
                await fleet.connect()
                storm: asyncio.Task[str] | None = None
                if phase == "storm":
                    storm = asyncio.create_task(
                        login_storm(
                            http,
                            server.base,
                            login_email,
                            per_second=plan.storm_logins_per_second,
                            seconds=plan.storm_seconds + 1,
                        )
                    )
                try:
                    sample = await fixed_load(fleet, server, rate=rate, seconds=plan.storm_seconds)
                    if storm is not None:
                        sample.note += "; " + await storm
                    if fleet.dropped:
                        raise HarnessError(f"storm {phase}: {fleet.dropped} connections dropped")
                finally:
                    if storm is not None and not storm.done():
                        storm.cancel()
                    await fleet.close()
                results[phase].append(sample)
                log(
                    f"storm run {run + 1} {phase} at {rate:.0f} msg/s: "
                    f"p99 {sample.value:.1f} ms ({sample.note})"
                )
    return results


# --------------------------------------------------------------------------------------------- main


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--runs", type=int, default=0, help="runs per case (default 3, quick 2)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset")
    parser.add_argument("--window", type=int, default=0, help="unacked sends per sender in saturation")
    parser.add_argument("--pairs", type=int, default=0, help="renter/owner pairs chatting")
    parser.add_argument(
        "--history-messages", type=int, default=0, help="messages in the large chat of the history case"
    )
    parser.add_argument(
        "--mongodb-url", default=None, help="run Homer on this MongoDB (a fresh database per server process)"
    )
    parser.add_argument(
        "--servers",
        default="homer,relay",
        help="servers to compare; homer and relay, plus reference variants homer:deflate, relay:nodeflate",
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="Homer's max msg/s when saturation is skipped"
    )


def plan_of(args: argparse.Namespace) -> Plan:
    plan = dataclasses.replace(QUICK if args.quick else FULL)
    if args.runs:
        plan.runs = args.runs
    if args.window:
        plan.window = args.window
    if args.pairs:
        plan.pairs = args.pairs
    if args.history_messages:
        plan.history_large = args.history_messages
    return plan


async def run(args: argparse.Namespace, report: Report) -> int:
    plan = plan_of(args)
    cases = set(args.cases.split(","))
    kinds = args.servers.split(",")
    report.preface(f"machine: {machine()}")
    report.preface(f"plan: {plan}")
    store = f"MongoDB at {args.mongodb_url}" if args.mongodb_url else "embedded (mongomock)"
    report.preface(f"Homer's store: {store}")
    raise_open_files_limit(plan.idle_clients * 2 + 1000)
    rows: list[Row] = []

    def variants(case: str, metric: str, results: dict[str, list[Sample]]) -> None:
        """Rows for ``kind:variant`` servers: reference figures against the relay, not targets."""
        for kind, samples in results.items():
            if ":" in kind and samples:
                rows.append(
                    Row(
                        case,
                        f"{metric} [{kind}]",
                        samples,
                        results.get("relay"),
                        "relay",
                        "reference",
                        at_least(0),
                        informational=True,
                    )
                )

    def notes(results: dict[str, list[Sample]], labels: list[str]) -> list[str]:
        return [f"{k} run {i + 1}: {s.note}" for k in labels for i, s in enumerate(results[k])]

    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    with tempfile.TemporaryDirectory(prefix="homer-bench-") as scratch:
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            bench = Bench(http=http, workdir=Path(scratch), plan=plan, mongodb_url=args.mongodb_url)
            homer_max = args.rate
            if "saturation" in cases:
                sat = await case_saturation(bench, kinds)
                homer_max = statistics.median(s.value for s in sat.get("homer") or sat["relay"])
                rows.append(
                    Row(
                        "saturation",
                        "delivered msg/s",
                        sat.get("homer", []),
                        sat.get("relay"),
                        "relay",
                        ">= 0.5",
                        at_least(0.5),
                        notes=notes(sat, kinds),
                    )
                )

                def per_cpu(samples: list[Sample] | None) -> list[Sample] | None:
                    return [Sample(s.value and s.per_cpu) for s in samples] if samples is not None else None

                rows.append(
                    Row(
                        "saturation",
                        "delivered msg per server CPU-s",
                        per_cpu(sat.get("homer", [])) or [],
                        per_cpu(sat.get("relay")),
                        "relay",
                        ">= 0.5",
                        at_least(0.5),
                    )
                )
                variants("saturation", "delivered msg/s", sat)
            if homer_max is None:
                homer_max = 1000.0
                log(
                    "no saturation figure (case skipped, no --rate): "
                    "fixed loads use 1000 msg/s as Homer's max"
                )
            if "latency" in cases:
                rate = homer_max / 2
                lat = await case_latency(bench, kinds, rate)
                rows.append(
                    Row(
                        "latency",
                        f"p99 ms @ {rate:.0f} msg/s",
                        lat.get("homer", []),
                        lat.get("relay"),
                        "relay",
                        "<= 2",
                        at_most(2.0),
                        notes=notes(lat, kinds),
                    )
                )
                variants("latency", f"p99 ms @ {rate:.0f} msg/s", lat)
            if "memory" in cases:
                mem = await case_memory(bench, kinds)
                homer_kb = statistics.median(s.value for s in mem.get("homer") or mem["relay"])
                rows.append(
                    Row(
                        "memory",
                        f"KB per idle client ({plan.idle_clients})",
                        mem.get("homer", []),
                        mem.get("relay"),
                        "relay",
                        "<= 40 KB",
                        lambda _: homer_kb <= 40,
                        notes=notes(mem, kinds),
                    )
                )
                variants("memory", "KB per idle client", mem)
            if "history" in cases:
                his = await case_history(bench)
                for what in ("open", "unread"):
                    metric = "GET /api/chats/{id} ms" if what == "open" else "GET unread-count ms"
                    rows.append(
                        Row(
                            "history",
                            f"{metric}, {plan.history_large} vs {plan.history_small} msgs",
                            his[f"{what} large"],
                            his[f"{what} small"],
                            f"{plan.history_small} msgs",
                            "<= 1.3",
                            at_most(1.3),
                        )
                    )
            if "storm" in cases:
                rate = homer_max * plan.storm_load_fraction
                storm = await case_storm(bench, rate)
                rows.append(
                    Row(
                        "storm",
                        f"chat p99 ms @ {rate:.0f} msg/s",
                        storm["storm"],
                        storm["idle"],
                        "no logins",
                        "<= 1.5",
                        at_most(1.5),
                        notes=notes(storm, ["idle", "storm"]),
                    )
                )
    report.publish(chat_table([row for row in rows if row.homer]))
    return 0
