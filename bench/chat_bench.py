"""Live chat benchmark: Homer against a bare python-socketio relay, same load generator, same run.

    .venv/bin/python bench/chat_bench.py            # full run, a few minutes
    .venv/bin/python bench/chat_bench.py --quick    # smoke run, well under a minute

Each server is a real process (``python -m homer_rt serve`` on the embedded store; ``bench/relay.py``)
pinned to one core; this load generator pins itself to the other. Every run of a case gets a fresh
server process, so no case inherits another's data or garbage. Clients offer permessage-deflate as
browsers do; what each server negotiates is printed. Only 127.0.0.1 traffic; every loop is bounded.

Cases (each run several times; min/median/max and the Homer/relay ratio of the medians):
  saturation  delivered messages/s, closed loop (every sender keeps a window of unacked sends)
  latency     p99 send->receive at a fixed open-loop load of half Homer's median saturation rate
  memory      server RSS per idle connected client (RSS at 0 and at N clients)
  history     GET /api/chats/{id} and GET /api/chats/unread-count, a chat of 10,000 messages vs one of
              10, requested in turn on one server (Homer)
  storm       chat p99 while 20 logins/s hit POST /api/auth/login (BCRYPT_ROUNDS=12) vs no logins
Loss (acked, never delivered) and duplicates (delivered twice) are counted in every chat case.

Targets are reported, not asserted: the exit status is non-zero only when the harness itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sio_client import SioClient

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = 0
LOADGEN_CORE = 1
PASSWORD = "bench-password-123"
TEXT = "Hi! Is the 2BHK near Koramangala still available from May? Could I visit on Saturday morning?"
UNLIMITED = str(10**9)


# --mongodb-url: measure Homer on MongoDB (its production store) instead of the embedded one. Each Homer
# process gets its own database, dropped when the process stops.
STORE: dict[str, str | None] = {"mongodb_url": None}


class HarnessError(Exception):
    """The benchmark could not measure (a server did not start, setup failed): exit non-zero."""


# --------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_ticks(core: int) -> tuple[int, int]:
    """(steal, total) jiffies of one core from /proc/stat; (0, 0) where there is none.

    On a virtual machine the hypervisor can take a core away ("steal"). Latency tails measured during a
    steal burst say more about the host than about the server, so fixed-load runs report it.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/stat").read_text().splitlines():
            name, *values = line.split()
            if name == f"cpu{core}":
                ticks = [int(v) for v in values[:8]]
                return ticks[7], sum(ticks)
    return 0, 0


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


def pin(core: int) -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {core})


class Server:
    """One server process pinned to SERVER_CORE, with its RSS and CPU time readable from /proc."""

    def __init__(
        self, kind: str, workdir: Path, *, bcrypt_rounds: int = 4, deflate: bool | None = None
    ) -> None:
        """``deflate=None`` keeps each server's own default: Homer declines, the relay (library) accepts.

        ``kind`` is ``homer`` or ``relay``, optionally with a variant: ``:deflate`` / ``:nodeflate`` force
        permessage-deflate on / off (to show what the compression decision alone is worth)."""
        self.name = kind
        kind, _, variant = kind.partition(":")
        if variant:
            deflate = {"deflate": True, "nodeflate": False}[variant]
        self.kind = kind
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{kind}-{variant or 'default'}-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if k not in {"MONGODB_URL", "REDIS_URL"}}
        self.database: str | None = None
        if kind == "homer" and STORE["mongodb_url"]:
            self.database = f"homer_bench_{_run_tag}_{self.port}"
            env.update(MONGODB_URL=str(STORE["mongodb_url"]), MONGODB_DB=self.database)
        if kind == "homer":
            argv = [
                sys.executable,
                "-m",
                "homer_rt",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
            env.update(
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                APP_ENV="development",
                BCRYPT_ROUNDS=str(bcrypt_rounds),
                UPLOAD_DIR=str(workdir / "uploads"),
                # The benchmark measures delivery, not the abuse limits: every client here is 127.0.0.1.
                CHAT_SEND_RATE_PER_10S=UNLIMITED,
                LOGIN_ATTEMPTS_PER_ACCOUNT_AND_ADDRESS=UNLIMITED,
                LOGIN_ATTEMPTS_PER_ACCOUNT=UNLIMITED,
                LOGIN_ATTEMPTS_PER_ADDRESS=UNLIMITED,
                REGISTRATIONS_PER_ADDRESS_PER_HOUR=UNLIMITED,
                REGISTRATIONS_PER_MINUTE=UNLIMITED,
                SOCKET_CONNECTIONS_PER_USER=UNLIMITED,
                SOCKET_CONNECTIONS_PER_ADDRESS=UNLIMITED,
                FREE_CONTACT_LIMIT="1000",
            )
            if deflate is not None:
                env["SOCKETIO_WEBSOCKET_COMPRESSION"] = "true" if deflate else "false"
        else:
            argv = [sys.executable, str(ROOT / "bench" / "relay.py"), "--port", str(self.port)]
            if deflate is False:
                argv.append("--no-deflate")
        self._log = self.log_path.open("wb")
        # cwd is the scratch dir so a developer's .env never configures the measured server.
        self.proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: pin(SERVER_CORE),
        )

    async def wait_ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"{self.kind} exited with {self.proc.returncode}: {self.tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise HarnessError(f"{self.kind} did not listen within {within:.0f}s: {self.tail()}")

    def tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-2000:]

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise HarnessError("no VmRSS in /proc")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            for _ in range(50):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        if self.database:
            from pymongo import MongoClient

            client: MongoClient[dict[str, Any]] = MongoClient(STORE["mongodb_url"])
            try:
                await asyncio.to_thread(client.drop_database, self.database)
            except Exception as error:  # cleanup must not hide why the run failed
                log(f"could not drop {self.database}: {error}")
            finally:
                client.close()


@contextlib.asynccontextmanager
async def running(kind: str, workdir: Path, **options: Any) -> Any:
    server = Server(kind, workdir, **options)
    try:
        await server.wait_ready()
        yield server
    finally:
        await server.stop()


# --------------------------------------------------------------------------------------------- setup


@dataclass
class Party:
    user_id: str
    token: str


@dataclass
class Pair:
    chat_id: str
    renter: Party
    owner: Party


_identities = itertools.count(1)
_run_tag = uuid.uuid4().hex[:6]


async def check(response: aiohttp.ClientResponse, what: str) -> Any:
    if response.status != 200:
        raise HarnessError(f"{what}: HTTP {response.status} {(await response.text())[:300]}")
    return await response.json()


async def register(http: aiohttp.ClientSession, base: str, user_type: str) -> tuple[Party, str]:
    n = next(_identities)
    email = f"bench-{_run_tag}-{n}@example.com"
    body = {
        "email": email,
        "phone": f"+9197{n:08d}",
        "password": PASSWORD,
        "user_type": user_type,
        "full_name": f"Bench {user_type.title()} {n}",
    }
    async with http.post(f"{base}/api/auth/register", json=body) as response:
        data = await check(response, "register")
    return Party(user_id=data["user_id"], token=data["token"]), email


def auth(party: Party) -> dict[str, str]:
    return {"Authorization": f"Bearer {party.token}"}


PROPERTY = {
    "title": "Bench 2BHK, Koramangala",
    "description": "Sunny two-bedroom flat used by the chat benchmark.",
    "property_type": "apartment",
    "bhk_type": "2BHK",
    "rent": 32000,
    "security_deposit": 100000,
    "maintenance_charges": 2000,
    "location": {"address": "5th Block, Koramangala", "city": "Bangalore", "state": "Karnataka"},
    "details": {"furnishing": "semi-furnished", "bathrooms": 2},
    "images": [],
}


async def create_property(http: aiohttp.ClientSession, base: str, owner: Party) -> str:
    async with http.post(f"{base}/api/properties/create", json=PROPERTY, headers=auth(owner)) as response:
        data = await check(response, "create property")
    return str(data["property_id"])


async def initiate(http: aiohttp.ClientSession, base: str, renter: Party, property_id: str) -> str:
    body = {"property_id": property_id, "initial_message": f"setup {TEXT}"}
    async with http.post(f"{base}/api/chats/initiate", json=body, headers=auth(renter)) as response:
        data = await check(response, "initiate chat")
    return str(data["chat_id"])


async def bounded(limit: int, coros: Iterable[Awaitable[Any]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return list(await asyncio.gather(*(one(c) for c in coros)))


async def homer_pairs(http: aiohttp.ClientSession, base: str, n: int) -> list[Pair]:
    owners = [p for p, _ in await bounded(4, (register(http, base, "owner") for _ in range(n)))]
    renters = [p for p, _ in await bounded(4, (register(http, base, "renter") for _ in range(n)))]
    properties = await bounded(4, (create_property(http, base, o) for o in owners))
    chats = await bounded(4, (initiate(http, base, r, p) for r, p in zip(renters, properties, strict=True)))
    return [Pair(c, r, o) for c, r, o in zip(chats, renters, owners, strict=True)]


def relay_pairs(n: int) -> list[Pair]:
    pairs = []
    for _ in range(n):
        renter, owner = f"renter-{uuid.uuid4().hex[:8]}", f"owner-{uuid.uuid4().hex[:8]}"
        pairs.append(Pair(uuid.uuid4().hex, Party(renter, renter), Party(owner, owner)))
    return pairs


async def make_pairs(http: aiohttp.ClientSession, server: Server, n: int) -> list[Pair]:
    return await homer_pairs(http, server.base, n) if server.kind == "homer" else relay_pairs(n)


# --------------------------------------------------------------------------------------------- traffic


@dataclass
class Direction:
    sender: SioClient
    receiver_index: int
    chat_id: str


@dataclass
class Traffic:
    """Bookkeeping for every message the generator sends: acks, deliveries, latencies, loss, duplicates."""

    sent: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (receiver index, sent at)
    acked: dict[str, bool] = field(default_factory=dict)  # key -> ack said ok
    delivered: set[str] = field(default_factory=set)
    duplicates: int = 0
    stray: int = 0  # deliveries to a client that was not the addressee (self-echo) or unknown keys
    errors: Counter[str] = field(default_factory=Counter)
    counting: bool = False
    window_deliveries: int = 0
    record_from: float = float("inf")
    latencies: list[float] = field(default_factory=list)
    _keys: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # Keys double as client_msg_id: unique across phases, or Homer rightly answers a reused one as a retry
    # (stored message, no second delivery).
    _tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def on_event(self, receiver_index: int, event: str, data: Any) -> None:
        if event != "message":
            return
        now = time.perf_counter()
        key = str(data["message"]["message"]).split(" ", 1)[0]
        entry = self.sent.get(key)
        if entry is None or entry[0] != receiver_index:
            self.stray += 1
            return
        if key in self.delivered:
            self.duplicates += 1
            return
        self.delivered.add(key)
        if self.counting:
            self.window_deliveries += 1
        if entry[1] >= self.record_from:
            self.latencies.append(now - entry[1])

    def send(self, direction: Direction, then: Callable[[], None] | None = None) -> None:
        key = f"{self._tag}-{next(self._keys)}"
        self.sent[key] = (direction.receiver_index, time.perf_counter())
        payload = {"chat_id": direction.chat_id, "message": f"{key} {TEXT}", "client_msg_id": key}
        future = direction.sender.emit_with_ack("send_message", payload)

        def acked(done: asyncio.Future[Any]) -> None:
            if done.cancelled():
                self.errors["ack cancelled"] += 1
            elif done.exception() is not None:
                self.errors[f"ack {type(done.exception()).__name__}"] += 1
            else:
                result = done.result()
                ok = isinstance(result, dict) and result.get("ok") is True
                self.acked[key] = ok
                if not ok:
                    code = result.get("error", {}).get("code") if isinstance(result, dict) else None
                    self.errors[f"error ack {code}"] += 1
            if then is not None:
                then()

        future.add_done_callback(acked)

    def settled(self) -> bool:
        return len(self.acked) + sum(self.errors.values()) >= len(self.sent) and all(
            key in self.delivered for key, ok in self.acked.items() if ok
        )

    async def drain(self, within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        # Polling keeps the per-message callbacks free of wake-up bookkeeping; 50 ms is below any figure.
        while not self.settled() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    @property
    def lost(self) -> int:
        return sum(1 for key, ok in self.acked.items() if ok and key not in self.delivered)

    @property
    def unacked(self) -> int:
        return max(0, len(self.sent) - len(self.acked) - sum(self.errors.values()))


class Fleet:
    """Both participants of every pair connected to /chat and joined to their chat."""

    def __init__(self, http: aiohttp.ClientSession, base: str, pairs: list[Pair], traffic: Traffic) -> None:
        self.http, self.base, self.pairs, self.traffic = http, base, pairs, traffic
        self.clients: list[SioClient] = []
        self.directions: list[Direction] = []

    async def connect(self) -> None:
        for pair in self.pairs:
            renter_index, owner_index = len(self.clients), len(self.clients) + 1
            renter = SioClient(self.http, self.base, "/chat", pair.renter.token)
            owner = SioClient(self.http, self.base, "/chat", pair.owner.token)
            for index, client in ((renter_index, renter), (owner_index, owner)):
                client.on_event = lambda event, data, i=index: self.traffic.on_event(i, event, data)
                self.clients.append(client)
            self.directions += [
                Direction(renter, owner_index, pair.chat_id),
                Direction(owner, renter_index, pair.chat_id),
            ]
        await bounded(32, (c.connect() for c in self.clients))
        for pair, (renter, owner) in zip(
            self.pairs, zip(self.clients[::2], self.clients[1::2], strict=True), strict=True
        ):
            for client in (renter, owner):
                ack = await client.call("join_chat", {"chat_id": pair.chat_id})
                if not (isinstance(ack, dict) and ack.get("ok")):
                    raise HarnessError(f"join_chat refused: {ack}")

    @property
    def negotiated(self) -> set[int]:
        return {c.negotiated_compress for c in self.clients}

    @property
    def dropped(self) -> int:
        return sum(c.dropped for c in self.clients)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


# --------------------------------------------------------------------------------------------- measures


@contextlib.contextmanager
def generator_gc_paused() -> Iterator[None]:
    """No garbage collection in the load generator while it measures. Its bookkeeping (every key sent,
    acked and delivered) grows through a run, and a full collection of it stopped this process for ~40 ms:
    the messages in flight then looked 20-40 ms late, and that run's p99 with them, whichever server it
    measured. Collected once before and after instead; a window's cyclic garbage is a few MB."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@dataclass
class Sample:
    value: float
    lost: int = 0
    duplicates: int = 0
    errors: int = 0
    note: str = ""
    per_cpu: float = 0.0  # saturation: deliveries per server CPU-second (robust to a busy machine)


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
    sample = Sample(rate, traffic.lost, traffic.duplicates, sum(traffic.errors.values()) + traffic.unacked)
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
    errors = sum(traffic.errors.values()) + traffic.unacked
    note = (
        f"p50 {p50 * 1000:.1f} ms, {measured} msgs sent, {len(traffic.latencies)} delivered, "
        f"server busy {busy:.0%} of its core, hypervisor steal on the server core {steal:.0%}"
    )
    return Sample(p99 * 1000, traffic.lost, traffic.duplicates, errors, note)


async def with_fleet(
    http: aiohttp.ClientSession,
    workdir: Path,
    kind: str,
    pairs: int,
    body: Callable[[Fleet, Server], Awaitable[Any]],
) -> Any:
    async with running(kind, workdir) as server:
        fleet = Fleet(http, server.base, await make_pairs(http, server, pairs), Traffic())
        try:
            await fleet.connect()
            result = await body(fleet, server)
            if fleet.dropped:
                raise HarnessError(f"{kind}: {fleet.dropped} connections dropped during the run")
            return result, fleet.negotiated
        finally:
            await fleet.close()


async def memory_per_client(http: aiohttp.ClientSession, workdir: Path, kind: str, clients: int) -> Sample:
    async with running(kind, workdir) as server:
        if server.kind == "homer":
            tokens = [
                p.token
                for p, _ in await bounded(8, (register(http, server.base, "renter") for _ in range(50)))
            ]
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


async def fill_chat(fleet: Fleet, direction: Direction, count: int) -> None:
    """Send ``count`` messages in one direction as fast as acks allow (window of 32)."""
    traffic = fleet.traffic
    remaining = {"n": count}

    def next_one() -> None:
        if remaining["n"] > 0:
            remaining["n"] -= 1
            traffic.send(direction, next_one)

    for _ in range(min(32, count)):
        next_one()
    deadline = time.monotonic() + 600
    while (remaining["n"] > 0 or not traffic.settled()) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if remaining["n"] > 0:
        raise HarnessError("filling the chat did not finish")


# --------------------------------------------------------------------------------------------- report


@dataclass
class Row:
    case: str
    metric: str
    homer: list[Sample]
    baseline: list[Sample] | None
    baseline_name: str
    target: str
    meets: Callable[[float], bool]
    lower_ratio_is_better: bool = False
    ratio_override: float | None = None
    informational: bool = False
    notes: list[str] = field(default_factory=list)

    def ratio(self) -> float | None:
        if self.ratio_override is not None:
            return self.ratio_override
        if not self.baseline:
            return None
        base = statistics.median(s.value for s in self.baseline)
        return statistics.median(s.value for s in self.homer) / base if base else None


def spread(samples: list[Sample] | None) -> str:
    if not samples:
        return "-"
    values = [s.value for s in samples]
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def integrity(samples: Iterable[Sample]) -> tuple[int, int, int]:
    items = list(samples)
    return sum(s.lost for s in items), sum(s.duplicates for s in items), sum(s.errors for s in items)


def print_table(rows: list[Row]) -> None:
    header = (
        "case",
        "metric",
        "Homer min/med/max",
        "baseline min/med/max",
        "ratio",
        "target",
        "met",
        "lost/dup/err",
    )
    lines = []
    for row in rows:
        ratio = row.ratio()
        value = ratio if ratio is not None else statistics.median(s.value for s in row.homer)
        lost, dup, err = integrity(row.homer + (row.baseline or []))
        lines.append(
            (
                row.case,
                row.metric,
                spread(row.homer),
                f"{row.baseline_name}: {spread(row.baseline)}" if row.baseline else row.baseline_name,
                f"{ratio:.2f}" if ratio is not None else "-",
                row.target,
                "-" if row.informational else "yes" if row.meets(value) else "NO",
                f"{lost}/{dup}/{err}",
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    rule = "-+-".join("-" * w for w in widths)
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(rule)
    for line in lines:
        print(" | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
    print()
    for row in rows:
        for note in row.notes:
            print(f"  {row.case}: {note}")


def machine() -> str:
    model = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("aiohttp", "python-socketio", "python-engineio")
    )
    return (
        f"{os.cpu_count()} cpus ({model}), Python {platform.python_version()}, {versions}; "
        f"servers on core {SERVER_CORE}, load generator on core {LOADGEN_CORE}"
    )


# --------------------------------------------------------------------------------------------- cases


@dataclass
class Plan:
    runs: int
    pairs: int
    window: int
    saturation_seconds: float
    latency_seconds: float
    idle_clients: int
    history_small: int
    history_large: int
    history_requests: int
    storm_seconds: float
    storm_logins_per_second: float
    storm_load_fraction: float
    storm_pairs: int


FULL = Plan(3, 10, 8, 5.0, 8.0, 2000, 10, 10_000, 40, 8.0, 20.0, 0.25, 4)
QUICK = Plan(2, 4, 4, 1.5, 2.0, 200, 10, 500, 10, 2.0, 20.0, 0.25, 2)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def case_saturation(
    http: aiohttp.ClientSession, workdir: Path, plan: Plan, kinds: list[str]
) -> dict[str, list[Sample]]:
    results: dict[str, list[Sample]] = {k: [] for k in kinds}
    for run in range(plan.runs):
        for kind in kinds:

            async def body(fleet: Fleet, server: Server) -> tuple[Sample, str]:
                return await saturate(fleet, server, seconds=plan.saturation_seconds, window=plan.window)

            (sample, note), negotiated = await with_fleet(http, workdir, kind, plan.pairs, body)
            sample.note = f"{note}, deflate negotiated {sorted(negotiated)}"
            results[kind].append(sample)
            log(f"saturation run {run + 1} {kind}: {sample.value:.0f} msg/s ({sample.note})")
    return results


async def case_latency(
    http: aiohttp.ClientSession, workdir: Path, plan: Plan, kinds: list[str], rate: float
) -> dict[str, list[Sample]]:
    results: dict[str, list[Sample]] = {k: [] for k in kinds}
    for run in range(plan.runs):
        for kind in kinds:

            async def body(fleet: Fleet, server: Server) -> Sample:
                return await fixed_load(fleet, server, rate=rate, seconds=plan.latency_seconds)

            sample, _ = await with_fleet(http, workdir, kind, plan.pairs, body)
            results[kind].append(sample)
            log(
                f"latency run {run + 1} {kind} at {rate:.0f} msg/s: p99 {sample.value:.1f} ms ({sample.note})"
            )
    return results


async def case_memory(
    http: aiohttp.ClientSession, workdir: Path, plan: Plan, kinds: list[str]
) -> dict[str, list[Sample]]:
    results: dict[str, list[Sample]] = {k: [] for k in kinds}
    for run in range(plan.runs):
        for kind in kinds:
            sample = await memory_per_client(http, workdir, kind, plan.idle_clients)
            results[kind].append(sample)
            log(f"memory run {run + 1} {kind}: {sample.value:.1f} KB per idle client ({sample.note})")
    return results


async def case_history(http: aiohttp.ClientSession, workdir: Path, plan: Plan) -> dict[str, list[Sample]]:
    """Two chats on one server, one grown to 10 messages and one to 10,000; each is opened (by its renter)
    and counted (by its owner, for whom all of the renter's messages are unread) in turn."""
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
            medians = await alternating_gets(http, requests, plan.history_requests)
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
        results["open large"][-1].errors = sum(traffic.errors.values()) + traffic.unacked

    await with_fleet(http, workdir, "homer", 2, body)
    return results


async def case_storm(
    http: aiohttp.ClientSession, workdir: Path, plan: Plan, rate: float
) -> dict[str, list[Sample]]:
    results: dict[str, list[Sample]] = {"idle": [], "storm": []}
    async with running("homer", workdir, bcrypt_rounds=12) as server:
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
                            plan.storm_logins_per_second,
                            plan.storm_seconds + 1,
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


async def login_storm(
    http: aiohttp.ClientSession, base: str, email: str, per_second: float, seconds: float
) -> str:
    """Open-loop logins at ``per_second``; at most 2 s worth in flight (the rest is counted as skipped)."""
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    in_flight: set[asyncio.Task[None]] = set()
    cap = int(per_second * 2)
    skipped = 0

    async def one() -> None:
        started = time.perf_counter()
        try:
            async with http.post(
                f"{base}/api/auth/login", json={"email": email, "password": PASSWORD}
            ) as response:
                await response.read()
                statuses[str(response.status)] += 1
        except aiohttp.ClientError as error:
            statuses[type(error).__name__] += 1
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    issued = 0
    while (now := time.perf_counter()) < started + seconds:
        while issued < int((now - started) * per_second):
            issued += 1
            if len(in_flight) >= cap:
                skipped += 1
                continue
            task = asyncio.create_task(one())
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.sleep(0.01)
    # Let the logins already accepted finish so the next phase starts on a quiet server (bounded).
    if in_flight:
        await asyncio.wait(set(in_flight), timeout=60)
    for task in list(in_flight):
        task.cancel()
    done = sum(statuses.values())
    p50 = statistics.median(latencies) if latencies else 0.0
    return (
        f"logins offered {issued / seconds:.1f}/s, completed {done} ({dict(statuses)}), "
        f"skipped {skipped} (>{cap} in flight), login p50 {p50:.2f} s"
    )


# --------------------------------------------------------------------------------------------- main


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


async def bench(args: argparse.Namespace) -> int:
    plan = QUICK if args.quick else FULL
    if args.runs:
        plan.runs = args.runs
    if args.window:
        plan.window = args.window
    if args.pairs:
        plan.pairs = args.pairs
    if args.history_messages:
        plan.history_large = args.history_messages
    cases = set(args.cases.split(","))
    kinds = args.servers.split(",")
    print(f"machine: {machine()}")
    print(f"plan: {plan}")
    print(
        f"Homer's store: {'MongoDB at ' + args.mongodb_url if args.mongodb_url else 'embedded (mongomock)'}"
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = plan.idle_clients * 2 + 1000
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
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

    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    with tempfile.TemporaryDirectory(prefix="homer-bench-") as scratch:
        workdir = Path(scratch)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            homer_max = args.rate
            if "saturation" in cases:
                sat = await case_saturation(http, workdir, plan, kinds)
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
                        notes=[f"{k} run {i + 1}: {s.note}" for k in kinds for i, s in enumerate(sat[k])],
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
                lat = await case_latency(http, workdir, plan, kinds, rate)
                rows.append(
                    Row(
                        "latency",
                        f"p99 ms @ {rate:.0f} msg/s",
                        lat.get("homer", []),
                        lat.get("relay"),
                        "relay",
                        "<= 2",
                        at_most(2.0),
                        notes=[f"{k} run {i + 1}: {s.note}" for k in kinds for i, s in enumerate(lat[k])],
                    )
                )
                variants("latency", f"p99 ms @ {rate:.0f} msg/s", lat)
            if "memory" in cases:
                mem = await case_memory(http, workdir, plan, kinds)
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
                        notes=[f"{k} run {i + 1}: {s.note}" for k in kinds for i, s in enumerate(mem[k])],
                    )
                )
                variants("memory", "KB per idle client", mem)
            if "history" in cases:
                his = await case_history(http, workdir, plan)
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
                storm = await case_storm(http, workdir, plan, rate)
                rows.append(
                    Row(
                        "storm",
                        f"chat p99 ms @ {rate:.0f} msg/s",
                        storm["storm"],
                        storm["idle"],
                        "no logins",
                        "<= 1.5",
                        at_most(1.5),
                        notes=[
                            f"{p} run {i + 1}: {s.note}"
                            for p in ("idle", "storm")
                            for i, s in enumerate(storm[p])
                        ],
                    )
                )
    print_table([row for row in rows if row.homer])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Homer vs a bare python-socketio relay (see the module doc)")
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--runs", type=int, default=0, help="runs per case (default 3, quick 2)")
    parser.add_argument(
        "--cases", default="saturation,latency,memory,history,storm", help="comma-separated subset"
    )
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
    args = parser.parse_args()
    STORE["mongodb_url"] = args.mongodb_url
    return run_on_loadgen_core(bench(args))


def run_on_loadgen_core(measure: Coroutine[Any, Any, int]) -> int:
    """Run a benchmark's main coroutine on the load generator's core: its exit status, or 2 with the reason
    on stderr when the harness failed or the run crashed (shared by every bench script)."""
    pin(LOADGEN_CORE)
    try:
        return asyncio.run(measure)
    except HarnessError as error:
        print(f"harness error: {error}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 2


if __name__ == "__main__":
    sys.exit(main())
