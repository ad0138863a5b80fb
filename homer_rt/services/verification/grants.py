"""What an approved property verification grants its owner, and taking it back.

As the spec has it, a verified property verifies its owner too. The owner keeps the ids of the listings whose
approval made them a verified owner (``owner_verified_by_properties``), so withdrawing one listing's
verification (its fee was refunded) takes the owner's badge only when no other of those listings still holds
it. An owner verified before any listing did it (their own documents, reviewed) has an empty list and keeps
the badge whatever happens to their listings.

Shared by the verification service (which grants) and the payment service (which withdraws on a refund); the
payment service cannot use the verification service, which is built on it.

Each step is one atomic update guarded on the state it expects; when a concurrent approval or withdrawal of
the same owner's listings changed that state first, the step is tried again on what is there now.
"""

from __future__ import annotations

from datetime import datetime

from documents.base import collection_of
from documents.user import User, VerificationStatus
from homer_rt.errors import Conflict

OWNER_VERIFIED_BY = "owner_verified_by_properties"
# Contention on one owner is a handful of that owner's listings decided at the same moment.
_ATTEMPTS = 20


async def grant_owner_verification(*, owner_id: str, property_id: str, now: datetime) -> None:
    users = collection_of(User)
    for _ in range(_ATTEMPTS):
        # Not a verified owner yet: this listing is what makes them one.
        granted = await users.update_one(
            {"_id": owner_id, "is_verified_owner": {"$ne": True}},
            {
                "$set": {
                    "is_verified_owner": True,
                    "owner_verification_status": VerificationStatus.VERIFIED.value,
                    "owner_verification_reviewed_at": now,
                    "owner_verification_rejection_reason": None,
                    OWNER_VERIFIED_BY: [property_id],
                }
            },
        )
        if granted.matched_count:
            return
        # Verified through other listings: this one holds the badge as well.
        joined = await users.update_one(
            {"_id": owner_id, "is_verified_owner": True, f"{OWNER_VERIFIED_BY}.0": {"$exists": True}},
            {"$addToSet": {OWNER_VERIFIED_BY: property_id}},
        )
        if joined.matched_count:
            return
        owner = await User.get(owner_id)
        if owner is None or (owner.is_verified_owner and not owner.owner_verified_by_properties):
            return  # gone, or verified on their own documents: nothing rests on this listing
    raise Conflict("The owner's verification is being changed concurrently; try again", code="owner_busy")


async def withdraw_owner_verification(*, owner_id: str, property_id: str) -> bool:
    """Take back what ``grant_owner_verification`` gave for this listing; True if the owner lost the badge."""
    users = collection_of(User)
    for _ in range(_ATTEMPTS):
        # The last listing holding the badge: the owner is no longer verified.
        last = await users.update_one(
            {"_id": owner_id, OWNER_VERIFIED_BY: [property_id]},
            {
                "$set": {
                    OWNER_VERIFIED_BY: [],
                    "is_verified_owner": False,
                    "owner_verification_status": VerificationStatus.NONE.value,
                }
            },
        )
        if last.modified_count:
            return True
        # Other listings still hold it: only this one lets go.
        released = await users.update_one(
            {"_id": owner_id, OWNER_VERIFIED_BY: property_id, f"{OWNER_VERIFIED_BY}.1": {"$exists": True}},
            {"$pull": {OWNER_VERIFIED_BY: property_id}},
        )
        if released.modified_count:
            return False
        owner = await User.get(owner_id)
        if owner is None or property_id not in owner.owner_verified_by_properties:
            return False  # this listing never verified the owner (or no longer does)
    raise Conflict("The owner's verification is being changed concurrently; try again", code="owner_busy")
