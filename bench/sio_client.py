"""A lean Socket.IO v5 / Engine.IO v4 client for load generation, over aiohttp's WebSocket client.

python-socketio's AsyncClient costs a task, a queue and several callbacks per connection; thousands of
them in one load-generator process would measure the client. This speaks the same text protocol
directly and, like browsers and socket.io-client, OFFERS permessage-deflate (``compress=15``): whether
the server accepts it is recorded per connection (``negotiated_compress``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from typing import Any

import aiohttp

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
