"""The spec's /api/chats routes: initiate, list, open, send, unread count, block, report, attachments."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.chat import RECENT_MESSAGES, Chat, ChatMessage, ChatReport
from documents.property import Property
from documents.user import User
from homer_rt.app import create_app
from homer_rt.appkeys import CHATS, CLOCK
from homer_rt.clock import AdjustableClock
from tests.factories import ClientFactory, make_chat, make_property, make_settings, register

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def initiate(
    client: TestClient[Any, Any], renter: dict[str, Any], property_id: str, text: str = "Hi"
) -> Any:
    return await client.post(
        "/api/chats/initiate",
        json={"property_id": property_id, "initial_message": text},
        headers=renter["headers"],
    )


async def send(
    client: TestClient[Any, Any], who: dict[str, Any], chat_id: str, text: str, **extra: Any
) -> Any:
    return await client.post(
        f"/api/chats/{chat_id}/messages", json={"message": text, **extra}, headers=who["headers"]
    )


async def test_initiate_creates_chat_with_first_message_and_tells_the_owner(
    client: TestClient[Any, Any],
) -> None:
    renter, owner, prop, chat_id = await make_chat(client, text="Is it still available?")

    chats = await (await client.get("/api/chats", headers=owner["headers"])).json()
    assert [c["chat_id"] for c in chats] == [chat_id]
    chat = chats[0]
    assert chat["property_id"] == prop.id
    assert chat["renter_id"] == renter["user"]["user_id"]
    assert chat["owner_id"] == owner["user"]["user_id"]
    assert chat["initiated_by"] == "renter"
    assert chat["status"] == "active"
    assert chat["unread_count"] == 1
    assert chat["last_message"]["message"] == "Is it still available?"
    assert chat["last_message"]["seq"] == 1
    assert [m["message"] for m in chat["messages"]] == ["Is it still available?"]
    assert chat["property"] == {
        "property_id": prop.id,
        "title": prop.title,
        "image": prop.images[0],
        "status": "active",
    }
    assert chat["other_participant"]["full_name"] == "Ravi Renter"
    assert "email" not in chat["other_participant"]

    notes = await (await client.get("/api/notifications", headers=owner["headers"])).json()
    assert notes["notifications"][0]["type"] == "new_chat"
    assert notes["notifications"][0]["action_url"] == f"/chats/{chat_id}"

    stored = await Property.get(prop.id)
    assert stored is not None and stored.analytics.total_contacts == 1
    me = await User.get(renter["user"]["user_id"])
    assert me is not None and me.contacts_used == 1


async def test_initiate_again_returns_same_chat_without_another_contact(client: TestClient[Any, Any]) -> None:
    renter, _, prop, chat_id = await make_chat(client)
    again = await initiate(client, renter, prop.id, "Second hello")
    assert (await again.json())["chat_id"] == chat_id
    concurrent = await asyncio.gather(*(initiate(client, renter, prop.id) for _ in range(5)))
    assert {(await r.json())["chat_id"] for r in concurrent} == {chat_id}
    me = await User.get(renter["user"]["user_id"])
    assert me is not None and me.contacts_used == 1
    assert await ChatMessage.find({"chat_id": chat_id}).count() == 1


async def test_text_no_store_can_hold_is_refused_before_anything_is_stored(
    client: TestClient[Any, Any],
) -> None:
    """JSON's "\\ud800" escape parses to a lone surrogate, which has no UTF-8 form: refused as invalid
    input, with no chat, contact, count or notification left behind (it used to fail after the chat)."""
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="renter")
    prop = await make_property(owner_id=owner["user"]["user_id"])

    refused = await initiate(client, renter, prop.id, "hello \ud83d")
    assert refused.status == 422
    assert "initial_message" in (await refused.json())["detail"]
    assert await Chat.find({"renter_id": renter["user"]["user_id"]}).count() == 0
    me = await User.get(renter["user"]["user_id"])
    assert me is not None and me.contacts_used == 0
    stored = await Property.get(prop.id)
    assert stored is not None and stored.analytics.total_contacts == 0
    notes = await (await client.get("/api/notifications", headers=owner["headers"])).json()
    assert notes["notifications"] == []

    chat_id = (await (await initiate(client, renter, prop.id, "hello")).json())["chat_id"]
    bad_send = await send(client, owner, chat_id, "bad \ud800 x")
    assert bad_send.status == 422
    assert "message" in (await bad_send.json())["detail"]
    assert (await (await send(client, owner, chat_id, "fine")).json())["seq"] == 2


async def test_an_initiate_that_failed_after_creating_the_chat_is_completed_by_the_next(
    client: TestClient[Any, Any],
) -> None:
    """A chat whose first message never landed (the store failed in between) is not a dead end: the
    renter's retry stores its message and tells the owner, and costs no second contact."""
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="renter")
    prop = await make_property(owner_id=owner["user"]["user_id"])
    chats = client.app[CHATS]
    append = chats._append

    async def store_down(**_: Any) -> Any:
        raise ConnectionError("store unavailable")

    chats._append = store_down
    assert (await initiate(client, renter, prop.id, "Is it available?")).status == 500
    chats._append = append
    assert await Chat.find({"renter_id": renter["user"]["user_id"]}).count() == 1

    retried = await initiate(client, renter, prop.id, "Is it available?")
    assert retried.status == 200
    body = await retried.json()
    assert body["created"] is True
    owner_chats = await (await client.get("/api/chats", headers=owner["headers"])).json()
    assert [c["last_message"]["message"] for c in owner_chats] == ["Is it available?"]
    assert owner_chats[0]["unread_count"] == 1
    notes = await (await client.get("/api/notifications", headers=owner["headers"])).json()
    assert [n["type"] for n in notes["notifications"]] == ["new_chat"]

    again = await initiate(client, renter, prop.id, "Hello again")
    assert (await again.json()) == {"chat_id": body["chat_id"], "created": False}
    assert await ChatMessage.find({"chat_id": body["chat_id"]}).count() == 1
    me = await User.get(renter["user"]["user_id"])
    assert me is not None and me.contacts_used == 1
    stored = await Property.get(prop.id)
    assert stored is not None and stored.analytics.total_contacts == 1


async def test_initiates_racing_without_the_process_lock_store_one_first_message(
    client: TestClient[Any, Any],
) -> None:
    """Two processes do not share the per-renter lock: the chat's primary key and the first message's fixed
    id still give one chat, one first message, one contact and one notification."""
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="renter")
    prop = await make_property(owner_id=owner["user"]["user_id"])

    chats = client.app[CHATS]
    append = chats._append

    @contextlib.asynccontextmanager
    async def no_lock(_: str) -> AsyncIterator[None]:
        yield

    async def append_after_the_others_looked(**kwargs: Any) -> Any:
        await asyncio.sleep(0.05)  # every initiate has found the chat without a message by now
        return await append(**kwargs)

    chats._initiate_locks.hold = no_lock
    chats._append = append_after_the_others_looked
    responses = await asyncio.gather(*(initiate(client, renter, prop.id, f"Hello {i}") for i in range(4)))
    bodies = [await r.json() for r in responses]
    assert {r.status for r in responses} == {200}
    assert len({b["chat_id"] for b in bodies}) == 1
    assert [b["created"] for b in bodies].count(True) == 1
    assert await ChatMessage.find({"chat_id": bodies[0]["chat_id"]}).count() == 1
    notes = await (await client.get("/api/notifications", headers=owner["headers"])).json()
    assert [n["type"] for n in notes["notifications"]] == ["new_chat"]
    me = await User.get(renter["user"]["user_id"])
    assert me is not None and me.contacts_used == 1


async def test_initiate_accepts_query_parameters_as_the_spec_signature(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="both")
    prop = await make_property(owner_id=owner["user"]["user_id"])
    response = await client.post(
        "/api/chats/initiate",
        params={"property_id": prop.id, "initial_message": "From the query"},
        headers=renter["headers"],
    )
    assert response.status == 200, await response.text()
    chat_id = (await response.json())["chat_id"]
    page = await (await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])).json()
    assert page["messages"][0]["message"] == "From the query"


async def test_initiate_refusals(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="renter")
    prop = await make_property(owner_id=owner["user"]["user_id"])

    only_owner = await initiate(client, owner, prop.id)
    assert only_owner.status == 403
    assert "renters" in (await only_owner.json())["detail"]

    both = await register(client, user_type="both")
    mine = await make_property(owner_id=both["user"]["user_id"])
    assert (await initiate(client, both, mine.id)).status == 400

    assert (await initiate(client, renter, "no-such-property")).status == 404
    rented = await make_property(owner_id=owner["user"]["user_id"], status="rented")
    hidden = await initiate(client, renter, rented.id)
    # A hidden listing answers as a missing one: whether it exists is its owner's business.
    missing_listing = await initiate(client, renter, "no-such-property")
    assert hidden.status == 404
    assert await hidden.json() == await missing_listing.json()

    missing = await client.post(
        "/api/chats/initiate", json={"property_id": prop.id}, headers=renter["headers"]
    )
    assert missing.status == 422
    assert "initial_message" in (await missing.json())["detail"]
    unauthenticated = await client.post(
        "/api/chats/initiate", json={"property_id": prop.id, "initial_message": "x"}
    )
    assert unauthenticated.status == 401


async def test_free_contact_limit_is_atomic_under_concurrency(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="renter")
    props = [await make_property(owner_id=owner["user"]["user_id"], title=f"Flat {i}") for i in range(9)]
    for prop in props[:4]:
        assert (await initiate(client, renter, prop.id)).status == 200

    results = await asyncio.gather(*(initiate(client, renter, prop.id) for prop in props[4:]))
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 403, 403, 403, 403]
    refused = next(r for r in results if r.status == 403)
    detail = (await refused.json())["detail"]
    assert "5" in detail and "premium" in detail.lower()
    me = await User.get(renter["user"]["user_id"])
    assert me is not None and me.contacts_used == 5
    # An existing chat still opens at the limit, without a contact.
    assert (await initiate(client, renter, props[0].id)).status == 200


async def test_premium_renter_has_no_contact_limit(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="renter")
    now = client.app[CLOCK].now()
    await collection_of(User).update_one(
        {"_id": renter["user"]["user_id"]},
        {
            "$set": {
                "subscription_tier": "premium",
                "subscription_end": now + timedelta(days=30),
                "contacts_used": 5,
            }
        },
    )
    for i in range(3):
        prop = await make_property(owner_id=owner["user"]["user_id"], title=f"Flat {i}")
        assert (await initiate(client, renter, prop.id)).status == 200


async def test_messages_unread_counts_and_opening_marks_read(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    for text in ("one", "two"):
        response = await send(client, renter, chat_id, text)
        assert response.status == 200
        body = await response.json()
        assert set(body) >= {"message_id", "seq"}

    unread = await (await client.get("/api/chats/unread-count", headers=owner["headers"])).json()
    assert unread["unread_count"] == 3
    assert unread["chats"] == {chat_id: 3}
    assert (await (await client.get("/api/chats/unread-count", headers=renter["headers"])).json())[
        "unread_count"
    ] == 0

    page = await (await client.get(f"/api/chats/{chat_id}", headers=owner["headers"])).json()
    assert [m["seq"] for m in page["messages"]] == [1, 2, 3]
    assert all(m["is_read"] for m in page["messages"])
    assert set(page["messages"][0]) >= {
        "message_id",
        "sender_id",
        "sender_type",
        "message",
        "timestamp",
        "is_read",
        "attachments",
        "seq",
    }
    assert page["messages"][0]["sender_type"] == "renter"
    assert page["unread_count"] == 0
    assert (await (await client.get("/api/chats/unread-count", headers=owner["headers"])).json())[
        "unread_count"
    ] == 0

    reply = await send(client, owner, chat_id, "Yes, come by on Sunday")
    assert reply.status == 200
    renter_view = await (await client.get("/api/chats", headers=renter["headers"])).json()
    assert renter_view[0]["unread_count"] == 1
    assert renter_view[0]["last_message"]["sender_type"] == "owner"


async def store_behind_the_window(
    client: TestClient[Any, Any], chat_id: str, renter_id: str, seqs: list[int]
) -> None:
    """Renter messages written straight to the collection (the chat's recent window does not hold them),
    the chat's last_seq set to the newest, so pages must come from the collection."""
    for seq in seqs:
        await ChatMessage(
            chat_id=chat_id,
            seq=seq,
            sender_id=renter_id,
            sender_type="renter",
            message=f"m{seq}",
            timestamp=client.app[CLOCK].now(),
        ).insert()
    await collection_of(Chat).update_one({"_id": chat_id}, {"$set": {"last_seq": max(seqs)}})


async def test_pages_of_older_messages(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    await store_behind_the_window(client, chat_id, renter["user"]["user_id"], list(range(2, 8)))
    latest = await (await client.get(f"/api/chats/{chat_id}?limit=3", headers=owner["headers"])).json()
    assert [m["seq"] for m in latest["messages"]] == [5, 6, 7]
    assert latest["has_more"] is True
    older = await (
        await client.get(f"/api/chats/{chat_id}?limit=3&before_seq=5", headers=owner["headers"])
    ).json()
    assert [m["seq"] for m in older["messages"]] == [2, 3, 4]
    oldest = await (
        await client.get(f"/api/chats/{chat_id}?limit=3&before_seq=2", headers=owner["headers"])
    ).json()
    assert [m["seq"] for m in oldest["messages"]] == [1]
    assert oldest["has_more"] is False
    bad = await client.get(f"/api/chats/{chat_id}?limit=zero", headers=owner["headers"])
    assert bad.status == 422


async def test_send_accepts_query_parameters_and_idempotency_key(client: TestClient[Any, Any]) -> None:
    renter, _, _, chat_id = await make_chat(client)
    by_query = await client.post(
        f"/api/chats/{chat_id}/messages", params={"message": "via query"}, headers=renter["headers"]
    )
    assert by_query.status == 200
    first = await (await send(client, renter, chat_id, "once", client_msg_id="k-1")).json()
    second = await (await send(client, renter, chat_id, "once", client_msg_id="k-1")).json()
    assert first["message_id"] == second["message_id"]
    assert await ChatMessage.find({"chat_id": chat_id}).count() == 3


async def test_send_refusals(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    stranger = await register(client, user_type="renter")
    # Someone else's chat answers as a missing one (test_chat_privacy).
    assert (await send(client, stranger, chat_id, "hi")).status == 404
    assert (await client.get(f"/api/chats/{chat_id}", headers=stranger["headers"])).status == 404
    assert (await client.post(f"/api/chats/{chat_id}/block", headers=stranger["headers"])).status == 404
    report = await client.post(
        f"/api/chats/{chat_id}/report", json={"reason": "spam"}, headers=stranger["headers"]
    )
    assert report.status == 404
    assert (await send(client, renter, "no-such-chat", "hi")).status == 404
    too_long = await send(client, renter, chat_id, "x" * 4001)
    assert too_long.status == 422
    assert "4000" in (await too_long.json())["detail"]
    assert (await send(client, renter, chat_id, "   ")).status == 422
    foreign = await send(client, renter, chat_id, "look", attachments=["/uploads/chat/x/evil.png"])
    assert foreign.status == 400
    assert (
        await client.post(f"/api/chats/{chat_id}/messages", data=b"{", headers=renter["headers"])
    ).status == 400
    stranger_list = await (await client.get("/api/chats", headers=stranger["headers"])).json()
    assert stranger_list == []
    assert (await client.get("/api/chats/unread-count")).status == 401
    del owner


async def test_block_stops_both_sides_until_the_blocker_unblocks(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    blocked = await client.post(f"/api/chats/{chat_id}/block", headers=owner["headers"])
    assert blocked.status == 200
    assert (await blocked.json())["status"] == "blocked"
    assert (await blocked.json())["chat_id"] == chat_id
    for who in (renter, owner):
        refused = await send(client, who, chat_id, "hello?")
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "chat_blocked"
    assert (await client.post(f"/api/chats/{chat_id}/unblock", headers=renter["headers"])).status == 403
    # History stays readable; the list shows active chats only, as the spec's list does.
    assert (await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])).status == 200
    assert await (await client.get("/api/chats", headers=renter["headers"])).json() == []

    unblocked = await client.post(f"/api/chats/{chat_id}/unblock", headers=owner["headers"])
    assert (await unblocked.json())["status"] == "active"
    assert (await send(client, renter, chat_id, "back again")).status == 200


async def test_admin_block_cannot_be_lifted_by_participants(client: TestClient[Any, Any]) -> None:
    from homer_rt.appkeys import CHATS

    renter, owner, _, chat_id = await make_chat(client)
    await client.app[CHATS].set_blocked_by_admin(chat_id=chat_id)
    assert (await send(client, renter, chat_id, "hi")).status == 403
    for who in (renter, owner):
        assert (await client.post(f"/api/chats/{chat_id}/unblock", headers=who["headers"])).status == 403


async def test_report_is_stored_for_admins(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    response = await client.post(
        f"/api/chats/{chat_id}/report",
        json={"reason": "Asked for a deposit by wire"},
        headers=renter["headers"],
    )
    assert response.status == 200
    body = await response.json()
    stored = await ChatReport.get(body["report_id"])
    assert stored is not None
    assert stored.reporter_id == renter["user"]["user_id"]
    assert stored.reported_user_id == owner["user"]["user_id"]
    assert stored.status == "open"
    short = await client.post(f"/api/chats/{chat_id}/report", json={"reason": ""}, headers=renter["headers"])
    assert short.status == 422


async def test_one_open_report_per_reporter_and_chat(client: TestClient[Any, Any]) -> None:
    """Reporting again while the first report is open is a 409 naming it, however many are sent at once;
    once an admin resolves it, a new report can be filed. The other participant reports on their own."""
    from tests.factories import make_admin

    renter, owner, _, chat_id = await make_chat(client)

    def report(who: dict[str, Any], reason: str) -> Any:
        return client.post(f"/api/chats/{chat_id}/report", json={"reason": reason}, headers=who["headers"])

    at_once = await asyncio.gather(*(report(renter, f"Spam number {i}") for i in range(5)))
    assert sorted(r.status for r in at_once) == [200, 409, 409, 409, 409]
    accepted = next(r for r in at_once if r.status == 200)
    first_id = (await accepted.json())["report_id"]
    again = await report(renter, "Still spamming")
    assert again.status == 409
    assert await again.json() == {
        "detail": "You already reported this chat; our team is reviewing it",
        "error": {"code": "report_already_open", "report_id": first_id},
    }
    assert (await report(owner, "The renter is rude")).status == 200
    assert await ChatReport.find({"chat_id": chat_id, "reporter_id": renter["user"]["user_id"]}).count() == 1

    admin = await make_admin(client)
    resolved = await client.post(
        f"/api/admin/reports/{first_id}/resolve", json={"action": "dismiss"}, headers=admin["headers"]
    )
    assert resolved.status == 200, await resolved.text()
    later = await report(renter, "It started again")
    assert later.status == 200
    assert (await later.json())["report_id"] != first_id
    assert (await report(renter, "And again")).status == 409


async def test_attachments_upload_send_and_read_back(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    stranger = await register(client, user_type="renter")

    form = FormData()
    form.add_field("file", PNG, filename="floorplan.png", content_type="image/png")
    uploaded = await client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=renter["headers"])
    assert uploaded.status == 200, await uploaded.text()
    info = await uploaded.json()
    url = info["file_url"]
    assert url.startswith(f"/uploads/chat/{chat_id}/")
    assert info["file_name"] == "floorplan.png"

    # Only the uploader may attach it, and only participants (or admins) may read it.
    assert (await send(client, owner, chat_id, "mine now", attachments=[url])).status == 400
    sent = await send(client, renter, chat_id, "Floor plan", attachments=[url])
    assert sent.status == 200
    page = await (await client.get(f"/api/chats/{chat_id}", headers=owner["headers"])).json()
    assert page["messages"][-1]["attachments"] == [url]
    assert (await client.get(url, headers=owner["headers"])).status == 200
    assert (await client.get(url, headers=stranger["headers"])).status in (403, 404)
    assert (await client.get(url)).status in (401, 403, 404)

    # The spec's plain-parameter form takes the list as a repeated query parameter; JSON must send a list.
    form = FormData()
    form.add_field("file", PNG, filename="kitchen.png", content_type="image/png")
    second = await client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=renter["headers"])
    url2 = (await second.json())["file_url"]
    by_query = await client.post(
        f"/api/chats/{chat_id}/messages",
        params=[("message", "Both"), ("attachments", url), ("attachments", url2)],
        headers=renter["headers"],
    )
    assert by_query.status == 200, await by_query.text()
    assert (await by_query.json())["message"]["attachments"] == [url, url2]
    empty = await client.post(
        f"/api/chats/{chat_id}/messages",
        params=[("message", "None"), ("attachments", "")],
        headers=renter["headers"],
    )
    assert (await empty.json())["message"]["attachments"] == []
    as_text = await send(client, renter, chat_id, "One", attachments=url)
    assert as_text.status == 422
    assert "attachments" in (await as_text.json())["detail"]

    form = FormData()
    form.add_field("file", PNG, filename="x.png", content_type="image/png")
    outsider = await client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=stranger["headers"])
    assert outsider.status == 404
    nothing = await client.post(
        f"/api/chats/{chat_id}/attachments", data=FormData({"a": "b"}), headers=renter["headers"]
    )
    assert nothing.status == 400


async def test_pages_skip_a_gap_in_seqs(client: TestClient[Any, Any]) -> None:
    # A retry that loses its race leaves an unused seq; pages must still be full and ordered.
    renter, owner, _, chat_id = await make_chat(client)
    await store_behind_the_window(client, chat_id, renter["user"]["user_id"], [2, 3, 5, 6])
    latest = await (await client.get(f"/api/chats/{chat_id}?limit=3", headers=owner["headers"])).json()
    assert [m["seq"] for m in latest["messages"]] == [3, 5, 6]
    assert latest["has_more"] is True


async def test_long_chat_pages_reads_sync_and_old_retries(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """Past the window of recent messages the chat keeps on itself, the messages collection answers."""
    app = create_app(make_settings(tmp_path, chat_send_rate_per_10s=1000), clock=AdjustableClock())
    client = await aiohttp_client(app)
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id, owner_id = renter["user"]["user_id"], owner["user"]["user_id"]
    total = RECENT_MESSAGES + 30
    for seq in range(2, total + 1):
        sender = owner_id if seq % 3 == 0 else renter_id
        await chats.send(chat_id=chat_id, user_id=sender, message=f"m{seq}", client_msg_id=f"c{seq}")
    chat = await Chat.get(chat_id)
    assert chat is not None and len(chat.recent) == RECENT_MESSAGES and chat.recent_messages[-1].seq == total

    # A retry of a message older than the window still finds the stored one; the seq its reservation
    # took stays unused.
    again = await chats.send(chat_id=chat_id, user_id=renter_id, message="m2", client_msg_id="c2")
    assert again.created is False and again.message.seq == 2
    assert (await Chat.get(chat_id)).last_seq == total + 1  # type: ignore[union-attr]

    renter_sent = sum(1 for seq in range(1, total + 1) if seq % 3 != 0)
    owner_counts = await (await client.get("/api/chats/unread-count", headers=owner["headers"])).json()
    assert owner_counts["unread_count"] == renter_sent

    # A partial read before the window counts exactly what is left.
    read = await client.post(
        f"/api/chats/{chat_id}/messages", json={"message": "ok"}, headers=owner["headers"]
    )
    assert read.status == 200
    await chats.mark_read(chat_id=chat_id, user_id=owner_id, up_to=10)
    left = sum(1 for seq in range(11, total + 1) if seq % 3 != 0)
    owner_counts = await (await client.get("/api/chats/unread-count", headers=owner["headers"])).json()
    assert owner_counts["unread_count"] == left

    sync = await chats.sync_by_seq(user_id=renter_id, known={chat_id: 5})
    synced = sync["chats"][chat_id]["messages"]
    messages_after_5 = [*range(6, total + 1), total + 2]  # the owner's "ok" took seq total + 2
    assert [m["seq"] for m in synced] == messages_after_5
    assert [m["is_read"] for m in synced if m["sender_id"] == renter_id][:2] == [True, True]
    assert all(not m["is_read"] for m in synced if m["sender_id"] == renter_id and m["seq"] > 10)

    page = await (await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])).json()
    assert [m["seq"] for m in page["messages"]] == messages_after_5[-50:]
    assert page["has_more"] is True
    seen: list[int] = [m["seq"] for m in page["messages"]]
    before = seen[0]
    while True:
        older = await (
            await client.get(f"/api/chats/{chat_id}?before_seq={before}&limit=50", headers=renter["headers"])
        ).json()
        seen = [m["seq"] for m in older["messages"]] + seen
        if not older["has_more"]:
            break
        before = older["messages"][0]["seq"]
    assert seen == [*range(1, 6), *messages_after_5]

    # Opening as the owner reads everything: the whole history shows read for the renter's messages.
    opened = await (await client.get(f"/api/chats/{chat_id}", headers=owner["headers"])).json()
    assert opened["unread_count"] == 0
    assert all(m["is_read"] for m in opened["messages"] if m["sender_id"] == renter_id)


async def test_sync_since_a_time_inside_and_before_the_recent_window(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    clock = AdjustableClock()
    app = create_app(make_settings(tmp_path, chat_send_rate_per_10s=1000), clock=clock)
    client = await aiohttp_client(app)
    renter, _, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id = renter["user"]["user_id"]
    stamps = {}
    for seq in range(2, RECENT_MESSAGES + 12):
        clock.advance(timedelta(minutes=1))
        sent = await chats.send(chat_id=chat_id, user_id=renter_id, message=f"m{seq}")
        stamps[sent.message.seq] = sent.message.timestamp
    last = RECENT_MESSAGES + 11
    # From the stamp of a message held: that message again, then everything after it.
    for held in (5, 40):  # before the window (the collection answers) and inside it
        synced = await chats.sync_since(user_id=renter_id, since=stamps[held])
        assert [m["seq"] for m in synced["chats"][chat_id]["messages"]] == list(range(held, last + 1))
        later = await chats.sync_since(user_id=renter_id, since=stamps[held] + timedelta(milliseconds=1))
        assert [m["seq"] for m in later["chats"][chat_id]["messages"]] == list(range(held + 1, last + 1))
        # A finer `since` counts as its millisecond, whichever of the window or the collection answers.
        finer = await chats.sync_since(user_id=renter_id, since=stamps[held] + timedelta(microseconds=500))
        assert [m["seq"] for m in finer["chats"][chat_id]["messages"]] == list(range(held, last + 1))
    naive = stamps[40].replace(tzinfo=None)  # a stamp without an offset is UTC
    synced = await chats.sync_since(user_id=renter_id, since=naive)
    assert synced["chats"][chat_id]["messages"][0]["seq"] == 40
    after_last = stamps[last] + timedelta(milliseconds=1)
    assert await chats.sync_since(user_id=renter_id, since=after_last) == {"chats": {}}
