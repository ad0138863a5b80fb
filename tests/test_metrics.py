"""/metrics as Prometheus scrapes it: served only where configured, and the numbers follow what happened."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from mongomock_motor import AsyncMongoMockClient
from prometheus_client.parser import text_string_to_metric_families
from pymongo import monitoring

from documents.base import collection_of
from documents.user import User
from homer_rt import store
from homer_rt.app import create_app
from homer_rt.appkeys import METRICS
from homer_rt.clock import AdjustableClock
from homer_rt.metrics import Metrics
from tests.chat_support import base_url, eventually, live
from tests.factories import PASSWORD, ClientFactory, make_chat, make_settings, register

TOKEN = "scrape-token-0123456789"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


async def metered_client(
    aiohttp_client: ClientFactory, tmp_path: Path, **overrides: Any
) -> TestClient[Any, Any]:
    settings = make_settings(tmp_path, **{"metrics_token": TOKEN, **overrides})
    return await aiohttp_client(create_app(settings, clock=AdjustableClock()))


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: TestClient[Any, Any]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics", headers=SCRAPE)
    assert response.status == 200, await response.text()
    return parse(await response.text())


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_are_not_served_unless_configured(client: TestClient[Any, Any]) -> None:
    response = await client.get("/metrics")
    assert response.status == 404
    assert (await response.json())["detail"] == "Not found"
    assert (await client.get("/metrics", headers=SCRAPE)).status == 404


async def test_on_the_main_port_metrics_need_the_token(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await metered_client(aiohttp_client, tmp_path)
    for headers in [{}, {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN}]:
        response = await client.get("/metrics", headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "metrics_token_required"
    user = await register(client)  # a user's token is not the metrics token
    assert (await client.get("/metrics", headers=user["headers"])).status == 401

    response = await client.get("/metrics", headers=SCRAPE)
    assert response.status == 200 and response.content_type == "text/plain"
    text = await response.text()
    assert "homer_http_requests_total" in text and "process_resident_memory_bytes" in text


async def test_http_requests_are_counted_by_route_template_method_and_status(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await metered_client(aiohttp_client, tmp_path)
    renter, _, _, chat_id = await make_chat(client)
    assert (await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])).status == 200
    assert (await client.get("/api/chats/not-a-chat", headers=renter["headers"])).status == 404
    assert (await client.get("/no/such/path")).status == 404

    samples = await scrape(client)
    route = "/api/chats/{chat_id}"
    assert value(samples, "homer_http_requests_total", route=route, method="GET", status="200") == 1
    assert value(samples, "homer_http_requests_total", route=route, method="GET", status="404") == 1
    assert value(samples, "homer_http_requests_total", route="unmatched", method="GET", status="404") == 1
    latency = "homer_http_request_duration_seconds_count"
    assert value(samples, latency, route=route, method="GET", status="200") == 1
    assert not any(chat_id in str(labels) for _, labels in samples)


async def test_logins_are_counted_by_outcome_and_limits_by_limiter(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await metered_client(aiohttp_client, tmp_path, login_attempts_per_account_and_address=2)
    user = await register(client)
    inactive = await register(client)
    statuses = []
    for password in [PASSWORD, "wrong-password-1", "wrong-password-2", PASSWORD]:
        response = await client.post("/api/auth/login", json={"email": user["email"], "password": password})
        statuses.append(response.status)
    assert statuses == [200, 401, 401, 429]
    await collection_of(User).update_one({"_id": inactive["user_id"]}, {"$set": {"is_active": False}})
    response = await client.post("/api/auth/login", json={"email": inactive["email"], "password": PASSWORD})
    assert response.status == 403

    samples = await scrape(client)
    assert value(samples, "homer_logins_total", outcome="success") == 1
    assert value(samples, "homer_logins_total", outcome="invalid_credentials") == 2
    assert value(samples, "homer_logins_total", outcome="rate_limited") == 1
    assert value(samples, "homer_logins_total", outcome="inactive") == 1
    refusals = "homer_rate_limit_refusals_total"
    assert value(samples, refusals, limiter="login_per_account_and_address") == 1


async def test_chat_sends_deliveries_and_refusals_are_counted(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await metered_client(aiohttp_client, tmp_path, chat_send_rate_per_10s=2)
    renter, owner, _, chat_id = await make_chat(client)  # its first message: sent and delivered
    url = f"/api/chats/{chat_id}/messages"
    for text in ["one", "two", "three"]:
        await client.post(url, json={"message": text}, headers=owner["headers"])
    response = await client.post(
        "/api/chats/no-such-chat/messages", json={"message": "x"}, headers=renter["headers"]
    )
    assert response.status == 404

    samples = await scrape(client)
    assert value(samples, "homer_chat_messages_sent_total") == 3
    assert value(samples, "homer_chat_messages_delivered_total") == 3
    assert value(samples, "homer_chat_messages_refused_total", code="rate_limited") == 1
    assert value(samples, "homer_chat_messages_refused_total", code="chat_not_found") == 1
    assert value(samples, "homer_rate_limit_refusals_total", limiter="chat_send") == 1
    # Every ChatService.send is timed, refused ones too.
    assert value(samples, "homer_chat_send_duration_seconds_count") == 4


async def test_socket_connections_are_gauged_by_namespace(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await metered_client(aiohttp_client, tmp_path)
    user = await register(client)
    connections = "homer_socket_connections"
    async with (
        live(base_url(client), user["token"]),
        live(base_url(client), user["token"], namespace="/notifications"),
    ):
        samples = await scrape(client)
        assert value(samples, connections, namespace="/chat") == 1
        assert value(samples, connections, namespace="/notifications") == 1

    async def closed() -> bool:
        samples = await scrape(client)
        return (
            value(samples, connections, namespace="/chat")
            == value(samples, connections, namespace="/notifications")
            == 0
        )

    await eventually(closed)


async def test_the_metrics_port_serves_metrics_on_its_own(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(tmp_path, metrics_port=port)
    client = await aiohttp_client(create_app(settings, clock=AdjustableClock()))
    await client.get("/api/health")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            samples = parse(await response.text())
        async with session.get(f"http://127.0.0.1:{port}/api/health") as response:
            assert response.status == 404  # nothing but /metrics there
    assert value(samples, "homer_http_requests_total", route="/api/health", method="GET", status="200") == 1
    # Without a token the main port does not serve them.
    assert (await client.get("/metrics")).status == 404


async def test_with_a_token_the_metrics_port_asks_for_it_too(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await metered_client(aiohttp_client, tmp_path, metrics_port=port)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 401
        async with session.get(f"http://127.0.0.1:{port}/metrics", headers=SCRAPE) as response:
            assert response.status == 200


async def test_event_loop_lag_is_measured(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await metered_client(aiohttp_client, tmp_path)
    await client.app[METRICS].probe_event_loop_lag(interval=0)
    samples = await scrape(client)
    assert value(samples, "homer_event_loop_lag_seconds_count") >= 1


def test_mongodb_commands_are_timed_by_command_and_outcome() -> None:
    metrics = Metrics()
    listener = metrics.store_listener
    for duration_ms in (3, 40):
        listener.succeeded(
            monitoring.CommandSucceededEvent(
                timedelta(milliseconds=duration_ms), {"ok": 1}, "find", 1, ("db", 27017), None
            )
        )
    listener.failed(
        monitoring.CommandFailedEvent(timedelta(milliseconds=5), {"ok": 0}, "insert", 2, ("db", 27017), None)
    )
    samples = parse(metrics.exposition().decode())
    name = "homer_store_command_duration_seconds"
    assert value(samples, f"{name}_count", command="find", outcome="ok") == 2
    assert abs(value(samples, f"{name}_sum", command="find", outcome="ok") - 0.043) < 1e-9
    assert value(samples, f"{name}_count", command="insert", outcome="error") == 1


async def test_the_mongodb_client_reports_its_commands_to_the_app_s_metrics(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No MongoDB here: the client is made as for MongoDB, and the store under it is mongomock."""
    made_with: dict[str, Any] = {}

    def motor_client(url: str, **options: Any) -> Any:
        made_with.update(options, url=url)
        return AsyncMongoMockClient(tz_aware=True)

    monkeypatch.setattr(store, "AsyncIOMotorClient", motor_client)
    app = create_app(
        make_settings(tmp_path, mongodb_url="mongodb://db.invalid:27017"), clock=AdjustableClock()
    )
    client = await aiohttp_client(app)
    assert (await client.get("/api/health")).status == 200
    assert made_with["url"] == "mongodb://db.invalid:27017"
    assert made_with["event_listeners"] == [app[METRICS].store_listener]


def test_each_app_counts_in_a_registry_of_its_own(tmp_path: Path) -> None:
    first, second = (create_app(make_settings(tmp_path)) for _ in range(2))
    assert first[METRICS].registry is not second[METRICS].registry
