"""Graceful shutdown: how long ``homer-rt serve`` takes to exit after SIGTERM with idle clients.

    python -m bench shutdown                          # 0, 1 and 2,000 clients, 3 runs each
    python -m bench shutdown --clients 0,1,500 --runs 5

Each run starts a fresh server (``python -m homer_rt serve`` on the embedded store, pinned to one core, as
in the chat cases), connects the clients to /chat over WebSocket (the lean SioClient, spread over
``--users`` users), lets them idle, sends SIGTERM and measures, from the signal: when every client had seen
its connection close, when the process exited (and its exit status), and the drain the server logged.
The issue's target is an exit within 5 s with 2,000 clients (before the graceful shutdown: 47 s with one
idle client, 2 s with none, so every deploy ended in Docker's kill at 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness import HarnessError, Server, log, machine, raise_open_files_limit
from bench.load import RUN_TAG, SioClient, bounded, register_renters
from bench.report import Report, spread_of

_DRAINED = re.compile(r"drained in ([0-9.]+) s: (\d+) socket connections closed; (\d+) requests and (\d+)")


@dataclass
class Plan:
    clients: list[int]  # idle client counts, each measured in every run
    runs: int
    users: int = 100  # the clients are spread over at most this many users
    idle_seconds: float = 1.0  # connected and idle before the signal
    exit_timeout: float = 120.0  # past any figure worth reporting; the process is killed then


@dataclass
class Run:
    clients: int
    exit_seconds: float
    closed_seconds: float | None  # every client saw its connection close (None: no clients)
    status: int | None
    notified: int  # clients that got server_shutdown before the close
    drained: str


async def one_run(http: aiohttp.ClientSession, workdir: Path, clients: int, plan: Plan) -> Run:
    server = Server("homer", workdir, run_tag=RUN_TAG)
    fleet: list[SioClient] = []
    try:
        await server.wait_listening()
        tokens = await register_renters(http, server.base, min(plan.users, clients))
        fleet = [SioClient(http, server.base, "/chat", tokens[i % len(tokens)]) for i in range(clients)]
        notified: set[int] = set()
        for index, client in enumerate(fleet):
            client.on_event = lambda event, _data, i=index: (
                notified.add(i) if event == "server_shutdown" else None
            )
        await bounded(64, (c.connect() for c in fleet))
        await asyncio.sleep(plan.idle_seconds)
        if any(c.dropped for c in fleet):
            raise HarnessError("a client was dropped before the signal")

        # The exit is timed by a thread blocked in waitpid: this loop is busy with 2,000 closing sockets.
        exited = asyncio.ensure_future(asyncio.to_thread(_wait_exit, server, plan.exit_timeout))
        started = time.perf_counter()
        server.proc.send_signal(signal.SIGTERM)
        closed_at: float | None = None
        # Polled, as the chat cases drain: no bookkeeping in the clients' read loops (5 ms is below any
        # figure worth reporting).
        while fleet and not all(c.dropped for c in fleet) and not exited.done():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        if fleet and all(c.dropped for c in fleet):
            closed_at = time.perf_counter()
        exited_at = await exited
        status = server.proc.poll()
        match = _DRAINED.search(server.tail())
        drained = f"drain {match.group(1)} s, {match.group(2)} sockets" if match else "no drain logged"
        return Run(
            clients=clients,
            exit_seconds=exited_at - started,
            closed_seconds=(closed_at - started) if closed_at is not None else None,
            status=status,
            notified=len(notified),
            drained=drained,
        )
    finally:
        await asyncio.gather(*(c.close() for c in fleet))
        await server.stop()


def _wait_exit(server: Server, within: float) -> float:
    """When the server process exited (perf_counter), or the timeout (it is then killed by Server.stop)."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.proc.wait(within)
    return time.perf_counter()


def table(results: dict[int, list[Run]]) -> str:
    lines = [
        "",
        "clients | SIGTERM -> exit, s (min/med/max) | SIGTERM -> all clients closed, s | status | notified",
    ]
    for clients, runs in results.items():
        closed = [r.closed_seconds for r in runs if r.closed_seconds is not None]
        # None: the process had not exited when the wait gave up.
        statuses = sorted({r.status for r in runs}, key=lambda status: (status is None, status or 0))
        lines.append(
            f"{clients:>7} | {spread_of([r.exit_seconds for r in runs]):>32} | "
            f"{spread_of(closed) if closed else '-':>32} | {statuses} | "
            f"{min(r.notified for r in runs)}/{clients}"
        )
    lines.append("target: exit within 5 s with 2,000 clients; before: 47 s with 1 idle client, 2 s with none")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", default="0,1,2000", help="comma-separated client counts")
    parser.add_argument("--runs", type=int, default=3, help="runs per client count")
    parser.add_argument("--users", type=int, default=100, help="users the clients are spread over")


async def run(args: argparse.Namespace, report: Report) -> int:
    plan = Plan(clients=[int(n) for n in args.clients.split(",")], runs=args.runs, users=args.users)
    report.preface(f"machine: {machine()}")
    report.preface(f"plan: {plan}")
    raise_open_files_limit(max(plan.clients) * 2 + 1000)
    results: dict[int, list[Run]] = {n: [] for n in plan.clients}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120), connector=connector) as http:
        with tempfile.TemporaryDirectory(prefix="homer-shutdown-bench-") as scratch:
            for run in range(plan.runs):
                for clients in plan.clients:
                    result = await one_run(http, Path(scratch), clients, plan)
                    results[clients].append(result)
                    closed = f"{result.closed_seconds:.2f} s" if result.closed_seconds is not None else "-"
                    log(
                        f"run {run + 1}, {clients} clients: exit {result.exit_seconds:.2f} s (status "
                        f"{result.status}), all closed {closed}, notified {result.notified}/{clients}, "
                        f"{result.drained}"
                    )
    report.publish(table(results))
    return 0
