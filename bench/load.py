"""The load: lean Socket.IO clients, the users and chats they act as, and the senders that drive them while
counting every message (acks, deliveries, latency, loss, duplicates).

SioClient is a Socket.IO v5 / Engine.IO v4 client over aiohttp's WebSocket client. python-socketio's
AsyncClient costs a task, a queue and several callbacks per connection; thousands of them in one
load-generator process would measure the client. This speaks the same text protocol directly and, like
browsers and socket.io-client, OFFERS permessage-deflate (``compress=15``): whether the server accepts it
is recorded per connection (``negotiated_compress``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.harness import HarnessError, Server

EventHandler = Callable[[str, Any], None]

OFFERED_COMPRESS = 15  # window bits offered, as browsers do


class ProtocolError(Exception):
    pass


class SioClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, namespace: str, token: str) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        self._namespace = namespace
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._connected: asyncio.Future[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.on_event: EventHandler | None = None
        self.negotiated_compress = 0
        self.dropped = False  # the server closed the connection while we still wanted it
        self._pending: set[asyncio.Future[None]] = set()
        self._closing = False
        self._prefix = "" if namespace == "/" else namespace + ","

    async def connect(self, within: float = 30.0) -> None:
        self._ws = await self._session.ws_connect(
            self._url,
            compress=OFFERED_COMPRESS,
            autoping=True,
            max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(),
        )
        self.negotiated_compress = self._ws.compress
        open_msg = await asyncio.wait_for(self._ws.receive(), within)
        if open_msg.type != aiohttp.WSMsgType.TEXT or not open_msg.data.startswith("0"):
            raise ProtocolError(f"expected engine.io OPEN, got {open_msg.type} {open_msg.data!r:.80}")
        loop = asyncio.get_running_loop()
        self._connected = loop.create_future()
        self._reader = asyncio.create_task(self._read_loop())
        await self._ws.send_str("40" + self._prefix + json.dumps({"token": self._token}))
        await asyncio.wait_for(self._connected, within)

    async def _read_loop(self) -> None:
        assert self._ws is not None
        ws = self._ws
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                self._dispatch(msg.data)
        finally:
            self.dropped = not self._closing
            error = ConnectionError("socket closed")
            if self._connected is not None and not self._connected.done():
                self._connected.set_exception(error)
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(error)
            self._acks.clear()

    def _dispatch(self, data: str) -> None:
        kind = data[0]
        if kind == "2":  # engine.io PING from the server: answer or be dropped
            assert self._ws is not None
            pong = asyncio.ensure_future(self._ws.send_str("3"))
            self._pending.add(pong)
            pong.add_done_callback(self._pending.discard)
            return
        if kind != "4":
            return
        sio_type = data[1]
        body = data[2:]
        if self._prefix and not body.startswith(self._prefix):
            return
        body = body[len(self._prefix) :]
        if sio_type == "2":  # EVENT
            if self.on_event is not None:
                event, *args = json.loads(body)
                self.on_event(event, args[0] if args else None)
        elif sio_type == "3":  # ACK
            bracket = body.index("[")
            ack_id = int(body[:bracket])
            future = self._acks.pop(ack_id, None)
            if future is not None and not future.done():
                args = json.loads(body[bracket:])
                future.set_result(args[0] if args else None)
        elif sio_type in "04" and self._connected is not None and not self._connected.done():
            if sio_type == "0":  # CONNECT accepted
                self._connected.set_result(None)
            else:  # CONNECT_ERROR
                self._connected.set_exception(ProtocolError(f"connect refused: {body[:200]}"))

    def emit_with_ack(self, event: str, data: Any) -> asyncio.Future[Any]:
        """Send an event now; the returned future resolves with the server's ack payload."""
        assert self._ws is not None
        ack_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        frame = "42" + self._prefix + str(ack_id) + json.dumps([event, data], separators=(",", ":"))
        sending = asyncio.ensure_future(self._ws.send_str(frame))
        self._pending.add(sending)
        sending.add_done_callback(self._pending.discard)
        sending.add_done_callback(lambda task: _propagate(task, future))
        return future

    async def call(self, event: str, data: Any, within: float = 30.0) -> Any:
        return await asyncio.wait_for(self.emit_with_ack(event, data), within)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


def _propagate(task: asyncio.Future[None], future: asyncio.Future[Any]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None and not future.done():
        future.set_exception(error)


# --------------------------------------------------------------------------------------------- parties

PASSWORD = "bench-password-123"
TEXT = "Hi! Is the 2BHK near Koramangala still available from May? Could I visit on Saturday morning?"
# Tags this run's emails (and MongoDB databases): unique across runs against one MongoDB.
RUN_TAG = uuid.uuid4().hex[:6]


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


async def check(response: aiohttp.ClientResponse, what: str) -> Any:
    if response.status != 200:
        raise HarnessError(f"{what}: HTTP {response.status} {(await response.text())[:300]}")
    return await response.json()


async def register(http: aiohttp.ClientSession, base: str, user_type: str) -> tuple[Party, str]:
    n = next(_identities)
    email = f"bench-{RUN_TAG}-{n}@example.com"
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


async def register_renters(http: aiohttp.ClientSession, base: str, count: int) -> list[str]:
    """Tokens of ``count`` fresh renters (registered 8 at a time)."""
    return [p.token for p, _ in await bounded(8, (register(http, base, "renter") for _ in range(count)))]


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


# --------------------------------------------------------------------------------------------- senders


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

    @property
    def failed(self) -> int:
        """Error acks, failed acks and sends never acked."""
        return sum(self.errors.values()) + self.unacked


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


async def login_storm(
    http: aiohttp.ClientSession, base: str, email: str, *, per_second: float, seconds: float
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
