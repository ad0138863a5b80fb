"""What an operator reads: one JSON access line per request, request ids end to end, no secrets.

Logs are captured as the server writes them in production (homer_rt.logs.configure_logging with
LOG_FORMAT=json), at DEBUG, the most talkative level an operator can choose.
"""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from homer_rt.logs import REDACTED, configure_logging, redact_secrets
from homer_rt.services.chats import ChatService
from tests.chat_support import WAIT, base_url, connect, live
from tests.factories import PASSWORD, TEST_JWT_SECRET, ClientFactory, make_chat, make_settings

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class LogCapture:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Every line, parsed: each must be one JSON object."""
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def access(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["logger"] == "homer_rt.access"]


@pytest.fixture
def logs(tmp_path: Path) -> LogCapture:
    """Logging as the CLI configures it (conftest's autouse fixture undoes it after the test)."""
    stream = io.StringIO()
    configure_logging(make_settings(tmp_path, log_format="json", log_level="DEBUG"), stream=stream)
    return LogCapture(stream)


async def traced_client(
    aiohttp_client: ClientFactory, tmp_path: Path, **overrides: Any
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_settings(tmp_path, **overrides), clock=AdjustableClock()))


async def test_each_request_gets_an_id_echoed_back_and_one_json_access_line(
    client: TestClient[Any, Any], logs: LogCapture
) -> None:
    first = await client.get("/api/health")
    second = await client.get("/api/health")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids) and ids[0] != ids[1]

    lines = [line for line in logs.access() if line["route"] == "/api/health"]
    assert [line["request_id"] for line in lines] == ids
    line = lines[0]
    assert line["event"] == "http_request" and line["level"] == "info"
    assert line["method"] == "GET" and line["status"] == 200 and line["client"] == "127.0.0.1"
    assert isinstance(line["latency_ms"], int | float) and line["latency_ms"] >= 0
    assert "user_id" not in line and line["timestamp"].endswith("Z")


async def test_the_access_line_names_the_route_template_and_the_caller(
    client: TestClient[Any, Any], logs: LogCapture
) -> None:
    renter, _, _, chat_id = await make_chat(client)
    response = await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])
    assert response.status == 200
    missing = await client.get("/api/no/such/path?token=abc")
    assert missing.status == 404

    line = next(r for r in logs.access() if r["request_id"] == response.headers["X-Request-ID"])
    assert line["route"] == "/api/chats/{chat_id}" and chat_id not in json.dumps(line)
    assert line["user_id"] == renter["user_id"] and line["status"] == 200
    # A path no route matches is one label, never the path a client made up.
    unknown = next(r for r in logs.access() if r["request_id"] == missing.headers["X-Request-ID"])
    assert unknown["route"] == "unmatched" and unknown["status"] == 404
    # Errors carry the id too, so a client can quote it.
    login = await client.post("/api/auth/login", json={"email": renter["email"], "password": "wrong-one"})
    assert login.status == 401 and GENERATED_ID.fullmatch(login.headers["X-Request-ID"])


async def test_a_trusted_proxy_s_request_id_is_kept_and_a_client_s_is_not(
    aiohttp_client: ClientFactory, tmp_path: Path, logs: LogCapture
) -> None:
    behind_proxy = await traced_client(aiohttp_client, tmp_path / "proxy", trusted_proxies="127.0.0.1/32")
    response = await behind_proxy.get(
        "/api/health", headers={"X-Request-ID": "lb-7f3a:01.2_x", "X-Forwarded-For": "203.0.113.9"}
    )
    assert response.headers["X-Request-ID"] == "lb-7f3a:01.2_x"
    line = next(r for r in logs.access() if r["request_id"] == "lb-7f3a:01.2_x")
    assert line["client"] == "203.0.113.9"
    # Not an id worth keeping (too long, or characters that have no place in one): a fresh one instead.
    for bad in ["x" * 129, "a b", '"},{"level":"critical', ""]:
        response = await behind_proxy.get("/api/health", headers={"X-Request-ID": bad})
        assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"]), bad

    direct = await traced_client(aiohttp_client, tmp_path / "direct")
    response = await direct.get("/api/health", headers={"X-Request-ID": "forged-by-the-client"})
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])
    assert "forged-by-the-client" not in logs.text


async def test_socket_events_log_with_their_own_id_and_the_user(
    client: TestClient[Any, Any], logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    renter, _, _, chat_id = await make_chat(client)

    async def store_fails(self: ChatService, **_: Any) -> Any:
        logging.getLogger("homer_rt.services.chats").warning("store did not answer")
        raise RuntimeError("store down")

    async with live(base_url(client), renter["token"]) as sio:
        await sio.ok("mark_read", {"chat_id": chat_id})
        monkeypatch.setattr(ChatService, "open_chat", store_fails)
        error = await sio.error("join_chat", {"chat_id": chat_id})
        assert error["code"] == "internal_error"

    records = logs.records()
    events = [r for r in records if r["logger"] == "homer_rt.socket_events"]
    mark_read = next(r for r in events if r["socket_event"] == "mark_read")
    join = next(r for r in events if r["socket_event"] == "join_chat")
    assert mark_read["user_id"] == join["user_id"] == renter["user_id"]
    assert mark_read["namespace"] == "/chat" and join["error_code"] == "internal_error"
    assert GENERATED_ID.fullmatch(mark_read["request_id"]) and mark_read["request_id"] != join["request_id"]
    # What the handler logged, and the traceback of its failure, carry the event's id and user.
    inside = [r for r in records if r.get("request_id") == join["request_id"] and r is not join]
    assert {r["event"] for r in inside} >= {
        "store did not answer",
        "unhandled error in socket event on_join_chat",
    }
    assert all(r["user_id"] == renter["user_id"] for r in inside)
    failure = next(r for r in inside if r["level"] == "error")
    assert "RuntimeError: store down" in failure["exception"]
    # An event is a DEBUG line, never INFO: the chat send path stays cheap at the default level.
    assert all(r["level"] == "debug" for r in events)


async def test_no_password_token_or_secret_reaches_the_log(
    aiohttp_client: ClientFactory, tmp_path: Path, logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics_token = "metrics-token-for-the-log-test"
    client = await traced_client(aiohttp_client, tmp_path, metrics_token=metrics_token)
    renter, owner, _, chat_id = await make_chat(client)
    login = await client.post("/api/auth/login", json={"email": owner["email"], "password": PASSWORD})
    assert login.status == 200
    tokens = [renter["token"], owner["token"], (await login.json())["token"]]
    wrong = await client.post("/api/auth/login", json={"email": owner["email"], "password": PASSWORD + "x"})
    assert wrong.status == 401
    assert (await client.get("/api/auth/me", headers=renter["headers"])).status == 200
    forged = renter["token"][:-4] + "AAAA"
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})).status == 401
    scrape = await client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert scrape.status == 200
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}x"})).status == 401

    # A socket connect with ?token=, a chat message over it, and one refused with a forged token.
    via_query = socketio.AsyncClient(reconnection=False)
    await via_query.connect(
        f"{base_url(client)}?token={tokens[0]}",
        namespaces=["/chat"],
        transports=["websocket"],
        wait_timeout=WAIT,
    )
    ack = await via_query.call(
        "send_message", {"chat_id": chat_id, "message": f"my password is {PASSWORD}"}, namespace="/chat"
    )
    assert ack["ok"] is True
    await via_query.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(base_url(client), forged)

    # A failure whose exception quotes the caller's token (a bug anywhere would look like this).
    async def leaky(self: ChatService, **_: Any) -> Any:
        raise RuntimeError(f"could not list chats for token {tokens[1]}")

    monkeypatch.setattr(ChatService, "list_chats", leaky)
    assert (await client.get("/api/chats", headers=owner["headers"])).status == 500

    text = logs.text
    assert len(logs.access()) >= 10 and "could not list chats" in text  # the session was logged
    for secret in [PASSWORD, TEST_JWT_SECRET, metrics_token, forged, *tokens]:
        assert secret not in text
    assert "eyJ" not in text  # no JWT at all, whole or in part


def test_fields_named_like_secrets_and_tokens_in_text_are_redacted() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLWJ5dGVz"
    event = redact_secrets(
        None,
        "info",
        {
            "event": f"retrying with Bearer {token}",
            "new_password": "hunter2hunter2",
            "headers": {"Authorization": "Basic dXNlcjpwYXNz", "Accept": "*/*"},
            "url": "/socket.io/?EIO=4&token=abc.def.ghi&transport=websocket",
            "user_id": "u-1",
        },
    )
    assert event == {
        "event": f"retrying with {REDACTED}",
        "new_password": REDACTED,
        "headers": {"Authorization": REDACTED, "Accept": "*/*"},
        "url": f"/socket.io/?EIO=4&token={REDACTED}&transport=websocket",
        "user_id": "u-1",
    }


async def test_an_engine_io_error_is_logged_once(client: TestClient[Any, Any], logs: LogCapture) -> None:
    response = await client.get("/socket.io/?EIO=4&transport=polling&sid=no-such-session")
    assert response.status == 400
    lines = [r for r in logs.records() if "Invalid session" in r["event"]]
    assert len(lines) == 1 and lines[0]["logger"] == "engineio.server"
    # python-engineio and python-socketio had handlers of their own too, which printed each error again.
    for name in ("engineio.server", "socketio.server"):
        assert logging.getLogger(name).handlers == []
