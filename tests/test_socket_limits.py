"""Live connections are capped per user (every namespace counted) and per client address in each process: the
connect past a cap is refused with ``too_many_connections``, and every way a connection ends frees its slot,
a refused or failed connect included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from homer_rt.app import create_app
from homer_rt.appkeys import CHATS
from homer_rt.clock import AdjustableClock
from tests.chat_support import WAIT, LiveClient, base_url, connect, eventually, leave_while_connecting
from tests.factories import ClientFactory, make_settings, register


async def capped_client(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    *,
    per_user: int = 30,
    per_address: int = 200,
    **settings: Any,
) -> TestClient[Any, Any]:
    values = make_settings(
        tmp_path, socket_connections_per_user=per_user, socket_connections_per_address=per_address, **settings
    )
    return await aiohttp_client(create_app(values, clock=AdjustableClock()))


async def refusal(
    url: str, token: str, namespace: str = "/chat", *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The ``connect_error`` data of a connect the server refuses."""
    sio = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    sio.on("connect_error", refusals.append, namespace=namespace)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            url,
            namespaces=[namespace],
            transports=["websocket"],
            auth={"token": token},
            headers=headers or {},
            wait_timeout=WAIT,
        )
    await sio.disconnect()
    assert refusals, "the refusal carries a reason"
    data: dict[str, Any] = refusals[0]["data"]
    return data


async def close_all(clients: list[LiveClient]) -> None:
    for live in clients:
        await live.sio.disconnect()


async def test_a_user_past_the_cap_is_refused_until_a_connection_closes(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await capped_client(aiohttp_client, tmp_path, per_user=3)
    url = base_url(client)
    user = await register(client)
    other = await register(client)
    # Every namespace counts: a tab's /chat and /notifications are two connections.
    held = [
        await connect(url, user["token"]),
        await connect(url, user["token"]),
        await connect(url, user["token"], namespace="/notifications"),
    ]
    try:
        refused = await refusal(url, user["token"], "/notifications")
        assert refused["code"] == "too_many_connections"
        assert refused["limit"] == 3 and "3" in refused["message"]
        others = await connect(url, other["token"])  # another user has their own allowance
        await others.sio.disconnect()

        await held.pop().sio.disconnect()
        held.append(await connect(url, user["token"], namespace="/notifications"))
        assert held[-1].sio.connected
    finally:
        await close_all(held)


async def test_an_address_past_the_cap_is_refused_until_a_connection_closes(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await capped_client(aiohttp_client, tmp_path, per_address=3)
    url = base_url(client)
    users = [await register(client) for _ in range(4)]
    held = [await connect(url, user["token"]) for user in users[:3]]
    try:
        assert (await refusal(url, users[3]["token"]))["code"] == "too_many_connections"
        await held.pop(0).sio.disconnect()
        held.append(await connect(url, users[3]["token"]))
        assert held[-1].sio.connected
    finally:
        await close_all(held)


async def test_behind_a_trusted_proxy_each_client_address_has_its_own_allowance(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """The address is the one REST sees (X-Forwarded-For from TRUSTED_PROXIES): clients behind the
    balancer are not all counted as the balancer."""
    client = await capped_client(aiohttp_client, tmp_path, per_address=1, trusted_proxies="127.0.0.1/32")
    url = base_url(client)
    users = [await register(client) for _ in range(3)]
    first, second = ({"X-Forwarded-For": address} for address in ("203.0.113.5", "203.0.113.6"))
    held = [
        await connect(url, users[0]["token"], headers=first),
        await connect(url, users[1]["token"], headers=second),
    ]
    try:
        refused = await refusal(url, users[2]["token"], headers=first)
        assert refused["code"] == "too_many_connections"
    finally:
        await close_all(held)


async def test_refused_and_failed_connects_free_their_slots(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await capped_client(aiohttp_client, tmp_path, per_user=1, per_address=2)
    url = base_url(client)
    user = await register(client)
    for _ in range(4):
        assert (await refusal(url, "not-a-jwt"))["code"] != "too_many_connections"

    chats = client.app[CHATS]
    counted = chats.unread_summary

    async def store_fails(*, user_id: str) -> dict[str, Any]:
        raise RuntimeError("the store did not answer")

    monkeypatch.setattr(chats, "unread_summary", store_fails)
    for _ in range(3):  # fails after the connection was counted for its user
        sio = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(
                url,
                namespaces=["/chat"],
                transports=["websocket"],
                auth={"token": user["token"]},
                wait_timeout=1,
            )
        await sio.disconnect()
    monkeypatch.setattr(chats, "unread_summary", counted)

    live = await connect(url, user["token"])
    assert live.sio.connected
    await live.sio.disconnect()


async def test_a_client_that_leaves_while_its_connect_runs_frees_its_slot(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No disconnect event follows a connect that had not finished: the connect itself frees the slot."""
    client = await capped_client(aiohttp_client, tmp_path, per_user=1)
    user = await register(client)
    async with leave_while_connecting(client, user["token"], monkeypatch):
        pass

    async def connects() -> bool:
        try:
            live = await connect(base_url(client), user["token"])
        except socketio.exceptions.ConnectionError:
            return False
        await live.sio.disconnect()
        return True

    await eventually(connects)
