"""How many listings an owner has active, counted on their User document so the per-owner cap holds
across processes and concurrent requests.

A listing takes a slot *before* it becomes active and gives it back *after* it stops being active, each
step one atomic update of the owner's counter. Two creates racing for an owner's last slot cannot both get
it: the conditional ``$inc`` (``active_listings < cap``) lets exactly one through. A crash between the two
steps leaves the counter one too high (the owner may list one fewer), never too low.

Accounts stored before the counter existed have no ``active_listings`` field. The first slot they take
counts their active listings once and stores the number (guarded by the field's absence, so only one
process stores it). Giving a slot back leaves a missing counter missing, so that count is right later.
"""

from __future__ import annotations

from typing import Any

from documents.base import collection_of
from documents.property import Property, PropertyStatus
from documents.user import User
from homer_rt.errors import Conflict


async def take_listing_slot(
    *, owner_id: str, limit: int | None, already_active: str | None = None, count: int = 1
) -> None:
    """Count ``count`` more active listings (one, but for seeded demo data) for the owner. With a ``limit``
    (owners; admins and admin actions pass None) an owner it would take past it is refused with 409
    ``listing_limit_reached``, naming the limit. ``already_active`` names a listing made active before its
    slot was taken (an admin's status change), which an older account's first count must leave out: the
    ``$inc`` that follows counts it."""
    taken = await User.take_listing_slots(owner_id, count=count, limit=limit)
    if not taken and await _count_for_older_account(owner_id, leaving_out=already_active):
        taken = await User.take_listing_slots(owner_id, count=count, limit=limit)
    if not taken and limit is not None:
        raise Conflict(
            f"You already have {limit} active listings, the most one owner can have. Mark one rented or "
            "inactive, or delete one, to list another.",
            code="listing_limit_reached",
            extra={"limit": limit},
        )
    # Without a limit nothing matched only when the owner's account no longer exists: nothing to count.


async def give_back_listing_slot(*, owner_id: str, count: int = 1) -> None:
    """``count`` fewer active listings. Never below zero; an older account's missing counter stays missing."""
    await User.give_back_listing_slots(owner_id, count=count)


async def follow_status_change(
    *, owner_id: str, property_id: str, was_active: bool, now_active: bool
) -> None:
    """Keep the counter right after an admin changed a listing's status (admins are not capped)."""
    if now_active and not was_active:
        await take_listing_slot(owner_id=owner_id, limit=None, already_active=property_id)
    elif was_active and not now_active:
        await give_back_listing_slot(owner_id=owner_id)


async def _count_for_older_account(owner_id: str, *, leaving_out: str | None) -> bool:
    """Store the active-listing count of an account that has no counter yet; False when it has one already
    (or there is no such account), so trying again would change nothing."""
    if not await User.lacks_listing_count(owner_id):
        return False
    listings: dict[str, Any] = {"owner_id": owner_id, "status": PropertyStatus.ACTIVE.value}
    if leaving_out is not None:
        listings["_id"] = {"$ne": leaving_out}
    active = await collection_of(Property).count_documents(listings)
    # Guarded by the field's absence: of two processes counting at once, one stores its count.
    await User.store_active_listing_count(owner_id, count=active)
    return True
