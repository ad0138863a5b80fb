"""Every update of a chat document, named, each with the guard that makes it safe under concurrency."""

# A chat is changed only by single-document atomic updates (no transactions): the filter of each is its
# guard, and its operators move counters and marks forward ($inc of a reserved seq, $max of read marks) or
# change state from a named one. Services call these; the update operators are spelled only here.

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from documents.base import collection_of
from documents.chat import RECENT_MESSAGES, Chat, ChatStatus, SenderType
from documents.chat_window import unused_seq_entry


def _counter(prefix: str, role: SenderType) -> str:
    """A per-participant counter's field: sent_renter, read_seq_owner, ..."""
    return f"{prefix}_{role.value}"


def _chat(row: Any) -> Chat | None:
    return Chat.model_validate(row) if row is not None else None


# ---- sending -------------------------------------------------------------------------------------


async def append_message(
    chat_id: str, *, seq: int, sender: SenderType, timestamp: datetime, entry: str
) -> bool:
    """Give a message seq ``seq`` in one update: count it for its sender and append its window ``entry``.

    Guard: the chat is active and its last_seq is still ``seq - 1`` (compare-and-set), so the seq is the
    next one and, being the newest, the entry is appended (the window stays sorted without $sort). False
    when the guard failed: another send took that seq, or the chat takes no messages."""
    swapped = await collection_of(Chat).update_one(
        {"_id": chat_id, "status": ChatStatus.ACTIVE.value, "last_seq": seq - 1},
        {
            "$set": {"last_seq": seq},
            "$max": {"last_message_at": timestamp},
            "$inc": {_counter("sent", sender): 1},
            "$push": {"recent": {"$each": [entry], "$slice": -RECENT_MESSAGES}},
        },
    )
    return bool(swapped.matched_count)


async def reserve_seq(chat_id: str, *, sender: SenderType, timestamp: datetime) -> int | None:
    """Reserve the chat's next seq and count it for its sender; the seq, or None when the chat is gone or
    takes no messages. Its window entry follows with ``insert_window_entry``.

    Guard: the chat is active. ``$inc`` on the one chat document hands every caller a different seq."""
    reserved = await collection_of(Chat).find_one_and_update(
        {"_id": chat_id, "status": ChatStatus.ACTIVE.value},
        {"$inc": {"last_seq": 1, _counter("sent", sender): 1}, "$max": {"last_message_at": timestamp}},
        projection={"last_seq": 1},
        return_document=ReturnDocument.AFTER,
    )
    return int(reserved["last_seq"]) if reserved is not None else None


async def insert_window_entry(chat_id: str, entry: str) -> None:
    """Put a reserved seq's window entry in place: ``$sort`` keeps the window in seq order (entries start
    with their zero-padded seq) whatever order concurrent sends land in, ``$slice`` keeps the newest."""
    await collection_of(Chat).update_one(
        {"_id": chat_id},
        {"$push": {"recent": {"$each": [entry], "$sort": 1, "$slice": -RECENT_MESSAGES}}},
    )


async def release_seq(chat_id: str, *, seq: int, sender: SenderType, entry: str) -> None:
    """Undo a reservation whose message was not stored (``entry`` is its window entry): uncount it, and
    mark its seq unused in the window, so the window still answers pages by itself. The seq is never handed
    back: a participant may have read up to it meanwhile, and a message given that seq would show as read.

    Two updates: MongoDB refuses $pull and $push on one field in one update."""
    collection = collection_of(Chat)
    await collection.update_one(
        {"_id": chat_id}, {"$inc": {_counter("sent", sender): -1}, "$pull": {"recent": entry}}
    )
    await collection.update_one(
        {"_id": chat_id},
        {"$push": {"recent": {"$each": [unused_seq_entry(seq)], "$sort": 1, "$slice": -RECENT_MESSAGES}}},
    )


# ---- reading -------------------------------------------------------------------------------------


async def raise_read_marks(chat_id: str, *, reader: SenderType, through: int, read_sent: int) -> Chat | None:
    """The reader has read the chat up to seq ``through``, which holds ``read_sent`` of the other side's
    messages; the chat after, or None when it is gone. ``$max``: marks only grow, so a read that lands
    after a later one changes nothing."""
    updated = await collection_of(Chat).find_one_and_update(
        {"_id": chat_id},
        {"$max": {_counter("read_seq", reader): through, _counter("read_sent", reader): read_sent}},
        return_document=ReturnDocument.AFTER,
    )
    return _chat(updated)


# ---- moderation ----------------------------------------------------------------------------------


async def block_by_participant(chat_id: str, *, user_id: str, at: datetime) -> Chat | None:
    """A participant blocks the chat; the chat after, or None when it was already blocked (or is gone).
    Guard: not blocked yet, so a second block does not take the first blocker's place."""
    updated = await collection_of(Chat).find_one_and_update(
        {"_id": chat_id, "status": {"$ne": ChatStatus.BLOCKED.value}},
        {
            "$set": {
                "status": ChatStatus.BLOCKED.value,
                "blocked_by": user_id,
                "blocked_at": at,
                "blocked_by_admin": False,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    return _chat(updated)


async def unblock_by_participant(chat_id: str, *, user_id: str) -> Chat | None:
    """The participant who blocked the chat unblocks it; the chat after, or None when the guard failed.
    Guard: blocked by this user and not by a moderator."""
    updated = await collection_of(Chat).find_one_and_update(
        {
            "_id": chat_id,
            "status": ChatStatus.BLOCKED.value,
            "blocked_by": user_id,
            "blocked_by_admin": False,
        },
        {"$set": {"status": ChatStatus.ACTIVE.value, "blocked_by": None, "blocked_at": None}},
        return_document=ReturnDocument.AFTER,
    )
    return _chat(updated)


async def set_admin_block(chat_id: str, *, blocked: bool, at: datetime) -> Chat | None:
    """A moderator blocks the chat (it takes no messages and its participants cannot unblock it) or lifts
    any block; the chat after, or None when it is gone. Unguarded: a moderator's decision stands over
    whatever state the chat was in."""
    change: dict[str, Any] = (
        {
            "status": ChatStatus.BLOCKED.value,
            "blocked_by": None,
            "blocked_at": at,
            "blocked_by_admin": True,
        }
        if blocked
        else {
            "status": ChatStatus.ACTIVE.value,
            "blocked_by": None,
            "blocked_at": None,
            "blocked_by_admin": False,
        }
    )
    updated = await collection_of(Chat).find_one_and_update(
        {"_id": chat_id}, {"$set": change}, return_document=ReturnDocument.AFTER
    )
    return _chat(updated)


# ---- reports -------------------------------------------------------------------------------------
# (Imported here rather than at the top while another change edits the top of this file; move them up.)

from documents.chat import ChatReport, ReportResolution, ReportStatus  # noqa: E402


async def claim_report_resolution(
    report_id: str, *, admin_id: str, resolution: ReportResolution, at: datetime
) -> ChatReport | None:
    """An admin resolves an open report with ``resolution``; the report after it, or None when it is not
    open (resolved already) or gone. ``at`` must be what the store keeps (milliseconds) for
    ``release_report_claim`` to find the claim again.

    Guard: open, so of two admins resolving at once exactly one acts on the report."""
    raw = await collection_of(ChatReport).find_one_and_update(
        {"_id": report_id, "status": ReportStatus.OPEN.value},
        {
            "$set": {
                "status": ReportStatus.RESOLVED.value,
                "resolved_at": at,
                "resolved_by": admin_id,
                "resolution": resolution.model_dump(),
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    return ChatReport.model_validate(raw) if raw is not None else None


async def release_report_claim(report_id: str, *, admin_id: str, resolved_at: datetime) -> None:
    """The resolution's action did not happen: the report goes back to the queue, open.

    Guard: still this admin's claim made at ``resolved_at``, so a later resolution stands."""
    await collection_of(ChatReport).update_one(
        {"_id": report_id, "resolved_by": admin_id, "resolved_at": resolved_at},
        {
            "$set": {
                "status": ReportStatus.OPEN.value,
                "resolved_at": None,
                "resolved_by": None,
                "resolution": None,
            }
        },
    )
