"""Graceful shutdown benchmark: how long ``homer-rt serve`` takes to exit after SIGTERM with idle clients.

    .venv/bin/python bench/shutdown_bench.py                          # 0, 1 and 2,000 clients, 3 runs each
    .venv/bin/python bench/shutdown_bench.py --clients 0,1,500 --runs 5

Each run starts a fresh server (``python -m homer_rt serve`` on the embedded store, pinned to one core, as
in chat_bench.py), connects the clients to /chat over WebSocket (the lean SioClient, spread over 100 users),
lets them idle, sends SIGTERM and measures, from the signal: when every client had seen its connection
close, when the process exited (and its exit status), and the drain the server logged. Figures are
reported, not asserted: the issue's target is an exit within 5 s with 2,000 clients (before the graceful
shutdown: 47 s with one idle client, 2 s with none, so every deploy ended in Docker's kill at 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_bench import HarnessError, Server, bounded, log, machine, register, run_on_loadgen_core
from sio_client import SioClient

USERS = 100
IDLE_SECONDS = 1.0
EXIT_TIMEOUT = 120.0  # past any figure worth reporting; the process is killed then
_DRAINED = re.compile(r"drained in ([0-9.]+) s: (\d+) socket connections closed; (\d+) requests and (\d+)")


@dataclass
class Run:
    clients: int
    exit_seconds: float
    closed_seconds: float | None  # every client saw its connection close (None: no clients)
    status: int | None
    notified: int  # clients that got server_shutdown before the close
    drained: str


async def one_run(http: aiohttp.ClientSession, workdir: Path, clients: int) -> Run:
    server = Server("homer", workdir)
    fleet: list[SioClient] = []
    try:
        await server.wait_ready()
        users = min(USERS, clients)
        tokens = [
            p.token
            for p, _ in await bounded(8, (register(http, server.base, "renter") for _ in range(users)))
        ]
        fleet = [SioClient(http, server.base, "/chat", tokens[i % len(tokens)]) for i in range(clients)]
        notified: set[int] = set()
        for index, client in enumerate(fleet):
            client.on_event = lambda event, _data, i=index: (
                notified.add(i) if event == "server_shutdown" else None
            )
        await bounded(64, (c.connect() for c in fleet))
        await asyncio.sleep(IDLE_SECONDS)
        if any(c.dropped for c in fleet):
            raise HarnessError("a client was dropped before the signal")

        # The exit is timed by a thread blocked in waitpid: this loop is busy with 2,000 closing sockets.
        exited = asyncio.ensure_future(asyncio.to_thread(_wait_exit, server, EXIT_TIMEOUT))
        started = time.perf_counter()
        server.proc.send_signal(signal.SIGTERM)
        closed_at: float | None = None
        # Polled, as chat_bench drains: no bookkeeping in the clients' read loops; 5 ms is below any figure.
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


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


async def bench(args: argparse.Namespace) -> int:
    counts = [int(n) for n in args.clients.split(",")]
    print(f"machine: {machine()}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max(counts) * 2 + 1000
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))
    results: dict[int, list[Run]] = {n: [] for n in counts}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120), connector=connector) as http:
        with tempfile.TemporaryDirectory(prefix="homer-shutdown-bench-") as scratch:
            for run in range(args.runs):
                for clients in counts:
                    result = await one_run(http, Path(scratch), clients)
                    results[clients].append(result)
                    closed = f"{result.closed_seconds:.2f} s" if result.closed_seconds is not None else "-"
                    log(
                        f"run {run + 1}, {clients} clients: exit {result.exit_seconds:.2f} s (status "
                        f"{result.status}), all closed {closed}, notified {result.notified}/{clients}, "
                        f"{result.drained}"
                    )
    print()
    print("clients | SIGTERM -> exit, s (min/med/max) | SIGTERM -> all clients closed, s | status | notified")
    for clients, runs in results.items():
        closed = [r.closed_seconds for r in runs if r.closed_seconds is not None]
        print(
            f"{clients:>7} | {spread([r.exit_seconds for r in runs]):>32} | "
            f"{spread(closed) if closed else '-':>32} | {sorted({r.status for r in runs})} | "
            f"{min(r.notified for r in runs)}/{clients}"
        )
    print("target: exit within 5 s with 2,000 clients; before: 47 s with 1 idle client, 2 s with none")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="SIGTERM to exit, with idle Socket.IO clients (see the doc)")
    parser.add_argument("--clients", default="0,1,2000", help="comma-separated client counts")
    parser.add_argument("--runs", type=int, default=3, help="runs per client count")
    args = parser.parse_args()
    return run_on_loadgen_core(bench(args))


if __name__ == "__main__":
    sys.exit(main())
