"""homer_rt/socketio_compat.py against the installed python-socketio and python-engineio: the version guard,
the signatures of the private methods it overrides or calls, the internal attributes it reads, and each hook
reached over a real connection. These tests are meant to fail when the library changes under the module."""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import tomllib
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp import web
from aiohttp.test_utils import TestClient

from homer_rt import socketio_compat
from homer_rt.socketio_compat import (
    PRIVATE_METHODS,
    SUPPORTED_VERSIONS,
    EmitHookRedisManager,
    HookedServer,
    SingleRecipientManager,
    UnsupportedLibraryVersion,
    check_versions,
    close_transports,
    connect_request,
    is_connected,
    json_packet_class,
    room_members,
    transport_open,
)
from tests.chat_support import eventually
from tests.factories import ClientFactory

WAIT = 5.0
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_supported_versions_are_the_range_pyproject_allows() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    for name, (lowest, first_unsupported) in SUPPORTED_VERSIONS.items():
        [declared] = [d for d in dependencies if re.match(rf"{re.escape(name)}\b", d)]
        assert declared.replace(" ", "") == f"{name}>={lowest},<{first_unsupported}"


@pytest.mark.parametrize(
    ("socketio_version", "engineio_version", "supported"),
    [
        ("5.18.1", "4.15.1", True),
        ("5.18.0", "4.12.0", True),
        ("5.19.0", "4.15.1", False),
        ("5.19.0rc1", "4.15.1", False),
        ("5.17.9", "4.15.1", False),
        ("6.0.0", "4.15.1", False),
        ("5.18.1", "5.0.0", False),
        ("5.18.1", "4.11.2", False),
    ],
)
def test_the_import_guard_refuses_versions_outside_the_range(
    socketio_version: str, engineio_version: str, supported: bool
) -> None:
    versions = {"python-socketio": socketio_version, "python-engineio": engineio_version}
    if supported:
        check_versions(versions.__getitem__)
    else:
        with pytest.raises(UnsupportedLibraryVersion, match="socketio_compat"):
            check_versions(versions.__getitem__)


def test_the_installed_versions_pass_the_guard() -> None:
    check_versions()


@pytest.mark.parametrize(
    ("owner", "name", "parameters"),
    [(owner, name, parameters) for (owner, name), parameters in PRIVATE_METHODS.items()],
    ids=[f"{owner.__name__}.{name}" for owner, name in PRIVATE_METHODS],
)
def test_the_private_methods_keep_their_signatures(
    owner: type[Any], name: str, parameters: tuple[str, ...]
) -> None:
    method = getattr(owner, name)
    assert inspect.iscoroutinefunction(method)
    assert tuple(inspect.signature(method).parameters) == parameters


def test_the_overridden_methods_are_the_ones_declared() -> None:
    """Every underscore method the compat classes define overrides one PRIVATE_METHODS lists (so its
    signature is checked above), and the public ones they override are still the library's."""
    declared = {(owner, name) for owner, name in PRIVATE_METHODS}
    for compat_class, library_class in (
        (HookedServer, socketio.AsyncServer),
        (EmitHookRedisManager, socketio.AsyncRedisManager),
        (SingleRecipientManager, socketio.AsyncManager),
    ):
        for name, value in vars(compat_class).items():
            if not callable(value) or name.startswith("__"):
                continue
            if name.startswith("_"):
                assert (library_class, name) in declared, name
            elif hasattr(library_class, name):
                assert inspect.iscoroutinefunction(getattr(library_class, name)) == (
                    inspect.iscoroutinefunction(value)
                ), name
    manager_emit = inspect.signature(socketio.AsyncManager.emit).parameters
    assert tuple(manager_emit)[:8] == (
        "self",
        "event",
        "data",
        "namespace",
        "room",
        "skip_sid",
        "callback",
        "to",
    )


def test_the_packet_class_attributes_read_are_there() -> None:
    assert socketio.packet.Packet.uses_binary_events is True  # the default the JSON packet class turns off
    codec = object()
    packet_class = json_packet_class(codec)
    assert issubclass(packet_class, socketio.packet.Packet)
    assert packet_class.json is codec and packet_class.uses_binary_events is False
    assert socketio.packet.Packet.json is not codec, "the library's own class is left alone"
    assert socketio.AsyncServer.reserved_events == ["connect", "disconnect"]


# ---- over a real connection -------------------------------------------------------------------------------


class RecordingServer(HookedServer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.packets: list[str] = []
        self.events: list[object] = []
        self.running = 0
        self.ran: list[int] = []

    def screen_packet(self, packet: str) -> dict[str, Any] | None:
        self.packets.append(packet)
        if packet.startswith(socketio_compat.BINARY_PACKET_TYPES):
            return {"ok": False, "error": {"code": "binary"}}
        return {"ok": False, "error": {"code": "big"}} if len(packet) > 400 else None

    def screen_event(self, event: object) -> dict[str, Any] | None:
        self.events.append(event)
        return {"ok": False, "error": {"code": "screened"}} if event == "refused" else None

    def running_event(self) -> AbstractContextManager[None]:
        @contextlib.contextmanager
        def counted() -> Iterator[None]:
            self.running += 1
            try:
                yield
            finally:
                self.running -= 1

        return counted()


class Echo(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self, server: RecordingServer) -> None:
        super().__init__("/echo")
        self._recording = server
        self.environs: dict[str, dict[str, Any]] = {}

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        self.environs[sid] = environ
        await self.enter_room(sid, "everyone")

    async def on_echo(self, sid: str, data: Any = None) -> Any:
        self._recording.ran.append(self._recording.running)
        return data


@contextlib.asynccontextmanager
async def echo_server(
    aiohttp_client: ClientFactory,
) -> AsyncIterator[tuple[RecordingServer, Echo, TestClient[Any, Any]]]:
    server = RecordingServer(
        async_mode="aiohttp",
        client_manager=SingleRecipientManager(),
        serializer=json_packet_class(json),
    )
    namespace = Echo(server)
    server.register_namespace(namespace)
    app = web.Application()
    server.attach(app)
    client = await aiohttp_client(app)
    try:
        yield server, namespace, client
    finally:
        await server.shutdown()


async def connected_client(client: TestClient[Any, Any]) -> tuple[socketio.AsyncClient, list[Any]]:
    sio = socketio.AsyncClient(reconnection=False)
    received: list[Any] = []

    async def record(data: Any) -> None:
        received.append(data)

    sio.on("pushed", record, namespace="/echo")
    await sio.connect(
        str(client.make_url("/")), namespaces=["/echo"], transports=["websocket"], wait_timeout=WAIT
    )
    return sio, received


async def test_the_hooks_are_reached_and_their_refusals_answered(aiohttp_client: ClientFactory) -> None:
    async with echo_server(aiohttp_client) as (server, _, client):
        sio, _ = await connected_client(client)
        try:
            assert await sio.call("echo", {"n": 1}, namespace="/echo", timeout=WAIT) == {"n": 1}
            assert server.ran == [1], "the handler ran inside running_event"
            assert server.running == 0
            assert "echo" in server.events
            assert any(p.startswith("2/echo,") and '"echo"' in p for p in server.packets)

            refused = await sio.call("refused", {}, namespace="/echo", timeout=WAIT)
            assert refused == {"ok": False, "error": {"code": "screened"}}
            big = await sio.call("echo", {"text": "x" * 500}, namespace="/echo", timeout=WAIT)
            assert big == {"ok": False, "error": {"code": "big"}}
            assert await sio.call("echo", b"\x00\x01", namespace="/echo", timeout=WAIT) == {
                "ok": False,
                "error": {"code": "binary"},
            }
            # The binary attachment frame that followed was dropped: the connection still works.
            assert await sio.call("echo", "again", namespace="/echo", timeout=WAIT) == "again"
            assert server.ran == [1, 1]
            assert server.is_reserved_event("connect") and not server.is_reserved_event("echo")
        finally:
            await sio.disconnect()


async def test_the_internal_reads_answer_on_a_live_connection(aiohttp_client: ClientFactory) -> None:
    async with echo_server(aiohttp_client) as (server, namespace, client):
        first, first_received = await connected_client(client)
        second, second_received = await connected_client(client)
        try:
            sid = first.get_sid("/echo")
            other = second.get_sid("/echo")
            assert sorted(room_members(server.manager, "/echo", "everyone")) == sorted([sid, other])
            assert is_connected(server, sid, "/echo")
            assert transport_open(server, sid, "/echo")
            request = connect_request(namespace.environs[sid])
            assert isinstance(request, web.Request) and request.path.startswith("/socket.io")

            # One recipient: written straight to its connection through the server's _send_eio_packet.
            sent: list[str] = []
            send_eio_packet = server._send_eio_packet

            async def spy(eio_sid: str, eio_pkt: Any) -> None:
                sent.append(eio_sid)
                await send_eio_packet(eio_sid, eio_pkt)

            server._send_eio_packet = spy
            await server.emit("pushed", {"to": "one"}, to=sid, namespace="/echo")
            await server.emit("pushed", {"to": "all"}, room="everyone", namespace="/echo")

            async def delivered() -> bool:
                return len(first_received) == 2 and len(second_received) == 1

            await eventually(delivered)
            assert first_received == [{"to": "one"}, {"to": "all"}] and second_received == [{"to": "all"}]
            assert len(sent) == 3

            assert close_transports(server) == 2

            async def closed() -> bool:
                return not first.connected and not second.connected

            await eventually(closed)
            assert not transport_open(server, sid, "/echo")
        finally:
            await first.disconnect()
            await second.disconnect()


async def test_the_redis_manager_hook_follows_each_emit_message() -> None:
    class Recording(EmitHookRedisManager):
        def __init__(self) -> None:
            super().__init__("redis://127.0.0.1:1/0", channel="compat-test", write_only=True)
            self.seen: list[tuple[str, str, object]] = []

        async def emitted(self, *, event: str, namespace: str, room: object) -> None:
            self.seen.append((event, namespace, room))

    manager = Recording()
    socketio.AsyncServer(client_manager=manager, async_mode="aiohttp")
    # The message python-socketio's pub/sub managers publish (AsyncPubSubManager.emit).
    message = {
        "method": "emit",
        "event": "session_ended",
        "data": [{"reason": "x"}],
        "binary": False,
        "namespace": "/chat",
        "room": "user:1",
        "skip_sid": None,
        "callback": None,
        "host_id": manager.host_id,
    }
    await manager._handle_emit(message)
    await manager._handle_emit({**message, "namespace": None, "room": None})
    assert manager.seen == [("session_ended", "/chat", "user:1"), ("session_ended", "/", None)]
