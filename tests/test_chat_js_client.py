"""Homer's frontend talks to /chat with the official JavaScript client (socket.io-client 4.x, pinned in
tests/js/package-lock.json): connect with auth.token, send, retry, receive, typing, receipts, sync, and a
refused connect that says why; when its server shuts down, it reconnects by itself to the next one. Skipped
only when node or npm is not installed."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.chat_support import WAIT, base_url
from tests.factories import PASSWORD, make_chat
from tests.server_support import free_port, server_process

JS_DIR = Path(__file__).resolve().parent / "js"


async def _run(*command: str, within: float) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=JS_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def node() -> str:
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if node_bin is None or npm_bin is None:
        pytest.skip("node and npm are needed for the socket.io-client test (install Node.js 18+)")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        code, out, err = await _run(npm_bin, "ci", "--no-audit", "--no-fund", within=180)
        assert code == 0, f"npm ci failed:\n{out}\n{err}"
    return node_bin


async def test_official_javascript_client_chats(node: str, client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client, text="Hi from the renter")
    code, out, err = await _run(
        node, "chat_client.mjs", base_url(client), renter["token"], owner["token"], chat_id, within=60
    )
    assert code == 0, err
    result = json.loads(out)

    assert result["initialUnread"] == {"unread_count": 1, "chats": {chat_id: 1}}
    assert result["joined"]["ok"] is True
    assert result["joined"]["data"]["messages"][0]["message"] == "Hi from the renter"
    sent = result["sent"]["data"]
    assert result["sent"]["ok"] is True and sent["seq"] == 2
    assert result["retried"]["data"]["message_id"] == sent["message_id"]
    assert result["received"] == {"chat_id": chat_id, "message": sent}
    assert result["ownerMessages"] == 1
    assert result["typing"] == {"chat_id": chat_id, "user_id": owner["user"]["user_id"], "is_typing": True}
    assert result["markRead"]["ok"] is True
    assert result["receipt"]["reader_id"] == owner["user"]["user_id"] and result["receipt"]["up_to"] == 2
    assert [m["message_id"] for m in result["sync"]["data"]["chats"][chat_id]["messages"]] == [
        sent["message_id"]
    ]
    assert result["refused"]["message"]
    assert result["refused"]["data"]["code"]
    # The client starts on long-polling and upgrades, as browsers do.
    assert result["transport"] in ("websocket", "polling")


async def test_official_client_reconnects_by_itself_when_its_server_shuts_down(
    node: str, tmp_path: Path
) -> None:
    """A deploy: the server gets SIGTERM, and the next one starts on the same address (and data file)."""
    port, env = free_port(), {"EMBEDDED_DATA_FILE": str(tmp_path / "data.json")}
    async with aiohttp.ClientSession() as session:
        with server_process(port, tmp_path, env=env, name="-first") as first:
            await first.wait_ready(session)
            body = {
                "email": "restart@example.com",
                "phone": "+919800000001",
                "password": PASSWORD,
                "user_type": "renter",
                "full_name": "Reconnecting Renter",
            }
            async with session.post(f"{first.url}/api/auth/register", json=body) as response:
                assert response.status == 200, await response.text()
                token = (await response.json())["token"]
            client = await asyncio.create_subprocess_exec(
                node, "restart_client.mjs", first.url, token, cwd=JS_DIR, stdout=asyncio.subprocess.PIPE
            )
            assert client.stdout is not None
            events: list[dict[str, Any]] = []

            async def next_event() -> dict[str, Any]:
                assert client.stdout is not None
                line = await asyncio.wait_for(client.stdout.readline(), WAIT * 6)
                assert line, f"the client exited early after {events}"
                events.append(json.loads(line))
                return events[-1]

            try:
                # Browsers start on long-polling and upgrade; the shutdown is tried on the WebSocket.
                while (await next_event()).get("transport") != "websocket":
                    pass
                first.process.send_signal(signal.SIGTERM)
                assert await first.wait_exit() == 0
                assert await next_event() == {"event": "server_shutdown", "data": {"reconnect": True}}
                # "transport close", not "io server disconnect": the client is reconnecting by itself.
                assert await next_event() == {
                    "event": "disconnect",
                    "reason": "transport close",
                    "active": True,
                }
                with server_process(port, tmp_path, env=env, name="-second") as second:
                    await second.wait_ready(session)
                    assert (await next_event())["event"] == "connect"
                    assert await asyncio.wait_for(client.wait(), WAIT * 6) == 0
            finally:
                if client.returncode is None:
                    client.kill()
                    await client.wait()
