"""A live socket lasts only as long as the token it connected with: logout, a password change, deactivation
or demotion end it at once (across processes: test_chat_redis), and each event rechecks the token, so a
change the socket's process was not told of (simulated by changing the store directly) ends it at its next
event after the recheck interval."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.revoked_token import RevokedToken
from documents.user import User
from homer_rt.app import create_app
from homer_rt.appkeys import AUTH, LIVE_SOCKETS, SETTINGS
from homer_rt.clock import AdjustableClock
from homer_rt.realtime import ADMIN_NAMESPACE, CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE
from homer_rt.security import TokenCodec
from tests.admin_support import LiveClient
from tests.factories import PASSWORD, ClientFactory, make_admin, make_chat, make_settings, register

WAIT = 5.0


async def second_login(client: TestClient[Any, Any], user: dict[str, Any]) -> str:
    response = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status == 200
    token: str = (await response.json())["token"]
    return token


async def call(live: LiveClient, event: str, data: Any) -> Any:
    return await live.sio.call(event, data, namespace=live.namespace, timeout=WAIT)


@contextlib.asynccontextmanager
async def connected(client: TestClient[Any, Any], namespace: str, token: str) -> AsyncIterator[LiveClient]:
    live = await LiveClient(namespace).connect(client, token)
    try:
        yield live
    finally:
        await live.close()


async def assert_ended(live: LiveClient, code: str) -> None:
    assert await live.next("session_ended") == {"reason": code}
    await asyncio.wait_for(live.disconnected.wait(), WAIT)


async def test_logout_closes_that_tokens_sockets_and_no_other(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    other_token = await second_login(client, user)
    async with (
        connected(client, CHAT_NAMESPACE, user["token"]) as chat,
        connected(client, NOTIFICATIONS_NAMESPACE, user["token"]) as notifications,
        connected(client, CHAT_NAMESPACE, other_token) as other_device,
    ):
        assert (await client.post("/api/auth/logout", headers=user["headers"])).status == 200
        await assert_ended(chat, "session_revoked")
        await assert_ended(notifications, "session_revoked")
        assert (await call(other_device, "sync", {"chats": {}}))["ok"] is True
        assert other_device.sio.connected


async def test_a_token_revoked_elsewhere_is_refused_at_the_next_event_after_the_recheck(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    recheck = client.app[SETTINGS].socket_session_recheck_seconds
    user = await register(client)
    async with connected(client, CHAT_NAMESPACE, user["token"]) as live:
        assert (await call(live, "sync", {"chats": {}}))["ok"] is True
        # Another process logs the token out: nothing here was told.
        settings = client.app[SETTINGS]
        claims = TokenCodec(secret=settings.jwt_secret, algorithm=settings.jwt_algorithm, expiry=timedelta(1))
        decoded = claims.decode(user["token"], now=clock.now())
        await RevokedToken(id=decoded.jti, user_id=decoded.user_id, expires_at=decoded.expires_at).insert()
        # Within the recheck interval the connection is still trusted as checked...
        assert (await call(live, "sync", {"chats": {}}))["ok"] is True
        clock.advance(timedelta(seconds=recheck + 1))
        # ...after it, its next event reads the token again, is refused, and the connection closes.
        refused = await call(live, "sync", {"chats": {}})
        assert refused == {
            "ok": False,
            "error": {"code": "session_revoked", "message": "Session is no longer valid; log in again"},
        }
        await assert_ended(live, "session_revoked")


async def test_deactivation_or_password_change_elsewhere_ends_sockets(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    recheck = client.app[SETTINGS].socket_session_recheck_seconds
    deactivated = await register(client)
    changed = await register(client)
    async with (
        connected(client, NOTIFICATIONS_NAMESPACE, deactivated["token"]) as first,
        connected(client, CHAT_NAMESPACE, changed["token"]) as second,
    ):
        assert (await call(first, "mark_all_read", {}))["ok"] is True
        assert (await call(second, "sync", {"chats": {}}))["ok"] is True
        users = collection_of(User)
        await users.update_one({"_id": deactivated["user"]["user_id"]}, {"$set": {"is_active": False}})
        await users.update_one({"_id": changed["user"]["user_id"]}, {"$inc": {"token_version": 1}})
        clock.advance(timedelta(seconds=recheck + 1))
        assert (await call(first, "mark_all_read", {}))["error"]["code"] == "account_inactive"
        await assert_ended(first, "account_inactive")
        assert (await call(second, "sync", {"chats": {}}))["error"]["code"] == "session_revoked"
        await assert_ended(second, "session_revoked")


async def test_a_password_change_closes_the_users_sockets_at_once(client: TestClient[Any, Any]) -> None:
    """Every earlier token stops working, and the sockets opened with them close without waiting for an
    event: an idle /notifications socket would otherwise keep receiving pushes."""
    user = await register(client)
    other_token = await second_login(client, user)
    async with connected(client, NOTIFICATIONS_NAMESPACE, other_token) as other_device:
        changed = await client.post(
            "/api/auth/change-password",
            headers=user["headers"],
            json={"old_password": PASSWORD, "new_password": "a-new-password"},
        )
        assert changed.status == 200
        await assert_ended(other_device, "session_revoked")


async def test_a_token_past_its_expiry_ends_the_socket(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    """Revocations are kept until their token expires, so an expired token must end the session by itself."""
    user = await register(client)
    async with connected(client, CHAT_NAMESPACE, user["token"]) as live:
        clock.advance(timedelta(hours=client.app[SETTINGS].jwt_expiry_hours, minutes=1))
        assert (await call(live, "sync", {"chats": {}}))["error"]["code"] == "session_expired"
        await assert_ended(live, "session_expired")


async def test_an_idle_socket_is_closed_when_its_token_expires(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    """Its next event would be refused, but until then an idle socket kept receiving private messages: now
    it gets session_ended (session_expired) and is closed when its token expires, in every namespace."""
    renter, owner, _, chat_id = await make_chat(client)
    admin = await make_admin(client)
    clock.advance(timedelta(hours=client.app[SETTINGS].jwt_expiry_hours - 1))
    owners_fresh_token = await second_login(client, owner)
    async with (
        connected(client, CHAT_NAMESPACE, renter["token"]) as renter_chat,
        connected(client, NOTIFICATIONS_NAMESPACE, renter["token"]) as renter_notifications,
        connected(client, ADMIN_NAMESPACE, admin["token"]) as admin_dashboard,
        connected(client, CHAT_NAMESPACE, owners_fresh_token) as owner_chat,
    ):
        clock.advance(timedelta(hours=2))
        assert await client.app[LIVE_SOCKETS].close_expired() == 3
        for ended in (renter_chat, renter_notifications, admin_dashboard):
            await assert_ended(ended, "session_expired")

        # The renter logs in again and writes: only connections whose token stands receive it.
        renters_fresh_token = await second_login(client, renter)
        sent = await client.post(
            f"/api/chats/{chat_id}/messages",
            json={"message": "Still available?"},
            headers={"Authorization": f"Bearer {renters_fresh_token}"},
        )
        assert sent.status == 200
        assert (await owner_chat.next("message"))["message"]["message"] == "Still available?"
        assert owner_chat.sio.connected
        assert renter_chat.events.get("message") is None or renter_chat.events["message"].empty()
        assert await client.app[LIVE_SOCKETS].close_expired() == 0


async def test_each_process_closes_expired_sockets_by_itself(
    aiohttp_client: ClientFactory, tmp_path: Path, clock: AdjustableClock
) -> None:
    settings = make_settings(tmp_path, socket_expiry_check_seconds=0.05)
    client = await aiohttp_client(create_app(settings, clock=clock))
    user = await register(client)
    async with connected(client, NOTIFICATIONS_NAMESPACE, user["token"]) as live:
        clock.advance(timedelta(hours=settings.jwt_expiry_hours, seconds=1))
        await assert_ended(live, "session_expired")


async def test_a_store_failure_while_checking_fails_the_event_not_the_connection(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await register(client)
    auth = client.app[AUTH]

    async def store_down(*_: Any, **__: Any) -> Any:
        raise ConnectionError("store unavailable")

    async with connected(client, CHAT_NAMESPACE, user["token"]) as live:
        with monkeypatch.context() as patched:
            patched.setattr(auth, "_session_user", store_down)
            failed = await call(live, "sync", {"chats": {}})
            assert failed["ok"] is False and failed["error"]["code"] == "internal_error"
        assert (await call(live, "sync", {"chats": {}}))["ok"] is True
        assert live.sio.connected


async def test_an_admin_demoted_elsewhere_loses_the_admin_socket(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    admin = await make_admin(client)
    async with connected(client, ADMIN_NAMESPACE, admin["token"]) as live:
        assert (await call(live, "get_counts", {}))["ok"] is True
        await collection_of(User).update_one({"_id": admin["user_id"]}, {"$set": {"is_admin": False}})
        clock.advance(timedelta(seconds=client.app[SETTINGS].socket_session_recheck_seconds + 1))
        assert (await call(live, "get_counts", {}))["error"]["code"] == "admin_required"
        await assert_ended(live, "admin_required")
