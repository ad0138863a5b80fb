"""Every place Homer reaches past python-socketio's and python-engineio's public API, in one module.

Homer steps into the library's dispatch (to answer packets it would drop or mishandle, and to count the
event handlers that run), writes single-recipient events straight to their connection, closes transports
without the library's disconnect machinery, and reads a few of its internal tables. Those are private methods
and attributes, free to change in any release, so they are all here, behind public names the rest of the code
calls: ``HookedServer`` (hooks instead of overrides), ``SingleRecipientManager``, ``EmitHookRedisManager`` and
a few functions. Nothing outside this module names an underscore attribute of either library.

Two guards keep a library upgrade from changing behaviour silently:

- importing this module fails when the installed versions are outside ``SUPPORTED_VERSIONS``, the range
  pyproject.toml allows (a test keeps the two equal);
- tests/test_socketio_compat.py checks the signature of every private method overridden or called here
  (``PRIVATE_METHODS``), that every internal attribute read here exists, and that each hook is reached over
  a real connection. Read the library's changes, then those tests, before widening the range.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib import metadata
from typing import Any

import socketio
from aiohttp import web
from engineio import packet as engineio_packet
from socketio import packet as socketio_packet

log = logging.getLogger(__name__)

# Each distribution's supported range as [lowest, first unsupported): pyproject.toml's bounds.
SUPPORTED_VERSIONS: dict[str, tuple[str, str]] = {
    "python-socketio": ("5.18", "5.19"),
    "python-engineio": ("4.12", "5"),
}

# The private methods this module overrides or calls, by owner, with the parameters it relies on.
PRIVATE_METHODS: dict[tuple[type[Any], str], tuple[str, ...]] = {
    (socketio.AsyncServer, "_handle_eio_message"): ("self", "eio_sid", "data"),
    (socketio.AsyncServer, "_handle_event"): ("self", "eio_sid", "namespace", "id", "data"),
    (socketio.AsyncServer, "_handle_event_internal"): (
        "self",
        "server",
        "sid",
        "eio_sid",
        "data",
        "namespace",
        "id",
    ),
    (socketio.AsyncServer, "_send_packet"): ("self", "eio_sid", "pkt"),
    (socketio.AsyncServer, "_send_eio_packet"): ("self", "eio_sid", "eio_pkt"),
    (socketio.AsyncRedisManager, "_handle_emit"): ("self", "message"),
}

Ack = dict[str, Any]


class UnsupportedLibraryVersion(RuntimeError):
    """python-socketio or python-engineio is outside the range this module was written against."""


def _release(version: str) -> tuple[int, ...]:
    """The numeric release of a version string: ``5.18.1`` -> (5, 18, 1); ``5.19.0rc1`` -> (5, 19, 0)."""
    parts = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() < len(part):
            break
    return tuple(parts)


def check_versions(installed: Callable[[str], str] = metadata.version) -> None:
    """Raise UnsupportedLibraryVersion unless every distribution is within SUPPORTED_VERSIONS."""
    for name, (lowest, first_unsupported) in SUPPORTED_VERSIONS.items():
        version = installed(name)
        if not _release(lowest) <= _release(version) < _release(first_unsupported):
            raise UnsupportedLibraryVersion(
                f"{name} {version} is installed; Homer RT supports >={lowest},<{first_unsupported}. It "
                "relies on its internals (homer_rt/socketio_compat.py): read the release's changes "
                "and run tests/test_socketio_compat.py before moving the bound in pyproject.toml and here."
            )


check_versions()


# ---- packets ---------------------------------------------------------------------------------------------

# An event packet's head: type 2 (or 5, binary, with its attachment count), an optional namespace (with a
# query, which python-socketio drops), an optional ack id, then its JSON.
_EVENT_HEAD = re.compile(r"[25](?:\d+-)?(?:(/[^,?\[]*)(?:\?[^,]*)?,)?(\d*)")
BINARY_PACKET_TYPES = ("5", "6")


def json_packet_class(json: Any) -> type[Any]:
    """A Socket.IO packet class that encodes and decodes with ``json`` (a module-like object with ``dumps``
    and ``loads``) and never looks for binary data in what it sends.

    Without the second, every outgoing packet walks its whole payload looking for bytes to send as binary
    attachments. (The server's ``json=`` argument would set the codec on the library's own Packet class, for
    every server in the process.)"""

    class JsonPacket(socketio_packet.Packet):  # type: ignore[misc]
        uses_binary_events = False

    JsonPacket.json = json
    return JsonPacket


# ---- the server ------------------------------------------------------------------------------------------


class HookedServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's AsyncServer with public hooks where Homer steps into its packet dispatch.

    A subclass overrides ``screen_packet``, ``screen_event`` and ``running_event``. Packets are text only: a
    binary packet (types 5 and 6) reaches ``screen_packet`` like any other and must be refused there, and the
    binary attachment frames that would follow it are dropped, never decoded."""

    def screen_packet(self, packet: str) -> Ack | None:
        """A client's packet before it is decoded: an error ack to answer it with (when it asked for an ack)
        instead of handling it, or None to handle it."""
        return None

    def screen_event(self, event: object) -> Ack | None:
        """A decoded event packet before python-socketio looks up its handler: ``event`` is the name the
        client sent (any JSON value). An error ack to answer it with instead, or None to dispatch it."""
        return None

    def running_event(self) -> AbstractContextManager[None]:
        """Entered around each event handler, in the task that runs it."""
        return contextlib.nullcontext()

    def is_reserved_event(self, event: str) -> bool:
        """Whether ``event`` is a lifecycle event (connect, disconnect) python-socketio dispatches itself."""
        return event in self.reserved_events

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if not isinstance(data, str):
            return  # a binary attachment: its packet was refused by screen_packet
        refusal = self.screen_packet(data)
        if refusal is not None:
            match = _EVENT_HEAD.match(data[:200])
            if match is not None and match.group(2):
                await self.send_ack(eio_sid, match.group(1), int(match.group(2)), refusal)
            return
        await super()._handle_eio_message(eio_sid, data)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        refusal = self.screen_event(data[0] if isinstance(data, list) and data else None)
        if refusal is None:
            await super()._handle_event(eio_sid, namespace, id, data)
        elif id is not None:
            await self.send_ack(eio_sid, namespace, id, refusal)

    async def _handle_event_internal(self, *args: Any) -> None:
        with self.running_event():
            await super()._handle_event_internal(*args)

    async def send_ack(self, eio_sid: str, namespace: str | None, id: int, ack: Ack) -> None:
        """Answer the client's event ``id`` on ``namespace`` with ``ack``."""
        await self._send_packet(
            eio_sid, self.packet_class(socketio_packet.ACK, namespace=namespace or "/", id=id, data=[ack])
        )


# ---- managers --------------------------------------------------------------------------------------------


class SingleRecipientManager(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's in-process manager, writing an event for one connection straight to its queue.

    The library starts a task per recipient and waits for all of them, even when there is one, as for
    almost every chat message, receipt and count: at saturation that machinery took ~9% of the server's
    time, more than writing the packet. Events for several connections, and events expecting a callback,
    go through the library as before. Like the library's tasks, a failed write is logged, not raised to
    the service that emitted (the message is stored by then)."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        target = to or room
        if callback is None and namespace in self.rooms:
            skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
            recipients = [eio for sid, eio in self.get_participants(namespace, target) if sid not in skipped]
            if not recipients:
                return
            if len(recipients) == 1:
                args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
                encoded = self.server.packet_class(
                    socketio_packet.EVENT, namespace=namespace, data=[event, *args]
                ).encode()
                try:
                    for part in encoded if isinstance(encoded, list) else [encoded]:
                        await self.server._send_eio_packet(
                            recipients[0], engineio_packet.Packet(engineio_packet.MESSAGE, part)
                        )
                except Exception:
                    log.exception("could not send %s to %s", event, recipients[0])
                return
        await super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
        )


class EmitHookRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager, calling ``emitted`` in every process once an event published through
    Redis (this process's own included) has gone to this process's connections."""

    async def emitted(self, *, event: str, namespace: str, room: object) -> None:
        """Hook: ``event`` went to this process's connections in ``room`` (a room name, a list of them, a sid,
        or None for the whole namespace)."""

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        await super()._handle_emit(message)
        event = message.get("event")
        if isinstance(event, str):
            await self.emitted(
                event=event, namespace=message.get("namespace") or "/", room=message.get("room")
            )


# ---- reads of internal state -----------------------------------------------------------------------------


def room_members(manager: socketio.AsyncManager, namespace: str, room: str) -> list[str]:
    """The sids of this process's connections in ``room`` of ``namespace``."""
    return [sid for sid, _ in manager.get_participants(namespace, room)]


def is_connected(server: socketio.AsyncServer, sid: str, namespace: str) -> bool:
    """Whether the connection's connect has completed (the client has been told it is connected)."""
    return bool(server.manager.is_connected(sid, namespace))


def transport_open(server: socketio.AsyncServer, sid: str, namespace: str) -> bool:
    """Whether the engine.io transport under a Socket.IO connection is open (its client has not left)."""
    eio_sid = server.manager.eio_sid_from_sid(sid, namespace)
    socket = server.eio.sockets.get(eio_sid) if eio_sid is not None else None
    return socket is not None and not socket.closed


def close_transports(server: socketio.AsyncServer) -> int:
    """Close every engine.io transport of this process once what is queued on it is sent, without engine.io's
    CLOSE packet, a Socket.IO DISCONNECT or python-socketio's disconnect handling. How many it closed.

    This is AsyncSocket.close(abort=True) minus its disconnect event: the transport's writer ends once its
    queue drains, and then closes the WebSocket (a long-polling GET answers at once, and the session is gone
    for the client's next one)."""
    sockets = list(server.eio.sockets.items())
    for eio_sid, socket in sockets:
        socket.closing = socket.closed = True
        socket.queue.put_nowait(None)
        del server.eio.sockets[eio_sid]
    return len(sockets)


def connect_request(environ: dict[str, Any]) -> web.Request | None:
    """The aiohttp request that opened a connection, which engine.io's aiohttp driver keeps in its environ."""
    request = environ.get("aiohttp.request")
    return request if isinstance(request, web.Request) else None
