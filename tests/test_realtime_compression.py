"""Browsers offer permessage-deflate on every Socket.IO connection; Homer answers with plain frames.

Checked on the wire: a raw WebSocket handshake that offers the extension, the server's 101 headers, and
the RSV1 bit (RFC 7692's "this frame is compressed") of the frames that follow.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp import web
from aiohttp.test_utils import TestServer

from homer_rt.app import create_app
from homer_rt.appkeys import SOCKET_SERVER
from tests.factories import make_settings

OFFER = "permessage-deflate; client_max_window_bits"
RSV1 = 0x40


class Handshake:
    def __init__(self, status_line: str, headers: dict[str, str]) -> None:
        self.status_line = status_line
        self.headers = headers


async def open_raw_websocket(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Handshake]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Extensions: {OFFER}\r\n"
            "\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *lines = head.decode().strip().split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    return reader, writer, Handshake(status_line, headers)


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One server frame (servers never mask): returns (first header byte, payload)."""
    first, second = await asyncio.wait_for(reader.readexactly(2), 5)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return first, await reader.readexactly(length)


def client_text_frame(text: str) -> bytes:
    """A masked, uncompressed client text frame (short payloads only)."""
    payload = text.encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


async def start(tmp_path: Path, **overrides: Any) -> TestServer:
    app = create_app(make_settings(tmp_path, **overrides))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_offered_deflate_is_declined_and_frames_are_plain(tmp_path: Path) -> None:
    server = await start(tmp_path)
    try:
        reader, writer, handshake = await open_raw_websocket(server.port or 0)
        assert handshake.status_line.startswith("HTTP/1.1 101")
        assert "sec-websocket-extensions" not in handshake.headers

        first, payload = await read_frame(reader)  # engine.io OPEN
        assert first & RSV1 == 0
        assert payload.startswith(b'0{"sid"')

        writer.write(client_text_frame("40"))  # Socket.IO CONNECT to "/"
        first, payload = await read_frame(reader)
        assert first & RSV1 == 0
        assert payload.startswith(b"4")
        writer.close()
        await writer.wait_closed()
    finally:
        await server.close()


async def test_compression_setting_restores_the_library_default(tmp_path: Path) -> None:
    server = await start(tmp_path, socketio_websocket_compression=True)
    try:
        reader, writer, handshake = await open_raw_websocket(server.port or 0)
        assert handshake.headers.get("sec-websocket-extensions", "").startswith("permessage-deflate")
        first, _ = await read_frame(reader)
        assert first & RSV1 == RSV1
        writer.close()
        await writer.wait_closed()
    finally:
        await server.close()


class Echo(socketio.AsyncNamespace):  # type: ignore[misc]
    async def on_echo(self, sid: str, data: Any) -> Any:
        return data


@pytest.mark.parametrize("compression", [False, True])
async def test_socketio_client_offering_deflate_exchanges_events(tmp_path: Path, compression: bool) -> None:
    app: web.Application = create_app(make_settings(tmp_path, socketio_websocket_compression=compression))
    app[SOCKET_SERVER].register_namespace(Echo("/echo"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = socketio.AsyncClient(reconnection=False, websocket_extra_options={"compress": 15})
    try:
        await client.connect(
            f"http://127.0.0.1:{server.port}", namespaces=["/echo"], transports=["websocket"], wait_timeout=5
        )
        text = "नमस्ते, is the flat still available? " * 3
        assert await client.call("echo", {"message": text}, namespace="/echo", timeout=5) == {"message": text}
        assert bool(client.eio.ws.compress) is compression
    finally:
        await client.disconnect()
        await server.close()
