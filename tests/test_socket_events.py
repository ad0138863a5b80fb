"""The server against its event catalogue (homer_rt/socket_events.py).

While a broad scenario runs over real Socket.IO clients (a chat initiated, joined, written in over both doors,
typing, read, synced and left; presence; unread counts; notifications; the admin feed; a logout; a shutdown),
every event the server emits is recorded where it leaves (the server's ``emit``): each must be listed for its
namespace, with a payload of exactly the listed shape (no key missing, none extra, every value of its type),
and every listed server event must have been emitted. Every ack must have the listed shape, every client
event must have been validated with the listed model, and the namespaces' handlers must be the listed ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, get_args

import pytest
import socketio
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, TypeAdapter

from documents.base import collection_of
from documents.revoked_token import RevokedToken
from documents.user import User
from handlers.sockets import chat as chat_namespace
from handlers.sockets import notifications as notifications_namespace
from homer_rt.appkeys import CLOCK, LIVE_SOCKETS, SETTINGS, SOCKET_SERVER
from homer_rt.clock import AdjustableClock
from homer_rt.realtime import ADMIN_NAMESPACE, CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE
from homer_rt.security import TokenCodec
from homer_rt.socket_events import (
    ACK_ERRORS,
    NAMESPACES,
    AckError,
    ClientEvent,
    ConnectRefusal,
    SessionEndedReason,
    namespace,
)
from tests.chat_support import WAIT, LiveClient, base_url, connect, eventually
from tests.factories import make_admin, make_property, register
from tests.shape_support import shape_errors


def test_the_shape_check_refuses_what_it_should() -> None:
    from homer_rt.services.chats.views import TypingAck, UnreadSummary

    assert shape_errors({"chat_id": "c", "forwarded": True}, TypingAck) == []
    assert shape_errors({"chat_id": "c", "forwarded": True, "retry_after": 2}, TypingAck) == []
    assert shape_errors({"chat_id": "c", "forwarded": 1}, TypingAck)
    assert shape_errors({"chat_id": "c"}, TypingAck)
    assert shape_errors({"chat_id": "c", "forwarded": True, "extra": 1}, TypingAck)
    assert shape_errors({"unread_count": 1, "chats": {"c": "1"}}, UnreadSummary)
    assert shape_errors({"ok": False, "error": {"code": "x", "message": "y", "limit": 3}}, AckError) == []
    assert shape_errors({"ok": 0, "error": {"code": "x", "message": "y"}}, AckError)


# ---- what the server emits and validates ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Emitted:
    namespace: str
    event: str
    data: Any


@dataclass
class Observed:
    emitted: list[Emitted] = field(default_factory=list)
    #: the models the handlers validated payloads with, since the last client event was sent
    validated: list[type[BaseModel]] = field(default_factory=list)
    #: (namespace, event) of every client event sent
    sent: set[tuple[str, str]] = field(default_factory=set)


@pytest.fixture
def observed(client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch) -> Observed:
    """Records every event the app's Socket.IO server emits (namespaces, services, shutdown all call its
    ``emit``) and every model a namespace validates a payload with."""
    found = Observed()
    sio = client.app[SOCKET_SERVER]
    emit = sio.emit

    async def recording_emit(event: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        found.emitted.append(Emitted(kwargs.get("namespace") or "/", event, data))
        return await emit(event, data, *args, **kwargs)

    monkeypatch.setattr(sio, "emit", recording_emit)
    for module in (chat_namespace, notifications_namespace):
        parse = module.parse_payload

        def recording_parse(model: type[BaseModel], data: Any, parse: Callable[..., Any] = parse) -> Any:
            found.validated.append(model)
            return parse(model, data)

        monkeypatch.setattr(module, "parse_payload", recording_parse)
    return found


async def send(observed: Observed, live: LiveClient, event: str, data: Any = None) -> Any:
    """Send a client event; its ack must have the catalogue's shape and its payload must have been validated
    with the catalogue's model. The ack's ``data`` when it succeeded, else its ``error``."""
    listed = namespace(live.namespace)
    assert listed is not None
    entry = listed.client_event(event)
    observed.validated.clear()
    ack = await live.call(event, data)
    observed.sent.add((live.namespace, event))
    assert isinstance(ack, dict), ack
    expected_models = [entry.payload] if entry is not None and entry.payload is not None else []
    # Nothing, when the event was refused before its handler ran (an unknown event, an ended session).
    assert observed.validated in ([], expected_models), event
    if ack.get("ok") is True:
        assert observed.validated == expected_models, event
        assert entry is not None, f"{event} succeeded but is not in the catalogue"
        assert set(ack) == {"ok", "data"}, ack
        assert shape_errors(ack["data"], entry.ack, f"{event} ack") == []
        return ack["data"]
    assert shape_errors(ack, AckError, f"{event} ack") == []
    return ack["error"]


async def emitted(observed: Observed, event: str, namespace: str, check: Callable[[Any], bool] = bool) -> Any:
    """The first payload of ``event`` the server emitted on ``namespace`` for which ``check`` holds."""

    async def found() -> Any:
        return next(
            (
                e.data
                for e in observed.emitted
                if (e.event, e.namespace) == (event, namespace) and check(e.data)
            ),
            None,
        )

    return await eventually(found)


async def test_every_event_the_server_emits_is_in_the_catalogue_with_its_shape(
    client: TestClient[Any, Any], observed: Observed
) -> None:
    url = base_url(client)
    admin = await make_admin(client)
    owner = await register(client, user_type="owner", full_name="Olivia Owner")
    renter = await register(client, user_type="renter", full_name="Ravi Renter")
    prop = await make_property(owner_id=owner["user"]["user_id"], images=["/uploads/properties/p/a.jpg"])

    owner_chat = await connect(url, owner["token"], namespace=CHAT_NAMESPACE)
    owner_notes = await connect(url, owner["token"], namespace=NOTIFICATIONS_NAMESPACE)
    admin_feed = await connect(url, admin["token"], namespace=ADMIN_NAMESPACE)
    clients = [owner_chat, owner_notes, admin_feed]
    try:
        await emitted(observed, "counts", ADMIN_NAMESPACE)
        assert await send(observed, admin_feed, "get_counts", {}) == await emitted(
            observed, "counts", ADMIN_NAMESPACE
        )

        # A renter starts a chat over REST: chat_created to both, the owner's counts and a notification.
        started = await client.post(
            "/api/chats/initiate",
            json={"property_id": prop.id, "initial_message": "Is it available?"},
            headers=renter["headers"],
        )
        assert started.status == 200, await started.text()
        chat_id = (await started.json())["chat_id"]
        await owner_chat.recorder.wait_for("chat_created")
        note = await owner_notes.recorder.wait_for("notification")

        # The renter comes online: presence to the owner.
        renter_chat = await connect(url, renter["token"], namespace=CHAT_NAMESPACE)
        clients.append(renter_chat)
        await owner_chat.recorder.wait_for("presence", lambda p: p["online"])

        page = await send(observed, renter_chat, "join_chat", {"chat_id": chat_id})
        assert page["chat_id"] == chat_id
        sent = await send(
            observed,
            renter_chat,
            "send_message",
            {"chat_id": chat_id, "message": "Hi", "client_msg_id": "m1"},
        )
        await owner_chat.recorder.wait_for(
            "message", lambda e: e["message"]["message_id"] == sent["message_id"]
        )
        # The owner answers over REST: the same message event on the other door.
        answer = await client.post(
            f"/api/chats/{chat_id}/messages", json={"message": "Yes, it is"}, headers=owner["headers"]
        )
        assert answer.status == 200, await answer.text()
        await renter_chat.recorder.wait_for("message", lambda e: e["message"]["message"] == "Yes, it is")

        assert (await send(observed, renter_chat, "typing", {"chat_id": chat_id, "is_typing": True}))[
            "forwarded"
        ]
        await owner_chat.recorder.wait_for("typing")
        await send(observed, owner_chat, "mark_read", {"chat_id": chat_id})
        await renter_chat.recorder.wait_for("read")
        await send(observed, renter_chat, "mark_read", {"chat_id": chat_id, "up_to": sent["seq"]})
        await send(observed, renter_chat, "sync", {"chats": {chat_id: 0}})
        since = (client.app[CLOCK].now() - timedelta(hours=1)).isoformat()
        await send(observed, renter_chat, "sync", {"since": since})
        await send(observed, renter_chat, "leave_chat", {"chat_id": chat_id})
        await owner_chat.recorder.wait_for("unread_count", lambda s: s["unread_count"] == 0)

        # Refusals are acks of the catalogue's error shape too.
        refused = await send(observed, renter_chat, "send_message", {"message": "no chat named"})
        assert refused["code"] == "validation_failed"
        unknown = await send(observed, renter_chat, "no_such_event", {})
        assert unknown["code"] in ACK_ERRORS

        # Notifications, read one by one and all at once.
        read = await send(observed, owner_notes, "mark_read", {"notification_id": note["notification_id"]})
        assert read["notification"]["is_read"] is True
        await send(observed, owner_notes, "mark_all_read", {})

        # A report reaches the admins' feed.
        reported = await client.post(
            f"/api/chats/{chat_id}/report",
            json={"reason": "Asked for a deposit upfront"},
            headers=renter["headers"],
        )
        assert reported.status == 200, await reported.text()
        await emitted(observed, "counts", ADMIN_NAMESPACE, lambda c: c["open_reports"] == 1)

        # The renter leaves: presence to the owner, with a last-seen time.
        await renter_chat.sio.disconnect()
        await owner_chat.recorder.wait_for("presence", lambda p: not p["online"])

        # The owner logs out: session_ended on each namespace, and the sockets close.
        logout = await client.post("/api/auth/logout", headers=owner["headers"])
        assert logout.status == 200, await logout.text()
        await owner_chat.recorder.wait_for("session_ended")

        # The process shuts down with the admin still connected.
        sio = client.app[SOCKET_SERVER]
        await sio.close_for_shutdown((CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE, ADMIN_NAMESPACE))
    finally:
        for live in clients:
            await live.sio.disconnect()

    assert_in_catalogue(observed.emitted)
    listed_server = {(n.path, e.name) for n in NAMESPACES for e in n.server_events}
    emitted_events = {(e.namespace, e.event) for e in observed.emitted}
    assert emitted_events == listed_server, "every listed event was emitted"
    listed_client = {(n.path, e.name) for n in NAMESPACES for e in n.client_events}
    assert listed_client <= observed.sent, "the scenario sends every listed client event"


def assert_in_catalogue(records: list[Emitted]) -> None:
    problems = []
    for record in records:
        listed = namespace(record.namespace)
        entry = listed.server_event(record.event) if listed is not None else None
        if entry is None:
            problems.append(f"{record.event} on {record.namespace} is not in the catalogue")
            continue
        problems += shape_errors(record.data, entry.payload, f"{record.namespace} {record.event}")
        TypeAdapter(entry.payload).validate_python(record.data)
    assert problems == []


async def test_every_way_a_session_ends_is_announced_as_the_catalogue_says(
    client: TestClient[Any, Any], observed: Observed, clock: AdjustableClock
) -> None:
    """Deactivation (announced by the process that made it), a revocation and a demotion made elsewhere (found
    at the connection's next event) and a token's expiry (found by the expiry sweep): each connection gets
    ``session_ended`` with its reason, and the reasons are exactly the catalogue's."""
    settings = client.app[SETTINGS]
    url = base_url(client)
    moderator = await make_admin(client)
    demoted = await make_admin(client)
    deactivated = await register(client)
    revoked = await register(client)
    expiring = await register(client)
    clients = [
        await connect(url, deactivated["token"], namespace=NOTIFICATIONS_NAMESPACE),
        revoked_live := await connect(url, revoked["token"], namespace=CHAT_NAMESPACE),
        demoted_live := await connect(url, demoted["token"], namespace=ADMIN_NAMESPACE),
        expiring_live := await connect(url, expiring["token"], namespace=CHAT_NAMESPACE),
    ]
    try:
        update = await client.put(
            f"/api/admin/users/{deactivated['user']['user_id']}",
            json={"is_active": False},
            headers=moderator["headers"],
        )
        assert update.status == 200, await update.text()
        await emitted(observed, "session_ended", NOTIFICATIONS_NAMESPACE)

        codec = TokenCodec(secret=settings.jwt_secret, algorithm=settings.jwt_algorithm, expiry=timedelta(1))
        claims = codec.decode(revoked["token"], now=clock.now())
        await RevokedToken(id=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at).insert()
        await collection_of(User).update_one({"_id": demoted["user_id"]}, {"$set": {"is_admin": False}})
        clock.advance(timedelta(seconds=settings.socket_session_recheck_seconds + 1))
        assert (await send(observed, revoked_live, "sync", {"chats": {}}))["code"] == "session_revoked"
        assert (await send(observed, demoted_live, "get_counts", {}))["code"] == "admin_required"

        clock.advance(timedelta(hours=settings.jwt_expiry_hours, minutes=1))
        await client.app[LIVE_SOCKETS].close_expired()
        await expiring_live.recorder.wait_for("session_ended", lambda e: e["reason"] == "session_expired")
    finally:
        for live in clients:
            await live.sio.disconnect()

    ended = [record for record in observed.emitted if record.event == "session_ended"]
    assert_in_catalogue(ended)
    assert {record.data["reason"] for record in ended} == set(get_args(SessionEndedReason))


def test_each_namespace_handles_exactly_the_listed_client_events(client: TestClient[Any, Any]) -> None:
    registered = client.app[SOCKET_SERVER].namespace_handlers
    assert set(registered) == {n.path for n in NAMESPACES}
    for listed in NAMESPACES:
        handler = registered[listed.path]
        handled = {
            name.removeprefix("on_")
            for name in dir(handler)
            if name.startswith("on_") and getattr(getattr(handler, name), "client_event", False)
        }
        assert handled == {e.name for e in listed.client_events}, listed.path
        lifecycle = {name for name in dir(handler) if name.startswith("on_")} - {f"on_{e}" for e in handled}
        assert lifecycle == {"on_connect", "on_disconnect"}, listed.path


def test_each_client_event_names_a_model_and_an_ack() -> None:
    for listed in NAMESPACES:
        for event in listed.client_events:
            assert isinstance(event, ClientEvent)
            assert event.payload is None or issubclass(event.payload, BaseModel)
            TypeAdapter(event.ack_type)  # a type pydantic can validate and describe


@pytest.mark.parametrize("path", [n.path for n in NAMESPACES])
async def test_connect_refusals_have_the_listed_shape_and_codes(
    client: TestClient[Any, Any], path: str
) -> None:
    listed = namespace(path)
    assert listed is not None
    renter = await register(client)
    attempts: list[Any] = [None, {"token": "not-a-jwt"}]
    if path == ADMIN_NAMESPACE:
        attempts.append({"token": renter["token"]})
    codes = []
    for auth in attempts:
        sio = socketio.AsyncClient(reconnection=False)
        refusals: list[Any] = []
        sio.on("connect_error", refusals.append, namespace=path)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(
                base_url(client), namespaces=[path], transports=["websocket"], auth=auth, wait_timeout=WAIT
            )
        await sio.disconnect()
        [refusal] = refusals
        assert shape_errors(refusal, ConnectRefusal, "refusal") == []
        codes.append(refusal["data"]["code"])
    assert set(codes) <= set(listed.connect_refusals)
    expected = ["not_authenticated", "invalid_token"] + (
        ["admin_required"] if path == ADMIN_NAMESPACE else []
    )
    assert codes == expected
