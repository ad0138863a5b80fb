"""Helpers shared by the chat tests: real Socket.IO clients (websocket transport) that record what the server
pushes, and waiting for effects. Chats themselves come from tests/factories.py (make_chat)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestClient

from homer_rt.appkeys import CHATS, SOCKET_SERVER

WAIT = 5.0


def base_url(client: TestClient[Any, Any]) -> str:
    return str(client.make_url("/")).rstrip("/")


class Recorder:
    """Everything a connected client was sent, by event, with a way to wait for what is expected."""

    def __init__(self) -> None:
        self.events: dict[str, list[Any]] = defaultdict(list)
        self._changed = asyncio.Condition()

    def handler(self, event: str) -> Callable[..., Any]:
        async def record(data: Any = None) -> None:
            async with self._changed:
                self.events[event].append(data)
                self._changed.notify_all()

        return record

    async def wait_for(
        self, event: str, predicate: Callable[[Any], bool] = lambda _: True, *, within: float = WAIT
    ) -> Any:
        async def found() -> Any:
            async with self._changed:
                while True:
                    for item in self.events[event]:
                        if predicate(item):
                            return item
                    await self._changed.wait()

        return await asyncio.wait_for(found(), within)

    async def wait_count(self, event: str, count: int, *, within: float = WAIT) -> list[Any]:
        async def reached() -> list[Any]:
            async with self._changed:
                while len(self.events[event]) < count:
                    await self._changed.wait()
                return list(self.events[event])

        return await asyncio.wait_for(reached(), within)


CHAT_EVENTS = ("message", "typing", "read", "unread_count", "chat_created", "presence", "session_ended")
NOTIFICATION_EVENTS = ("notification", "unread_notifications")


class LiveClient:
    def __init__(self, sio: socketio.AsyncClient, recorder: Recorder, namespace: str) -> None:
        self.sio = sio
        self.recorder = recorder
        self.namespace = namespace

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=WAIT)

    async def ok(self, event: str, data: Any = None) -> Any:
        ack = await self.call(event, data)
        assert ack["ok"] is True, ack
        return ack["data"]

    async def error(self, event: str, data: Any = None) -> dict[str, Any]:
        ack = await self.call(event, data)
        assert ack["ok"] is False, ack
        error: dict[str, Any] = ack["error"]
        return error


async def connect(
    url: str,
    token: str | None,
    *,
    namespace: str = "/chat",
    auth: Any = None,
    headers: dict[str, str] | None = None,
) -> LiveClient:
    sio = socketio.AsyncClient(reconnection=False)
    recorder = Recorder()
    for event in CHAT_EVENTS if namespace == "/chat" else NOTIFICATION_EVENTS:
        sio.on(event, recorder.handler(event), namespace=namespace)
    await sio.connect(
        url,
        namespaces=[namespace],
        transports=["websocket"],
        auth=auth if auth is not None else ({"token": token} if token else None),
        headers=headers or {},
        wait_timeout=WAIT,
    )
    return LiveClient(sio, recorder, namespace)


@contextlib.asynccontextmanager
async def live(url: str, token: str | None, *, namespace: str = "/chat") -> AsyncIterator[LiveClient]:
    client = await connect(url, token, namespace=namespace)
    try:
        yield client
    finally:
        await client.sio.disconnect()


async def eventually(check: Callable[[], Any], *, within: float = WAIT) -> Any:
    """Poll an async check until it returns something truthy (for effects without an event)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def leave_while_connecting(
    client: TestClient[Any, Any], token: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    """A raw ``/chat`` connect whose handler is held at its unread count while the body runs; the client then
    leaves before the handler finished. On exit the server has handled the leaving and the handler goes on."""
    chats = client.app[CHATS]
    entered, release = asyncio.Event(), asyncio.Event()
    counted = chats.unread_summary

    async def slow_count(*, user_id: str) -> dict[str, Any]:
        entered.set()
        await release.wait()
        summary: dict[str, Any] = await counted(user_id=user_id)
        return summary

    monkeypatch.setattr(chats, "unread_summary", slow_count)
    url = base_url(client).replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    # The server reads the close frame only after the connect handler returns: do not wait for its answer.
    async with client.session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=0.1)) as ws:
        assert (await asyncio.wait_for(ws.receive(), WAIT)).data.startswith("0")
        await ws.send_str("40/chat," + json.dumps({"token": token}))
        await asyncio.wait_for(entered.wait(), WAIT)
        yield
    sio = client.app[SOCKET_SERVER]

    async def disconnect_handled() -> bool:
        return not sio.environ  # python-socketio forgets a connection's environ once it handled its leaving

    await eventually(disconnect_handled)  # while the connect handler was still running
    monkeypatch.setattr(chats, "unread_summary", counted)
    release.set()
