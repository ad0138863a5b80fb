"""Homer's frontend talks to /chat with the official JavaScript client (socket.io-client 4.x, pinned in
tests/js/package-lock.json): connect with auth.token, send, retry, receive, typing, receipts, sync, and a
refused connect that says why. Skipped only when node or npm is not installed."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.chat_support import base_url, make_chat

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
